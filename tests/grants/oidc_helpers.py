"""Helpers of the OpenID Provider tests: a registered client and the steps of a sign-in."""

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

from grants import services

REDIRECT_URI = "https://rp.example.jp/callback"


@dataclass
class RelyingParty:
    client: object  # grants.models.OpenIDClient
    secret: str
    redirect_uri: str = REDIRECT_URI
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @property
    def client_id(self) -> str:
        return self.client.application.client_id

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    @property
    def basic(self) -> str:
        raw = f"{self.client_id}:{self.secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def authorize_url(self, *, scope="openid", state="st-1", nonce="nonce-1", **overrides):
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        return "/oidc/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def register(service, *, sector="mobility.example.jp", redirect_uri=REDIRECT_URI) -> RelyingParty:
    client, secret = services.openid_client_register(
        actor=None, service=service, redirect_uris=[redirect_uri], sector_identifier=sector
    )
    return RelyingParty(client=client, secret=secret, redirect_uri=redirect_uri)


def form_fields(html: str) -> dict:
    """Return the hidden inputs of the authorization form (name -> value)."""
    import re

    fields = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and 'type="hidden"' in tag:
            fields[name.group(1)] = _unescape(value.group(1) if value else "")
    return fields


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def sign_in(client, rp: RelyingParty, **authorize) -> dict:
    """Take a signed-in resident's browser (the test client) through the authorization page."""
    page = client.get(rp.authorize_url(**authorize))
    if page.status_code == 302:  # signed in to this service before: no page to answer
        return query(page["Location"])
    assert page.status_code == 200, page.content
    data = form_fields(page.content.decode())
    data["allow"] = "true"
    answer = client.post("/oidc/authorize", data)
    assert answer.status_code == 302, answer.content
    return query(answer["Location"])


def exchange(client, rp: RelyingParty, code: str, **overrides):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": rp.redirect_uri,
        "code_verifier": rp.verifier,
    }
    data.update(overrides)
    return client.post(
        "/oidc/token", {k: v for k, v in data.items() if v is not None}, HTTP_AUTHORIZATION=rp.basic
    )
