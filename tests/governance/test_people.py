"""Who a clerk may pick as a representative or role holder."""

import pytest

from consent import services as consent_services
from governance import selectors

from ..conftest import make_user

pytestmark = pytest.mark.django_db


def test_residents_portal_accounts_are_never_offered_to_the_secretariat(
    clerk_a, superuser, consortium_a
):
    resident_user = make_user("hanako@example.jp", email="hanako@example.jp")
    consent_services.resident_register(
        actor=None, consortia=consortium_a, user=resident_user, full_name="会津 花子"
    )
    free_person = make_user("new-representative")

    offered_to_clerk = set(selectors.people_visible_to(clerk_a))
    offered_to_superuser = set(selectors.people_visible_to(superuser))

    assert free_person in offered_to_clerk and free_person in offered_to_superuser
    assert resident_user not in offered_to_clerk
    assert resident_user not in offered_to_superuser
