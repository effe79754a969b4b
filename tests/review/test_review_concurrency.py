"""Reviewers voting at the same moment on PostgreSQL: the board decides exactly once."""

import pytest

from audit.models import PendingEntry
from review import services
from review.models import ReviewTicket, ReviewVote
from tests.governance.test_concurrency import race


@pytest.mark.django_db(transaction=True)
def test_simultaneous_votes_decide_once(postgres_only, in_review, board_a):
    reviewers = [board_a.legal, board_a.security, board_a.data, board_a.resident]
    ticket = in_review(reviewers=reviewers)

    results, refusals = race(
        lambda n: services.review_vote_cast(actor=reviewers[n], ticket=ticket, choice="approve"),
        count=4,
    )

    ticket = ReviewTicket.objects.get(pk=ticket.pk)
    assert ticket.state == ReviewTicket.State.APPROVED
    # Three approvals of four decide early; a vote arriving after the decision is refused.
    assert len(results) + len(refusals) == 4
    assert ReviewVote.objects.filter(ticket=ticket).count() == len(results) >= 3
    assert PendingEntry.objects.filter(action="ticket.approved").count() <= 1
    from audit.models import Entry

    assert (
        PendingEntry.objects.filter(action="ticket.approved").count()
        + Entry.objects.filter(action="ticket.approved").count()
        == 1
    )


@pytest.mark.django_db(transaction=True)
def test_one_reviewer_voting_twice_at_once_counts_once(postgres_only, in_review, board_a):
    ticket = in_review()
    results, refusals = race(
        lambda n: services.review_vote_cast(
            actor=board_a.legal, ticket=ticket, choice=["approve", "reject"][n % 2]
        ),
        count=4,
    )
    assert len(results) == 1 and len(refusals) == 3
    assert ReviewVote.objects.filter(ticket=ticket).count() == 1
