"""
Checkpoints as signed notes, after C2SP's ``signed-note`` and ``tlog-checkpoint`` formats.

A checkpoint body is four lines, each ending in a newline::

    <origin>
    <size: the sequence number of the newest entry covered, in decimal>
    <the hash of that entry, 32 bytes, standard base64>
    time <the checkpoint's time, canonical form: 2026-11-24T10:00:00.000000Z>

followed by an empty line and one signature line::

    — <key name> <base64(key hash (4 bytes) || Ed25519 signature over the body (64 bytes))>

The key name is the origin; the key hash is the first four bytes of
SHA-256(key name || "\\n" || 0x01 || the 32-byte Ed25519 public key), as signed-note defines.
Unlike a transparency log's Merkle root, the hash is the head of a hash chain.
"""

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space, as signed-note requires


class NoteError(ValueError):
    """The note is malformed or its signature does not verify."""


@dataclass(frozen=True)
class CheckpointBody:
    origin: str
    seq: int
    hash: str
    time: str

    def text(self) -> str:
        root = base64.b64encode(bytes.fromhex(self.hash)).decode()
        return f"{self.origin}\n{self.seq}\n{root}\ntime {self.time}\n"


def key_hash(name: str, public_key: ed25519.Ed25519PublicKey) -> bytes:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(name.encode() + b"\n" + b"\x01" + raw).digest()[:4]


def sign(body: CheckpointBody, private_key: ed25519.Ed25519PrivateKey) -> str:
    """Return the whole signed note for ``body``."""
    text = body.text()
    signature = private_key.sign(text.encode())
    blob = base64.b64encode(key_hash(body.origin, private_key.public_key()) + signature).decode()
    return f"{text}\n{SIGNATURE_PREFIX}{body.origin} {blob}\n"


def parse(note: str) -> tuple[CheckpointBody, str, bytes, bytes]:
    """Return (body, signer name, key hash, signature) of a signed checkpoint note."""
    text, separator, signatures = note.partition("\n\n")
    if not separator or not signatures.endswith("\n"):
        raise NoteError("not a signed note")
    lines = text.split("\n")
    if len(lines) != 4 or not lines[3].startswith("time "):
        raise NoteError("the checkpoint body must have four lines")
    try:
        seq = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
    except ValueError as exc:
        raise NoteError("malformed size or hash line") from exc
    if len(root) != 32:
        raise NoteError("the hash line must hold 32 bytes")
    body = CheckpointBody(origin=lines[0], seq=seq, hash=root.hex(), time=lines[3][5:])
    first = signatures.split("\n")[0]
    if not first.startswith(SIGNATURE_PREFIX):
        raise NoteError("missing signature line")
    try:
        name, blob = first[len(SIGNATURE_PREFIX) :].split(" ")
        raw = base64.b64decode(blob, validate=True)
    except ValueError as exc:
        raise NoteError("malformed signature line") from exc
    if len(raw) != 68:
        raise NoteError("an Ed25519 signature line holds 4 + 64 bytes")
    return body, name, raw[:4], raw[4:]


def verify(note: str, public_key: ed25519.Ed25519PublicKey) -> CheckpointBody:
    """Return the body of ``note`` if ``public_key`` signed it, else raise NoteError."""
    body, name, hint, signature = parse(note)
    if hint != key_hash(name, public_key):
        raise NoteError("signed by another key")
    try:
        public_key.verify(signature, body.text().encode())
    except InvalidSignature as exc:
        raise NoteError("bad signature") from exc
    return body
