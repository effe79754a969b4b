"""
The platform as a witness of other logs (C2SP tlog-witness ``add-checkpoint``), its state per
log, and audit_verify against checkpoints cosigned by a witness.

The other log here is a list of leaves and an Ed25519 key of its own, its checkpoints and
proofs made with ``audit.merkle`` as any tlog would make them. Two live platforms witnessing
each other: tests/audit/test_witness_live.py.
"""

import base64
import datetime
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.core.management import CommandError, call_command
from django.db import connection

from audit import cosignatures, merkle, notes, services, witnessing
from audit.models import Cosignature, Entry, WitnessedCheckpoint, WitnessedLog

from .helpers import build_chain, raw_sql

pytestmark = pytest.mark.django_db
ORIGIN = "city-b.example/audit-log"
URL = "/witness/add-checkpoint"


class OtherLog:
    """Another transparency log: its leaves, its key, its checkpoints and proofs."""

    def __init__(self, origin: str = ORIGIN, key=None, count: int = 20):
        self.origin = origin
        self.key = key or ed25519.Ed25519PrivateKey.generate()
        self.leaves = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(count)]

    def vkey(self) -> str:
        return notes.verifier_key(self.origin, self.key.public_key())

    def root(self, size: int) -> bytes:
        return merkle.root(self.leaves[:size])

    def checkpoint(self, size: int) -> str:
        head = notes.TreeHead(self.origin, size, self.root(size))
        return notes.sign_checkpoint(head, self.key)

    def proof(self, old: int, size: int) -> list[bytes]:
        return merkle.consistency_proof(old, size, merkle.nodes_from_leaves(self.leaves))

    def request(self, old: int, size: int, proof: list[bytes] | None = None) -> bytes:
        proof = self.proof(old, size) if proof is None else proof
        return cosignatures.request_body(old, proof if old else [], self.checkpoint(size))


@pytest.fixture
def other_log():
    log = OtherLog()
    services.witnessed_log_save(actor=None, origin=log.origin, verifier_key=log.vkey())
    return log


def post(client, body: bytes):
    return client.post(URL, data=body, content_type="text/plain")


def witness_cosigner() -> cosignatures.Cosigner:
    return cosignatures.parse_verifier_key(witnessing.witness_verifier_key())


def test_the_witness_cosigns_a_new_log_then_only_trees_that_extend_it(client, other_log):
    response = post(client, other_log.request(0, 5))
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    # The answer is a cosignature line that verifies against the witness's verifier key.
    cosigned = other_log.checkpoint(5) + response.content.decode()
    assert set(cosignatures.cosignatures(cosigned, [witness_cosigner()])) == {
        witness_cosigner().name
    }

    # The old size must be the last size cosigned: a 409 tells it, as text/x.tlog.size.
    response = post(client, other_log.request(0, 8))
    assert response.status_code == 409
    assert response["Content-Type"] == "text/x.tlog.size"
    assert response.content == b"5\n"

    assert post(client, other_log.request(5, 8)).status_code == 200
    # The same tree again (same size, same root) is cosigned again.
    assert post(client, other_log.request(8, 8)).status_code == 200
    state = WitnessedCheckpoint.objects.filter(log__origin=ORIGIN).order_by("-id").first()
    assert (state.size, state.root) == (8, other_log.root(8).hex())


def test_the_witness_catches_a_rewritten_log_and_keeps_its_state(client, other_log):
    assert post(client, other_log.request(0, 8)).status_code == 200
    honest_root = other_log.root(8)
    # The log rewrites its third entry and signs the new trees with its own, valid key.
    other_log.leaves[2] = merkle.leaf_hash(b"rewritten")

    response = post(client, other_log.request(8, 12))  # a proof from the rewritten tree
    assert response.status_code == 422
    assert response.json()["error"] == "inconsistent"
    response = post(client, other_log.request(8, 8))  # same size, another root: a fork
    assert response.status_code == 409
    assert response.json()["error"] == "fork"

    state = WitnessedCheckpoint.objects.filter(log__origin=ORIGIN).order_by("-id").first()
    assert (state.size, state.root) == (8, honest_root.hex())
    assert WitnessedCheckpoint.objects.count() == 1
    # The refusals are evidence, recorded in this platform's own log.
    services.seal()
    faults = [e.data["fault"] for e in Entry.objects.filter(action="witness.inconsistency")]
    assert faults == ["inconsistent", "fork"]


@pytest.mark.parametrize(
    ("make", "status", "error"),
    [
        # Unknown origin: 404.
        (lambda log: OtherLog("unknown.example/log").request(0, 3), 404, "unknown_log"),
        # Signed by another key than the one configured for the origin: 403.
        (lambda log: OtherLog(ORIGIN).request(0, 3), 403, "bad_signature"),
        # Malformed: 400.
        (lambda log: b"old 0\n" + log.checkpoint(3).encode(), 400, "malformed"),
        (lambda log: b"old 0\n\nnot a checkpoint\n", 400, "malformed"),
        # An old size larger than the checkpoint: 400.
        (lambda log: log.request(5, 3, proof=[bytes(32)]), 400, "malformed"),
    ],
)
def test_refusals_follow_the_specification(client, other_log, make, status, error):
    response = post(client, make(other_log))
    assert response.status_code == status
    assert response.json()["error"] == error
    assert not WitnessedCheckpoint.objects.exists()


def test_an_inactive_log_is_not_witnessed_and_only_post_is_taken(client, other_log):
    services.witnessed_log_save(
        actor=None,
        log=WitnessedLog.objects.get(origin=other_log.origin),
        origin=other_log.origin,
        verifier_key=other_log.vkey(),
        active=False,
    )
    assert post(client, other_log.request(0, 3)).status_code == 404
    assert client.get(URL).status_code == 405


def test_the_witness_key_is_its_own_and_stays_the_same(settings, tmp_path):
    first = witnessing.witness_verifier_key()
    assert first == witnessing.witness_verifier_key()
    assert first.startswith(settings.AUDIT_WITNESS_NAME + "+")
    # Encrypted at rest: the file does not hold the raw key.
    raw = witnessing.witness_private_key().private_bytes_raw()
    assert raw not in (tmp_path / "audit-witness.key").read_bytes()
    out = StringIO()
    call_command("audit_witness_key", stdout=out)
    assert out.getvalue().split() == [first, f"{settings.PLATFORM_URL}/witness"]


def test_the_witnessed_log_command_refuses_a_key_named_otherwise():
    log = OtherLog()
    with pytest.raises(CommandError, match="not saved"):
        call_command("audit_witness_log", "another.example/log", log.vkey(), stdout=StringIO())
    assert not WitnessedLog.objects.exists()
    call_command("audit_witness_log", log.origin, log.vkey(), stdout=StringIO())
    services.seal()
    assert Entry.objects.filter(action="witness.log_added").count() == 1


# --- audit_verify against witnessed checkpoints ----------------------------------------------


@pytest.fixture
def local_witness(settings):
    """A witness whose key the test holds, configured for this platform."""
    key = ed25519.Ed25519PrivateKey.generate()
    cosigner = cosignatures.Cosigner("witness.example/w1", key.public_key())
    settings.AUDIT_WITNESSES = [[cosigner.vkey(), "http://127.0.0.1:9/unused"]]
    settings.AUDIT_WITNESS_QUORUM = 1
    return cosigner, key


def cosign_checkpoint(checkpoint, cosigner, key) -> str:
    text = notes.parse_note(checkpoint.note).text
    signature = cosignatures.cosign(
        text, name=cosigner.name, private_key=key, timestamp=1_800_000_000
    )
    services.cosignature_store(
        checkpoint=checkpoint,
        witness=cosigner.name,
        key_id=signature.key_id.hex(),
        timestamp=1_800_000_000,
        line=signature.line(),
    )
    return checkpoint.note + signature.line()


def verify(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("audit_verify", "--no-seal", *args, stdout=out)
    except SystemExit as exit:
        return exit.code, out.getvalue()
    return 0, out.getvalue()


def test_a_cosigned_checkpoint_is_served_and_counted_as_witnessed(client, local_witness):
    build_chain(6)
    checkpoint = services.checkpoint_create()
    assert not witnessing.is_witnessed(checkpoint)
    cosigned = cosign_checkpoint(checkpoint, *local_witness)

    assert witnessing.is_witnessed(checkpoint)
    assert client.get("/audit-log/checkpoint").content.decode() == cosigned
    code, output = verify()
    assert code == 0, output
    assert "1 witnessed" in output


def test_audit_verify_fails_when_the_log_is_shorter_than_a_cosigned_checkpoint(
    tmp_path, local_witness
):
    build_chain(6)
    checkpoint = services.checkpoint_create()
    cosigned = tmp_path / "cosigned.txt"
    cosigned.write_text(cosign_checkpoint(checkpoint, *local_witness))
    # An insider removes the last entries, the checkpoints and cosignatures that name them, and
    # the signer's record: only the copy the witness cosigned is left.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending events: ALTER may run
    with raw_sql() as cursor:
        cursor.execute("DELETE FROM audit_cosignature")
        cursor.execute("DELETE FROM audit_checkpoint")
        cursor.execute("DELETE FROM audit_entry WHERE seq > 4")
        cursor.execute("DELETE FROM audit_tile")
        services.tree_build()
    (tmp_path / "audit-checkpoint.txt").unlink()

    assert verify()[0] == 0  # the database alone no longer shows it
    code, output = verify("--cosigned", str(cosigned))
    assert code == 1
    assert "truncated" in output and "cosigned by witness.example/w1" in output


def test_audit_verify_fails_when_the_log_differs_from_a_cosigned_checkpoint(
    tmp_path, local_witness
):
    build_chain(6)
    checkpoint = services.checkpoint_create()
    cosigned = tmp_path / "cosigned.txt"
    cosigned.write_text(cosign_checkpoint(checkpoint, *local_witness))
    with raw_sql() as cursor:
        cursor.execute(
            "UPDATE audit_entry SET payload = %s WHERE seq = 3", ['{"label":"x","number":0}']
        )

    code, output = verify("--cosigned", str(cosigned))
    assert code == 1
    assert "witness_mismatch" in output or "hash_mismatch" in output
    assert "cosigned by witness.example/w1" in output


def test_a_cosignature_that_does_not_verify_is_a_fault(local_witness):
    build_chain(3)
    checkpoint = services.checkpoint_create()
    cosigner, _key = local_witness
    forged = cosignatures.cosign(
        "another text\n",
        name=cosigner.name,
        private_key=ed25519.Ed25519PrivateKey.generate(),
        timestamp=1,
    )
    services.cosignature_store(
        checkpoint=checkpoint,
        witness=cosigner.name,
        key_id=cosigner.key_id.hex(),
        timestamp=1,
        line=notes.Signature(cosigner.name, cosigner.key_id, forged.signature).line(),
    )
    code, output = verify()
    assert code == 1
    assert "bad_cosignature" in output
    assert Cosignature.objects.count() == 1


def test_a_cosigned_checkpoint_given_must_be_signed_by_the_platform_and_a_witness(
    tmp_path, local_witness
):
    build_chain(3)
    checkpoint = services.checkpoint_create()
    bare = tmp_path / "bare.txt"
    bare.write_text(checkpoint.note)
    code, output = verify("--cosigned", str(bare))
    assert code == 1 and "cosigned by no configured witness" in output

    stranger = tmp_path / "stranger.txt"
    stranger.write_text(
        OtherLog(notes.parse_note(checkpoint.note).text.split("\n")[0]).checkpoint(3)
    )
    code, output = verify("--cosigned", str(stranger))
    assert code == 1 and "not signed by a platform key" in output


def test_the_witness_timestamp_is_the_time_it_cosigned(client, other_log):
    moment = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)
    line = witnessing.witness_add_checkpoint(body=other_log.request(0, 4), now=moment)
    signature = cosignatures.parse_signature_lines(line)[0]
    assert int.from_bytes(signature.signature[:8], "big") == int(moment.timestamp())
    assert base64.b64encode(signature.key_id + signature.signature).decode() in line
