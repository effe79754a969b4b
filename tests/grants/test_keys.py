"""Key rotation and compromise, and verifying a grant as a service would: PyJWT and the JWKS."""

import datetime
import json
import urllib.request

import jwt
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit import selectors as audit_selectors
from audit import services as audit_services
from audit.models import SigningKey
from grants import services
from grants.models import Grant

from .test_api import introspect

pytestmark = pytest.mark.django_db


def issue(caller, ticket, days=30, algorithm="EdDSA"):
    return services.grant_issue(
        actor=None,
        service=caller.service,
        ticket=ticket,
        expires_at=timezone.now() + datetime.timedelta(days=days),
        algorithm=algorithm,
    )


def kids_published() -> set[str]:
    return {key["kid"] for key in audit_selectors.jwks()["keys"]}


def test_rotation_signs_with_the_new_key_and_keeps_the_old_until_its_last_grant(
    client, service_a, ticket, capsys
):
    old = issue(service_a, ticket, days=30)
    call_command("rotate_signing_key")
    out = capsys.readouterr().out
    new = issue(service_a, ticket, days=60)
    assert new.kid != old.kid
    assert {old.kid, new.kid} <= kids_published()
    retired = SigningKey.objects.get(kid=old.kid)
    assert retired.status == SigningKey.Status.RETIRED
    assert retired.publish_until == old.expires_at
    assert f"stays in the JWKS until {old.expires_at.isoformat()}" in out
    # Both grants verify; after the old grant's expiry its key leaves the JWKS.
    assert introspect(client, service_a, old.token).json()["active"] is True
    assert introspect(client, service_a, new.token).json()["active"] is True
    audit_services.signing_key_set_publish_until(
        actor=None, key=retired, until=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert old.kid not in kids_published()


def test_es256_key_is_selectable_and_published_with_its_alg(client, service_a, ticket):
    call_command("rotate_signing_key", "--algorithm", "ES256")
    grant = issue(service_a, ticket, algorithm="ES256")
    assert jwt.get_unverified_header(grant.token)["alg"] == "ES256"
    jwk = next(k for k in audit_selectors.jwks()["keys"] if k["kid"] == grant.kid)
    assert jwk["alg"] == "ES256"
    assert introspect(client, service_a, grant.token).json()["active"] is True


def test_token_claiming_another_alg_than_its_key_is_inactive(client, service_a, ticket):
    # An ES256 signature presented under the EdDSA key's kid: the key's algorithm decides.
    grant = issue(service_a, ticket)
    es_key = services.signing_key_rotate(actor=None, algorithm="ES256")[0]
    claims = jwt.decode(grant.token, options={"verify_signature": False})
    forged = jwt.encode(claims, es_key.private_key(), algorithm="ES256", headers={"kid": grant.kid})
    assert introspect(client, service_a, forged).json() == {"active": False}


def test_compromised_key_revokes_every_grant_it_signed(client, service_a, ticket, capsys):
    first = issue(service_a, ticket)
    second = issue(service_a, ticket)
    # "--compromised=KID" in one argument: a kid may begin with "-".
    call_command("rotate_signing_key", f"--compromised={first.kid}")
    out = capsys.readouterr().out
    assert "2 grant(s) it signed revoked" in out
    for grant in (first, second):
        grant.refresh_from_db()
        assert grant.status == Grant.Status.REVOKED
        assert grant.status_reason == Grant.Reason.KEY_COMPROMISED
        assert introspect(client, service_a, grant.token).json() == {"active": False}
    assert first.kid not in kids_published()
    fresh = issue(service_a, ticket)
    assert fresh.kid != first.kid
    assert introspect(client, service_a, fresh.token).json()["active"] is True
    feed = client.get("/api/v1/revocations", HTTP_AUTHORIZATION=service_a.auth).json()
    assert {item["reason"] for item in feed["items"]} == {"key_compromised"}


def test_compromised_unknown_kid_fails_with_one_line(db):
    with pytest.raises(CommandError, match="No signing key has the id 'nope'"):
        call_command("rotate_signing_key", "--compromised", "nope")


@pytest.fixture
def jwks_server(request, django_db_setup):
    # Django's live server wraps a media-files handler that needs a string MEDIA_URL prefix
    # (it is None here: uploads are served only through views that check permission).
    if settings.MEDIA_URL is None:
        settings.MEDIA_URL = "/private-media-not-served/"
    return request.getfixturevalue("live_server")


@pytest.mark.django_db(transaction=True)
def test_a_service_verifies_a_grant_with_pyjwt_and_the_fetched_jwks(
    jwks_server, service_a, ticket, purpose, city_a
):
    grant = issue(service_a, ticket)
    with urllib.request.urlopen(f"{jwks_server.url}/.well-known/jwks.json") as response:
        jwks = json.load(response)
    header = jwt.get_unverified_header(grant.token)
    assert header["typ"] == "grant+jwt"
    jwk = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    key = jwt.PyJWK.from_dict(jwk)
    claims = jwt.decode(
        grant.token,
        key=key,
        algorithms=[jwk["alg"]],  # the key's algorithm, never the token's
        audience=f"organization:{city_a.pk}",
        issuer="http://127.0.0.1:8000/consortia/aizu",
    )
    assert claims["jti"] == grant.jti
    assert claims["purpose"] == purpose.pk
    assert claims["data_categories"] == ["checkup", "steps"]
    # A tampered copy fails the same check.
    head, payload, signature = grant.token.split(".")
    tampered = f"{head}.{payload[:-2]}AA.{signature}"
    with pytest.raises(jwt.PyJWTError):
        jwt.decode(tampered, key=key, algorithms=[jwk["alg"]], audience=claims["aud"])
