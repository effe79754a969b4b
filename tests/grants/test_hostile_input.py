"""
Input no endpoint takes: a clear 400 (JSON under /api/), never a 500.

PostgreSQL refuses a NUL character in text, so a NUL that reached a query answered 500; SQLite
stored it. Both now get the same 400 before any view runs.
"""

import base64
import json

import pytest
from django.core.cache import cache
from django.test import Client

from .conftest import basic

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


# --- The API ---------------------------------------------------------------------------------


def test_nul_in_a_basic_auth_user_name_is_400_json(client):
    response = client.post(
        "/api/v1/introspect",
        "token=x",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic("client\x00id", "secret"),
    )

    assert_api_400(response)


def test_a_percent_encoded_nul_in_a_basic_auth_user_name_is_400_json(client):
    # RFC 6749 §2.3.1: the client id is form-urlencoded before the Basic encoding.
    header = "Basic " + base64.b64encode(b"client%00id:secret").decode()

    response = client.get("/api/v1/revocations", HTTP_AUTHORIZATION=header)

    assert_api_400(response)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/grants/%00/check",
        "/api/v1/tickets/%00",
        "/api/v1/no%00such",
    ],
)
def test_nul_in_an_api_path_is_400_json(client, service_a, path):
    response = client.post(
        path, "{}", content_type="application/json", HTTP_AUTHORIZATION=service_a.auth
    )

    assert_api_400(response)


def test_nul_in_a_query_parameter_is_400_json(client, service_a):
    response = client.get("/api/v1/revocations?since=%00", HTTP_AUTHORIZATION=service_a.auth)

    assert_api_400(response)


@pytest.mark.parametrize("multipart", [False, True])
def test_nul_in_a_form_field_is_400_json(client, service_a, multipart):
    if multipart:
        response = client.post(
            "/api/v1/introspect", {"token": "a\x00b"}, HTTP_AUTHORIZATION=service_a.auth
        )
    else:
        response = client.post(
            "/api/v1/introspect",
            "token=a%00b",
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=service_a.auth,
        )

    assert_api_400(response)


def test_nul_in_a_json_string_is_400_json(client, service_a, grant):
    response = client.post(
        f"/api/v1/grants/{grant.jti}/check",
        json.dumps({"residents": ["a\x00b"]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=service_a.auth,
    )

    assert_api_400(response)


def test_nul_in_a_json_key_is_400_json(client, service_a):
    response = client.post(
        "/api/v1/tickets",
        json.dumps({"title\x00": "x"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=service_a.auth,
    )

    assert_api_400(response)


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(client, service_a, grant):
    # The JSON text "a\\u0000" is the six characters a, \, u, 0, 0, 0, 0: no NUL in it.
    response = client.post(
        f"/api/v1/grants/{grant.jti}/check",
        json.dumps({"residents": ["a\\u0000"]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=service_a.auth,
    )

    assert response.status_code == 200
    assert response.json()["results"] == {"a\\u0000": False}


def test_a_bad_host_under_api_is_400_json(client):
    response = client.get("/api/v1/revocations", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response.json()["error"] == "bad_host"


def test_a_post_to_an_unknown_api_address_is_the_documented_404(client):
    response = Client(enforce_csrf_checks=True, raise_request_exception=False).post(
        "/api/v1/no-such-thing", "{}", content_type="application/json"
    )

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "Not found."}


def test_a_bad_host_outside_the_api_is_still_a_page(client):
    response = client.get("/portal/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_a_failure_under_api_answers_json_500(client, service_a, monkeypatch):
    from grants import selectors

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(selectors, "revocations_since", fail)

    response = client.get("/api/v1/revocations", HTTP_AUTHORIZATION=service_a.auth)

    assert response.status_code == 500
    assert response.json()["error"] == "server_error"
