"""Closing a consent purpose revokes the grants for it (consent's purpose_closed signal)."""

import datetime

import jwt
import pytest
from django.core.cache import cache
from django.utils import timezone

from audit.models import PendingEntry
from consent import services as consent_services
from grants import services
from grants.models import Grant, GrantEvent, WebhookDelivery
from tests.consent.conftest import make_purpose

from .conftest import approve, issue
from .test_api import check, introspect
from .test_webhooks import Receiver, with_webhook

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def in_90_days():
    return timezone.now() + datetime.timedelta(days=90)


@pytest.fixture
def other_grant(service_a, file_ticket, board_a, clerk_a, rep_a, consortium_a, city_a, steps):
    """Service A's active grant for another purpose of the same consortium."""
    other = make_purpose(consortium_a, city_a, [steps], code="bus-routes")
    ticket = approve(
        file_ticket(purpose=other, categories=[steps], title="バス路線の再編"),
        board_a,
        clerk_a,
        rep_a,
    )
    return issue(service_a, ticket, expires_at=in_90_days())


def close(purpose, clerk, capture):
    with capture(execute=True):
        consent_services.purpose_close(actor=clerk, purpose=purpose)


def test_closing_a_purpose_revokes_its_active_and_suspended_grants(
    service_a, ticket, grant, other_grant, purpose, clerk_a, django_capture_on_commit_callbacks
):
    suspended = issue(service_a, ticket, expires_at=in_90_days())
    services.grant_suspend(actor=None, grant=suspended, reason=Grant.Reason.SECRETARIAT)
    revoked_before = PendingEntry.objects.filter(action="grant.revoked").count()

    close(purpose, clerk_a, django_capture_on_commit_callbacks)

    for g in (grant, suspended):
        g.refresh_from_db()
        assert (g.status, g.status_reason) == ("revoked", "purpose_closed")
        assert GrantEvent.objects.filter(
            grant=g, status="revoked", reason="purpose_closed"
        ).exists()
    revocations = PendingEntry.objects.filter(action="grant.revoked")
    assert revocations.count() == revoked_before + 2
    assert sorted(e.data["jti"] for e in revocations) == sorted([grant.jti, suspended.jti])
    assert all(e.data["reason"] == "purpose_closed" for e in revocations)
    # Another purpose's grant is untouched.
    other_grant.refresh_from_db()
    assert other_grant.status == Grant.Status.ACTIVE
    assert not GrantEvent.objects.filter(grant=other_grant).exists()


def test_after_closure_introspection_and_check_answer_false(
    client,
    service_a,
    grant,
    other_grant,
    agreeing,
    purpose,
    clerk_a,
    django_capture_on_commit_callbacks,
):
    ids = [r.pseudonymous_id for r in agreeing]
    assert introspect(client, service_a, grant.token).json()["active"] is True
    assert check(client, service_a, grant.jti, {"residents": ids}).json()["allowed"] == 3

    close(purpose, clerk_a, django_capture_on_commit_callbacks)

    assert introspect(client, service_a, grant.token).json() == {"active": False}
    body = check(client, service_a, grant.jti, {"residents": ids}).json()
    assert body["grant_active"] is False and body["allowed"] == 0
    assert not any(body["results"].values())
    # The other purpose's grant still introspects as active.
    assert introspect(client, service_a, other_grant.token).json()["active"] is True


def test_closure_appears_in_the_revocation_feed(
    client, service_a, grant, purpose, clerk_a, django_capture_on_commit_callbacks
):
    close(purpose, clerk_a, django_capture_on_commit_callbacks)
    feed = client.get("/api/v1/revocations?since=0", HTTP_AUTHORIZATION=service_a.auth).json()
    assert [(i["jti"], i["status"], i["reason"]) for i in feed["items"]] == [
        (grant.jti, "revoked", "purpose_closed")
    ]


def test_no_revocation_before_the_closure_commits(
    service_a, grant, purpose, clerk_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        consent_services.purpose_close(actor=clerk_a, purpose=purpose)
    grant.refresh_from_db()
    assert grant.status == Grant.Status.ACTIVE  # nothing happens until the closure commits
    for callback in callbacks:
        callback()
    grant.refresh_from_db()
    assert grant.status_reason == "purpose_closed"


@pytest.fixture
def hook():
    """A local server receiving webhook pushes (the webhook tests' receiver)."""
    server = Receiver(())
    yield server
    server.close()


def test_closure_is_pushed_to_the_services_webhook(
    hook, service_a, grant, purpose, clerk_a, django_capture_on_commit_callbacks
):
    with_webhook(service_a, hook.url)
    close(purpose, clerk_a, django_capture_on_commit_callbacks)
    assert len(hook.bodies) == 1
    claims = jwt.decode(hook.bodies[0].decode(), options={"verify_signature": False})
    assert (claims["jti"], claims["status"], claims["reason"]) == (
        grant.jti,
        "revoked",
        "purpose_closed",
    )
    assert WebhookDelivery.objects.get().delivered
