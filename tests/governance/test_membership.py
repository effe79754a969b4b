"""Organisations, memberships, admission, roles and the ethics board."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from governance import selectors, services
from governance.models import Membership, Organization, Role
from governance.validators import corporate_number_check_digit, validate_corporate_number
from review import selectors as review_selectors
from review import services as review_services

from .conftest import ASSEMBLY_DAY, FOUNDED, close, corporate_number, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("number", ["7000012050002", "1180301018771", "9000020072028"])
def test_real_corporate_numbers_pass(number):
    # 国税庁 and トヨタ自動車株式会社 as published by the National Tax Agency; a municipality's
    # number is 000020 and its local government code (会津若松市 072028) behind the check digit.
    validate_corporate_number(number)


def test_the_check_digit_follows_the_national_tax_agency_rule():
    assert corporate_number_check_digit("000012050002") == 7


@pytest.mark.parametrize(
    "number,message",
    [
        ("8000012050002", "check digit is wrong"),
        ("700001205000", "exactly 13 digits"),
        ("7000-12050002", "exactly 13 digits"),
        ("７000012050002", "exactly 13 digits"),
    ],
)
def test_a_wrong_corporate_number_is_a_field_error_and_nothing_is_saved(
    clerk_a, consortium_a, number, message
):
    with pytest.raises(ValidationError) as error:
        services.organization_register(
            actor=clerk_a,
            registered_by=consortium_a,
            kind=Organization.Kind.COMPANY,
            name_ja="会津テック",
            name_en="Aizu Tech",
            corporate_number=number,
        )
    assert message in error.value.message_dict["corporate_number"][0]
    assert not Organization.objects.filter(name_en="Aizu Tech").exists()


def test_only_civic_groups_may_omit_the_corporate_number(clerk_a, consortium_a):
    group = services.organization_register(
        actor=clerk_a,
        registered_by=consortium_a,
        kind=Organization.Kind.CIVIC_GROUP,
        name_ja="Code for AIZU",
        name_en="Code for AIZU",
    )
    assert group.corporate_number == ""
    with pytest.raises(ValidationError) as error:
        services.organization_register(
            actor=clerk_a,
            registered_by=consortium_a,
            kind=Organization.Kind.COMPANY,
            name_ja="番号なし株式会社",
            name_en="No Number",
        )
    assert "corporate_number" in error.value.message_dict


def test_the_database_refuses_a_malformed_corporate_number(consortium_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.create(kind="company", name_ja="x", name_en="x", corporate_number="12")


def test_admission_needs_a_carried_resolution_after_the_founding(
    clerk_a, consortium_a, founding_bylaws, add_member, attend, vote, propose
):
    newcomer = services.organization_register(
        actor=clerk_a,
        registered_by=consortium_a,
        kind=Organization.Kind.COMPANY,
        name_ja="新規会員株式会社",
        name_en="Newcomer",
        corporate_number=corporate_number(),
    )
    with pytest.raises(ValidationError, match="require a general assembly resolution"):
        services.membership_admit(
            actor=clerk_a,
            consortium=consortium_a,
            organization=newcomer,
            member_class="regular",
            joined_on=ASSEMBLY_DAY,
        )
    members = [add_member() for _ in range(2)]
    for member in members:
        attend(member)
    admission = propose("admission")
    with pytest.raises(ValidationError, match="has not been carried"):
        services.membership_admit(
            actor=clerk_a,
            consortium=consortium_a,
            organization=newcomer,
            member_class="regular",
            joined_on=ASSEMBLY_DAY,
            admission_resolution=admission,
        )
    for member in members:
        vote(admission, member, "for")
    close(admission, clerk_a)
    with pytest.raises(ValidationError, match="on or after the assembly"):
        services.membership_admit(
            actor=clerk_a,
            consortium=consortium_a,
            organization=newcomer,
            member_class="regular",
            joined_on=ASSEMBLY_DAY - datetime.timedelta(days=1),
            admission_resolution=admission,
        )

    membership = services.membership_admit(
        actor=clerk_a,
        consortium=consortium_a,
        organization=newcomer,
        member_class="regular",
        joined_on=ASSEMBLY_DAY,
        admission_resolution=admission,
    )

    assert membership.admission_resolution == admission
    assert Membership.objects.filter(organization=newcomer).count() == 1


def test_observers_join_without_a_resolution(clerk_a, consortium_a, founding_bylaws, city_a):
    membership = services.membership_admit(
        actor=clerk_a,
        consortium=consortium_a,
        organization=city_a,
        member_class="observer",
        joined_on=ASSEMBLY_DAY,
    )
    assert membership.member_class == "observer"


def test_one_current_membership_per_organisation(clerk_a, consortium_a, add_member):
    member = add_member()
    with pytest.raises(ValidationError, match="already a member"):
        services.membership_admit(
            actor=clerk_a,
            consortium=consortium_a,
            organization=member.organization,
            member_class="regular",
            joined_on=FOUNDED,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            consortium=consortium_a,
            organization=member.organization,
            member_class="regular",
            joined_on=FOUNDED,
        )


def test_terms_are_accepted_with_a_date_and_an_adopted_version(
    clerk_a, add_member, founding_bylaws
):
    member = add_member()
    services.membership_terms_accept(
        actor=clerk_a,
        membership=member,
        bylaw_version=founding_bylaws,
        confidentiality=True,
        ip_terms=True,
        accepted_on=FOUNDED,
    )
    member.refresh_from_db()
    assert (member.accepted_bylaw_version, member.accepted_confidentiality) == (
        founding_bylaws,
        True,
    )

    draft = services.bylaw_version_create(
        actor=clerk_a, consortium=founding_bylaws.consortium, title_ja="案", title_en="draft"
    )
    with pytest.raises(ValidationError, match="not a draft"):
        services.membership_terms_accept(
            actor=clerk_a,
            membership=member,
            bylaw_version=draft,
            confidentiality=True,
            ip_terms=True,
            accepted_on=FOUNDED,
        )


def test_a_member_cannot_leave_before_joining(clerk_a, add_member):
    member = add_member()
    with pytest.raises(ValidationError, match="leave before joining"):
        services.membership_leave(
            actor=clerk_a, membership=member, left_on=FOUNDED - datetime.timedelta(days=1)
        )
    member.refresh_from_db()
    assert member.left_on is None


def assign_chair(actor, consortium, user, start, end=None):
    return services.role_assign(
        actor=actor,
        consortium=consortium,
        kind=Role.Kind.CHAIR,
        user=user,
        start_on=start,
        end_on=end,
    )


def test_one_chair_at_a_time(clerk_a, consortium_a):
    first, second = make_user("chair1"), make_user("chair2")
    current = assign_chair(clerk_a, consortium_a, first, datetime.date(2024, 4, 1))

    with pytest.raises(ValidationError, match="one chair at a time"):
        assign_chair(clerk_a, consortium_a, second, datetime.date(2026, 4, 1))

    services.role_end(actor=clerk_a, role=current, end_on=datetime.date(2026, 3, 31))
    successor = assign_chair(clerk_a, consortium_a, second, datetime.date(2026, 4, 1))

    assert list(selectors.roles_on(consortium_a, datetime.date(2026, 4, 1), "chair")) == [successor]


def test_chair_terms_may_not_overlap_even_when_both_are_dated(clerk_a, consortium_a):
    first, second = make_user("chair1"), make_user("chair2")
    assign_chair(
        clerk_a, consortium_a, first, datetime.date(2024, 4, 1), datetime.date(2026, 3, 31)
    )

    with pytest.raises(ValidationError, match="overlaps"):
        assign_chair(
            clerk_a, consortium_a, second, datetime.date(2025, 1, 1), datetime.date(2027, 3, 31)
        )
    with pytest.raises(ValidationError, match="overlaps"):
        assign_chair(
            clerk_a, consortium_a, second, datetime.date(2023, 1, 1), datetime.date(2024, 4, 1)
        )
    assert Role.objects.count() == 1


def test_the_database_refuses_two_open_chairs(clerk_a, consortium_a):
    assign_chair(clerk_a, consortium_a, make_user("chair1"), datetime.date(2024, 4, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Role.objects.create(
            consortium=consortium_a,
            kind="chair",
            user=make_user("chair2"),
            start_on=datetime.date(2025, 4, 1),
        )


def test_ethics_board_members_need_an_expertise(clerk_a, consortium_a):
    reviewer_a = make_user("expert")
    board = review_services.ethics_board_set(
        actor=clerk_a,
        consortium=consortium_a,
        name_ja="データ倫理審査会",
        name_en="Data Ethics Board",
    )
    with pytest.raises(ValidationError) as error:
        services.role_assign(
            actor=clerk_a,
            consortium=consortium_a,
            kind=Role.Kind.ETHICS_BOARD_MEMBER,
            user=reviewer_a,
            start_on=FOUNDED,
        )
    assert "expertise" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.role_assign(
            actor=clerk_a,
            consortium=consortium_a,
            kind=Role.Kind.CHAIR,
            user=reviewer_a,
            start_on=FOUNDED,
            expertise="legal",
        )

    services.role_assign(
        actor=clerk_a,
        consortium=consortium_a,
        kind=Role.Kind.ETHICS_BOARD_MEMBER,
        user=reviewer_a,
        start_on=FOUNDED,
        expertise=Role.Expertise.LEGAL,
    )

    members = review_selectors.ethics_board_members(board, ASSEMBLY_DAY)
    assert [(role.user, role.expertise) for role in members] == [(reviewer_a, "legal")]
    assert selectors.is_ethics_board_member(reviewer_a, consortium_a, ASSEMBLY_DAY)
    assert not selectors.is_ethics_board_member(
        reviewer_a, consortium_a, FOUNDED - datetime.timedelta(days=1)
    )


def test_the_reviewer_personas_sit_on_their_own_board_only(reviewer_a, reviewer_b, consortium_a):
    assert selectors.is_ethics_board_member(reviewer_a, consortium_a, ASSEMBLY_DAY)
    assert not selectors.is_ethics_board_member(reviewer_b, consortium_a, ASSEMBLY_DAY)


def test_a_consortium_gets_its_own_secretariat_group(clerk_a, consortium_a):
    from django.contrib.auth.models import Group

    consortium = services.consortium_create(
        actor=None, slug="tsukuba", name_ja="つくば協議会", name_en="Tsukuba"
    )
    assert consortium.secretariat_group.name == "secretariat: tsukuba"

    consortium_a.secretariat_group = Group.objects.create(name="secretariat: taken")
    consortium_a.save()
    with pytest.raises(ValidationError, match="group for this short name is taken"):
        services.consortium_create(actor=None, slug="taken", name_ja="x", name_en="x")
