"""The example client in examples/ works against a live server, as a service would run it."""

import importlib.util
from pathlib import Path

import jwt
import pytest

from consent import services as consent_services
from grants import services
from grants.models import Grant

from .conftest import make_resident

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "service_client.py"


@pytest.fixture
def example():
    spec = importlib.util.spec_from_file_location("service_client", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def server(request, django_db_setup):
    from django.conf import settings

    if settings.MEDIA_URL is None:
        settings.MEDIA_URL = "/private-media-not-served/"
    return request.getfixturevalue("live_server")


@pytest.mark.django_db(transaction=True)
def test_example_client_end_to_end(example, server, service_a, grant, purpose, consortium_a):
    agreeing = make_resident("yes@example.jp", consortium_a)
    consent_services.consent_give(actor=None, resident=agreeing, purpose=purpose)
    declining = make_resident("no@example.jp", consortium_a)
    client = example.GrantsClient(server.url, service_a.credential.client_id, service_a.secret)
    claims = client.verify_offline(grant.token)
    assert claims["jti"] == grant.jti
    with pytest.raises(jwt.PyJWTError):
        client.verify_offline(grant.token[:-4] + "AAAA")
    with pytest.raises(jwt.PyJWTError):
        client.verify_offline(grant.token + "==")
    assert client.introspect(grant.token)["active"] is True
    allowed = client.allowed_residents(
        grant.jti, [agreeing.pseudonymous_id, declining.pseudonymous_id]
    )
    assert allowed == {agreeing.pseudonymous_id}
    assert list(client.revocations()) == []
    services.grant_revoke(actor=None, grant=grant, reason=Grant.Reason.SECRETARIAT)
    assert [r[1:] for r in client.revocations()] == [(grant.jti, "revoked", "secretariat_decision")]
    assert client.introspect(grant.token) == {"active": False}
    wrong = example.GrantsClient(server.url, service_a.credential.client_id, "wrong")
    with pytest.raises(RuntimeError, match="401 unauthenticated"):
        wrong.introspect(grant.token)
