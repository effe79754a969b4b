"""
Publish the log as static files (C2SP tlog-tiles) for any static host or CDN: the same paths
and bytes that ``/audit-log/`` serves.
"""

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import selectors, tree


class NothingToPublish(RuntimeError):
    """No checkpoint over the Merkle tree has been signed yet."""


@dataclass(frozen=True)
class Plan:
    size: int
    note: str
    tiles: list[tuple[int | None, int, int]]  # (level or None for entries, index, width)


def tiles_of(size: int) -> list[tuple[int | None, int, int]]:
    """
    Return every tile and entry bundle of the tree of ``size`` leaves: the full ones and the
    partial one of each level (width floor(size / 256**level) mod 256, when not 0).
    """
    found: list[tuple[int | None, int, int]] = []
    level = 0
    while size >> (tree.TILE_HEIGHT * level):
        hashes = size >> (tree.TILE_HEIGHT * level)  # hashes at this level
        full, width = divmod(hashes, tree.TILE_WIDTH)
        for kind in (None, 0) if level == 0 else (level,):
            found += [(kind, index, tree.TILE_WIDTH) for index in range(full)]
            if width:
                found.append((kind, full, width))
        level += 1
    return found


def plan() -> Plan:
    checkpoint = selectors.checkpoint_latest_merkle()
    if checkpoint is None:
        raise NothingToPublish("no checkpoint over the Merkle tree yet: run audit_checkpoint")
    return Plan(
        size=checkpoint.seq,
        note=selectors.checkpoint_note_cosigned(checkpoint),
        tiles=tiles_of(checkpoint.seq),
    )


def _write_file(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(content)
        os.replace(temporary, path)  # a reader sees the whole file or none
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write(out_dir: Path, plan: Plan, *, progress: Callable[[int], None] | None = None) -> int:
    """Write the plan's tiles, then its checkpoint; return how many files were written."""
    written = 0
    for level, index, width in plan.tiles:
        path = out_dir / tree.tile_path("entries" if level is None else level, index, width)
        if path.exists():  # tiles never change: an existing one is this one
            if progress:
                progress(1)
            continue
        if level is None:
            content = tree.entry_bundle(index, width)
        else:
            content = tree.tile_bytes(level, index, width)
        if content is None:
            raise tree.TreeError(f"the tree lacks {path.relative_to(out_dir)}")
        _write_file(path, content)
        written += 1
        if progress:
            progress(1)
    # Last: a client that reads this checkpoint finds every tile it needs.
    _write_file(out_dir / "checkpoint", plan.note.encode())
    return written
