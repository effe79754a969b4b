"""Reminders two days before a round is due, to the reviewers who have not voted (django-q)."""

import datetime

import pytest
from django.core import mail
from django_q.models import Schedule
from django_q.tasks import async_task

from audit.models import PendingEntry
from review import services
from review.models import ReviewRound

pytestmark = pytest.mark.django_db


def test_the_daily_schedule_exists():
    schedule = Schedule.objects.get(name="review: reminders")
    assert schedule.func == "review.tasks.send_review_reminders"
    assert schedule.schedule_type == Schedule.DAILY


def test_reviewers_who_have_not_voted_are_reminded_once(
    in_review, board_a, django_capture_on_commit_callbacks
):
    ticket = in_review()
    services.review_vote_cast(actor=board_a.legal, ticket=ticket, choice="approve")
    due = ticket.due_on
    mail.outbox.clear()
    # Three days before: too early.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(today=due - datetime.timedelta(days=3)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(today=due - datetime.timedelta(days=2)) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["data@example.jp", "sec@example.jp"]
    assert f"#{ticket.pk}" in mail.outbox[0].subject
    entry = PendingEntry.objects.get(action="ticket.reminded")
    assert "@" not in entry.payload
    # Once per round.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(today=due - datetime.timedelta(days=1)) == 0
    assert len(mail.outbox) == 2


def test_the_task_runs_through_django_q(in_review, board_a, monkeypatch):
    ticket = in_review()
    today = ticket.due_on - datetime.timedelta(days=2)
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: today)
    async_task("review.tasks.send_review_reminders")  # synchronous in tests
    assert ReviewRound.objects.get(ticket=ticket).reminded_at is not None


def test_decided_tickets_are_not_reminded(in_review, board_a):
    ticket = in_review()
    for reviewer in (board_a.legal, board_a.security, board_a.data):
        services.review_vote_cast(actor=reviewer, ticket=ticket, choice="approve")
    assert services.reminders_send(today=ticket.due_on - datetime.timedelta(days=2)) == 0
