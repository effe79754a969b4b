"""The sequencer seals apart from the writers, who then only insert pending entries."""

import importlib
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from audit import sequencer, services
from audit.models import Entry, PendingEntry
from audit.verification import verify_chain


@pytest.fixture
def sequenced(settings):
    settings.AUDIT_SEQUENCER = True


@pytest.mark.django_db
def test_writers_only_insert_and_the_sequencer_seals_in_order(
    sequenced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.record(actor=None, action="test.created")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.record(actor=None, action="test.changed", payload={"to": "b"})
    # Committed and pending: nothing sealed by the writers.
    assert PendingEntry.objects.count() == 2 and not Entry.objects.exists()

    out = StringIO()
    call_command("audit_sequencer", "--once", stdout=out)

    assert "sealed 2 entries" in out.getvalue()
    assert list(Entry.objects.values_list("seq", "action")) == [
        (1, "test.created"),
        (2, "test.changed"),
    ]
    assert verify_chain().ok


@pytest.mark.django_db
def test_the_sequencer_refuses_a_bad_poll_interval():
    with pytest.raises(CommandError, match="--poll"):
        call_command("audit_sequencer", "--poll", "0")


@pytest.mark.django_db
def test_a_run_stops_when_told_and_leaves_nothing_pending(sequenced):
    services.record(actor=None, action="test.created")
    stop = threading.Event()
    heard = []

    def sealed(count):
        heard.append(count)
        stop.set()

    assert sequencer.run(stop=stop, poll_seconds=0.01, sealed=sealed) == 1
    assert heard == [1] and not PendingEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_commit_wakes_the_sequencer_on_postgresql(postgres_only, sequenced):
    """LISTEN/NOTIFY: each commit that inserted pending entries wakes the sequencer at once."""
    stop, woken = threading.Event(), threading.Event()
    total = []

    def sequence():
        try:
            # A poll longer than the test's patience: only the notification can wake it.
            total.append(sequencer.run(stop=stop, poll_seconds=60, sealed=lambda _: woken.set()))
        finally:
            connection.close()

    thread = threading.Thread(target=sequence)
    thread.start()
    try:
        with transaction.atomic():
            services.record(actor=None, action="test.created")
        assert woken.wait(timeout=30), "the commit did not wake the sequencer"
    finally:
        stop.set()
        # Wake it once more so that it sees the stop.
        with connection.cursor() as cursor:
            cursor.execute("NOTIFY audit_pending")
        thread.join(timeout=30)
    assert total == [1]
    assert Entry.objects.get().action == "test.created"
    assert not PendingEntry.objects.exists()


def _heard_before_a_marker(listener, marker) -> list[str]:
    """
    Return the payloads ``listener`` heard on the channel before a marker notified now: the
    notifications of commits made before it arrive before it (PostgreSQL queues them in commit
    order), so no waiting on a clock decides what was not heard.
    """
    marker.execute(f"NOTIFY {sequencer.CHANNEL}, 'marker'")
    heard = []
    for notification in listener.notifies(timeout=30):
        if notification.payload == "marker":
            return heard
        heard.append(notification.payload)
    pytest.fail("the marker's notification did not arrive")


@pytest.mark.django_db(transaction=True)
def test_writers_do_not_notify_while_the_sequencer_is_at_work(postgres_only, sequenced):
    """
    Migration audit 0013: a commit that inserted pending entries notifies only when no
    sequencer holds the awake lock; the entry committed meanwhile is sealed all the same.
    """
    import psycopg

    migration = importlib.import_module("audit.migrations.0013_pending_notify_when_asleep")
    assert migration.AWAKE_LOCK_ID == sequencer.AWAKE_LOCK_ID
    params = connection.get_connection_params()
    with (
        psycopg.connect(autocommit=True, **params) as at_work,
        psycopg.connect(autocommit=True, **params) as listener,
        psycopg.connect(autocommit=True, **params) as marker,
    ):
        listener.execute(f"LISTEN {sequencer.CHANNEL}")
        # A sequencer at work: the lock its listening connection holds (``_take_awake``).
        at_work.execute("SELECT pg_advisory_lock(%s)", [sequencer.AWAKE_LOCK_ID])
        with transaction.atomic():
            services.record(actor=None, action="test.created")
        assert _heard_before_a_marker(listener, marker) == []

        # Asleep again: the next commit wakes it.
        at_work.execute("SELECT pg_advisory_unlock(%s)", [sequencer.AWAKE_LOCK_ID])
        with transaction.atomic():
            services.record(actor=None, action="test.changed", payload={"to": "b"})
        assert _heard_before_a_marker(listener, marker) == [""]

    assert PendingEntry.objects.count() == 2 and not Entry.objects.exists()
    stop = threading.Event()
    assert sequencer.run(stop=stop, poll_seconds=0.01, sealed=lambda _: stop.set()) == 2
    assert list(Entry.objects.values_list("seq", "action")) == [
        (1, "test.created"),
        (2, "test.changed"),
    ]
    assert not PendingEntry.objects.exists()


class _Moments:
    """A stop event whose waits are counted, not slept: writers commit ``batches`` between the
    sequencer's looks, then it is told to stop."""

    def __init__(self, batches: list[int]):
        self.batches, self.waits, self._stopped = list(batches), [], False

    def is_set(self) -> bool:
        return self._stopped

    def wait(self, timeout=None) -> bool:
        self.waits.append(timeout)
        if not self.batches:
            self._stopped = True
        else:
            services.record_many(
                services.EntrySpec(action="test.recorded", payload={"n": n})
                for n in range(self.batches.pop(0))
            )
        return self._stopped


@pytest.mark.django_db(transaction=True)
def test_a_busy_sequencer_collects_longer_moments_and_a_quiet_one_short(postgres_only, sequenced):
    services.record_many(
        services.EntrySpec(action="test.recorded", payload={"n": n}) for n in range(40)
    )
    stop = _Moments([40, 40, 40, 40, 40, 2, 2])
    heard = []

    assert sequencer.run(stop=stop, poll_seconds=60, sealed=heard.append) == 244

    # Busy (at least BUSY_ENTRIES a look): each moment twice the last, up to the longest;
    # then halved while looks find few.
    assert stop.waits[:7] == [0.04, 0.08, 0.16, 0.25, 0.25, 0.25, 0.125]
    assert sequencer.LONGEST_MOMENT == 0.25 and sequencer.SETTLE_SECONDS == 0.02
    assert heard == [40, 40, 40, 40, 40, 40, 2, 2]
    assert list(Entry.objects.values_list("seq", flat=True)) == list(range(1, 245))
    assert not PendingEntry.objects.exists() and verify_chain().ok
