"""
Renewal before the term ends: reminders 60 and 30 days before (configurable), a renewal ticket
that carries the previous decision, its obligations' record and what changes, reviewed like any
other; through the services and HTTP.
"""

import datetime
import json

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django_q.models import Schedule

from audit.models import PendingEntry
from review import services
from review.models import ReviewTicket
from review.services.tickets import TransitionError
from tests.review.test_review_pages import client, people  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def test_the_requester_is_reminded_60_and_30_days_before_the_end(
    approve, rep_a, django_capture_on_commit_callbacks
):
    ticket = approve()
    end = ticket.valid_until
    mail.outbox.clear()
    assert services.renewals_remind(today=end - 61 * DAY) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.renewals_remind(today=end - 60 * DAY) == 1
    assert [m.to for m in mail.outbox] == [[rep_a.email]]
    assert end.isoformat() in mail.outbox[0].subject
    assert services.renewals_remind(today=end - 60 * DAY) == 0  # once per threshold
    assert services.renewals_remind(today=end - 45 * DAY) == 0
    assert services.renewals_remind(today=end - 30 * DAY) == 1
    assert services.renewals_remind(today=end - 10 * DAY) == 0
    entry = PendingEntry.objects.filter(action="ticket.renewal_reminded").last()
    assert json.loads(entry.payload)["threshold"] == 30 and "@" not in entry.payload


def test_the_thresholds_are_a_setting(approve, settings):
    settings.REVIEW_RENEWAL_REMINDER_DAYS = [90]
    ticket = approve()
    assert services.renewals_remind(today=ticket.valid_until - 90 * DAY) == 1
    assert services.renewals_remind(today=ticket.valid_until - 30 * DAY) == 0


def test_no_reminder_once_a_renewal_is_filed(approve, rep_a):
    ticket = approve()
    services.ticket_renew(actor=rep_a, ticket=ticket)
    assert services.renewals_remind(today=ticket.valid_until - 30 * DAY) == 0


def test_the_daily_schedule_exists():
    schedule = Schedule.objects.get(name="review: renewal reminders")
    assert schedule.func == "review.tasks.remind_renewals"


def test_a_renewal_carries_the_request_and_is_reviewed_like_any_other(
    approve, rep_a, board_a, clerk_a, other_member_a
):
    ticket = approve()
    # Only the requester renews, once at a time.
    for stranger in (board_a.legal, other_member_a.representative):
        with pytest.raises(PermissionDenied):
            services.ticket_renew(actor=stranger, ticket=ticket)
    renewal = services.ticket_renew(actor=rep_a, ticket=ticket)
    assert (renewal.state, renewal.kind, renewal.previous_id) == ("draft", "renewal", ticket.pk)
    assert list(renewal.categories.all()) == list(ticket.categories.all())
    assert renewal.retention_days == ticket.retention_days and renewal.pia == ticket.pia
    with pytest.raises(TransitionError, match="already continues"):
        services.ticket_renew(actor=rep_a, ticket=ticket)
    # A draft is not an approval: it cannot be renewed.
    with pytest.raises(TransitionError):
        services.ticket_renew(actor=rep_a, ticket=renewal)

    renewal = services.ticket_update(actor=rep_a, ticket=renewal, retention_days=180)
    from review import selectors

    (change,) = selectors.successor_changes(renewal)
    assert (change["field"], change["before"], change["after"]) == ("retention_days", "365", "180")

    services.ticket_submit(actor=rep_a, ticket=renewal)
    for reviewer in (board_a.legal, board_a.security, board_a.data):
        services.reviewer_assign(actor=clerk_a, ticket=renewal, reviewer=reviewer)
        services.conflict_declare(actor=reviewer, ticket=renewal, has_conflict=False)
    services.ticket_review_start(actor=clerk_a, ticket=renewal)
    for reviewer in (board_a.legal, board_a.security, board_a.data):
        services.review_vote_cast(
            actor=reviewer, ticket=renewal, choice="approve", today=ticket.valid_until - 20 * DAY
        )
    renewal.refresh_from_db()
    assert renewal.state == ReviewTicket.State.APPROVED
    assert renewal.valid_until > ticket.valid_until
    # The previous approval runs until its own term ends; its obligations stay on it.
    ticket.refresh_from_db()
    assert ticket.state == ReviewTicket.State.APPROVED and ticket.obligations.count() == 2
    created = PendingEntry.objects.filter(action="ticket.created").last()
    payload = json.loads(created.payload)
    assert payload["kind"] == "renewal" and payload["previous_id"] == ticket.pk


RENEW = {
    "requester": 302,
    "other_requester": 404,
    "clerk_a": 404,
    "reviewer": 404,
    "reviewer_b": 404,
}


@pytest.mark.parametrize("who", RENEW)
def test_renewing_through_http(client, people, approve, who):  # noqa: F811
    ticket = approve()
    client.force_login(people[who])
    response = client.post(reverse("review:renew", args=[ticket.pk]))
    assert response.status_code == RENEW[who]
    if response.status_code != 302:
        assert not ticket.successors.exists()
        return
    renewal = ticket.successors.get()
    assert response["Location"] == reverse("review:ticket_edit", args=[renewal.pk])
    page = client.get(reverse("review:ticket", args=[renewal.pk])).content.decode()
    assert f"Renewal of approval #{ticket.pk}" in page
    # The previous decision's obligations are shown with their states.
    assert "外部のセキュリティ監査を受けること" in page and "Nothing changes" in page
    previous_page = client.get(reverse("review:ticket", args=[ticket.pk])).content.decode()
    assert "Renewed by" in previous_page and f"#{renewal.pk}" in previous_page
    # One renewal at a time: the button is gone.
    assert reverse("review:renew", args=[ticket.pk]) not in previous_page
