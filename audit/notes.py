"""
Signed notes (C2SP signed-note) and checkpoints (C2SP tlog-checkpoint).

A signed note is a text ending in a newline, an empty line, and signature lines::

    — <key name> <base64(key ID (4 bytes, big-endian) || signature)>

For Ed25519 (signature type 0x01) the key ID is the first four bytes of
SHA-256(key name || 0x0A || 0x01 || the 32-byte public key) and the signature is over the text.
Verifiers ignore signatures by keys they do not know; a known key's bad signature rejects the
note. A verifier key is written ``<name>+<key ID, 8 hex digits>+<base64(0x01 || public key)>``
as in golang.org/x/mod/sumdb/note.

A checkpoint's text is three lines (C2SP tlog-checkpoint)::

    <origin>
    <tree size: the number of entries covered, in decimal>
    <the RFC 6962 Merkle root of those entries, standard base64>

signed by the platform with the origin as key name. Witnesses add cosignature lines later.

**The earlier format** (checkpoints made before the Merkle tree, ``Checkpoint.root`` empty)
had four lines: the same origin and size, then the chain hash of the newest entry covered (not
a Merkle root) and ``time <canonical time>``. ``CheckpointBody``, ``sign`` and ``verify`` keep
reading and checking them.
"""

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space, as signed-note requires
ED25519 = 0x01
# signed-note: verifiers must accept at least 16 signatures; more is refused.
MAX_SIGNATURES = 100
MAX_NOTE_BYTES = 1 << 16


class NoteError(ValueError):
    """The note is malformed or its signature does not verify."""


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes  # 4 bytes
    signature: bytes

    def line(self) -> str:
        blob = base64.b64encode(self.key_id + self.signature).decode()
        return f"{SIGNATURE_PREFIX}{self.name} {blob}\n"


@dataclass(frozen=True)
class Note:
    text: str  # ends in a newline
    signatures: tuple[Signature, ...]

    def serialize(self) -> str:
        return self.text + "\n" + "".join(sig.line() for sig in self.signatures)


def raw_public_key(public_key: ed25519.Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_hash(name: str, public_key: ed25519.Ed25519PublicKey) -> bytes:
    """Return the signed-note key ID of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || key)."""
    return hashlib.sha256(
        name.encode() + b"\n" + bytes([ED25519]) + raw_public_key(public_key)
    ).digest()[:4]


def check_key_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name) or not name.isprintable():
        raise NoteError("a key name is non-empty, without spaces or '+'")


def verifier_key(name: str, public_key: ed25519.Ed25519PublicKey) -> str:
    """Return the verifier key string ``name+keyid+base64(0x01 || key)``."""
    check_key_name(name)
    blob = base64.b64encode(bytes([ED25519]) + raw_public_key(public_key)).decode()
    return f"{name}+{key_hash(name, public_key).hex()}+{blob}"


def parse_verifier_key(vkey: str) -> tuple[str, ed25519.Ed25519PublicKey]:
    """Return (name, public key) of an Ed25519 verifier key string, checking its key ID."""
    name, _, rest = vkey.partition("+")
    hex_id, _, blob = rest.partition("+")
    try:
        check_key_name(name)
        raw = base64.b64decode(blob, validate=True)
        key_id = bytes.fromhex(hex_id)
    except (ValueError, binascii.Error) as exc:
        raise NoteError("malformed verifier key") from exc
    if len(hex_id) != 8 or len(raw) != 33 or raw[0] != ED25519:
        raise NoteError("not an Ed25519 verifier key")
    public_key = ed25519.Ed25519PublicKey.from_public_bytes(raw[1:])
    if key_hash(name, public_key) != key_id:
        raise NoteError("the verifier key's ID does not match its key")
    return name, public_key


def parse_note(note: str) -> Note:
    """Split a signed note into its text and signature lines; check the format only."""
    if len(note.encode()) > MAX_NOTE_BYTES:
        raise NoteError("the note is too long")
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("a note holds no control characters but newlines")
    at = note.rfind("\n\n")  # the text ends at the last empty line
    if at < 0 or not note.endswith("\n"):
        raise NoteError("not a signed note")
    text, block = note[: at + 1], note[at + 2 :]
    signatures = []
    for line in block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("malformed signature line")
        name, space, blob = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            check_key_name(name)
            raw = base64.b64decode(blob, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise NoteError("malformed signature line") from exc
        if not space or len(raw) < 5:
            raise NoteError("malformed signature line")
        signatures.append(Signature(name, raw[:4], raw[4:]))
    if not signatures or len(signatures) > MAX_SIGNATURES:
        raise NoteError("a signed note has between 1 and 100 signatures")
    return Note(text, tuple(signatures))


def sign_note(text: str, name: str, private_key: ed25519.Ed25519PrivateKey) -> str:
    """Return ``text`` signed by ``private_key`` under key name ``name``, as a signed note."""
    check_key_name(name)
    if not text.endswith("\n") or any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("a note text ends in a newline and holds no other control character")
    key_id = key_hash(name, private_key.public_key())
    signature = Signature(name, key_id, private_key.sign(text.encode()))
    return Note(text, (signature,)).serialize()


def open_note(note: str, name: str, public_key: ed25519.Ed25519PublicKey) -> Note:
    """
    Return the parsed note if the key (``name``, ``public_key``) signed it; else NoteError.

    Signatures by other keys (a witness's cosignatures) are ignored, as signed-note says.
    """
    parsed = parse_note(note)
    key_id = key_hash(name, public_key)
    found = False
    for signature in parsed.signatures:
        if (signature.name, signature.key_id) != (name, key_id):
            continue
        try:
            public_key.verify(signature.signature, parsed.text.encode())
        except InvalidSignature as exc:
            raise NoteError("bad signature") from exc
        found = True
    if not found:
        raise NoteError("signed by another key")
    return parsed


# --- Checkpoints ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeHead:
    """The body of a C2SP tlog-checkpoint: origin, tree size, Merkle root."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def parse_tree_head(text: str) -> TreeHead:
    """Return the tree head of a checkpoint text (no extension lines: this log writes none)."""
    lines = text.split("\n")
    if len(lines) != 4 or lines[3] != "":
        raise NoteError("a checkpoint has three lines: origin, size, root")
    origin, size_text, root_text = lines[:3]
    if not origin or not size_text.isascii() or not size_text.isdigit():
        raise NoteError("malformed origin or size line")
    if size_text != str(int(size_text)):
        raise NoteError("the size has no leading zeros")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise NoteError("malformed root line") from exc
    if len(root) != 32 or base64.b64encode(root).decode() != root_text:
        raise NoteError("the root line holds 32 bytes in standard base64")
    return TreeHead(origin, int(size_text), root)


def sign_checkpoint(head: TreeHead, private_key: ed25519.Ed25519PrivateKey) -> str:
    """Return the checkpoint note of ``head``, signed with the origin as key name."""
    return sign_note(head.text(), head.origin, private_key)


def open_checkpoint(
    note: str, public_key: ed25519.Ed25519PublicKey, origin: str | None = None
) -> TreeHead:
    """Return the tree head of a checkpoint signed by ``public_key`` (key name: its origin)."""
    parsed = parse_note(note)
    head = parse_tree_head(parsed.text)
    if origin is not None and head.origin != origin:
        raise NoteError("a checkpoint of another log")
    open_note(note, head.origin, public_key)
    return head


# --- The earlier format ---------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointBody:
    """A checkpoint of the earlier format: the chain hash of entry ``seq`` and a time."""

    origin: str
    seq: int
    hash: str
    time: str

    def text(self) -> str:
        root = base64.b64encode(bytes.fromhex(self.hash)).decode()
        return f"{self.origin}\n{self.seq}\n{root}\ntime {self.time}\n"


def is_earlier_format(note: str) -> bool:
    """Return True for a checkpoint of the earlier, chain-hash format."""
    text = note.partition("\n\n")[0]
    lines = text.split("\n")
    return len(lines) == 4 and lines[3].startswith("time ")


def sign(body: CheckpointBody, private_key: ed25519.Ed25519PrivateKey) -> str:
    """Return the whole signed note for an earlier-format ``body`` (tests of old logs)."""
    return sign_note(body.text(), body.origin, private_key)


def parse(note: str) -> tuple[CheckpointBody, str, bytes, bytes]:
    """Return (body, signer name, key hash, signature) of an earlier-format checkpoint."""
    parsed = parse_note(note)
    lines = parsed.text[:-1].split("\n")
    if len(lines) != 4 or not lines[3].startswith("time "):
        raise NoteError("the checkpoint body must have four lines")
    try:
        seq = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
    except (ValueError, binascii.Error) as exc:
        raise NoteError("malformed size or hash line") from exc
    if len(root) != 32:
        raise NoteError("the hash line must hold 32 bytes")
    body = CheckpointBody(origin=lines[0], seq=seq, hash=root.hex(), time=lines[3][5:])
    first = parsed.signatures[0]
    if len(first.signature) != 64:
        raise NoteError("an Ed25519 signature line holds 4 + 64 bytes")
    return body, first.name, first.key_id, first.signature


def verify(note: str, public_key: ed25519.Ed25519PublicKey) -> CheckpointBody:
    """Return the body of an earlier-format ``note`` if ``public_key`` signed it."""
    body, name, _, _ = parse(note)
    open_note(note, name, public_key)
    return body
