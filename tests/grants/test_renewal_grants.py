"""A renewal's approval: the grants are re-issued under the renewal ticket (docs/review.md)."""

import pytest

from grants.models import Grant
from review import services as review_services
from review.models import ReviewTicket
from tests.grants.conftest import approve, issue

pytestmark = pytest.mark.django_db


def test_grants_are_reissued_under_the_renewal(service_a, ticket, grant, board_a, clerk_a, rep_a):
    renewal = review_services.ticket_renew(actor=rep_a, ticket=ticket)
    assert (renewal.kind, renewal.previous_id) == (ReviewTicket.Kind.RENEWAL, ticket.pk)
    renewal = approve(renewal, board_a, clerk_a, rep_a)
    renewed = issue(service_a, renewal)
    assert renewed.ticket_id == renewal.pk
    # The previous grant runs on until its own term ends.
    grant.refresh_from_db()
    assert grant.status == Grant.Status.ACTIVE
