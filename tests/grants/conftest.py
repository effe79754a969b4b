"""Personas of the grants tests: two member services with credentials, a grant, residents."""

import base64
import datetime
import json

import pytest
from django.utils import timezone

from consent import services as consent_services
from governance.models import Membership, Organization
from grants import services
from review import services as review_services
from tests.consent import conftest as consent_fixtures
from tests.consent.conftest import make_resident
from tests.governance import conftest as governance_fixtures
from tests.review import conftest as review_fixtures

# The consent tests' data categories and open purpose, shared with these tests.
steps = consent_fixtures.steps
checkup = consent_fixtures.checkup
purpose = consent_fixtures.purpose

# The review tests' requesting member (company A, with its representative) and ethics board.
founding_bylaws = governance_fixtures.founding_bylaws
requester_a = governance_fixtures.requester_a
rep_a = governance_fixtures.rep_a
board_a = review_fixtures.board_a
_english = governance_fixtures._english  # autouse: assert on the English messages

__all__ = ["make_resident"]


def member(consortium, organization, member_class=Membership.MemberClass.REGULAR):
    return Membership.objects.create(
        consortium=consortium,
        organization=organization,
        member_class=member_class,
        joined_on=datetime.date(2020, 4, 1),
    )


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


class Caller:
    """A service with its credential, and the Authorization header to call the API with."""

    def __init__(self, service, credential, secret):
        self.service = service
        self.credential = credential
        self.secret = secret
        self.auth = basic(credential.client_id, secret)


def make_service(consortium, organization, name) -> Caller:
    if not Membership.objects.filter(consortium=consortium, organization=organization).exists():
        member(consortium, organization)
    service = services.service_register(
        actor=None, consortium=consortium, organization=organization, name=name
    )
    credential, secret = services.credential_issue(actor=None, service=service)
    return Caller(service, credential, secret)


@pytest.fixture
def company_b(db):
    return Organization.objects.create(
        kind=Organization.Kind.COMPANY, name_ja="会津エナジー株式会社", name_en="Aizu Energy"
    )


@pytest.fixture
def service_a(consortium_a, requester_a) -> Caller:
    """Company A's mobility service, the grant holder."""
    return make_service(consortium_a, requester_a, "Aizu mobility planner")


@pytest.fixture
def service_b(consortium_a, company_b) -> Caller:
    """Another member's service, which must see nothing of service A's grants."""
    return make_service(consortium_a, company_b, "Aizu energy app")


@pytest.fixture
def holder(consortium_a, city_a) -> Caller:
    """The city's data platform: the data holder the grant names as its audience."""
    return make_service(consortium_a, city_a, "City data hub")


def approve(ticket, board, clerk, rep, conditions="aggregate before publication"):
    """Take a draft ticket through the board's review to approval, with ``conditions``."""
    ticket = review_services.ticket_submit(actor=rep, ticket=ticket)
    reviewers = [board.legal, board.security, board.data]
    for reviewer in reviewers:
        review_services.reviewer_assign(actor=clerk, ticket=ticket, reviewer=reviewer)
        review_services.conflict_declare(actor=reviewer, ticket=ticket, has_conflict=False)
    ticket = review_services.ticket_review_start(actor=clerk, ticket=ticket)
    for reviewer in reviewers:
        review_services.review_vote_cast(
            actor=reviewer, ticket=ticket, choice="approve_with_conditions", conditions=conditions
        )
    ticket.refresh_from_db()
    assert ticket.state == "approved"
    return ticket


@pytest.fixture
def file_ticket(consortium_a, requester_a, rep_a, purpose, steps, checkup):
    """File a draft ticket of company A for the open purpose: file_ticket(**overrides)."""

    def make(**overrides):
        fields = dict(
            actor=rep_a,
            consortium=consortium_a,
            requester=requester_a,
            title="オンデマンド交通の配車最適化",
            service_name="Aizu mobility planner",
            purpose=purpose,
            categories=[steps, checkup],
            recipients=[],
            retention_days=365,
            deletion_method="保存期間の終了後に消去",
            security_measures="暗号化とアクセス制御",
            anonymisation="pseudonymised",
            anonymisation_details="利用者IDを仮名IDに置き換える",
            pia=review_fixtures.PIA,
        )
        fields.update(overrides)
        return review_services.ticket_create(**fields)

    return make


@pytest.fixture
def ticket(file_ticket, board_a, clerk_a, rep_a):
    """Company A's ticket for the purpose, approved by the board with one condition."""
    return approve(file_ticket(), board_a, clerk_a, rep_a)


def issue(caller, ticket, **extra):
    return services.grant_issue(actor=None, service=caller.service, ticket=ticket, **extra)


@pytest.fixture
def grant(service_a, ticket):
    return issue(service_a, ticket, expires_at=timezone.now() + datetime.timedelta(days=90))


@pytest.fixture
def agreeing(consortium_a, purpose):
    """Three residents who agreed to the purpose."""
    residents = [make_resident(f"r{i}@example.jp", consortium_a) for i in range(3)]
    for resident in residents:
        consent_services.consent_give(actor=None, resident=resident, purpose=purpose)
    return residents


# The sector of the service in the withdrawal tests.
SECTOR = "mobility.example.jp"


@pytest.fixture
def released(client, service_a, grant, purpose, consortium_a):
    """A resident who agreed and whose data service A received, named by its pairwise id."""
    from .oidc_helpers import register

    register(service_a.service, sector=SECTOR)
    resident = make_resident("released@example.jp", consortium_a)
    consent_services.consent_give(actor=None, resident=resident, purpose=purpose)
    subject = consent_services.pairwise_subject_issue(
        actor=None, resident=resident, sector=SECTOR
    ).subject
    answer = client.post(
        f"/api/v1/grants/{grant.jti}/check",
        json.dumps({"residents": [subject]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=service_a.auth,
    )
    assert answer.json()["results"] == {subject: True}
    return resident, subject
