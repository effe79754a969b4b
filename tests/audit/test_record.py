import pytest
from django.db import transaction

from audit import chain, services
from audit.models import Entry, PendingEntry
from audit.verification import verify_chain

pytestmark = pytest.mark.django_db


def test_record_then_seal_builds_a_verifying_chain():
    services.record(actor=None, action="test.created", object_type="t", object_id="1")
    services.record(
        actor=None, action="test.changed", object_type="t", object_id="1", payload={"to": "b"}
    )
    # Sealed after the commit, not inside the caller's transaction.
    assert PendingEntry.objects.count() == 2
    assert Entry.objects.count() == 0

    assert services.seal() == 2

    assert PendingEntry.objects.count() == 0
    entries = list(Entry.objects.order_by("seq"))
    assert [(e.seq, e.action) for e in entries] == [(1, "test.created"), (2, "test.changed")]
    assert entries[0].prev_hash == chain.GENESIS_HASH
    assert entries[1].prev_hash == entries[0].hash
    assert entries[1].data == {"to": "b"}
    assert verify_chain().ok


def test_entries_are_sealed_when_the_callers_transaction_commits(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.record(actor=None, action="test.created")
        services.record(actor=None, action="test.changed")

    assert list(Entry.objects.values_list("seq", "action")) == [
        (1, "test.created"),
        (2, "test.changed"),
    ]
    assert not PendingEntry.objects.exists()


def test_entry_rolls_back_with_the_callers_transaction():
    with pytest.raises(RuntimeError), transaction.atomic():
        services.record(actor=None, action="test.created", object_type="t", object_id="1")
        raise RuntimeError("the caller's change fails")

    assert PendingEntry.objects.count() == 0


def test_a_refused_payload_fails_the_callers_change():
    with pytest.raises(chain.PayloadError):
        services.record(actor=None, action="resident.changed", payload={"email": "a@b.jp"})
    with pytest.raises(chain.PayloadError):
        services.record(actor=None, action="x.y", payload={"ratio": 0.5})
    with pytest.raises(chain.PayloadError):
        services.record(actor=None, action="NotDotted")

    assert PendingEntry.objects.count() == 0


@pytest.mark.parametrize("consortium", [7, "7"])
def test_a_pending_entry_keeps_its_consortium_and_the_writers_time(consortium):
    entry = services.record(
        actor=None, action="test.created", object_type="t", object_id="1", consortium=consortium
    )

    stored = PendingEntry.objects.get(pk=entry.pk)
    assert stored.consortium_id == 7
    assert stored.written_at == entry.written_at  # to the microsecond, in UTC
    services.seal()
    assert Entry.objects.get().consortium_id == 7
    assert verify_chain().ok
