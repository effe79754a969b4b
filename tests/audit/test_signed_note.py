"""
Signed notes (C2SP signed-note) and checkpoints (C2SP tlog-checkpoint) against the formats'
own examples.

- golang.org/x/mod ``sumdb/note/note_test.go`` (the implementation signed-note was written
  from): the PeterNeumann signer and verifier keys, the note TestSign must produce byte for
  byte (Ed25519 signatures are deterministic), the EnochRoot key and signature of TestOpen, and
  its malformed notes;
- c2sp.org/signed-note's example (a note whose text holds an empty line) and
  c2sp.org/tlog-checkpoint's example (example.com/behind-the-sofa), which publish no keys: they
  are parsed, not verified.
"""

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from audit import notes

PETER_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VERIFIER = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngo"
    "tpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWL"
    "ox33WWd1RvMc+QQ=\n"
)
SPEC_NOTE = (
    "Ognuno sta solo sul cuor della terra\n"
    "trafitto da un raggio di sole:\n"
    "\n"
    "ed è subito sera.\n"
    "\n"
    "\u2014 quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrM"
    "ouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zh"
    "cyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


def peter_private_key() -> ed25519.Ed25519PrivateKey:
    # PRIVATE+KEY+<name>+<key ID>+base64(0x01 || 32-byte seed); the base64 may hold a '+'.
    raw = base64.b64decode(PETER_SIGNER.split("+", 4)[4])
    assert raw[0] == notes.ED25519
    return ed25519.Ed25519PrivateKey.from_private_bytes(raw[1:])


def test_signing_reproduces_the_reference_note_byte_for_byte():
    assert notes.sign_note(TEXT, "PeterNeumann", peter_private_key()) == TEXT + "\n" + PETER_SIG


def test_verifier_keys_are_read_and_written_as_the_reference_writes_them():
    name, public_key = notes.parse_verifier_key(PETER_VERIFIER)
    assert name == "PeterNeumann"
    assert notes.key_hash(name, public_key).hex() == "c74f20a3"
    assert notes.verifier_key(name, peter_private_key().public_key()) == PETER_VERIFIER
    for bad in (
        PETER_VERIFIER[:-1],
        PETER_VERIFIER.replace("c74f20a3", "c74f20a4"),
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ):
        with pytest.raises(notes.NoteError):
            notes.parse_verifier_key(bad)


def test_a_note_opens_with_its_key_and_other_signatures_are_ignored():
    _, peter = notes.parse_verifier_key(PETER_VERIFIER)
    _, enoch = notes.parse_verifier_key(ENOCH_VERIFIER)
    note = TEXT + "\n" + PETER_SIG + ENOCH_SIG

    assert notes.open_note(note, "PeterNeumann", peter).text == TEXT
    assert notes.open_note(note, "EnochRoot", enoch).text == TEXT
    assert [s.name for s in notes.parse_note(note).signatures] == ["PeterNeumann", "EnochRoot"]
    with pytest.raises(notes.NoteError):  # no signature by this key
        notes.open_note(TEXT + "\n" + ENOCH_SIG, "PeterNeumann", peter)
    with pytest.raises(notes.NoteError):  # TestOpen's "invalid signature"
        notes.open_note(
            TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:], "PeterNeumann", peter
        )
    with pytest.raises(notes.NoteError):  # the text changed
        notes.open_note(note.replace("cryptography", "cryptographY"), "PeterNeumann", peter)


@pytest.mark.parametrize(
    "note",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + "\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2"
        "pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG * 101,
    ],
)
def test_malformed_notes_are_refused(note):
    """TestOpen's malformed notes."""
    with pytest.raises(notes.NoteError):
        notes.parse_note(note)


def test_the_specs_examples_parse():
    parsed = notes.parse_note(SPEC_NOTE)
    assert parsed.text.endswith("\ned è subito sera.\n")  # the text's own empty line stays in it
    assert parsed.signatures[0].name == "quasimodo.example/salvatore"
    assert len(parsed.signatures[0].signature) == 64

    checkpoint = notes.parse_note(SPEC_CHECKPOINT)
    head = notes.parse_tree_head(checkpoint.text)
    assert (head.origin, head.size) == ("example.com/behind-the-sofa", 20852163)
    assert head.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert head.text() == checkpoint.text


def test_a_checkpoint_is_three_lines_signed_under_its_origin():
    key = peter_private_key()
    head = notes.TreeHead("example.org/audit-log", 3, bytes(range(32)))
    note = notes.sign_checkpoint(head, key)

    text, signature_line = note.split("\n\n")
    assert text.split("\n") == [
        "example.org/audit-log",
        "3",
        base64.b64encode(bytes(range(32))).decode(),
    ]
    assert signature_line.startswith("\u2014 example.org/audit-log ")
    assert notes.open_checkpoint(note, key.public_key(), "example.org/audit-log") == head
    with pytest.raises(notes.NoteError):
        notes.open_checkpoint(note, key.public_key(), "example.org/another-log")
    cosigned = note + ENOCH_SIG  # a cosignature by another key changes nothing
    assert notes.open_checkpoint(cosigned, key.public_key()) == head


@pytest.mark.parametrize(
    "text",
    [
        "example.org/log\n03\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "example.org/log\n3\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
        "example.org/log\n-3\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "example.org/log\n3\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n",
        "\n3\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
    ],
)
def test_malformed_checkpoint_texts_are_refused(text):
    with pytest.raises(notes.NoteError):
        notes.parse_tree_head(text)
