"""
The checkpoint signer never signs a tree that does not extend the last checkpoint it signed,
which it also keeps outside the database (AUDIT_CHECKPOINT_STATE); ``audit_verify`` fails when
the log is shorter than or inconsistent with that record.
"""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from audit import chain, merkle, notes, selectors, services, tree
from audit.models import Checkpoint, TreeTile

from .helpers import as_insider, build_chain, raw_sql, verify_json

pytestmark = pytest.mark.django_db


def rewrite_entry(seq: int) -> None:
    """An insider's consistent rewrite from entry ``seq`` on: hashes and tree recomputed."""
    with raw_sql() as cursor:
        cursor.execute("UPDATE audit_entry SET object_id = 'forged' WHERE seq >= %s", [seq])
        cursor.execute("DELETE FROM audit_tile")
    rows = list(selectors.chain_rows())
    prev = rows[seq - 2].hash if seq > 1 else chain.GENESIS_HASH
    with raw_sql() as cursor:
        for row in rows[seq - 1 :]:
            fields = row._asdict()
            del fields["hash"]
            digest = chain.entry_hash(**{**fields, "prev_hash": prev})
            cursor.execute(
                "UPDATE audit_entry SET prev_hash = %s, hash = %s WHERE seq = %s",
                [prev, digest, row.seq],
            )
            prev = digest
    with as_insider():
        tree.build()


def test_the_signer_keeps_its_last_checkpoint_outside_the_database(settings):
    build_chain(3)
    checkpoint = services.checkpoint_create()

    assert Path(settings.AUDIT_CHECKPOINT_STATE).read_text() == checkpoint.note
    build_chain(2)
    newer = services.checkpoint_create()
    assert Path(settings.AUDIT_CHECKPOINT_STATE).read_text() == newer.note
    assert newer.seq > checkpoint.seq


def test_the_signer_refuses_when_the_database_lost_its_last_checkpoint():
    build_chain(3)
    services.checkpoint_create()
    with as_insider():
        Checkpoint.objects.all().delete()
    build_chain(1)

    with pytest.raises(services.CheckpointRefused, match="newest checkpoint"):
        services.checkpoint_create()
    assert not Checkpoint.objects.exists()


def test_the_signer_refuses_without_its_record_when_the_database_has_checkpoints(settings):
    build_chain(3)
    services.checkpoint_create()
    Path(settings.AUDIT_CHECKPOINT_STATE).unlink()
    build_chain(1)

    with pytest.raises(services.CheckpointRefused, match="no record"):
        services.checkpoint_create()
    assert Checkpoint.objects.count() == 1


def test_the_signer_refuses_a_rewritten_log():
    build_chain(5)
    services.checkpoint_create()
    rewrite_entry(3)
    build_chain(1)
    before = Checkpoint.objects.count()

    with pytest.raises(services.CheckpointRefused, match="not consistent"):
        services.checkpoint_create()
    assert Checkpoint.objects.count() == before


def test_the_signer_refuses_a_log_shorter_than_its_last_checkpoint():
    build_chain(5)
    services.checkpoint_create()
    with raw_sql() as cursor:
        cursor.execute("DELETE FROM audit_entry WHERE seq >= 4")
        cursor.execute("DELETE FROM audit_tile")
    with as_insider():
        tree.build()

    with pytest.raises(services.CheckpointRefused, match="fewer than"):
        services.checkpoint_create(force=True)


def test_the_command_exits_non_zero_with_one_line():
    build_chain(3)
    services.checkpoint_create()
    with as_insider():
        Checkpoint.objects.all().delete()
    build_chain(1)

    with pytest.raises(CommandError, match="^refused to sign: "):
        call_command("audit_checkpoint", stdout=StringIO())


def test_audit_verify_fails_when_the_log_is_shorter_than_the_record_outside():
    build_chain(5)
    services.checkpoint_create()
    # The insider deletes the tail, the checkpoints and the tiles after it.
    with raw_sql() as cursor:
        cursor.execute("DELETE FROM audit_entry WHERE seq >= 4")
        cursor.execute("DELETE FROM audit_tile")
    with as_insider():
        Checkpoint.objects.all().delete()
    with as_insider():
        tree.build()

    code, verdict = verify_json()

    assert code == 1
    assert (verdict["first_bad_seq"], verdict["first_fault"]) == (4, "truncated")
    assert "outside the database" in verdict["problems"][0]["detail"]


def test_audit_verify_fails_when_the_log_is_inconsistent_with_the_record_outside():
    build_chain(5)
    services.checkpoint_create()
    rewrite_entry(3)
    with as_insider():
        Checkpoint.objects.all().delete()

    code, verdict = verify_json()

    assert code == 1
    assert verdict["first_fault"] == "checkpoint_mismatch"
    assert "outside the database" in verdict["problems"][0]["detail"]


def test_audit_verify_names_a_tile_that_differs_from_the_entries():
    build_chain(5)
    tile = TreeTile.objects.get(level=0, index=0)
    hashes = bytearray(tile.hashes)
    hashes[3 * 32] ^= 1  # leaf 3: entry 4
    with as_insider():
        TreeTile.objects.filter(pk=tile.pk).update(hashes=bytes(hashes))

    code, verdict = verify_json()

    assert code == 1
    assert (verdict["first_bad_seq"], verdict["first_fault"]) == (4, "tree_mismatch")


def test_an_earlier_format_checkpoint_stays_verifiable(settings):
    """Checkpoints signed before the tree (chain hash and time) still verify."""
    build_chain(3)
    key = services.signing_key_ensure()
    services.seal()
    from audit.models import Entry

    head = Entry.objects.order_by("-seq").first()
    body = notes.CheckpointBody(
        origin=settings.AUDIT_LOG_ORIGIN,
        seq=head.seq,
        hash=head.hash,
        time="2026-01-01T00:00:00.000000Z",
    )
    Checkpoint.objects.create(
        seq=head.seq,
        hash=head.hash,
        time=head.time,
        key=key,
        note=notes.sign(body, key.private_key()),
    )
    assert notes.is_earlier_format(Checkpoint.objects.get().note)
    # The first checkpoint over the tree follows it without complaint.
    build_chain(1)
    checkpoint = services.checkpoint_create()
    assert checkpoint.root == tree.root(checkpoint.seq).hex()

    code, verdict = verify_json()
    assert code == 0, verdict
    assert verdict["checkpoints"] == 2
    assert (
        verdict["tree_root"]
        == merkle.root([tree.leaf_hash_at(i) for i in range(verdict["entries"])]).hex()
    )
