"""
Sign-in policies of the whole site: lock-out per address across user names, the forwarding
headers believed only from the proxies named in TRUSTED_PROXIES, and where a refused next= lands.
"""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import override_settings

pytestmark = pytest.mark.django_db

PASSWORD = "right password 123"


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("staff", password=PASSWORD, is_staff=True)


def fail(client, username, **extra):
    return client.post("/admin/login/", {"username": username, "password": "wrong"}, **extra)


# --- Lock-out --------------------------------------------------------------------------------


@override_settings(LOGIN_ADDRESS_FAILURE_LIMIT=6)
def test_one_address_failing_across_user_names_is_locked_out(client, staff):
    # Fewer failures per name than the per-account limit, but many names from one address.
    for number in range(6):
        fail(client, f"someone{number}")

    response = client.post("/admin/login/", {"username": "staff", "password": PASSWORD})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@override_settings(LOGIN_ADDRESS_FAILURE_LIMIT=6)
def test_another_address_is_not_locked_out_by_them(client, staff):
    for number in range(6):
        fail(client, f"someone{number}", REMOTE_ADDR="192.0.2.10")

    response = client.post(
        "/admin/login/", {"username": "staff", "password": PASSWORD}, REMOTE_ADDR="192.0.2.20"
    )

    assert response.status_code == 302


@override_settings(LOGIN_ADDRESS_FAILURE_LIMIT=6)
def test_a_success_does_not_reset_the_other_names_failures(client, staff):
    for number in range(5):
        fail(client, f"someone{number}")
    assert client.post("/admin/login/", {"username": "staff", "password": PASSWORD}).status_code
    client.logout()

    fail(client, "someone5")

    response = client.post("/admin/login/", {"username": "staff", "password": PASSWORD})
    assert response.status_code == 429


def test_a_forged_forwarded_for_does_not_escape_the_lock_out(client, staff):
    for number in range(settings.AXES_FAILURE_LIMIT):
        fail(client, "staff", HTTP_X_FORWARDED_FOR=f"198.51.100.{number}")

    response = client.post(
        "/admin/login/",
        {"username": "staff", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.99",
    )

    assert response.status_code == 429


# --- Trusted proxies -------------------------------------------------------------------------


def test_forwarding_headers_from_anyone_else_are_dropped(client):
    from config.clients import TrustedProxyMiddleware

    seen = {}

    def view(request):
        seen.update(request.META)
        return None

    from django.test import RequestFactory

    request = RequestFactory().get(
        "/", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="10.0.0.1",
        HTTP_X_FORWARDED_PROTO="https",
    )  # fmt: skip
    TrustedProxyMiddleware(view)(request)

    assert seen["REMOTE_ADDR"] == "203.0.113.5"
    assert "HTTP_X_FORWARDED_FOR" not in seen
    assert "HTTP_X_FORWARDED_PROTO" not in seen


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_a_trusted_proxy_names_the_client():
    from django.test import RequestFactory

    from config.clients import TrustedProxyMiddleware

    seen = {}

    def view(request):
        seen.update(request.META, secure=request.is_secure())

    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2",
        # a client's own claim first, then what the two proxies appended
        HTTP_X_FORWARDED_FOR="192.0.2.66, 203.0.113.7, 10.0.0.3",
        HTTP_X_FORWARDED_PROTO="https",
    )  # fmt: skip
    TrustedProxyMiddleware(view)(request)

    assert seen["REMOTE_ADDR"] == "203.0.113.7"
    assert seen["HTTP_X_FORWARDED_PROTO"] == "https"


@override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_https_is_believed_only_from_a_trusted_proxy(client):
    untrusted = client.get("/healthz", HTTP_X_FORWARDED_PROTO="https")
    with override_settings(TRUSTED_PROXIES=["127.0.0.1"]):
        trusted = client.get("/healthz", HTTP_X_FORWARDED_PROTO="https")

    assert untrusted.wsgi_request.is_secure() is False
    assert trusted.wsgi_request.is_secure() is True


@override_settings(TRUSTED_PROXIES=["127.0.0.1"], LOGIN_ADDRESS_FAILURE_LIMIT=3)
def test_behind_a_trusted_proxy_each_client_has_its_own_count(client, staff):
    for number in range(3):
        fail(client, f"someone{number}", HTTP_X_FORWARDED_FOR="203.0.113.1")

    locked = client.post(
        "/admin/login/",
        {"username": "staff", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.1",
    )
    other = client.post(
        "/admin/login/",
        {"username": "staff", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.2",
    )

    assert locked.status_code == 429
    assert other.status_code == 302


# --- next= -----------------------------------------------------------------------------------


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x"])
def test_a_refused_next_on_the_admin_sign_in_lands_on_a_page_that_exists(client, staff, next_url):
    response = client.post(
        f"/admin/login/?next={next_url}", {"username": "staff", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert "evil" not in response["Location"]
    assert client.get(response["Location"]).status_code == 200


def test_a_refused_next_on_the_review_sign_in_lands_on_an_address_that_exists(client, staff):
    from django.urls import resolve

    response = client.post(
        "/review/signin/?next=https://evil.example/", {"username": "staff", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"].startswith("/")
    resolve(response["Location"])  # raises Resolver404 for an address that does not exist
