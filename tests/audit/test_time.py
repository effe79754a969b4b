"""Each entry's time is the sealer's and never goes backwards; the writer's is kept apart."""

import datetime
from unittest import mock

import pytest
from django.utils import timezone

from audit import chain, services
from audit.models import Entry, PendingEntry

from .helpers import build_chain, raw_sql, verify_json

pytestmark = pytest.mark.django_db


def test_the_sealer_gives_the_time_and_it_never_goes_backwards():
    services.record(actor=None, action="test.created")
    services.seal()
    first = Entry.objects.get()
    assert first.written_at <= first.time

    # A writer whose clock is an hour behind (or a backdated row): its time is kept as
    # written_at, and the entry's time is not before the entry before.
    behind = timezone.now() - datetime.timedelta(hours=1)
    with mock.patch("django.utils.timezone.now", return_value=behind):
        services.record(actor=None, action="test.changed", payload={"to": "b"})
        services.seal()
    second = Entry.objects.get(seq=2)
    assert second.written_at == behind
    assert second.time >= first.time
    code, verdict = verify_json()
    assert (code, verdict["ok"]) == (0, True)


def test_the_written_time_is_outside_the_hash():
    build_chain(3)
    entry = Entry.objects.get(seq=2)
    assert entry.written_at is not None
    assert "written_at" not in chain.entry_text(**chain_fields(entry))
    assert chain.entry_hash(**chain_fields(entry)) == entry.hash


def chain_fields(entry: Entry) -> dict:
    return {
        "seq": entry.seq,
        "time": chain.format_time(entry.time),
        "actor_type": entry.actor_type,
        "actor_id": entry.actor_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "consortium_id": entry.consortium_id,
        "payload": entry.payload,
        "prev_hash": entry.prev_hash,
    }


def test_audit_verify_fails_when_time_goes_backwards():
    build_chain(5)
    earlier = Entry.objects.get(seq=2).time - datetime.timedelta(seconds=1)
    with raw_sql() as cursor:
        cursor.execute(
            "UPDATE audit_entry SET time = %s WHERE seq = 3",
            [Entry._meta.get_field("time").get_db_prep_save(earlier, cursor.db)],
        )

    code, verdict = verify_json()

    assert code == 1
    assert verdict["first_bad_seq"] == 3
    assert "time_backwards" in {p["kind"] for p in verdict["problems"] if p["seq"] == 3}


def test_audit_verify_fails_when_an_entry_waited_pending_too_long(settings):
    settings.AUDIT_PENDING_MAX_SECONDS = 60
    build_chain(2)
    # Committed and pending, never sealed (a sealer holding the lock, a dead sequencer).
    services.record(actor=None, action="test.created")
    assert PendingEntry.objects.count() == 1
    code, verdict = verify_json()
    assert code == 0

    later = timezone.now() + datetime.timedelta(seconds=61)
    with mock.patch("django.utils.timezone.now", return_value=later):
        code, verdict = verify_json()

    assert code == 1
    assert (verdict["first_bad_seq"], verdict["first_fault"]) == (3, "pending_too_long")
