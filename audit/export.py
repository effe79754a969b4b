"""
Export the chain for outside verification: ``entries.jsonl``, ``checkpoints.jsonl`` (each note
with the witnesses' cosignatures held), ``jwks.json``, ``manifest.json`` and, for an export that
does not start at entry 1, ``anchor.json``, in one directory, checked by
``tools/verify_audit_export.py`` with no database and no Django.

Everything is read in one transaction, REPEATABLE READ on PostgreSQL (SQLite's transactions
are snapshots already): the entries, checkpoints, tree and keys of one moment, however busy
the writers and the sealer are meanwhile.

``anchor.json`` links a partial export to the log before it: the perfect-subtree hashes of the
entries before its first (``frontier``: their root is the tree of those entries), the newest
checkpoint before its first entry with a consistency proof from it to that tree, and the entry
just before with its inclusion proof (its hash is the first entry's ``prev_hash``).
"""

import base64
import hashlib
import json
import os
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from . import chain, merkle, selectors, tree
from .models import Checkpoint, SigningKey

FORMAT = "smartcity-audit-export/1"


def entry_line(row: selectors.ChainRow) -> str:
    """Return one JSON Lines record: the entry's hashed members plus ``hash``, canonical."""
    text = row.text()
    # "hash" sorts between "consortium_id" and "object_id". The members before it are encoded
    # strings and a number, which cannot contain this marker, so its first place is the member.
    at = text.index(',"object_id":')
    return f'{text[:at]},"hash":"{row.hash}"{text[at:]}'


def write_entries(
    stream, *, start_seq: int = 1, end_seq: int | None = None, progress: Callable | None = None
) -> tuple[int, int | None, int | None]:
    """Write entries as JSON Lines to a text stream; return (count, first seq, last seq)."""
    count, first, last = 0, None, None
    for row in selectors.chain_rows(start_seq=start_seq, end_seq=end_seq):
        stream.write(entry_line(row) + "\n")
        first = row.seq if first is None else first
        last = row.seq
        count += 1
        if progress and count % 10_000 == 0:
            progress(10_000)
    if progress and count % 10_000:
        progress(count % 10_000)
    return count, first, last


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def anchor(first_seq: int) -> dict:
    """Return anchor.json's content for an export whose first entry is ``first_seq`` > 1."""
    size = first_seq - 1
    reader = tree.TileReader()
    frontier, start = [], 0
    for level in reversed(range(size.bit_length())):
        if size >> level & 1:
            frontier.append(reader.node(level, start >> level))
            start += 1 << level
    checkpoint = (
        Checkpoint.objects.exclude(root="").filter(seq__lte=size).order_by("-seq", "-id").first()
    )
    (previous,) = list(selectors.chain_rows(start_seq=size, end_seq=size))
    return {
        "size": size,
        "frontier": [b64(value) for value in frontier],
        "checkpoint": selectors.checkpoint_note_cosigned(checkpoint) if checkpoint else None,
        "consistency": [
            b64(value)
            for value in (
                merkle.consistency_proof(checkpoint.seq, size, reader.node) if checkpoint else []
            )
        ],
        "previous_entry": entry_line(previous),
        "inclusion": [b64(value) for value in merkle.inclusion_proof(size - 1, size, reader.node)],
    }


@contextmanager
def snapshot():
    """
    One transaction for the whole export; REPEATABLE READ on PostgreSQL. Inside a caller's
    transaction (which has read already), the export reads in that one.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Not READ ONLY: the audit report exports inside it, and its progress callback
                # writes the report's heartbeat meanwhile (as in verification.verify_chain).
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def export(
    out_dir: Path,
    *,
    start_seq: int = 1,
    end_seq: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Write an export of the sealed chain as of one moment to ``out_dir``; return its manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with snapshot():
        return _export(out_dir, start_seq=start_seq, end_seq=end_seq, progress=progress)


def _export(out_dir: Path, *, start_seq: int, end_seq: int | None, progress) -> dict:
    head = selectors.chain_head()
    with open(out_dir / "entries.jsonl", "w", encoding="utf-8", newline="\n") as stream:
        count, first, last = write_entries(
            stream, start_seq=start_seq, end_seq=end_seq, progress=progress
        )
    with open(out_dir / "checkpoints.jsonl", "w", encoding="utf-8", newline="\n") as stream:
        for checkpoint in Checkpoint.objects.select_related("key").order_by("seq", "id"):
            stream.write(
                chain.canonical_json(
                    {
                        "seq": checkpoint.seq,
                        "hash": checkpoint.hash,
                        "kid": checkpoint.key.kid,
                        "note": selectors.checkpoint_note_cosigned(checkpoint),
                    }
                )
                + "\n"
            )
    names = ["entries.jsonl", "checkpoints.jsonl", "jwks.json"]
    (out_dir / "anchor.json").unlink(missing_ok=True)
    if first is not None and first > 1:
        (out_dir / "anchor.json").write_text(json.dumps(anchor(first), indent=2) + "\n")
        names.append("anchor.json")
    keys = [{**key.jwk, "status": key.status} for key in SigningKey.objects.order_by("created_at")]
    (out_dir / "jwks.json").write_text(json.dumps({"keys": keys}, indent=2) + "\n")
    manifest = {
        "format": FORMAT,
        "origin": settings.AUDIT_LOG_ORIGIN,
        "exported_at": chain.format_time(timezone.now()),
        "entries": count,
        "start_seq": first,
        "end_seq": last,
        "chain_head_seq": head.seq if head else 0,
        "files": {name: file_sha256(out_dir / name) for name in names},
    }
    tmp = out_dir / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, out_dir / "manifest.json")
    return manifest
