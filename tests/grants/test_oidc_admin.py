"""The secretariat registers a member service's OpenID client in the admin, through services."""

import pytest

from audit.models import PendingEntry
from grants.models import OpenIDClient

from .oidc_helpers import register

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_clerk_registers_a_client_and_sees_its_secret_once(client, clerk_a, service_a, grant):
    client.force_login(clerk_a)
    assert client.get("/admin/grants/openidclient/register/").status_code == 200
    response = client.post(
        "/admin/grants/openidclient/register/",
        {
            "service": service_a.service.pk,
            "redirect_uris": "https://rp.example.jp/callback\nhttps://rp.example.jp/cb2",
            "sector_identifier": "Mobility.Example.jp",
        },
        follow=True,
    )
    assert response.status_code == 200
    openid_client = OpenIDClient.objects.get()
    assert openid_client.sector_identifier == "mobility.example.jp"
    page = response.content.decode()
    application = openid_client.application
    assert application.client_id in page
    secret = page.split("secret ")[1].split(".")[0].split()[0].rstrip(",")
    assert application.client_secret != secret  # stored hashed
    entry = PendingEntry.objects.get(action="oidc.client_registered")
    assert entry.actor_id == str(clerk_a.pk)
    again = client.get(f"/admin/grants/openidclient/{openid_client.pk}/change/").content.decode()
    assert secret not in again
    assert "https://rp.example.jp/cb2" in again


def test_service_without_an_approved_use_is_refused_with_the_reason(client, clerk_a, service_a):
    client.force_login(clerk_a)
    response = client.post(
        "/admin/grants/openidclient/register/",
        {
            "service": service_a.service.pk,
            "redirect_uris": "https://rp.example.jp/callback",
            "sector_identifier": "mobility.example.jp",
        },
    )
    assert response.status_code == 200
    assert "approved use" in response.content.decode()
    assert not OpenIDClient.objects.exists()


def test_clerk_changes_redirect_uris_and_deactivates(client, clerk_a, service_a, grant):
    rp = register(service_a.service)
    client.force_login(clerk_a)
    response = client.post(
        f"/admin/grants/openidclient/{rp.client.pk}/change/",
        {"redirect_uris": "https://rp.example.jp/new", "is_active": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rp.client.refresh_from_db()
    rp.client.application.refresh_from_db()
    assert rp.client.application.redirect_uris == "https://rp.example.jp/new"
    assert rp.client.is_active is False
    assert PendingEntry.objects.filter(action="oidc.client_updated").exists()


def test_another_consortiums_clerk_sees_nothing(client, clerk_b, service_a, grant):
    rp = register(service_a.service)
    client.force_login(clerk_b)
    assert client.get(f"/admin/grants/openidclient/{rp.client.pk}/change/").status_code == 404
    listing = client.get("/admin/grants/openidclient/")
    assert rp.client_id not in listing.content.decode()


def test_toolkit_admin_pages_are_not_offered(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/admin/oauth2_provider/application/").status_code == 404
