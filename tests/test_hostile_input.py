"""
Input no page or endpoint takes: a clear 400 (JSON under /api/), never a 500.

PostgreSQL refuses a NUL character in text, so a NUL that reached a query answered 500; SQLite
stored it. Both now get the same 400 before any view runs.
"""

import pytest
from django.core.cache import cache
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client():
    # What a visitor gets, not the exception: a 500 must show as a 500.
    return Client(raise_request_exception=False)


def assert_api_400(response):
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "malformed_request"


def assert_page_400(response):
    assert response.status_code == 400, response.content[:300]
    assert "NUL" in response.content.decode()


# --- Pages -----------------------------------------------------------------------------------


def test_nul_in_a_page_form_field_is_400(client):
    response = client.post(
        "/portal/signin/", {"username": "a\x00b", "password": "x"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert_page_400(response)


def test_nul_in_a_multipart_page_form_field_is_400_but_a_file_may_hold_one(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("x.png", b"\x89PNG\x00\x00")

    with_nul = client.post("/portal/signin/", {"username": "a\x00b", "file": upload})
    upload.seek(0)
    file_only = client.post("/portal/signin/", {"username": "ab", "file": upload})

    assert_page_400(with_nul)
    assert file_only.status_code == 200


def test_nul_in_a_page_query_parameter_is_400(client):
    assert_page_400(client.get("/portal/signin/?next=%00"))


def test_nul_in_a_page_path_is_400(client):
    assert_page_400(client.get("/portal/receipts/%00/"))


def test_nul_in_a_cookie_is_400(client):
    # An octal escape in a quoted value, as RFC 2109 allows; Django's cookie parser decodes it.
    response = client.get("/portal/", HTTP_COOKIE='sessionid="abcdefgh\\000ijklmnop"')

    assert_page_400(response)


def test_nul_in_the_admin_change_page_address_is_400(client, superuser):
    client.force_login(superuser)

    assert_page_400(client.get("/admin/governance/organization/1%00/change/"))


def test_nul_in_an_admin_search_is_400(client, superuser):
    client.force_login(superuser)

    assert_page_400(client.get("/admin/governance/organization/?q=%00"))


def test_nul_in_an_admin_autocomplete_term_is_400(client, superuser):
    client.force_login(superuser)

    response = client.get(
        "/admin/autocomplete/?app_label=governance&model_name=membership"
        "&field_name=organization&term=%00"
    )

    assert_page_400(response)


def test_the_400_page_speaks_japanese_first(client):
    response = client.get("/portal/signin/?next=%00")

    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert '<html lang="ja">' in response.content.decode()
