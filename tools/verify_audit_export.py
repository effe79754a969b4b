#!/usr/bin/env python3
"""
Verify an audit-log export without the platform: no database, no Django.

Needs only the Python standard library and the ``cryptography`` package::

    python verify_audit_export.py EXPORT_DIR [--checkpoint NOTE_FILE ...] [--json]

EXPORT_DIR holds what ``manage.py audit_export`` wrote: entries.jsonl, checkpoints.jsonl,
jwks.json, manifest.json. ``--checkpoint`` adds signed checkpoint notes obtained elsewhere (for
example from ``GET /api/v1/audit/checkpoints/latest``, field ``note``), so that an export cut
short after a published checkpoint is caught. Exit status 0 when everything holds, 1 when not,
2 when the export cannot be read.

The entry hash (README.md, "The audit log"): SHA-256 over the RFC 8785 canonical JSON of the
entry without its "hash" member; the first entry's "prev_hash" is 64 zeros; each next entry's
"prev_hash" is the hash before it; sequence numbers run 1, 2, 3... without gaps.

Checkpoints (C2SP tlog-checkpoint: origin, size, base64 root) name the RFC 6962 Merkle root of
the first ``size`` entries, leaf data = the same canonical bytes the entry hash covers. Those of
the earlier format (a fourth line ``time ...``) name the hash of entry ``size`` instead.
"""

import argparse
import base64
import hashlib
import json
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

GENESIS = "0" * 64
MAX_SAFE_INTEGER = 2**53 - 1


class Failure(Exception):
    def __init__(self, seq, kind, detail):
        super().__init__(f"seq {seq}: {kind}: {detail}")
        self.seq, self.kind, self.detail = seq, kind, detail


def reject_float(text):
    raise ValueError(f"floating-point number {text} is outside the log's JSON domain")


def check_domain(value):
    """Refuse values where Python's JSON form would differ from RFC 8785."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError("integer outside +/-(2**53 - 1)")
        return
    if isinstance(value, list):
        for item in value:
            check_domain(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not key.isascii():
                raise ValueError("non-ASCII object key")
            check_domain(item)
        return
    raise ValueError(f"unexpected {type(value).__name__}")


def canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_keys(path):
    """Return {kid: Ed25519 public key} from a JWK Set."""
    result = {}
    for jwk in json.loads(path.read_text())["keys"]:
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            result[jwk["kid"]] = ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    return result


def note_key_hash(name, public_key):
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(name.encode() + b"\n\x01" + raw).digest()[:4]


def verify_note(note, keys):
    """
    Return (kind, seq, hash hex) of a checkpoint note signed by one of ``keys``, else raise.

    ``kind`` is "tree" for a C2SP tlog-checkpoint (origin, size, Merkle root), "chain" for the
    earlier format (origin, size, chain hash of that entry, time).
    """
    text, sep, signatures = note.partition("\n\n")
    lines = text.split("\n")
    if sep and len(lines) == 3:
        kind = "tree"
    elif sep and len(lines) == 4 and lines[3].startswith("time "):
        kind = "chain"
    else:
        raise ValueError("not a checkpoint note")
    seq, root = int(lines[1]), base64.b64decode(lines[2], validate=True)
    line = signatures.split("\n")[0]
    if not line.startswith("\u2014 "):
        raise ValueError("no signature line")
    name, blob = line[2:].split(" ")
    raw = base64.b64decode(blob, validate=True)
    for public_key in keys.values():
        if raw[:4] == note_key_hash(name, public_key):
            try:
                public_key.verify(raw[4:], (text + "\n").encode())
            except InvalidSignature:
                raise ValueError("bad signature") from None
            return kind, seq, root.hex()
    raise ValueError("signed by a key that is not in the key set")


class TreeRoots:
    """RFC 6962 roots of the first N entries, from leaf hashes added one by one."""

    def __init__(self):
        self.stack = []  # (level, hash) of perfect subtrees, levels falling
        self.size = 0

    def add(self, leaf_hash):
        level, value = 0, leaf_hash
        while self.stack and self.stack[-1][0] == level:
            value = hashlib.sha256(b"\x01" + self.stack.pop()[1] + value).digest()
            level += 1
        self.stack.append((level, value))
        self.size += 1

    def root(self):
        if not self.stack:
            return hashlib.sha256(b"").digest()
        value = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            value = hashlib.sha256(b"\x01" + left + value).digest()
        return value


def verify(export_dir: Path, extra_notes=()):
    manifest = json.loads((export_dir / "manifest.json").read_text())
    keys = load_keys(export_dir / "jwks.json")

    notes = []
    with open(export_dir / "checkpoints.jsonl", encoding="utf-8") as stream:
        notes += [json.loads(line)["note"] for line in stream if line.strip()]
    notes += list(extra_notes)
    # The Merkle root at each size a checkpoint names (leaf = the entry's canonical bytes).
    wanted = set()
    for note in notes:
        size = note.split("\n")[1] if note.count("\n") > 1 else ""
        if size.isascii() and size.isdigit():
            wanted.add(int(size))
    tree, roots = TreeRoots(), {}

    hashes = {}
    first_seq = expected = prev = None
    with open(export_dir / "entries.jsonl", encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            try:
                entry = json.loads(line, parse_float=reject_float)
                check_domain(entry)
                seq, stored = entry["seq"], entry.pop("hash")
            except (ValueError, KeyError) as exc:
                raise Failure(expected or 0, "malformed", f"line {number}: {exc}") from None
            if first_seq is None:
                first_seq, expected = seq, seq
                prev = GENESIS if seq == 1 else entry["prev_hash"]
            if seq != expected:
                raise Failure(expected, "gap", f"entry {expected} is missing; the next is {seq}")
            if entry["prev_hash"] != prev:
                raise Failure(seq, "broken_link", "prev_hash is not the hash of the entry before")
            data = canonical(entry)
            if hashlib.sha256(data).hexdigest() != stored:
                raise Failure(seq, "hash_mismatch", "the hash does not match the entry's content")
            if first_seq == 1:
                tree.add(hashlib.sha256(b"\x00" + data).digest())
                if tree.size in wanted:
                    roots[tree.size] = tree.root().hex()
            hashes[seq] = prev = stored
            expected = seq + 1
    last_seq = expected - 1 if expected else 0
    if manifest.get("entries") is not None and manifest["entries"] != len(hashes):
        raise Failure(last_seq + 1, "truncated", "fewer entries than manifest.json announces")

    complete = manifest.get("end_seq") == manifest.get("chain_head_seq")
    checked = 0
    for note in notes:
        try:
            kind, seq, digest = verify_note(note, keys)
        except ValueError as exc:
            raise Failure(0, "bad_signature", f"checkpoint: {exc}") from None
        if seq in hashes:
            if kind == "tree" and seq not in roots:
                continue  # a partial export: its tree starts before its first entry
            if (roots[seq] if kind == "tree" else hashes[seq]) != digest:
                raise Failure(seq, "checkpoint_mismatch", "the entry differs from the checkpoint")
            checked += 1
        elif seq > last_seq and (complete or note in extra_notes):
            raise Failure(last_seq + 1, "truncated", f"a checkpoint covers {seq} entries")
    # Last, so that a tampered entry is named by its sequence number rather than by its file.
    for name, digest in manifest.get("files", {}).items():
        actual = hashlib.sha256((export_dir / name).read_bytes()).hexdigest()
        if actual != digest:
            raise Failure(0, "file_mismatch", f"{name} does not match manifest.json")
    return {
        "ok": True,
        "entries": len(hashes),
        "first_seq": first_seq,
        "last_seq": last_seq,
        "head_hash": prev,
        "anchored_at_genesis": first_seq in (None, 1),
        "checkpoints_verified": checked,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export_dir", type=Path)
    parser.add_argument("--checkpoint", action="append", type=Path, default=[])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        extra = [path.read_text() for path in args.checkpoint]
        result = verify(args.export_dir, extra)
    except Failure as failure:
        if args.json:
            print(
                json.dumps(
                    {
                        "ok": False,
                        "seq": failure.seq,
                        "fault": failure.kind,
                        "detail": failure.detail,
                    }
                )
            )
        else:
            print(f"FAIL at seq {failure.seq}: {failure.kind}: {failure.detail}")
        return 1
    except (OSError, ValueError, KeyError) as exc:
        print(f"ERROR: cannot read the export: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
    else:
        anchor = "from genesis" if result["anchored_at_genesis"] else "anchored at its first entry"
        print(
            f"OK: {result['entries']} entries, seq {result['first_seq']}..{result['last_seq']} "
            f"({anchor}), head {result['head_hash']}, "
            f"{result['checkpoints_verified']} checkpoint(s) verified"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
