"""A database or broker that is down answers the documented 503 with Retry-After, never a 500."""

import pytest
from django.db import OperationalError
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def test_an_api_call_that_meets_the_database_down_gets_503_json(client, service_a, monkeypatch):
    from grants import selectors

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(selectors, "revocations_since", down)

    response = client.get("/api/v1/revocations", HTTP_AUTHORIZATION=service_a.auth)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "error": "service_unavailable",
        "detail": "The service is briefly unavailable; try again in a few seconds.",
    }


def test_an_api_call_that_meets_the_broker_down_gets_503_json(client, service_a, monkeypatch):
    from grants import selectors

    def down(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(selectors, "revocations_since", down)

    response = client.get("/api/v1/revocations", HTTP_AUTHORIZATION=service_a.auth)

    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"


def test_a_page_that_meets_the_database_down_gets_the_503_page(client, monkeypatch):
    from config import views

    def down(request):
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(views, "render", lambda *args, **kwargs: down(None))

    response = client.get("/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("text/html")
    assert "しばらくしてから" in response.content.decode()


def test_any_other_failure_is_still_the_500(client, service_a, monkeypatch):
    from grants import selectors

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "revocations_since", broken)

    response = client.get("/api/v1/revocations", HTTP_AUTHORIZATION=service_a.auth)

    assert response.status_code == 500
    assert response.json()["error"] == "server_error"
