from io import StringIO

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from audit import notes, services, tasks, tree
from audit.models import Checkpoint, Entry

from .helpers import build_chain

pytestmark = pytest.mark.django_db


def test_audit_verify_reports_ok_and_seals_pending_entries():
    services.record(actor=None, action="test.recorded")
    out = StringIO()

    call_command("audit_verify", stdout=out)

    assert out.getvalue().startswith("OK: 1 entries")
    assert Entry.objects.get().seq == 1


def test_audit_checkpoint_signs_the_head_once():
    build_chain(4)
    out = StringIO()

    call_command("audit_checkpoint", stdout=out)
    call_command("audit_checkpoint", stdout=out)

    checkpoint = Checkpoint.objects.get()
    assert checkpoint.seq == 5  # four entries and the key's creation
    assert "No new entries" in out.getvalue()
    head = notes.open_checkpoint(checkpoint.note, checkpoint.key.public_key())
    assert (head.size, head.root) == (5, tree.root(5))
    assert checkpoint.note.startswith(f"{head.origin}\n5\n")
    assert checkpoint.hash == Entry.objects.get(seq=5).hash


def test_the_checkpoint_schedule_exists_and_the_task_skips_an_unchanged_head():
    schedule = Schedule.objects.get(func="audit.tasks.make_checkpoint")
    assert schedule.minutes == 10
    build_chain(2)

    assert tasks.make_checkpoint() == 3
    assert tasks.make_checkpoint() is None


def test_the_seal_task_picks_up_entries_left_unsealed():
    services.record(actor=None, action="test.recorded")
    services.record(actor=None, action="test.recorded")

    assert tasks.seal_pending() == 2


def test_bulk_appends_keep_the_chain_as_valid_as_single_ones():
    specs = [
        services.EntrySpec(
            action="test.imported", object_type="r", object_id=str(n), payload={"n": n}
        )
        for n in range(2500)
    ]
    services.record(actor=None, action="test.before")

    assert services.record_many(specs, batch_size=1000) == 2500
    services.record(actor=None, action="test.after")
    services.seal(batch_size=700)

    out = StringIO()
    call_command("audit_verify", "--no-seal", stdout=out)
    assert out.getvalue().startswith("OK: 2502 entries")
    assert Entry.objects.get(action="test.after").seq == 2502
