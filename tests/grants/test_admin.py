"""The secretariat's grants admin, from the outside: scoped per consortium, through services."""

import pytest

from audit.models import PendingEntry
from grants.models import Grant, Service, ServiceCredential, hash_secret

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client, settings):
    """The admin in English (the platform's default language is Japanese)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_clerk_registers_a_service_and_issues_a_secret_shown_once(
    client, clerk_a, consortium_a, requester_a
):
    client.force_login(clerk_a)
    response = client.post(
        "/admin/grants/service/add/",
        {
            "consortium": consortium_a.pk,
            "organization": requester_a.pk,
            "name": "配車サービス",
            "webhook_url": "",
            "is_active": "on",
            "credentials-TOTAL_FORMS": "0",
            "credentials-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    service = Service.objects.get()
    assert PendingEntry.objects.filter(action="service.registered").count() == 1
    response = client.post(
        "/admin/grants/service/",
        {"action": "issue_secret", "_selected_action": [service.pk]},
        follow=True,
    )
    credential = ServiceCredential.objects.get()
    page = response.content.decode()
    assert credential.client_id in page
    assert credential.secret_sha256 not in page
    secret = page.split("secret ")[1].split(".")[0].split()[0].rstrip(",")
    assert credential.secret_sha256 == hash_secret(secret)
    # Afterwards the service's page lists the client id, never the secret.
    change = client.get(f"/admin/grants/service/{service.pk}/change/").content.decode()
    assert credential.client_id in change
    assert secret not in change


def test_clerk_issues_a_grant_for_an_approved_ticket(client, clerk_a, service_a, ticket):
    client.force_login(clerk_a)
    form = client.get("/admin/grants/grant/issue/")
    assert form.status_code == 200
    response = client.post(
        "/admin/grants/grant/issue/",
        {"service": service_a.service.pk, "ticket": ticket.pk, "expires_at": ""},
    )
    grant = Grant.objects.get()
    assert response.status_code == 302
    assert grant.ticket_id == ticket.pk
    assert PendingEntry.objects.filter(action="grant.issued", actor_id=str(clerk_a.pk)).exists()


def test_issue_refused_for_another_organisations_ticket_shows_the_error(
    client, clerk_a, service_b, ticket
):
    client.force_login(clerk_a)
    response = client.post(
        "/admin/grants/grant/issue/",
        {"service": service_b.service.pk, "ticket": ticket.pk, "expires_at": ""},
    )
    assert response.status_code == 200
    assert "approved" in response.content.decode()
    assert not Grant.objects.exists()


def test_clerk_suspends_and_revokes_through_actions(client, clerk_a, grant):
    client.force_login(clerk_a)
    client.post("/admin/grants/grant/", {"action": "suspend", "_selected_action": [grant.pk]})
    grant.refresh_from_db()
    assert (grant.status, grant.status_reason) == ("suspended", "secretariat_decision")
    client.post("/admin/grants/grant/", {"action": "revoke", "_selected_action": [grant.pk]})
    grant.refresh_from_db()
    assert grant.status == "revoked"


def test_another_consortiums_clerk_sees_nothing(client, clerk_b, grant, service_a):
    client.force_login(clerk_b)
    assert client.get(f"/admin/grants/grant/{grant.pk}/change/").status_code in (302, 403, 404)
    listing = client.get("/admin/grants/grant/")
    assert grant.jti not in listing.content.decode()
    page = client.get(f"/admin/grants/service/{service_a.service.pk}/change/")
    assert page.status_code in (302, 403, 404)
    client.post("/admin/grants/grant/", {"action": "revoke", "_selected_action": [grant.pk]})
    grant.refresh_from_db()
    assert grant.status == "active"
    form = client.get("/admin/grants/grant/issue/").content.decode()
    assert "Aizu mobility planner" not in form
