"""The governance part of ``seed_demo``."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import PendingEntry
from governance import demo, selectors
from governance.models import BylawVersion, Membership, Resolution, Role

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    demo.seed(stdout=out)
    return out.getvalue()


def test_the_demo_consortium_is_complete_and_seeding_again_changes_nothing():
    first = seed()
    entries = PendingEntry.objects.count()
    consortium = demo.demo_consortium()

    assert "aizu-secretariat" in first and demo.DEMO_PASSWORD in first
    kinds = set(consortium.memberships.values_list("organization__kind", flat=True))
    assert {"municipality", "university", "company", "civic_group"} <= kinds
    assert consortium.memberships.filter(organization__kind="company").count() >= 5
    assert {
        role.expertise for role in consortium.roles.filter(kind=Role.Kind.ETHICS_BOARD_MEMBER)
    } == {"security", "legal", "data_ethics", "resident_representative"}
    outcomes = set(
        Resolution.objects.filter(assembly__consortium=consortium, status="closed").values_list(
            "outcome", flat=True
        )
    )
    assert outcomes == {"carried", "rejected"}
    amendment = Resolution.objects.get(assembly__consortium=consortium, kind="bylaw_amendment")
    assert amendment.outcome == "carried"
    in_force = selectors.bylaw_in_force(consortium, datetime.date(2025, 7, 1))
    assert in_force == amendment.adopted_version
    assert selectors.bylaw_in_force(consortium, datetime.date(2025, 6, 30)).number == 1
    assert BylawVersion.objects.filter(consortium=consortium).count() == 2
    assert Membership.objects.filter(
        consortium=consortium, admission_resolution__isnull=False
    ).exists()
    assert PendingEntry.objects.filter(consortium_id=consortium.pk).count() > 50

    second = seed()

    assert "nothing changed" in second
    assert PendingEntry.objects.count() == entries
    assert BylawVersion.objects.filter(consortium=consortium).count() == 2


def test_the_printed_secretariat_login_opens_the_admin(client):
    seed_demo_output = io.StringIO()
    call_command("seed_demo", stdout=seed_demo_output)
    assert "Demo data is ready." in seed_demo_output.getvalue()

    response = client.post(
        reverse("admin:login"),
        {"username": "aizu-secretariat", "password": demo.DEMO_PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302
    listing = client.get(reverse("admin:governance_resolution_changelist"))
    assert listing.status_code == 200
    assert "年会費の改定" in listing.text


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_governance_admin_page_of_the_demo_renders_for_the_clerk(client, language):
    from django.apps import apps
    from django.contrib.auth import get_user_model

    seed()
    client.force_login(get_user_model().objects.get(username="aizu-secretariat"))
    client.cookies["django_language"] = language
    for model in apps.get_app_config("governance").get_models():
        name = model._meta.model_name
        try:
            changelist = reverse(f"admin:governance_{name}_changelist")
        except Exception:  # not registered (articles, attendance and votes are inlines)
            continue
        assert client.get(changelist).status_code == 200, name
        for obj in model.objects.all():
            url = reverse(f"admin:governance_{name}_change", args=[obj.pk])
            assert client.get(url).status_code == 200, url
        assert client.get(reverse(f"admin:governance_{name}_add")).status_code in (200, 403)
    for version in BylawVersion.objects.all():
        url = reverse("admin:governance_bylawversion_compare", args=[version.pk])
        assert client.get(url).status_code == 200


@pytest.mark.second_factor
def test_the_printed_logins_hold_with_the_second_factor_on(client):
    from django.contrib.auth import get_user_model
    from django.test import Client

    printed = seed()
    for username in ("platform-admin", "aizu-secretariat", "aizu-chair", "ethics-legal"):
        assert username in printed
        user = get_user_model().objects.get(username=username)
        assert user.check_password(demo.DEMO_PASSWORD)
    # The administrator is asked for the second factor the output describes: a passkey, or
    # an authenticator app's QR code.
    assert "passkey" in printed and "localhost:8000" in printed
    client.post(
        reverse("admin:login"), {"username": "platform-admin", "password": demo.DEMO_PASSWORD}
    )
    held = client.get("/admin/")
    assert held.status_code == 302 and held["Location"].startswith("/account/second-factor/")
    setup = client.get(held["Location"])
    assert "passkey-registration-placeholder" in setup.text and "<svg" in setup.text
    # The consortium's people sign in with the password alone, as printed.
    clerk = Client()
    clerk.post(
        reverse("admin:login"), {"username": "aizu-secretariat", "password": demo.DEMO_PASSWORD}
    )
    assert clerk.get("/admin/").status_code == 200
