"""
A withdrawal committed while the task broker is down still reaches its recipients: the
resident's request succeeds, and the sweep on the schedule makes the notices the lost task never
made, pushes what was never pushed and delivers grant events never attempted, once each.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit import services as audit_services
from consent import services as consent_services
from consent.models import RecipientNotice
from grants import services, tasks
from grants.models import GrantEvent, WebhookDelivery

pytestmark = pytest.mark.django_db

EVENTS_URL = "https://rp.example.jp/events"


@pytest.fixture
def broker_down(monkeypatch):
    """``async_task`` fails as it does when Redis is down; put back with ``broker_down.up()``."""
    import django_q.tasks

    class Broker:
        def __init__(self):
            self.original = django_q.tasks.async_task

        def up(self):
            monkeypatch.setattr(django_q.tasks, "async_task", self.original)

    def refuse(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    broker = Broker()
    monkeypatch.setattr(django_q.tasks, "async_task", refuse)
    return broker


def later(minutes=3):
    return timezone.now() + datetime.timedelta(minutes=minutes)


def set_events_url(service):
    services.service_update(
        actor=None,
        service=service,
        name=service.name,
        webhook_url="",
        is_active=True,
        events_url=EVENTS_URL,
    )


def test_a_withdrawal_while_the_broker_is_down_is_told_by_the_sweep_once(
    client,
    released,
    purpose,
    service_a,
    broker_down,
    django_capture_on_commit_callbacks,
):
    resident, subject = released
    client.force_login(resident.user)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/portal/purposes/{purpose.pk}/decline/")
    assert answer.status_code == 302  # the withdrawal stands; nobody is told it failed
    assert resident.consent_records.latest("id").decision == "withdrawn"
    assert not RecipientNotice.objects.exists()

    broker_down.up()
    # Within the grace the task may still be on its way: nothing yet.
    assert services.undelivered_sweep()["withdrawals"] == 0
    assert services.undelivered_sweep(now=later())["withdrawals"] == 1
    notice = RecipientNotice.objects.get()
    assert notice.subject == subject and notice.service_id == service_a.service.pk
    # Again, or the lost task arriving after all: still one notice.
    assert services.undelivered_sweep(now=later())["withdrawals"] == 0
    assert tasks.notify_withdrawal(resident.pk, purpose.pk) == 0
    assert RecipientNotice.objects.count() == 1


def test_a_second_withdrawal_gets_notices_of_its_own(
    released,
    purpose,
    service_a,
    django_capture_on_commit_callbacks,
):
    resident, _ = released
    with django_capture_on_commit_callbacks(execute=True):
        consent_services.consent_withdraw(actor=None, resident=resident, purpose=purpose)
    assert RecipientNotice.objects.count() == 1
    first = resident.consent_records.latest("id")
    assert tasks.notify_withdrawal(resident.pk, purpose.pk, first.pk) == 0  # the same one
    # Given again and withdrawn again, while the first withdrawal's task is still queued
    # (within the same second): each withdrawal tells the service once, the late task too.
    RecipientNotice.objects.all().delete()
    consent_services.consent_give(actor=None, resident=resident, purpose=purpose)
    with django_capture_on_commit_callbacks(execute=True):
        consent_services.consent_withdraw(actor=None, resident=resident, purpose=purpose)
    second = resident.consent_records.latest("id")
    assert tasks.notify_withdrawal(resident.pk, purpose.pk, first.pk) == 1
    assert tasks.notify_withdrawal(resident.pk, purpose.pk, second.pk) == 0
    assert sorted(RecipientNotice.objects.values_list("withdrawal_id", flat=True)) == [
        first.pk,
        second.pk,
    ]
    assert services.undelivered_sweep(now=later())["withdrawals"] == 0


def test_a_notice_never_pushed_is_pushed_by_the_sweep(
    released,
    purpose,
    service_a,
    broker_down,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    resident, _ = released
    set_events_url(service_a.service)
    sent = []
    monkeypatch.setattr(tasks, "post_security_event", lambda url, body: sent.append(url) or 202)
    consent_services.consent_withdraw(actor=None, resident=resident, purpose=purpose)
    # The notice is made, but its push is queued while the broker is down.
    with django_capture_on_commit_callbacks(execute=True):
        services.withdrawal_notify(resident_id=resident.pk, purpose_id=purpose.pk)
    notice = RecipientNotice.objects.get()
    assert notice.push_attempts == 0 and not sent
    broker_down.up()
    assert services.undelivered_sweep(now=later()) == {
        "withdrawals": 0,
        "pushes": 1,
        "webhooks": 0,
        "grants_ended": 0,
        "purposes_closed": 0,
    }
    notice.refresh_from_db()
    assert sent == [EVENTS_URL] and notice.delivered_at is not None
    assert services.undelivered_sweep(now=later())["pushes"] == 0


def test_a_grant_event_never_attempted_is_delivered_by_the_sweep(
    grant, service_a, broker_down, django_capture_on_commit_callbacks, monkeypatch
):
    service = service_a.service
    services.service_update(
        actor=None,
        service=service,
        name=service.name,
        webhook_url="https://rp.example.jp/webhook",
        is_active=True,
        events_url="",
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.grant_revoke(actor=None, grant=grant, reason="secretariat_decision")
    event = GrantEvent.objects.get(grant=grant)
    assert not WebhookDelivery.objects.exists()
    broker_down.up()
    monkeypatch.setattr(tasks, "post", lambda url, body: 204)
    assert services.undelivered_sweep(now=later())["webhooks"] == 1
    assert WebhookDelivery.objects.get().event == event
    assert services.undelivered_sweep(now=later())["webhooks"] == 0


def test_the_sweep_leaves_what_is_older_than_its_days(
    released,
    purpose,
    broker_down,
    django_capture_on_commit_callbacks,
    settings,
):
    resident, _ = released
    with django_capture_on_commit_callbacks(execute=True):
        consent_services.consent_withdraw(actor=None, resident=resident, purpose=purpose)
    broker_down.up()
    days = settings.GRANTS_SWEEP_DAYS
    assert services.undelivered_sweep(now=later(60 * 24 * days + 5))["withdrawals"] == 0
    assert not RecipientNotice.objects.exists()


def test_the_sweep_runs_on_a_schedule():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(func="grants.tasks.sweep_undelivered")
    assert schedule.schedule_type == Schedule.MINUTES and schedule.repeats == -1
    assert tasks.sweep_undelivered() == {
        "withdrawals": 0,
        "pushes": 0,
        "webhooks": 0,
        "grants_ended": 0,
        "purposes_closed": 0,
    }


def test_a_purpose_closed_while_the_broker_is_down_is_told_by_the_sweep_once(
    released, purpose, broker_down, django_capture_on_commit_callbacks
):
    resident, subject = released
    with django_capture_on_commit_callbacks(execute=True):
        consent_services.purpose_close(actor=None, purpose=purpose)
    closed = RecipientNotice.objects.filter(reason=RecipientNotice.Reason.PURPOSE_CLOSED)
    assert not closed.exists()  # the fan-out's task was lost with the broker

    broker_down.up()
    audit_services.seal()  # the closing's entry, as the sequencer seals it
    assert services.undelivered_sweep()["purposes_closed"] == 0  # within the grace
    assert services.undelivered_sweep(now=later())["purposes_closed"] == 1
    notice = closed.get()
    assert (notice.resident_id, notice.subject) == (resident.pk, subject)
    # Every recipient told: the next sweeps leave the purpose alone, and once found told, they
    # no longer read whose data it released (the plan), minute after minute.
    assert services.undelivered_sweep(now=later())["purposes_closed"] == 0
    assert closed.count() == 1
    with CaptureQueriesContext(connection) as queries:
        assert services.undelivered_sweep(now=later())["purposes_closed"] == 0
    assert not [q for q in queries.captured_queries if "consent_dataaccess" in q["sql"]]
