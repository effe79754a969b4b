"""
A relying party built on a maintained OpenID Connect client library (Authlib) signs a resident
in against the live platform: discovery, the portal's own sign-in page, the authorization page,
the code exchange with PKCE, the ID token verified against the platform's JWKS, userinfo.
"""

import re
from urllib.parse import urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet

from consent import pairwise
from consent.models import PSEUDONYMOUS_ID_LENGTH

from .conftest import make_resident
from .oidc_helpers import form_fields, query, register

CALLBACK = "https://rp.example.jp/callback"


@pytest.fixture
def server(request, django_db_setup):
    from django.conf import settings

    if settings.MEDIA_URL is None:
        settings.MEDIA_URL = "/private-media-not-served/"
    return request.getfixturevalue("live_server")


def csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


@pytest.mark.django_db(transaction=True)
def test_a_relying_party_signs_a_resident_in(server, service_a, grant, consortium_a):
    resident = make_resident("signin@example.jp", consortium_a)
    rp = register(service_a.service, redirect_uri=CALLBACK)
    base = server.url
    metadata = requests.get(f"{base}/.well-known/openid-configuration", timeout=10).json()
    # The metadata names the configured public URL; this server listens elsewhere.
    endpoint = {
        name: base + urlsplit(metadata[name]).path
        for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
    }
    session = OAuth2Session(
        rp.client_id,
        rp.secret,
        scope="openid",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    )
    verifier = "v" * 20 + rp.verifier
    url, state = session.create_authorization_url(
        endpoint["authorization_endpoint"], code_verifier=verifier, nonce="live-nonce"
    )
    assert f"code_challenge={create_s256_code_challenge(verifier)}" in url

    # The resident's browser: sent to the portal's sign-in page, then back to the request.
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    assert "/portal/signin/" in page.url
    signed_in = browser.post(
        page.url,
        data={
            "csrfmiddlewaretoken": csrf(page.text),
            "email": "signin@example.jp",
            "password": "correct horse battery staple",
            "next": query(page.url)["next"],
        },
        headers={"Referer": page.url},
        timeout=10,
    )
    assert signed_in.url.startswith(endpoint["authorization_endpoint"])
    assert "Aizu mobility planner" in signed_in.text
    fields = {**form_fields(signed_in.text), "allow": "true"}
    answer = browser.post(
        signed_in.url,
        data=fields,
        headers={"Referer": signed_in.url},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302
    callback = answer.headers["Location"]
    assert callback.startswith(CALLBACK) and query(callback)["state"] == state

    token = session.fetch_token(
        endpoint["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    keys = KeySet.import_key_set(requests.get(endpoint["jwks_uri"], timeout=10).json())
    id_token = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": metadata["issuer"]},
        aud={"essential": True, "value": rp.client_id},
        nonce={"essential": True, "value": "live-nonce"},
        exp={"essential": True},
    ).validate(id_token.claims)
    assert id_token.header["alg"] == "RS256"
    claims = id_token.claims
    subject = pairwise.subject_for("mobility.example.jp", resident.pseudonymous_id)
    assert claims["sub"] == subject
    assert len(subject) > PSEUDONYMOUS_ID_LENGTH
    info = session.get(endpoint["userinfo_endpoint"], timeout=10).json()
    assert info == {"sub": subject}

    # Rotated refresh token: the new one works, the old one no more.
    old = token["refresh_token"]
    renewed = session.refresh_token(endpoint["token_endpoint"], refresh_token=old)
    assert renewed["refresh_token"] != old
    reuse = requests.post(
        endpoint["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": old},
        auth=(rp.client_id, rp.secret),
        timeout=10,
    )
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
