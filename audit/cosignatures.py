"""
Witness cosignatures (C2SP tlog-cosignature, ``cosignature/v1``, Ed25519) and the request body
of C2SP tlog-witness ``add-checkpoint``. Pure functions over text and bytes, no Django.

A cosignature is a signed-note signature line on a checkpoint::

    — <witness name> base64(key ID (4 bytes) || timestamp (u64, big-endian) || signature (64))

with key ID = SHA-256(name || 0x0A || 0x04 || 32-byte Ed25519 public key)[:4], and the
signature over the message::

    cosignature/v1
    time <timestamp, POSIX seconds, decimal>
    <the checkpoint's whole note text, final newline included>

A witness's verifier key is ``<name>+<key ID hex>+base64(0x04 || public key)`` (signed-note
vkeys with signature type 0x04).
"""

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from . import merkle, notes

COSIGNATURE_V1 = 0x04
HEADER = "cosignature/v1\n"
MAX_TIMESTAMP = (1 << 63) - 1
# tlog-witness: a client sends at most 63 consistency proof lines.
MAX_PROOF_LINES = 63
MAX_REQUEST_BYTES = 1 << 16


class RequestError(ValueError):
    """An add-checkpoint request body that does not follow tlog-witness."""


@dataclass(frozen=True)
class Cosigner:
    """A witness as its clients know it: name and Ed25519 public key."""

    name: str
    public_key: ed25519.Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def vkey(self) -> str:
        return verifier_key(self.name, self.public_key)


def key_id(name: str, public_key: ed25519.Ed25519PublicKey) -> bytes:
    """Return the cosignature key ID: SHA-256(name || 0x0A || 0x04 || public key)[:4]."""
    raw = notes.raw_public_key(public_key)
    return hashlib.sha256(name.encode() + b"\n" + bytes([COSIGNATURE_V1]) + raw).digest()[:4]


def verifier_key(name: str, public_key: ed25519.Ed25519PublicKey) -> str:
    """Return the witness's verifier key ``name+keyid+base64(0x04 || public key)``."""
    notes.check_key_name(name)
    blob = base64.b64encode(bytes([COSIGNATURE_V1]) + notes.raw_public_key(public_key)).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{blob}"


def parse_verifier_key(vkey: str) -> Cosigner:
    """Return the cosigner of a type 0x04 verifier key, checking its key ID."""
    name, _, rest = vkey.strip().partition("+")
    hex_id, _, blob = rest.partition("+")
    try:
        notes.check_key_name(name)
        raw = base64.b64decode(blob, validate=True)
        given_id = bytes.fromhex(hex_id)
    except (ValueError, binascii.Error) as exc:
        raise notes.NoteError("malformed witness verifier key") from exc
    if len(hex_id) != 8 or len(raw) != 33 or raw[0] != COSIGNATURE_V1:
        raise notes.NoteError("not an Ed25519 cosignature (type 0x04) verifier key")
    public_key = ed25519.Ed25519PublicKey.from_public_bytes(raw[1:])
    if key_id(name, public_key) != given_id:
        raise notes.NoteError("the witness verifier key's ID does not match its key")
    return Cosigner(name, public_key)


def message(text: str, timestamp: int) -> bytes:
    """Return the bytes a cosignature signs over the checkpoint note text ``text``."""
    return f"{HEADER}time {timestamp}\n{text}".encode()


def cosign(
    text: str, *, name: str, private_key: ed25519.Ed25519PrivateKey, timestamp: int
) -> notes.Signature:
    """Return the cosignature of checkpoint text ``text`` at ``timestamp`` (POSIX seconds)."""
    notes.check_key_name(name)
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise notes.NoteError("a cosignature's time is a POSIX timestamp below 2**63")
    signature = private_key.sign(message(text, timestamp))
    return notes.Signature(
        name, key_id(name, private_key.public_key()), struct.pack(">Q", timestamp) + signature
    )


def verify(text: str, signature: notes.Signature, cosigner: Cosigner) -> int:
    """Return the timestamp of ``signature`` if ``cosigner`` cosigned ``text``; else NoteError."""
    if (signature.name, signature.key_id) != (cosigner.name, cosigner.key_id):
        raise notes.NoteError("a signature by another key")
    if len(signature.signature) != 8 + 64:
        raise notes.NoteError("a cosignature holds a timestamp and a 64-byte signature")
    (timestamp,) = struct.unpack(">Q", signature.signature[:8])
    if timestamp > MAX_TIMESTAMP:
        raise notes.NoteError("a cosignature's time is below 2**63")
    try:
        cosigner.public_key.verify(signature.signature[8:], message(text, timestamp))
    except InvalidSignature as exc:
        raise notes.NoteError(f"bad cosignature by {cosigner.name}") from exc
    return timestamp


def cosignatures(note: str, cosigners: list[Cosigner]) -> dict[str, int]:
    """
    Return {witness name: timestamp} of the valid cosignatures in ``note`` by ``cosigners``.

    Lines by other keys are ignored (signed-note); a known key's bad cosignature raises.
    """
    parsed = notes.parse_note(note)
    found: dict[str, int] = {}
    for signature in parsed.signatures:
        for cosigner in cosigners:
            if (signature.name, signature.key_id) == (cosigner.name, cosigner.key_id):
                found[cosigner.name] = verify(parsed.text, signature, cosigner)
    return found


def parse_signature_lines(body: str) -> list[notes.Signature]:
    """Return the signature lines of an add-checkpoint response (one or more, each ending \\n)."""
    if not body.endswith("\n") or len(body) > MAX_REQUEST_BYTES:
        raise notes.NoteError("signature lines end in a newline")
    # Borrow the signed-note parser: a dummy text and an empty line before the lines.
    return list(notes.parse_note("x\n\n" + body).signatures)


# --- tlog-witness add-checkpoint -----------------------------------------------------------


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: list[bytes]
    note: str


def request_body(old_size: int, proof: list[bytes], note: str) -> bytes:
    """Return the body of an add-checkpoint request."""
    lines = [f"old {old_size}\n", *(base64.b64encode(h).decode() + "\n" for h in proof), "\n"]
    return ("".join(lines) + note).encode()


def parse_request(body: bytes) -> AddCheckpoint:
    """Return the parts of an add-checkpoint request body; RequestError when malformed."""
    if len(body) > MAX_REQUEST_BYTES:
        raise RequestError("the request is too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError("the request is not UTF-8") from exc
    head, separator, note = text.partition("\n\n")
    if not separator:
        raise RequestError("the request has no empty line before the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    size_text = first[4:]
    if (
        not first.startswith("old ")
        or not size_text.isascii()
        or not size_text.isdigit()
        or size_text != str(int(size_text))
    ):
        raise RequestError("the first line is 'old <size>' in decimal without leading zeros")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise RequestError("more than 63 consistency proof lines")
    proof = []
    for line in lines[1:]:
        try:
            value = base64.b64decode(line, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise RequestError("a consistency proof line is not base64") from exc
        if len(value) != merkle.HASH_SIZE:
            raise RequestError("a consistency proof line holds one 32-byte hash")
        proof.append(value)
    old_size = int(size_text)
    if old_size == 0 and proof:
        raise RequestError("the proof from size 0 is empty")
    return AddCheckpoint(old_size, proof, note)
