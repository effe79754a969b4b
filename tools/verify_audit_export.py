#!/usr/bin/env python3
"""
Verify an audit-log export, or a proof, without the platform: no database, no Django.

Needs the Python standard library, the ``cryptography`` package and the RFC 6962 functions of
the platform's ``audit/merkle.py`` (found beside this file or in ``../audit/``; it imports
nothing else)::

    python verify_audit_export.py EXPORT_DIR [--jwks FILE | --key VKEY ...]
                                  [--witness VKEY ...] [--checkpoint NOTE_FILE ...] [--json]
    python verify_audit_export.py proof inclusion --checkpoint NOTE --proof JSON --entry FILE ...
    python verify_audit_export.py proof consistency --old NOTE --new NOTE --proof JSON ...
    python verify_audit_export.py proof receipt RECEIPT ...

EXPORT_DIR holds what ``manage.py audit_export`` wrote: entries.jsonl, checkpoints.jsonl,
jwks.json, manifest.json, and anchor.json for an export that does not start at entry 1.

The keys to trust come from outside the export: ``--jwks FILE`` (the platform's
``/.well-known/jwks.json``, fetched and kept by you) or ``--key`` (the log's signed-note verifier
key, ``<origin>+<key ID>+<base64(0x01 || key)>``, as ``manage.py audit_witness_key --log``
prints it). Without either, the export's own jwks.json is used and a warning says that this
proves only that the export agrees with itself. ``--witness`` gives a witness's verifier key
(type 0x04, C2SP tlog-cosignature): the checkpoints it cosigned are counted, and a bad
cosignature by it fails. ``--checkpoint`` adds signed checkpoint notes obtained elsewhere (for
example ``GET /audit-log/checkpoint``), so that an export cut short after a published checkpoint
is caught. Exit status 0 when everything holds, 1 when not, 2 when the input cannot be read.

Every line of entries.jsonl must be byte for byte the canonical form of its object (RFC 8785:
members sorted, no spaces, each member once), followed by a newline.

The entry hash (README.md, "The audit log"): SHA-256 over the RFC 8785 canonical JSON of the
entry without its "hash" member; the first entry's "prev_hash" is 64 zeros; each next entry's
"prev_hash" is the hash before it; sequence numbers run 1, 2, 3... without gaps.

Checkpoints (C2SP tlog-checkpoint: origin, size, base64 root) name the RFC 6962 Merkle root of
the first ``size`` entries, leaf data = the same canonical bytes the entry hash covers. Those of
the earlier format (a fourth line ``time ...``) name the hash of entry ``size`` instead. An
export that starts after entry 1 is anchored by anchor.json: the signed checkpoint before its
first entry, the perfect-subtree hashes of the entries before it, a consistency proof from that
checkpoint to them, and the entry just before with its inclusion proof.
"""

import argparse
import base64
import binascii
import hashlib
import importlib.util
import json
import struct
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

GENESIS = "0" * 64
MAX_SAFE_INTEGER = 2**53 - 1
SIGNATURE_PREFIX = "\u2014 "
PROOF_HEADER = "c2sp.org/tlog-proof@v1"


def _load_merkle():
    """Import the platform's audit/merkle.py by its path: no package, no Django."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "merkle.py", here.parent / "audit" / "merkle.py"):
        if candidate.is_file():
            spec = importlib.util.spec_from_file_location("audit_merkle", candidate)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise SystemExit("ERROR: merkle.py (the platform's audit/merkle.py) is not beside this file")


merkle = _load_merkle()


class NotCanonical(ValueError):
    """A line that is valid JSON but not byte for byte its canonical form."""


class Failure(Exception):
    def __init__(self, seq, kind, detail):
        super().__init__(f"seq {seq}: {kind}: {detail}")
        self.seq, self.kind, self.detail = seq, kind, detail


def reject_float(text):
    raise ValueError(f"floating-point number {text} is outside the log's JSON domain")


def no_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise NotCanonical(f"member {key!r} is given twice")
        result[key] = value
    return result


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


def parse_canonical_line(raw: bytes) -> dict:
    """
    Return the object of one JSON Lines record that is byte for byte its canonical form
    followed by a newline; ValueError naming what differs otherwise.
    """
    if not raw.endswith(b"\n"):
        raise ValueError("the line does not end in a newline")
    text = raw[:-1].decode("utf-8")  # UnicodeDecodeError is a ValueError
    value = json.loads(text, object_pairs_hook=no_duplicates, parse_float=reject_float)
    if not isinstance(value, dict):
        raise ValueError("the line is not a JSON object")
    check_domain(value)
    if canonical(value) != raw[:-1]:
        raise NotCanonical(
            "the line is not in canonical form (RFC 8785: sorted members, no spaces)"
        )
    return value


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def raw_key(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def note_key_hash(name, public_key, kind=1):
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + raw_key(public_key)).digest()[:4]


# --- Keys -------------------------------------------------------------------------------------


class Keys:
    """The log's keys to trust (any name, or bound to one) and the witnesses' keys."""

    def __init__(self):
        self.log = []  # (name or None, public key)
        self.witnesses = []  # (name, public key)
        self.from_export = False

    def add_jwks(self, data: dict) -> None:
        for jwk in data["keys"]:
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
                if jwk.get("status") == "revoked":
                    continue
                key = ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
                self.log.append((None, key))

    def add_vkey(self, vkey: str, kind: int) -> None:
        name, key_id, blob = parse_vkey(vkey, kind)
        (self.log if kind == 1 else self.witnesses).append((name, blob))


def parse_vkey(vkey: str, kind: int):
    """Return (name, key ID, public key) of a signed-note verifier key of type ``kind``."""
    name, _, rest = vkey.strip().partition("+")
    hex_id, _, blob = rest.partition("+")
    try:
        raw = base64.b64decode(blob, validate=True)
        key_id = bytes.fromhex(hex_id)
    except (ValueError, binascii.Error):
        raise ValueError(f"malformed verifier key {vkey!r}") from None
    if not name or len(raw) != 33 or raw[0] != kind or len(key_id) != 4:
        raise ValueError(f"not an Ed25519 verifier key of type {kind}: {vkey!r}")
    public_key = ed25519.Ed25519PublicKey.from_public_bytes(raw[1:])
    if note_key_hash(name, public_key, kind) != key_id:
        raise ValueError(f"the key ID of {vkey!r} does not match its key")
    return name, key_id, public_key


def split_note(note):
    """Return (text, [(name, raw signature bytes)]) of a signed note."""
    at = note.rfind("\n\n")
    if at < 0 or not note.endswith("\n"):
        raise ValueError("not a signed note")
    text, block = note[: at + 1], note[at + 2 : -1]
    signatures = []
    for line in block.split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise ValueError("malformed signature line")
        name, _, blob = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            signatures.append((name, base64.b64decode(blob, validate=True)))
        except (ValueError, binascii.Error):
            raise ValueError("malformed signature line") from None
    return text, signatures


def verify_note(note, keys: Keys):
    """
    Return (kind, size, hash hex, cosigners) of a checkpoint note signed by a trusted log key,
    else raise ValueError. ``kind`` is "tree" for a C2SP tlog-checkpoint (origin, size, Merkle
    root), "chain" for the earlier format (origin, size, chain hash of that entry, time);
    ``cosigners`` the names of the given witnesses whose cosignatures verify.
    """
    text, signatures = split_note(note)
    lines = text[:-1].split("\n")
    if len(lines) == 3:
        kind = "tree"
    elif len(lines) == 4 and lines[3].startswith("time "):
        kind = "chain"
    else:
        raise ValueError("not a checkpoint note")
    origin = lines[0]
    size_text = lines[1]
    if not (size_text.isascii() and size_text.isdigit()) or size_text != str(int(size_text)):
        raise ValueError("malformed size line")
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32:
        raise ValueError("the root line holds 32 bytes")
    signed = False
    cosigners = set()
    for name, raw in signatures:
        for bound, public_key in keys.log:
            if name != origin or (bound is not None and bound != name):
                continue
            if raw[:4] != note_key_hash(name, public_key):
                continue
            try:
                public_key.verify(raw[4:], text.encode())
            except InvalidSignature:
                raise ValueError("bad signature") from None
            signed = True
        for witness, public_key in keys.witnesses:
            if name != witness or raw[:4] != note_key_hash(name, public_key, 4):
                continue
            if len(raw) != 4 + 8 + 64:
                raise ValueError(f"malformed cosignature by {name}")
            (timestamp,) = struct.unpack(">Q", raw[4:12])
            message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
            try:
                public_key.verify(raw[12:], message)
            except InvalidSignature:
                raise ValueError(f"bad cosignature by {name}") from None
            cosigners.add(name)
    if not signed:
        raise ValueError("signed by no trusted key")
    return kind, int(size_text), root.hex(), cosigners


class TreeRoots:
    """RFC 6962 roots of the first N entries, from leaf hashes added one by one."""

    def __init__(self, size=0, frontier=()):
        # (level, hash) of the perfect subtrees of the first ``size`` leaves, levels falling.
        levels = [level for level in reversed(range(size.bit_length())) if size >> level & 1]
        if len(levels) != len(frontier):
            raise ValueError(f"a tree of {size} leaves has {len(levels)} perfect subtrees")
        self.stack = list(zip(levels, frontier, strict=True))
        self.size = size

    def add(self, leaf_hash):
        level, value = 0, leaf_hash
        while self.stack and self.stack[-1][0] == level:
            value = merkle.node_hash(self.stack.pop()[1], value)
            level += 1
        self.stack.append((level, value))
        self.size += 1

    def root(self):
        if not self.stack:
            return merkle.EMPTY_ROOT
        value = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            value = merkle.node_hash(left, value)
        return value


def b64_hashes(values):
    hashes = [base64.b64decode(value, validate=True) for value in values]
    if any(len(value) != 32 for value in hashes):
        raise ValueError("a hash is 32 bytes")
    return hashes


def entry_of_line(raw: bytes, seq_hint, where=""):
    """Return (entry without hash, its canonical bytes, stored hash) of one entries.jsonl line."""
    try:
        entry = parse_canonical_line(raw)
        stored = entry.pop("hash")
        if not isinstance(entry.get("seq"), int) or not isinstance(stored, str):
            raise ValueError("seq and hash are required")
    except NotCanonical as exc:
        raise Failure(seq_hint, "not_canonical", f"{where}{exc}") from None
    except (ValueError, KeyError) as exc:
        raise Failure(seq_hint, "malformed", f"{where}{exc}") from None
    data = canonical(entry)
    if hashlib.sha256(data).hexdigest() != stored:
        raise Failure(entry["seq"], "hash_mismatch", "the hash does not match the entry's content")
    return entry, data, stored


def check_anchor(export_dir: Path, first_seq: int, keys: Keys):
    """
    Check anchor.json of an export starting at ``first_seq`` > 1; return (TreeRoots of the
    entries before it, the hash of the entry before it, the size of the checkpoint anchoring it
    or None when the log had no checkpoint before that entry).
    """
    path = export_dir / "anchor.json"
    if not path.is_file():
        raise Failure(first_seq, "unanchored", "a partial export needs its anchor.json")
    try:
        anchor = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=no_duplicates)
        size = anchor["size"]
        frontier = b64_hashes(anchor["frontier"])
        tree = TreeRoots(size, frontier)
        previous = anchor["previous_entry"].encode("utf-8") + b"\n"
        inclusion = b64_hashes(anchor["inclusion"])
        consistency = b64_hashes(anchor["consistency"])
        note = anchor["checkpoint"]
    except (ValueError, KeyError, TypeError) as exc:
        raise Failure(first_seq, "unanchored", f"anchor.json: {exc}") from None
    if size != first_seq - 1:
        raise Failure(first_seq, "unanchored", "anchor.json is not of the entries before")
    root = tree.root()
    entry, data, stored = entry_of_line(previous, size)
    if entry["seq"] != size:
        raise Failure(size, "unanchored", "anchor.json's entry is not the one before")
    try:
        merkle.verify_inclusion(size - 1, size, merkle.leaf_hash(data), inclusion, root)
    except merkle.ProofError as exc:
        raise Failure(size, "unanchored", f"the entry before is not in the tree: {exc}") from None
    checkpoint_size = None
    if note is not None:
        try:
            kind, checkpoint_size, digest, _ = verify_note(note, keys)
        except ValueError as exc:
            raise Failure(first_seq, "bad_signature", f"anchor checkpoint: {exc}") from None
        if kind != "tree" or checkpoint_size > size:
            raise Failure(first_seq, "unanchored", "the anchor checkpoint is not before the export")
        try:
            merkle.verify_consistency(
                checkpoint_size, size, consistency, bytes.fromhex(digest), root
            )
        except merkle.ProofError as exc:
            raise Failure(
                first_seq,
                "checkpoint_mismatch",
                f"the entries before the export are not consistent with the checkpoint of size "
                f"{checkpoint_size}: {exc}",
            ) from None
    return tree, stored, checkpoint_size


def verify(export_dir: Path, extra_notes=(), keys: Keys | None = None):
    manifest = json.loads((export_dir / "manifest.json").read_text())
    if keys is None or not keys.log:
        keys = keys or Keys()
        keys.from_export = True
        keys.add_jwks(json.loads((export_dir / "jwks.json").read_text()))

    notes = []
    with open(export_dir / "checkpoints.jsonl", "rb") as stream:
        for number, raw in enumerate(stream, 1):
            try:
                notes.append(parse_canonical_line(raw)["note"])
            except NotCanonical as exc:
                raise Failure(
                    0, "not_canonical", f"checkpoints.jsonl line {number}: {exc}"
                ) from None
            except (ValueError, KeyError) as exc:
                raise Failure(0, "malformed", f"checkpoints.jsonl line {number}: {exc}") from None
    notes += list(extra_notes)
    # The Merkle root at each size a checkpoint names (leaf = the entry's canonical bytes).
    wanted = set()
    for note in notes:
        size = note.split("\n")[1] if note.count("\n") > 1 else ""
        if size.isascii() and size.isdigit():
            wanted.add(int(size))
    tree, roots = None, {}

    hashes = {}
    first_seq = expected = prev = anchored_at = None
    with open(export_dir / "entries.jsonl", "rb") as stream:
        for number, raw in enumerate(stream, 1):
            entry, data, stored = entry_of_line(raw, expected or 0, f"line {number}: ")
            seq = entry["seq"]
            if first_seq is None:
                first_seq, expected = seq, seq
                if seq == 1:
                    tree, prev = TreeRoots(), GENESIS
                else:
                    tree, prev, anchored_at = check_anchor(export_dir, seq, keys)
            if seq != expected:
                raise Failure(expected, "gap", f"entry {expected} is missing; the next is {seq}")
            if entry["prev_hash"] != prev:
                raise Failure(seq, "broken_link", "prev_hash is not the hash of the entry before")
            tree.add(merkle.leaf_hash(data))
            if tree.size in wanted:
                roots[tree.size] = tree.root().hex()
            hashes[seq] = prev = stored
            expected = seq + 1
    last_seq = expected - 1 if expected else 0
    if manifest.get("entries") is not None and manifest["entries"] != len(hashes):
        raise Failure(last_seq + 1, "truncated", "fewer entries than manifest.json announces")

    complete = manifest.get("end_seq") == manifest.get("chain_head_seq")
    checked, witnessed = 0, {}
    for note in notes:
        try:
            kind, seq, digest, cosigners = verify_note(note, keys)
        except ValueError as exc:
            raise Failure(0, "bad_signature", f"checkpoint: {exc}") from None
        for name in cosigners:
            witnessed[name] = max(witnessed.get(name, 0), seq)
        if seq in hashes or (kind == "tree" and seq in roots):
            if (roots.get(seq) if kind == "tree" else hashes[seq]) != digest:
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
        "anchor_checkpoint": anchored_at,
        "checkpoints_verified": checked,
        "witnessed": witnessed,
        "keys": "export" if keys.from_export else "given",
    }


# --- Proofs -----------------------------------------------------------------------------------


def load_proof_json(path: Path, *names):
    data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=no_duplicates)
    return [data[name] for name in names]


def proof_inclusion(args, keys: Keys):
    """An entry (its canonical line, or leaf data) in a signed checkpoint's tree."""
    kind, size, digest, cosigners = verify_note(args.checkpoint.read_text(), keys)
    if kind != "tree":
        raise Failure(0, "bad_checkpoint", "proofs are against Merkle checkpoints only")
    index, proof_size, proof = load_proof_json(args.proof, "index", "size", "proof")
    if proof_size != size:
        raise Failure(index + 1, "proof_mismatch", f"the proof is for size {proof_size}")
    raw = args.entry.read_bytes()
    if args.leaf_data:
        data = raw
    else:
        entry, data, _stored = entry_of_line(raw if raw.endswith(b"\n") else raw + b"\n", 0)
        if entry["seq"] != index + 1:
            raise Failure(entry["seq"], "proof_mismatch", f"the proof is for leaf {index}")
    try:
        merkle.verify_inclusion(
            index, size, merkle.leaf_hash(data), b64_hashes(proof), bytes.fromhex(digest)
        )
    except merkle.ProofError as exc:
        raise Failure(index + 1, "inclusion_failed", str(exc)) from None
    return {"ok": True, "index": index, "size": size, "witnessed_by": sorted(cosigners)}


def proof_consistency(args, keys: Keys):
    """A newer signed checkpoint's tree extends an older one's."""
    old_kind, old_size, old_root, _ = verify_note(args.old.read_text(), keys)
    new_kind, new_size, new_root, cosigners = verify_note(args.new.read_text(), keys)
    if old_kind != "tree" or new_kind != "tree":
        raise Failure(0, "bad_checkpoint", "proofs are against Merkle checkpoints only")
    first, second, proof = load_proof_json(args.proof, "from", "to", "proof")
    if (first, second) != (old_size, new_size):
        raise Failure(old_size, "proof_mismatch", f"the proof is from {first} to {second}")
    try:
        merkle.verify_consistency(
            old_size, new_size, b64_hashes(proof), bytes.fromhex(old_root), bytes.fromhex(new_root)
        )
    except merkle.ProofError as exc:
        raise Failure(old_size, "inconsistent", str(exc)) from None
    return {"ok": True, "from": old_size, "to": new_size, "witnessed_by": sorted(cosigners)}


def parse_tlog_proof(text: str):
    """Return (extra bytes or None, index, proof hashes, checkpoint note) of a C2SP tlog-proof."""
    lines = text.split("\n")
    if lines[0] != PROOF_HEADER:
        raise ValueError(f"a tlog-proof starts with {PROOF_HEADER}")
    at, extra = 1, None
    if lines[at].startswith("extra "):
        extra = base64.b64decode(lines[at][6:], validate=True)
        at += 1
    if not lines[at].startswith("index "):
        raise ValueError("the index line is missing")
    index_text = lines[at][6:]
    if not (index_text.isascii() and index_text.isdigit()) or str(int(index_text)) != index_text:
        raise ValueError("malformed index line")
    at += 1
    end = lines.index("", at)
    return extra, int(index_text), b64_hashes(lines[at:end]), "\n".join(lines[end + 1 :])


def receipt_proof(text: str):
    """
    Return (tlog-proof text, receipt id or None) of what the resident holds: the receipt file
    downloaded from the portal (JSON with "receipt" and "jws"), the receipt's JWS alone, or
    the .tlog-proof itself.
    """
    if text.startswith(PROOF_HEADER):
        return text, None
    text = text.strip()
    if text.startswith("{"):
        claims = json.loads(text)["receipt"]
    else:
        parts = text.split(".")
        if len(parts) != 3:
            raise ValueError("neither a receipt nor a tlog-proof")
        claims = json.loads(b64url_decode(parts[1]))
    proof = (claims.get("auditLog") or {}).get("proof")
    if not proof:
        raise ValueError("the receipt carries no proof yet: download it again later")
    return proof, claims.get("consentReceiptID")


def proof_receipt(args, keys: Keys):
    """A consent receipt's decision entry is in a signed (and cosigned) checkpoint's tree."""
    text, receipt_id = receipt_proof(args.receipt.read_text(encoding="utf-8"))
    extra, index, proof, note = parse_tlog_proof(text)
    kind, size, digest, cosigners = verify_note(note, keys)
    if kind != "tree" or extra is None:
        raise Failure(index + 1, "bad_proof", "the proof carries no entry or no Merkle checkpoint")
    try:
        entry, data = parse_canonical_line(extra + b"\n"), extra  # the leaf data: no "hash"
        if entry["seq"] != index + 1 or not isinstance(entry["payload"], dict):
            raise Failure(index + 1, "proof_mismatch", "the entry is not the one at the index")
    except (ValueError, KeyError) as exc:
        raise Failure(index + 1, "malformed", f"the proof's entry: {exc}") from None
    if receipt_id is not None and entry["payload"].get("receipt") != receipt_id:
        raise Failure(index + 1, "proof_mismatch", "the entry is about another receipt")
    try:
        merkle.verify_inclusion(index, size, merkle.leaf_hash(data), proof, bytes.fromhex(digest))
    except merkle.ProofError as exc:
        raise Failure(index + 1, "inclusion_failed", str(exc)) from None
    return {
        "ok": True,
        "seq": entry["seq"],
        "action": entry["action"],
        "receipt": entry["payload"].get("receipt"),
        "size": size,
        "witnessed_by": sorted(cosigners),
    }


# --- Command line -----------------------------------------------------------------------------


def add_key_options(parser):
    parser.add_argument("--jwks", type=Path, help="the platform's published JWK Set, kept by you")
    parser.add_argument(
        "--key", action="append", default=[], help="the log's signed-note verifier key"
    )
    parser.add_argument(
        "--witness", action="append", default=[], help="a witness's verifier key (type 0x04)"
    )
    parser.add_argument("--json", action="store_true")


def trusted_keys(args) -> Keys:
    keys = Keys()
    if args.jwks:
        keys.add_jwks(json.loads(args.jwks.read_text()))
    for vkey in args.key:
        keys.add_vkey(vkey, 1)
    for vkey in args.witness:
        keys.add_vkey(vkey, 4)
    return keys


def warn_keys_from_export():
    print(
        "WARNING: no --jwks or --key given: trusting the keys inside the export itself.\n"
        "WARNING: that shows only that the export agrees with itself; whoever can rewrite the\n"
        "WARNING: export can rewrite its keys. Pass the platform's published JWK Set (--jwks)\n"
        "WARNING: or the log's verifier key (--key), obtained apart from the export.",
        file=sys.stderr,
    )


def report(args, result=None, failure=None):
    if failure is not None:
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
    print(json.dumps(result) if args.json else result["text"])
    return 0


def proof_main(argv):
    parser = argparse.ArgumentParser(prog="verify_audit_export.py proof")
    kinds = parser.add_subparsers(dest="kind", required=True)
    inclusion = kinds.add_parser("inclusion", help="an entry in a checkpoint's tree")
    inclusion.add_argument("--checkpoint", type=Path, required=True, help="the signed note")
    inclusion.add_argument(
        "--proof", type=Path, required=True, help="JSON of /api/v1/audit/proofs/inclusion"
    )
    inclusion.add_argument(
        "--entry", type=Path, required=True, help="the entry's line of entries.jsonl"
    )
    inclusion.add_argument(
        "--leaf-data", action="store_true", help="--entry holds the leaf data, not a line"
    )
    consistency = kinds.add_parser("consistency", help="a newer checkpoint extends an older")
    consistency.add_argument("--old", type=Path, required=True)
    consistency.add_argument("--new", type=Path, required=True)
    consistency.add_argument(
        "--proof", type=Path, required=True, help="JSON of /api/v1/audit/proofs/consistency"
    )
    receipt = kinds.add_parser("receipt", help="a consent receipt's entry in the log")
    receipt.add_argument("receipt", type=Path, help="the receipt (JWT) or its .tlog-proof")
    for sub in (inclusion, consistency, receipt):
        add_key_options(sub)
    args = parser.parse_args(argv)
    try:
        keys = trusted_keys(args)
        if not keys.log:
            raise ValueError("give the log's keys: --jwks FILE or --key VKEY")
        check = {"inclusion": proof_inclusion, "consistency": proof_consistency}.get(
            args.kind, proof_receipt
        )
        result = check(args, keys)
    except Failure as failure:
        return report(args, failure=failure)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"ERROR: cannot read the input: {exc}", file=sys.stderr)
        return 2
    witnesses = ", ".join(result["witnessed_by"]) or "no witness given"
    result["text"] = f"OK: {args.kind} proof verified (cosigned by: {witnesses})"
    if args.kind == "receipt":
        result["text"] = (
            f"OK: the decision of receipt {result['receipt']} is entry {result['seq']} "
            f"({result['action']}) of the log, in its signed tree of {result['size']} entries "
            f"(cosigned by: {witnesses})"
        )
    return report(args, result)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["proof"]:
        return proof_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export_dir", type=Path)
    parser.add_argument("--checkpoint", action="append", type=Path, default=[])
    add_key_options(parser)
    args = parser.parse_args(argv)
    try:
        keys = trusted_keys(args)
        extra = [path.read_text() for path in args.checkpoint]
        result = verify(args.export_dir, extra, keys)
    except Failure as failure:
        if keys.from_export:
            warn_keys_from_export()
        return report(args, failure=failure)
    except (OSError, ValueError, KeyError) as exc:
        print(f"ERROR: cannot read the export: {exc}", file=sys.stderr)
        return 2
    if keys.from_export:
        warn_keys_from_export()
    anchor = "from genesis" if result["anchored_at_genesis"] else "anchored at its first entry"
    if result["anchor_checkpoint"] is not None:
        anchor += f" and the checkpoint of size {result['anchor_checkpoint']}"
    witnessed = "".join(
        f", cosigned by {name} up to size {size}" for name, size in result["witnessed"].items()
    )
    result["text"] = (
        f"OK: {result['entries']} entries, seq {result['first_seq']}..{result['last_seq']} "
        f"({anchor}), head {result['head_hash']}, "
        f"{result['checkpoints_verified']} checkpoint(s) verified{witnessed}"
        + (" (keys taken from the export itself)" if result["keys"] == "export" else "")
    )
    if args.json:
        del result["text"]
    return report(args, result)


if __name__ == "__main__":
    sys.exit(main())
