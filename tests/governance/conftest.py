"""Fixtures of the governance tests: a consortium with founding bylaws, members and an assembly."""

import datetime
import itertools

import pytest
from django.utils import translation

from governance import services
from governance.models import Attendance, BylawVersion, Membership, Organization
from governance.validators import corporate_number_check_digit
from tests.conftest import make_user

FOUNDED = datetime.date(2024, 4, 1)
ASSEMBLY_DAY = datetime.date(2026, 6, 20)
_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def _english():
    """Assert on the English messages (the platform's default language is Japanese)."""
    with translation.override("en"):
        yield


def corporate_number(base: str | None = None) -> str:
    """Return a valid 法人番号 for ``base`` (12 digits), or a fresh one."""
    base = base or f"{7000000000 + next(_serial):012d}"
    return f"{corporate_number_check_digit(base)}{base}"


@pytest.fixture
def founding_bylaws(consortium_a, clerk_a) -> BylawVersion:
    """Consortium A's founding bylaws: quorum 1/2 with proxies, simple majority of votes cast,
    2/3 for amendments, only regular members vote, admission by resolution."""
    version = services.bylaw_version_create(
        actor=clerk_a, consortium=consortium_a, title_ja="会津協議会規約", title_en="Bylaws"
    )
    services.bylaw_article_set(
        actor=clerk_a, version=version, number=1, title_ja="名称", text_ja="本会は…と称する。"
    )
    services.bylaw_article_set(
        actor=clerk_a,
        version=version,
        number=2,
        title_ja="目的",
        text_ja="本会は地域の発展を目的とする。",
    )
    return services.bylaw_version_establish(
        actor=clerk_a, version=version, adopted_on=FOUNDED, effective_on=FOUNDED
    )


@pytest.fixture
def add_member(consortium_a, clerk_a, founding_bylaws):
    """Add a founding member of consortium A: add_member(member_class="regular")."""

    def add(member_class=Membership.MemberClass.REGULAR, *, joined_on=FOUNDED, consortium=None):
        serial = next(_serial)
        organization = services.organization_register(
            actor=clerk_a,
            registered_by=consortium or consortium_a,
            kind=Organization.Kind.COMPANY,
            name_ja=f"会員企業{serial}",
            name_en=f"Member {serial}",
            corporate_number=corporate_number(),
        )
        return services.membership_admit(
            actor=clerk_a,
            consortium=consortium or consortium_a,
            organization=organization,
            member_class=member_class,
            joined_on=joined_on,
        )

    return add


@pytest.fixture
def assembly(consortium_a, clerk_a, founding_bylaws):
    return services.assembly_create(
        actor=clerk_a,
        consortium=consortium_a,
        title_ja="2026年度定時総会",
        held_on=ASSEMBLY_DAY,
        place="会津若松市役所",
    )


@pytest.fixture
def attend(clerk_a, assembly):
    def mark(membership, status=Attendance.Status.PRESENT, proxy_holder=""):
        if status == Attendance.Status.PROXY and not proxy_holder:
            proxy_holder = "議長"
        return services.attendance_record(
            actor=clerk_a,
            assembly=assembly,
            membership=membership,
            status=status,
            proxy_holder=proxy_holder,
        )

    return mark


@pytest.fixture
def vote(clerk_a):
    def cast(resolution, membership, choice):
        return services.resolution_vote_cast(
            actor=clerk_a, resolution=resolution, membership=membership, choice=choice
        )

    return cast


@pytest.fixture
def propose(clerk_a, assembly):
    def make(kind="business_plan", **extra):
        return services.resolution_propose(
            actor=clerk_a, assembly=assembly, kind=kind, title_ja="議案", **extra
        )

    return make


def close(resolution, actor):
    return services.resolution_close(actor=actor, resolution=resolution, today=ASSEMBLY_DAY)


make_user = make_user


# --- The ethics review ------------------------------------------------------------------------


@pytest.fixture
def requester_a(consortium_a, clerk_a, founding_bylaws, company_a):
    """Company A, a founding regular member of consortium A, with its representative."""
    company_a.corporate_number = corporate_number()
    company_a.save()
    services.membership_admit(
        actor=clerk_a,
        consortium=consortium_a,
        organization=company_a,
        member_class=Membership.MemberClass.REGULAR,
        joined_on=FOUNDED,
        representative=make_user("rep_a", email="rep_a@example.jp"),
    )
    return company_a


@pytest.fixture
def rep_a(requester_a):
    """The requesting company's representative."""
    return requester_a.memberships.get().representative


@pytest.fixture
def other_member_a(consortium_a, add_member):
    """Another member of consortium A, with its own representative (who must not see A's ticket)."""
    membership = add_member()
    membership.representative = make_user("rep_other", email="other@example.jp")
    membership.save()
    return membership
