"""Every review service writes its one audit entry, with ids and facts only, into a valid chain."""

import pytest

from audit import services as audit_services
from audit.models import PendingEntry
from audit.verification import verify_chain
from review import services
from review.services import tickets as review

pytestmark = pytest.mark.django_db


def test_every_review_service_records_its_entry(in_review, make_ticket, board_a, clerk_a, rep_a):
    ticket = in_review()
    services.comment_add(
        actor=board_a.legal,
        ticket=ticket,
        text="匿名化の方法は？",
        kind="question",
        visibility="requester",
    )
    services.comment_add(actor=rep_a, ticket=ticket, text="k匿名化です", kind="answer")
    for reviewer in (board_a.legal, board_a.security, board_a.data):
        services.review_vote_cast(actor=reviewer, ticket=ticket, choice="request_changes")
    services.ticket_update(actor=rep_a, ticket=ticket, retention_days=30)
    services.ticket_resubmit(actor=rep_a, ticket=ticket)
    for reviewer in (board_a.legal, board_a.security, board_a.data):
        services.review_vote_cast(actor=reviewer, ticket=ticket, choice="approve")
    services.ticket_suspend(actor=clerk_a, ticket=ticket)
    services.ticket_resume(actor=clerk_a, ticket=ticket)
    services.ticket_close(actor=clerk_a, ticket=ticket)
    rejected = in_review()
    board_a.legal_veto = True
    board_a.save()
    services.review_vote_cast(actor=board_a.legal, ticket=rejected, choice="reject")

    actions = set(PendingEntry.objects.values_list("action", flat=True))
    expected = {
        "ticket.created",
        "ticket.updated",
        "ticket.submitted",
        "ticket.reviewer_assigned",
        "ticket.conflict_declared",
        "ticket.review_started",
        "ticket.commented",
        "ticket.vote_cast",
        "ticket.changes_requested",
        "ticket.resubmitted",
        "ticket.approved",
        "ticket.rejected",
        "ticket.suspended",
        "ticket.resumed",
        "ticket.closed",
    }
    assert expected <= actions
    covered = {
        "comment_add",
        "conflict_declare",
        "review_vote_cast",
        "reviewer_assign",
        "ticket_approve",
        "ticket_close",
        "ticket_create",
        "ticket_reject",
        "ticket_request_changes",
        "ticket_resubmit",
        "ticket_resume",
        "ticket_review_start",
        "ticket_submit",
        "ticket_suspend",
        "ticket_update",
        # Audited in test_review_attachments.py and test_review_reminders.py:
        "attachment_add",
        "reminders_send",
    }
    assert set(review.SERVICES) == covered, "a review service without its audit assertion"
    for entry in PendingEntry.objects.filter(action__startswith="ticket."):
        assert "匿名化" not in entry.payload and "rep_a" not in entry.payload
    assert PendingEntry.objects.filter(action="ticket.commented").count() == 2
    assert audit_services.seal() > 0
    assert verify_chain().ok


def test_a_refused_transition_writes_nothing(make_ticket, rep_a, clerk_a, board_a):
    ticket = make_ticket()
    before = PendingEntry.objects.count()
    with pytest.raises(services.TransitionError):
        services.ticket_suspend(actor=clerk_a, ticket=ticket)
    assert PendingEntry.objects.count() == before
