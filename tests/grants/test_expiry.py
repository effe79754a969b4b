"""The stored ``expired`` status: the service, its schedule, its command, what services see."""

import datetime
import json
import subprocess
import sys
import threading
from io import StringIO
from pathlib import Path
from unittest import mock

import jwt
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule

from audit import selectors as audit_selectors
from audit.models import Entry, PendingEntry
from grants import services, tasks
from grants.models import Grant, GrantEvent

from . import test_webhooks
from .conftest import issue
from .test_api import check, introspect
from .test_webhooks import with_webhook

receiver = test_webhooks.receiver  # the local HTTP server fixture

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def issued(caller, ticket, *, days: int) -> Grant:
    return issue(caller, ticket, expires_at=timezone.now() + datetime.timedelta(days=days))


def statuses(*grants) -> list[str]:
    return [Grant.objects.get(pk=g.pk).status for g in grants]


def test_active_and_suspended_grants_past_their_expiry_are_stored_expired(service_a, ticket):
    active = issued(service_a, ticket, days=1)
    suspended = issued(service_a, ticket, days=2)
    services.grant_suspend(actor=None, grant=suspended)
    revoked = issued(service_a, ticket, days=1)
    services.grant_revoke(actor=None, grant=revoked, reason=Grant.Reason.SECRETARIAT)
    later = issued(service_a, ticket, days=30)
    in_three_days = timezone.now() + datetime.timedelta(days=3)

    assert services.grants_expire(now=in_three_days) == 2
    assert statuses(active, suspended, revoked, later) == [
        "expired",
        "expired",
        "revoked",  # a revoked grant stays revoked, with its reason
        "active",
    ]
    revoked.refresh_from_db()
    assert revoked.status_reason == "secretariat_decision"
    entries = list(PendingEntry.objects.filter(action="grant.expired").order_by("id"))
    assert [json.loads(e.payload)["jti"] for e in entries] == [active.jti, suspended.jti]
    assert json.loads(entries[1].payload)["previous"] == "suspended"
    assert all(e.actor_type == "system" for e in entries)
    events = GrantEvent.objects.filter(status="expired").order_by("id")
    assert [(e.grant_id, e.reason) for e in events] == [(active.pk, ""), (suspended.pk, "")]
    active.refresh_from_db()
    assert events[0].at == active.expires_at == active.status_changed_at
    # Idempotent: a second run finds nothing, writes nothing.
    assert services.grants_expire(now=in_three_days) == 0
    assert GrantEvent.objects.filter(status="expired").count() == 2
    assert PendingEntry.objects.filter(action="grant.expired").count() == 2


def test_nothing_expires_before_its_time(service_a, ticket):
    grant = issued(service_a, ticket, days=1)
    assert services.grants_expire(now=grant.expires_at - datetime.timedelta(seconds=1)) == 0
    assert services.grants_expire(now=grant.expires_at) == 1  # exp is exclusive (RFC 7519)


def test_an_expired_grant_cannot_be_reinstated_or_suspended(service_a, ticket):
    from django.core.exceptions import ValidationError

    grant = issued(service_a, ticket, days=1)
    services.grants_expire(now=timezone.now() + datetime.timedelta(days=2))
    with pytest.raises(ValidationError):
        services.grant_suspend(actor=None, grant=grant)
    with pytest.raises(ValidationError):
        services.grant_revoke(actor=None, grant=grant, reason=Grant.Reason.SECRETARIAT)
    assert statuses(grant) == ["expired"]


def test_batches_cover_every_grant_and_report_progress(service_a, ticket):
    grants = [issued(service_a, ticket, days=1) for _ in range(5)]
    heard = []
    expired = services.grants_expire(
        now=timezone.now() + datetime.timedelta(days=2), batch_size=2, progress=heard.append
    )
    assert expired == 5
    assert heard == [2, 2, 1]
    assert statuses(*grants) == ["expired"] * 5


def test_introspection_and_the_check_answer_inactive_for_an_expired_grant(
    client, service_a, ticket, agreeing
):
    grant = issue(service_a, ticket, expires_at=timezone.now() + datetime.timedelta(seconds=30))
    assert introspect(client, service_a, grant.token).json()["active"] is True
    later = timezone.now() + datetime.timedelta(minutes=5)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert services.grants_expire() == 1
        assert introspect(client, service_a, grant.token).json() == {"active": False}
        ids = [r.pseudonymous_id for r in agreeing]
        answer = check(client, service_a, grant.jti, {"residents": ids}).json()
    assert answer["grant_active"] is False
    assert set(answer["results"].values()) == {False}


def test_the_revocation_feed_and_the_webhook_hear_the_expiry(
    client,
    receiver,
    service_a,
    ticket,
    django_capture_on_commit_callbacks,
):
    hook = receiver()
    with_webhook(service_a, hook.url)
    grant = issued(service_a, ticket, days=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.grants_expire(now=timezone.now() + datetime.timedelta(days=2))
    feed = client.get("/api/v1/revocations?since=0", HTTP_AUTHORIZATION=service_a.auth).json()
    assert [(i["jti"], i["status"], i["reason"]) for i in feed["items"]] == [
        (grant.jti, "expired", "")
    ]
    assert len(hook.bodies) == 1
    token = hook.bodies[0].decode()
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in audit_selectors.jwks()["keys"] if k["kid"] == kid)
    claims = jwt.decode(
        token, jwt.PyJWK(key).key, algorithms=[key["alg"]], audience=service_a.service.subject
    )
    assert (claims["jti"], claims["status"], claims["reason"]) == (grant.jti, "expired", "")
    assert claims["event"] == feed["items"][0]["cursor"]


# --- The schedule and the task ---------------------------------------------------------------


def test_the_expiry_schedule_runs_every_few_minutes(settings):
    schedule = Schedule.objects.get(func="grants.tasks.expire_grants")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == ("I", 5, -1)
    settings.GRANTS_EXPIRE_MINUTES = 2
    from grants.schedules import ensure_schedules

    ensure_schedules()
    assert Schedule.objects.get(func="grants.tasks.expire_grants").minutes == 2
    assert Schedule.objects.filter(name="grants: expire grants").count() == 1


def test_the_task_expires_what_is_due_now(service_a, ticket):
    grant = issue(service_a, ticket, expires_at=timezone.now() + datetime.timedelta(seconds=30))
    assert tasks.expire_grants() == 0
    with mock.patch(
        "django.utils.timezone.now", return_value=grant.expires_at + datetime.timedelta(1)
    ):
        assert tasks.expire_grants() == 1
    assert statuses(grant) == ["expired"]


# --- The command -----------------------------------------------------------------------------


def test_the_command_expires_and_reports(service_a, ticket):
    soon = timezone.now() + datetime.timedelta(seconds=30)
    grants = [issue(service_a, ticket, expires_at=soon) for _ in range(3)]
    out = StringIO()
    call_command("grants_expire", stdout=out)
    assert out.getvalue() == "0 grant(s) expired.\n"
    with mock.patch(
        "django.utils.timezone.now", return_value=grants[0].expires_at + datetime.timedelta(1)
    ):
        out = StringIO()
        call_command("grants_expire", "--dry-run", stdout=out)
        assert out.getvalue() == "3 grant(s) would expire.\n"
        assert statuses(*grants) == ["active"] * 3
        out = StringIO()
        call_command("grants_expire", "--batch-size", "2", stdout=out)
        assert out.getvalue() == "3 grant(s) expired.\n"
    assert statuses(*grants) == ["expired"] * 3


@pytest.mark.parametrize("size", ["0", "abc", "-3", "10001", "2.5", "²"])
def test_the_command_refuses_a_bad_batch_size(size, service_a, ticket):
    grant = issue(service_a, ticket, expires_at=timezone.now() + datetime.timedelta(seconds=30))
    with pytest.raises(CommandError, match="--batch-size must be a whole number") as error:
        call_command("grants_expire", f"--batch-size={size}")
    assert "\n" not in str(error.value)
    assert statuses(grant) == ["active"]


def test_the_command_exits_non_zero_with_one_line_on_bad_input(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "grants_expire", "--batch-size=none"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path}/x"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "CommandError: --batch-size must be a whole number from 1 to 10,000, not 'none'."
    ]


# --- Two runs at once ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_expire_each_grant_once(postgres_tx, service_a, ticket):
    grants = [issued(service_a, ticket, days=1) for _ in range(40)]
    now = timezone.now() + datetime.timedelta(days=2)
    counts, errors = [], []
    start = threading.Barrier(2)

    def run():
        try:
            start.wait()
            counts.append(services.grants_expire(now=now, batch_size=5))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(counts) == 40
    assert statuses(*grants) == ["expired"] * 40
    assert GrantEvent.objects.filter(status="expired").count() == 40
    # Entries are sealed into the chain after each commit; count both sides.
    entries = Entry.objects.filter(action="grant.expired").count()
    assert entries + PendingEntry.objects.filter(action="grant.expired").count() == 40


@pytest.fixture
def postgres_tx(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
