"""
Export the chain for outside verification: ``entries.jsonl``, ``checkpoints.jsonl``,
``jwks.json`` and ``manifest.json`` in one directory, checked by
``tools/verify_audit_export.py`` with no database and no Django.
"""

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from . import chain, selectors
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


def export(
    out_dir: Path,
    *,
    start_seq: int = 1,
    end_seq: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Write an export of the sealed chain to ``out_dir``; return its manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
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
                        "note": checkpoint.note,
                    }
                )
                + "\n"
            )
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
        "files": {
            name: file_sha256(out_dir / name)
            for name in ("entries.jsonl", "checkpoints.jsonl", "jwks.json")
        },
    }
    tmp = out_dir / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, out_dir / "manifest.json")
    return manifest
