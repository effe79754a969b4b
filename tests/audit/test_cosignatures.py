"""
Cosignatures (C2SP tlog-cosignature, cosignature/v1) and the add-checkpoint request body (C2SP
tlog-witness) against the specifications' own examples.

The specifications publish no witness key, so their example cosignature line is parsed (key ID,
timestamp, length) and their example signed message is rebuilt byte for byte; signing and
verifying use golang.org/x/mod's published PeterNeumann test key (Ed25519 is deterministic).
"""

import base64
import hashlib

import pytest

from audit import cosignatures, merkle, notes

from .test_signed_note import SPEC_CHECKPOINT, peter_private_key

# c2sp.org/tlog-cosignature: the example checkpoint with a cosignature...
SPEC_COSIGNATURE_LINE = (
    "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJ"
    "sX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
# ... and its example signed message.
SPEC_MESSAGE = (
    "cosignature/v1\n"
    "time 1679315147\n"
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)
# c2sp.org/tlog-witness: the example add-checkpoint request body.
SPEC_REQUEST = (
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n"
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zh"
    "cyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "\u2014 example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49"
    "/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
)
CHECKPOINT_TEXT = SPEC_CHECKPOINT.partition("\n\n")[0] + "\n"


def test_the_signed_message_is_the_specifications_example():
    assert cosignatures.message(CHECKPOINT_TEXT, 1679315147) == SPEC_MESSAGE.encode()


def test_the_specifications_cosignature_line_holds_key_id_timestamp_and_signature():
    checkpoint = notes.parse_note(SPEC_CHECKPOINT.rstrip("\n") + "\n" + SPEC_COSIGNATURE_LINE)
    platform, witness = checkpoint.signatures
    assert platform.name == "example.com/behind-the-sofa"
    assert witness.name == "witness.example.com/w1"
    assert witness.key_id.hex() == "8d66cf3f"
    assert len(witness.signature) == 8 + 64
    # Its timestamp is the time of the specification's example message.
    assert int.from_bytes(witness.signature[:8], "big") == 1679315147


def test_a_cosignature_by_a_known_key_verifies_and_its_key_id_is_the_type_4_hash():
    key = peter_private_key()
    public = key.public_key()
    signature = cosignatures.cosign(
        CHECKPOINT_TEXT, name="witness.example.com/w1", private_key=key, timestamp=1679315147
    )
    raw = notes.raw_public_key(public)
    assert signature.key_id == hashlib.sha256(b"witness.example.com/w1\n\x04" + raw).digest()[:4]
    # The signature is Ed25519 over the specification's message, nothing else.
    public.verify(signature.signature[8:], SPEC_MESSAGE.encode())
    cosigner = cosignatures.Cosigner("witness.example.com/w1", public)
    assert cosignatures.verify(CHECKPOINT_TEXT, signature, cosigner) == 1679315147

    note = SPEC_CHECKPOINT + signature.line()
    assert cosignatures.cosignatures(note, [cosigner]) == {"witness.example.com/w1": 1679315147}
    # A checkpoint signature (type 0x01) by the same key is not a cosignature (type 0x04).
    plain = notes.sign_note(CHECKPOINT_TEXT, "witness.example.com/w1", key)
    assert cosignatures.cosignatures(plain, [cosigner]) == {}


def test_a_cosignature_over_another_tree_or_time_does_not_verify():
    key = peter_private_key()
    cosigner = cosignatures.Cosigner("w.example/w", key.public_key())
    signature = cosignatures.cosign(
        CHECKPOINT_TEXT, name="w.example/w", private_key=key, timestamp=5
    )
    other_tree = CHECKPOINT_TEXT.replace("20852163", "20852164")
    with pytest.raises(notes.NoteError, match="bad cosignature"):
        cosignatures.verify(other_tree, signature, cosigner)
    moved = notes.Signature(
        signature.name, signature.key_id, (6).to_bytes(8, "big") + signature.signature[8:]
    )
    with pytest.raises(notes.NoteError, match="bad cosignature"):
        cosignatures.verify(CHECKPOINT_TEXT, moved, cosigner)


def test_verifier_keys_round_trip_and_refuse_another_type_or_key_id():
    key = peter_private_key().public_key()
    vkey = cosignatures.verifier_key("witness.example/w1", key)
    name, key_id, blob = vkey.split("+", 2)
    assert base64.b64decode(blob)[0] == 0x04
    assert cosignatures.parse_verifier_key(vkey).key_id.hex() == key_id
    with pytest.raises(notes.NoteError):
        cosignatures.parse_verifier_key(notes.verifier_key("witness.example/w1", key))  # 0x01
    with pytest.raises(notes.NoteError, match="ID does not match"):
        cosignatures.parse_verifier_key(f"{name}+00000000+{blob}")


def test_the_specifications_request_body_parses():
    request = cosignatures.parse_request(SPEC_REQUEST.encode())
    assert request.old_size == 20852014
    assert [base64.b64encode(h).decode() for h in request.proof] == SPEC_REQUEST.split("\n")[1:5]
    assert notes.parse_tree_head(notes.parse_note(request.note).text).size == 20852163
    assert len(notes.parse_note(request.note).signatures) == 2
    # And one written here reads back the same.
    again = cosignatures.request_body(request.old_size, request.proof, request.note)
    assert again == SPEC_REQUEST.encode()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old 1\n",  # no empty line, no checkpoint
        b"old 01\n\n" + CHECKPOINT_TEXT.encode(),  # leading zero
        b"old -1\n\n" + CHECKPOINT_TEXT.encode(),
        b"new 1\n\n" + CHECKPOINT_TEXT.encode(),
        b"old 1\nnot base64!\n\n" + CHECKPOINT_TEXT.encode(),
        b"old 1\nAAAA\n\n" + CHECKPOINT_TEXT.encode(),  # not 32 bytes
        b"old 0\n" + base64.b64encode(merkle.EMPTY_ROOT) + b"\n\n" + CHECKPOINT_TEXT.encode(),
        b"old 5\n" + b"".join([base64.b64encode(bytes(32)) + b"\n"] * 64) + b"\n",  # > 63 lines
        b"\xff\xfe\n\n",
    ],
)
def test_malformed_request_bodies_are_refused(body):
    with pytest.raises(cosignatures.RequestError):
        cosignatures.parse_request(body)
