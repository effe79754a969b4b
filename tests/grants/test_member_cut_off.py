"""
A member that leaves, is expelled or is suspended is cut off at once, seen from the API: its
services' credentials stop authenticating, its grants are revoked with the reason member_left
(in the revocation feed and pushed to the webhook as any revocation), introspection answers
inactive, and its open requests are closed.
"""

import datetime
import json

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from audit.models import PendingEntry
from governance import services as governance_services
from governance.models import Membership
from grants import services
from grants.models import Grant, GrantEvent, WebhookDelivery
from review.models import ReviewTicket

from .test_api import check, introspect
from .test_webhooks import receiver, with_webhook  # noqa: F401  (the receiver fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def membership_of(caller) -> Membership:
    return Membership.objects.get(
        consortium=caller.service.consortium, organization=caller.service.organization
    )


def revocations(client, caller):
    return client.get("/api/v1/revocations", {"since": 0}, HTTP_AUTHORIZATION=caller.auth)


def end(how, membership, clerk, day):
    if how == "suspended":
        return governance_services.membership_suspend(
            actor=clerk, membership=membership, suspended_on=day
        )
    return governance_services.membership_leave(
        actor=clerk, membership=membership, left_on=day, reason=how
    )


@pytest.mark.parametrize("how", ["left", "expelled", "suspended"])
def test_a_member_that_ends_is_cut_off_at_the_api_at_once(
    client,
    how,
    service_a,
    holder,
    grant,
    ticket,
    clerk_a,
    receiver,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    hook = receiver()
    with_webhook(service_a, hook.url)
    # Before: the service reads its feed, the data holder finds the grant active.
    assert revocations(client, service_a).status_code == 200
    assert introspect(client, holder, grant.token).json()["active"] is True

    with django_capture_on_commit_callbacks(execute=True):
        end(how, membership_of(service_a), clerk_a, timezone.localdate())

    # The service's credentials no longer authenticate, for any endpoint.
    response = revocations(client, service_a)
    assert response.status_code == 401 and response.json()["error"] == "unauthenticated"
    assert check(client, service_a, grant.jti, {"residents": []}).status_code == 401
    # The data holder learns the grant is no longer active.
    assert introspect(client, holder, grant.token).json() == {"active": False}
    grant.refresh_from_db()
    assert (grant.status, grant.status_reason) == (Grant.Status.REVOKED, "member_left")
    # Through the revocation feed and the webhook, as any revocation.
    event = GrantEvent.objects.get(grant=grant)
    assert (event.status, event.reason) == ("revoked", "member_left")
    assert WebhookDelivery.objects.get(event=event).delivered
    assert len(hook.bodies) == 1
    # Its open requests are closed, saying why; every step is in the audit log.
    ticket.refresh_from_db()
    assert ticket.state == ReviewTicket.State.CLOSED
    closed = PendingEntry.objects.get(action="ticket.closed", object_id=str(ticket.pk))
    assert json.loads(closed.payload) == {"old": "approved", "reason": "member_left"}
    cut = PendingEntry.objects.get(action="membership.cut_off")
    assert json.loads(cut.payload)["reason"] == how
    assert PendingEntry.objects.filter(action="grant.revoked", object_id=str(grant.pk)).exists()
    # Another member's service is untouched.
    assert revocations(client, holder).status_code == 200


def test_a_leave_dated_ahead_cuts_off_on_its_day(
    client, service_a, holder, grant, clerk_a, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    membership = end("left", membership_of(service_a), clerk_a, today + datetime.timedelta(days=10))
    assert revocations(client, service_a).status_code == 200
    assert governance_services.memberships_cut_off(today=today) == 0
    assert introspect(client, holder, grant.token).json()["active"] is True

    with django_capture_on_commit_callbacks(execute=True):
        assert governance_services.memberships_cut_off(today=today + datetime.timedelta(days=10))
    assert revocations(client, service_a).status_code == 401
    assert introspect(client, holder, grant.token).json() == {"active": False}
    membership.refresh_from_db()
    assert membership.cut_off_at is not None
    # Once: the next run finds nothing to do.
    assert governance_services.memberships_cut_off(today=today + datetime.timedelta(days=11)) == 0


def test_the_daily_task_cuts_off_members_that_left_before_it_existed(client, service_a, grant):
    """A membership ended before this rule (no cut-off recorded) is cut off by the task."""
    from django_q.models import Schedule
    from django_q.tasks import async_task

    Membership.objects.filter(pk=membership_of(service_a).pk).update(
        left_on=timezone.localdate() - datetime.timedelta(days=3), end_reason="left"
    )
    assert Schedule.objects.get(name="governance: cut off ended memberships").func == (
        "governance.tasks.cut_off_ended_memberships"
    )
    async_task("governance.tasks.cut_off_ended_memberships")  # synchronous in tests
    assert revocations(client, service_a).status_code == 401
    grant.refresh_from_db()
    assert grant.status_reason == "member_left"


def test_a_failing_cut_off_leaves_the_membership_as_it_was(
    monkeypatch, service_a, grant, clerk_a, ticket
):
    def refuse(**kwargs):
        raise RuntimeError("grants unreachable")

    monkeypatch.setattr(services, "services_cut_off", refuse)
    membership = membership_of(service_a)
    with pytest.raises(RuntimeError):
        end("left", membership, clerk_a, timezone.localdate())
    membership.refresh_from_db()
    grant.refresh_from_db()
    ticket.refresh_from_db()
    assert membership.left_on is None and membership.cut_off_at is None
    assert grant.status == Grant.Status.ACTIVE and ticket.state == ReviewTicket.State.APPROVED
    assert (
        not PendingEntry.objects.filter(action__startswith="membership.")
        .exclude(action="membership.admitted")
        .exists()
    )


def test_a_reinstated_member_files_again_and_is_reactivated_by_the_secretariat(
    client, service_a, grant, clerk_a
):
    membership = end("suspended", membership_of(service_a), clerk_a, timezone.localdate())
    service = service_a.service
    service.refresh_from_db()
    with pytest.raises(Exception, match="no longer a member in good standing"):
        services.service_update(
            actor=clerk_a, service=service, name=service.name, webhook_url="", is_active=True
        )
    governance_services.membership_reinstate(actor=clerk_a, membership=membership)
    assert PendingEntry.objects.filter(action="membership.reinstated").exists()
    # The revoked grant stays revoked; the service comes back only when the secretariat says so.
    assert revocations(client, service_a).status_code == 401
    services.service_update(
        actor=clerk_a, service=service, name=service.name, webhook_url="", is_active=True
    )
    response = revocations(client, service_a)
    assert response.status_code == 200
    assert [(e["status"], e["reason"]) for e in response.json()["items"]] == [
        ("revoked", "member_left")
    ]


def test_the_secretariat_suspends_a_member_in_the_admin(client, service_a, grant, clerk_a, clerk_b):
    membership = membership_of(service_a)
    url = reverse("admin:governance_membership_changelist")
    # Another consortium's clerk cannot: the member is not in their list.
    client.force_login(clerk_b)
    client.post(url, {"action": "suspend_today", "_selected_action": [membership.pk]})
    membership.refresh_from_db()
    assert membership.suspended_on is None
    client.force_login(clerk_a)
    response = client.post(
        url, {"action": "suspend_today", "_selected_action": [membership.pk]}, follow=True
    )
    assert response.status_code == 200
    membership.refresh_from_db()
    assert membership.suspended_on == timezone.localdate() and membership.cut_off_at
    client.logout()
    assert revocations(client, service_a).status_code == 401


def test_leaving_in_the_admin_says_whether_the_member_was_expelled(
    client, service_a, grant, clerk_a
):
    membership = membership_of(service_a)
    client.force_login(clerk_a)
    url = reverse("admin:governance_membership_change", args=[membership.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {
        name: form.initial.get(name) if form.initial.get(name) is not None else ""
        for name in form.fields
    }
    data.update(left_on=timezone.localdate().isoformat(), leaving_reason="expelled")
    data = {k: v for k, v in data.items() if v not in (False, None)}
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    membership.refresh_from_db()
    assert membership.end_reason == "expelled" and membership.cut_off_at
    assert revocations(client, service_a).status_code == 401
