"""Personas of the grants tests: two member services with credentials, a grant, residents."""

import base64
import datetime

import pytest
from django.utils import timezone

from consent import services as consent_services
from governance.models import Membership, Organization
from grants import services
from tests.consent import conftest as consent_fixtures
from tests.consent.conftest import make_resident

# The consent tests' data categories and open purpose, shared with these tests.
steps = consent_fixtures.steps
checkup = consent_fixtures.checkup
purpose = consent_fixtures.purpose

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
def service_a(consortium_a, company_a) -> Caller:
    """Company A's mobility service, the grant holder."""
    return make_service(consortium_a, company_a, "Aizu mobility planner")


@pytest.fixture
def service_b(consortium_a, company_b) -> Caller:
    """Another member's service, which must see nothing of service A's grants."""
    return make_service(consortium_a, company_b, "Aizu energy app")


@pytest.fixture
def holder(consortium_a, city_a) -> Caller:
    """The city's data platform: the data holder the grant names as its audience."""
    return make_service(consortium_a, city_a, "City data hub")


@pytest.fixture
def grant(service_a, purpose, city_a):
    return services.grant_issue(
        actor=None,
        service=service_a.service,
        purpose=purpose,
        audience=[city_a],
        expires_at=timezone.now() + datetime.timedelta(days=90),
        conditions=["aggregate before publication"],
        ticket_id=17,
    )


@pytest.fixture
def agreeing(consortium_a, purpose):
    """Three residents who agreed to the purpose."""
    residents = [make_resident(f"r{i}@example.jp", consortium_a) for i in range(3)]
    for resident in residents:
        consent_services.consent_give(actor=None, resident=resident, purpose=purpose)
    return residents
