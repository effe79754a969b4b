"""Each kind of tampering, done with raw SQL, is caught and named by ``audit_verify``."""

from unittest.mock import ANY

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.conf import settings
from django.db import connection

from audit import notes, services
from audit.models import Checkpoint, Entry, SigningKey

from .helpers import as_insider, build_chain, raw_sql, verify_json

pytestmark = pytest.mark.django_db


def test_an_untouched_chain_verifies():
    build_chain(10)
    services.checkpoint_create()

    code, verdict = verify_json()

    assert code == 0
    assert verdict["ok"] is True
    assert verdict["head_seq"] == 11  # ten entries and the first signing key's creation
    assert verdict["checkpoints"] == 1


def test_a_payload_edited_in_place_is_a_hash_mismatch():
    build_chain(10)
    with raw_sql() as cursor:
        cursor.execute("UPDATE audit_entry SET payload = %s WHERE seq = 4", ['{"number":40}'])

    code, verdict = verify_json()

    assert code == 1
    assert (verdict["first_bad_seq"], verdict["first_fault"]) == (4, "hash_mismatch")


def test_an_entry_deleted_from_the_middle_is_a_gap():
    build_chain(10)
    with raw_sql() as cursor:
        cursor.execute("DELETE FROM audit_entry WHERE seq = 6")

    code, verdict = verify_json()

    assert code == 1
    assert (verdict["first_bad_seq"], verdict["first_fault"]) == (6, "gap")


def test_an_inserted_entry_breaks_the_chain_after_it():
    build_chain(10)
    with raw_sql() as cursor:
        # Make room at 5 and insert a well-formed entry whose hash is right for its place.
        cursor.execute("UPDATE audit_entry SET seq = seq + 1000 WHERE seq >= 5")
        cursor.execute("UPDATE audit_entry SET seq = seq - 999 WHERE seq >= 1000")
        cursor.execute("SELECT hash FROM audit_entry WHERE seq = 4")
        (prev,) = cursor.fetchone()
        from audit import chain

        # A careful forger keeps the times in order: the time of the entry before.
        when = Entry.objects.get(seq=4).time
        time = chain.format_time(when)
        forged = chain.entry_hash(
            seq=5, time=time, actor_type="system", actor_id="", action="test.forged",
            object_type="", object_id="", consortium_id=None, payload="{}", prev_hash=prev,
        )  # fmt: skip
        # The original entry 5, now at 6, is made to point at the forgery (prev_hash is unique).
        cursor.execute("UPDATE audit_entry SET prev_hash = %s WHERE seq = 6", [forged])
        cursor.execute(
            "INSERT INTO audit_entry (seq, time, actor_type, actor_id, action, object_type, "
            "object_id, consortium_id, payload, prev_hash, hash) "
            "VALUES (5, %s, 'system', '', 'test.forged', '', '', NULL, '{}', %s, %s)",
            [Entry._meta.get_field("time").get_db_prep_save(when, connection), prev, forged],
        )

    code, verdict = verify_json()

    assert code == 1
    # Entry 5 itself hashes right, but the Merkle tree sealed before has another leaf there;
    # and the original entry 5, now at 6, no longer hashes right.
    assert (verdict["first_bad_seq"], verdict["first_fault"]) == (5, "tree_mismatch")
    assert {"seq": 6, "kind": "hash_mismatch", "detail": ANY} in verdict["problems"]


def test_two_swapped_entries_are_caught_at_the_first():
    build_chain(10)
    with raw_sql() as cursor:
        cursor.execute("UPDATE audit_entry SET seq = 1000 WHERE seq = 3")
        cursor.execute("UPDATE audit_entry SET seq = 3 WHERE seq = 4")
        cursor.execute("UPDATE audit_entry SET seq = 4 WHERE seq = 1000")

    code, verdict = verify_json()

    assert code == 1
    assert verdict["first_bad_seq"] == 3


def test_a_tail_truncated_below_the_last_checkpoint_is_caught():
    build_chain(10)
    services.checkpoint_create()  # covers 11 entries
    with raw_sql() as cursor:
        cursor.execute("DELETE FROM audit_entry WHERE seq >= 9")

    code, verdict = verify_json()

    assert code == 1
    assert (verdict["first_bad_seq"], verdict["first_fault"]) == (9, "truncated")


def test_a_checkpoint_forged_with_another_key_is_a_bad_signature():
    build_chain(5)
    platform_key = services.signing_key_ensure()
    services.seal()
    body = notes.CheckpointBody(
        origin=settings.AUDIT_LOG_ORIGIN, seq=3, hash="ab" * 32, time="2026-01-01T00:00:00.000000Z"
    )
    Checkpoint.objects.create(
        seq=3,
        hash="ab" * 32,
        time="2026-01-01T00:00:00Z",
        key=platform_key,
        note=notes.sign(body, ed25519.Ed25519PrivateKey.generate()),
    )

    code, verdict = verify_json()

    assert code == 1
    assert (verdict["first_bad_seq"], verdict["first_fault"]) == (3, "bad_signature")


def test_a_checkpoint_whose_row_was_edited_is_caught():
    build_chain(5)
    checkpoint = services.checkpoint_create()
    with as_insider():
        Checkpoint.objects.filter(pk=checkpoint.pk).update(seq=2)

    code, verdict = verify_json()

    assert code == 1
    assert verdict["first_fault"] == "checkpoint_mismatch"


def test_verification_never_trusts_a_revoked_key_less(db):
    # A checkpoint stays verifiable after its key is retired by rotation.
    build_chain(3)
    services.checkpoint_create()
    services.signing_key_create(actor=None)
    assert SigningKey.objects.filter(status="retired").count() == 1

    code, verdict = verify_json()

    assert code == 0, verdict
