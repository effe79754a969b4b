"""Recusal and the decision rule: ties, abstentions, vetoes, a recusal that breaks quorum."""

import pytest
from django.core.exceptions import ValidationError

from audit.models import PendingEntry
from governance.models import Role
from review import selectors, services
from review.models import ReviewAssignment, ReviewTicket

pytestmark = pytest.mark.django_db
State = ReviewTicket.State


def state_of(ticket):
    return ReviewTicket.objects.get(pk=ticket.pk).state


def seat_for(user, organization):
    """Make ``user``'s board seat one held on behalf of ``organization``."""
    Role.objects.filter(user=user, kind=Role.Kind.ETHICS_BOARD_MEMBER).update(
        organization=organization
    )


def vote_all(ticket, pairs):
    for reviewer, choice in pairs:
        services.review_vote_cast(actor=reviewer, ticket=ticket, choice=choice)


# --- Recusal -----------------------------------------------------------------------------------


def test_a_reviewer_from_the_requester_is_recused(
    make_ticket, rep_a, board_a, clerk_a, requester_a
):
    seat_for(board_a.security, requester_a)
    ticket = services.ticket_submit(actor=rep_a, ticket=make_ticket())
    assignment = services.reviewer_assign(actor=clerk_a, ticket=ticket, reviewer=board_a.security)
    assert assignment.recusal == ReviewAssignment.Recusal.REQUESTER
    services.conflict_declare(actor=board_a.security, ticket=ticket, has_conflict=False)
    assert not selectors.may_see_full_ticket(board_a.security, ticket)
    entry = PendingEntry.objects.get(action="ticket.reviewer_assigned")
    assert '"recusal":"requester"' in entry.payload


def test_a_reviewer_who_represents_a_recipient_is_recused(
    make_ticket, rep_a, board_a, clerk_a, other_member_a
):
    other_member_a.representative = board_a.data
    other_member_a.save()
    ticket = services.ticket_submit(
        actor=rep_a, ticket=make_ticket(recipients=[other_member_a.organization])
    )
    assignment = services.reviewer_assign(actor=clerk_a, ticket=ticket, reviewer=board_a.data)
    assert assignment.recusal == ReviewAssignment.Recusal.RECIPIENT


def test_a_declared_conflict_recuses(make_ticket, rep_a, board_a, clerk_a):
    ticket = services.ticket_submit(actor=rep_a, ticket=make_ticket())
    services.reviewer_assign(actor=clerk_a, ticket=ticket, reviewer=board_a.legal)
    assignment = services.conflict_declare(actor=board_a.legal, ticket=ticket, has_conflict=True)
    assert assignment.recusal == ReviewAssignment.Recusal.DECLARED
    assert not selectors.may_see_full_ticket(board_a.legal, ticket)


def test_a_recused_reviewer_cannot_vote(in_review, board_a, clerk_a, requester_a):
    seat_for(board_a.resident, requester_a)
    ticket = in_review()
    services.reviewer_assign(actor=clerk_a, ticket=ticket, reviewer=board_a.resident)
    services.conflict_declare(actor=board_a.resident, ticket=ticket, has_conflict=False)
    with pytest.raises(ValidationError, match="recused"):
        services.review_vote_cast(actor=board_a.resident, ticket=ticket, choice="approve")
    assert not ticket.votes.exists()


def test_a_declared_conflict_can_keep_the_review_from_starting(
    make_ticket, rep_a, board_a, clerk_a
):
    ticket = services.ticket_submit(actor=rep_a, ticket=make_ticket())
    for reviewer in (board_a.legal, board_a.security, board_a.data):
        services.reviewer_assign(actor=clerk_a, ticket=ticket, reviewer=reviewer)
    services.conflict_declare(actor=board_a.data, ticket=ticket, has_conflict=True)
    with pytest.raises(ValidationError, match="2 are assigned"):
        services.ticket_review_start(actor=clerk_a, ticket=ticket)
    assert state_of(ticket) == State.SUBMITTED


def test_a_recusal_that_breaks_quorum_waits_for_another_reviewer(
    in_review, board_a, clerk_a, rep_a, other_member_a
):
    ticket = in_review()
    vote_all(
        ticket, [(r, "request_changes") for r in (board_a.legal, board_a.security, board_a.data)]
    )
    # The revised request adds a recipient the data-ethics expert represents.
    other_member_a.representative = board_a.data
    other_member_a.save()
    services.ticket_update(actor=rep_a, ticket=ticket, recipients=[other_member_a.organization])
    ticket = services.ticket_resubmit(actor=rep_a, ticket=ticket)
    assert ticket.assignments.get(reviewer=board_a.data).recusal == "recipient"
    vote_all(ticket, [(board_a.legal, "approve"), (board_a.security, "approve")])
    tally = selectors.review_tally(ReviewTicket.objects.get(pk=ticket.pk))
    assert (tally.participants, tally.quorum_possible, tally.decision) == (2, False, "")
    assert state_of(ticket) == State.IN_REVIEW
    services.reviewer_assign(actor=clerk_a, ticket=ticket, reviewer=board_a.resident)
    services.conflict_declare(actor=board_a.resident, ticket=ticket, has_conflict=False)
    services.review_vote_cast(actor=board_a.resident, ticket=ticket, choice="approve")
    assert state_of(ticket) == State.APPROVED


# --- The decision rule -------------------------------------------------------------------------


@pytest.fixture
def four(in_review, board_a):
    """A ticket in review with all four experts (quorum 3)."""
    return in_review(reviewers=[board_a.legal, board_a.security, board_a.data, board_a.resident])


def test_a_tie_asks_for_changes(four, board_a):
    vote_all(
        four,
        [
            (board_a.legal, "approve"),
            (board_a.security, "reject"),
            (board_a.data, "approve"),
            (board_a.resident, "reject"),
        ],
    )
    assert state_of(four) == State.CHANGES_REQUESTED


def test_nothing_is_decided_while_the_outcome_is_open(four, board_a):
    vote_all(four, [(board_a.legal, "approve"), (board_a.security, "approve")])
    assert state_of(four) == State.IN_REVIEW


def test_a_majority_of_all_participants_decides_early(four, board_a):
    vote_all(
        four, [(board_a.legal, "reject"), (board_a.security, "reject"), (board_a.data, "reject")]
    )
    assert state_of(four) == State.REJECTED


def test_abstentions_do_not_count_in_the_majority(in_review, board_a):
    ticket = in_review()
    vote_all(
        ticket,
        [(board_a.legal, "approve"), (board_a.security, "abstain"), (board_a.data, "abstain")],
    )
    assert state_of(ticket) == State.APPROVED


def test_everyone_abstaining_asks_for_changes(in_review, board_a):
    ticket = in_review()
    vote_all(ticket, [(r, "abstain") for r in (board_a.legal, board_a.security, board_a.data)])
    assert state_of(ticket) == State.CHANGES_REQUESTED


def test_a_majority_for_changes_asks_for_changes(in_review, board_a):
    ticket = in_review()
    vote_all(
        ticket,
        [
            (board_a.legal, "request_changes"),
            (board_a.security, "request_changes"),
            (board_a.data, "approve"),
        ],
    )
    assert state_of(ticket) == State.CHANGES_REQUESTED


def test_without_a_veto_a_legal_reject_is_one_vote(in_review, board_a):
    ticket = in_review()
    services.review_vote_cast(actor=board_a.legal, ticket=ticket, choice="reject")
    assert state_of(ticket) == State.IN_REVIEW
    vote_all(ticket, [(board_a.security, "approve"), (board_a.data, "approve")])
    assert state_of(ticket) == State.APPROVED


@pytest.mark.parametrize("expert", ["legal", "security"])
def test_a_configured_veto_rejects_at_once(in_review, board_a, expert):
    setattr(board_a, f"{expert}_veto", True)
    board_a.save()
    ticket = in_review()
    services.review_vote_cast(actor=board_a.data, ticket=ticket, choice="approve")
    services.review_vote_cast(actor=getattr(board_a, expert), ticket=ticket, choice="reject")
    assert state_of(ticket) == State.REJECTED
    entry = PendingEntry.objects.get(action="ticket.rejected")
    assert '"veto":true' in entry.payload


def test_the_veto_belongs_only_to_the_configured_expert(in_review, board_a):
    board_a.legal_veto = True
    board_a.save()
    ticket = in_review()
    services.review_vote_cast(actor=board_a.security, ticket=ticket, choice="reject")
    assert state_of(ticket) == State.IN_REVIEW


def test_every_condition_is_carried_into_the_approval(in_review, board_a):
    ticket = in_review()
    services.review_vote_cast(
        actor=board_a.legal, ticket=ticket, choice="approve_with_conditions", conditions="条件A"
    )
    services.review_vote_cast(
        actor=board_a.security, ticket=ticket, choice="approve_with_conditions", conditions="条件B"
    )
    services.review_vote_cast(actor=board_a.data, ticket=ticket, choice="reject")
    ticket = ReviewTicket.objects.get(pk=ticket.pk)
    assert ticket.state == State.APPROVED
    assert ticket.conditions == "条件A\n条件B"


def test_the_secretariat_configures_the_veto_through_the_service(consortium_a, clerk_a, board_a):
    from audit.models import PendingEntry as Pending

    board = services.ethics_board_set(
        actor=clerk_a,
        consortium=consortium_a,
        name_ja=board_a.name_ja,
        name_en=board_a.name_en,
        quorum=3,
        legal_veto=True,
        review_days=21,
    )
    assert (board.legal_veto, board.security_veto, board.review_days) == (True, False, 21)
    entry = Pending.objects.filter(action="ethics_board.updated").latest("pk")
    assert '"legal_veto":true' in entry.payload
    with pytest.raises(TypeError):
        services.ethics_board_set(
            actor=clerk_a, consortium=consortium_a, name_ja="x", name_en="x", chair_veto=True
        )


def test_the_board_admin_shows_the_review_rules(client, clerk_a, board_a):
    client.force_login(clerk_a)
    response = client.get(f"/admin/review/ethicsboard/{board_a.pk}/change/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="legal_veto"' in body and 'name="approval_term_days"' in body


def test_the_board_admin_refuses_a_confirmation_period_out_of_range(client, clerk_a, board_a):
    client.force_login(clerk_a)
    url = f"/admin/review/ethicsboard/{board_a.pk}/change/"
    response = client.post(
        url,
        {
            "name_ja": board_a.name_ja,
            "name_en": board_a.name_en,
            "quorum": 3,
            "review_days": 14,
            "approval_term_days": 365,
            "deletion_confirmation_days": 400,
            "overdue_critical": "escalate",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="deletion_confirmation_days"' in body and 'value="400"' in body
    assert "365" in body and "errorlist" in body
    board_a.refresh_from_db()
    assert board_a.deletion_confirmation_days == 30
