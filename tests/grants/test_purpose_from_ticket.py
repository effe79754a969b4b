"""
An approved ticket that proposed a new purpose: the secretariat creates the purpose from it,
prefilled and linked, and grants for the ticket then name that purpose.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from consent import services as consent_services
from consent.models import Purpose
from review import services as review_services
from review.services.tickets import TransitionError
from tests.grants.conftest import approve, issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposing(file_ticket, board_a, clerk_a, rep_a, company_b, consortium_a):
    ticket = file_ticket(
        purpose=None,
        proposed_purpose_title="乗降データによる需要予測",
        proposed_purpose_explanation="バス路線の需要を予測するため",
        retention_days=180,
    )
    return approve(ticket, board_a, clerk_a, rep_a)


def test_the_secretariat_creates_the_proposed_purpose_and_grants_use_it(
    proposing, service_a, clerk_a, clerk_b, rep_a, board_a, requester_a
):
    with pytest.raises(ValidationError, match="creates it from the approved ticket first"):
        issue(service_a, proposing)
    for stranger in (clerk_b, rep_a, board_a.legal):
        with pytest.raises(PermissionDenied):
            review_services.purpose_create_from_ticket(
                actor=stranger, ticket=proposing, code="demand"
            )
    purpose = review_services.purpose_create_from_ticket(
        actor=clerk_a, ticket=proposing, code="demand", title_en="Demand forecasting"
    )
    assert purpose.status == Purpose.Status.DRAFT
    assert (purpose.title_ja, purpose.title_en) == (
        "乗降データによる需要予測",
        "Demand forecasting",
    )
    assert purpose.controller == requester_a and purpose.retention_days == 180
    assert set(purpose.categories.all()) == set(proposing.categories.all())
    proposing.refresh_from_db()
    assert proposing.purpose == purpose
    with pytest.raises(TransitionError):
        review_services.purpose_create_from_ticket(actor=clerk_a, ticket=proposing, code="x")

    consent_services.purpose_publish(actor=clerk_a, purpose=purpose)
    grant = issue(service_a, proposing)
    assert grant.purpose == purpose


def test_through_the_review_pages(client, proposing, clerk_a, rep_a):
    url = reverse("review:purpose_create", args=[proposing.pk])
    client.force_login(rep_a)
    assert client.post(url, {"code": "demand"}).status_code == 404
    page = client.get(reverse("review:ticket", args=[proposing.pk])).content.decode()
    assert url not in page
    client.force_login(clerk_a)
    assert url in client.get(reverse("review:ticket", args=[proposing.pk])).content.decode()
    client.post(url, {"code": "bad code!"})
    proposing.refresh_from_db()
    assert proposing.purpose_id is None
    assert client.post(url, {"code": "demand"}).status_code == 302
    proposing.refresh_from_db()
    assert proposing.purpose.code == "demand"
