"""
Benchmark: a resident's whole sign-in to a member service through the platform's OpenID
Provider (the portal's sign-in, the authorization page, the choice on one purpose recorded as
consent, the code exchange with PKCE and the hashed client secret, userinfo), server time per
resident through Django's test client on PostgreSQL, beside the portal's own sign-in alone in
the same run.

    export BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/oidc_bench
    .venv/bin/python bench/oidc_signin.py [--residents 20]

Uses the demo consortium (seed_demo) and its mobility service's grant. The password and the
client secret are hashed with Django's default hasher (PBKDF2), as in production: both
checks dominate, and the difference between the two figures is what the provider adds.
"""

import argparse
import base64
import hashlib
import io
import os
import re
import secrets
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

from _setup import machine, setup  # noqa: E402

setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from consent import services as consent_services  # noqa: E402
from grants import selectors as grant_selectors  # noqa: E402
from grants import services  # noqa: E402
from grants.models import Grant, OpenIDClient  # noqa: E402

PASSWORD = "bench-password-2026"
CALLBACK = "https://bench.example.jp/callback"


def client_for_demo_service():
    grant = Grant.objects.filter(status="active").select_related("service").first()
    service = grant.service
    existing = OpenIDClient.objects.filter(service=service).first()
    if existing is not None:
        secret = services.openid_client_secret_rotate(actor=None, client=existing)
        services.openid_client_update(
            actor=None, client=existing, redirect_uris=[CALLBACK], is_active=True
        )
        return existing, secret, grant
    client, secret = services.openid_client_register(
        actor=None, service=service, redirect_uris=[CALLBACK], sector_identifier="bench.example.jp"
    )
    return client, secret, grant


def residents(consortium, count: int) -> list[str]:
    emails = []
    for i in range(count):
        email = f"bench-signin-{i}@example.jp"
        user = get_user_model().objects.filter(username=email).first()
        if user is None:
            user = get_user_model().objects.create_user(
                username=email, email=email, password=PASSWORD
            )
            consent_services.resident_register(
                actor=None, consortia=[consortium], user=user, contact_email=email
            )
        emails.append(email)
    return emails


def portal_sign_in(browser: Client, email: str, next_url: str = "") -> None:
    response = browser.post(
        "/portal/signin/", {"email": email, "password": PASSWORD, "next": next_url}
    )
    assert response.status_code == 302, response.status_code


def oidc_sign_in(browser: Client, email: str, client, secret: str, purpose) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client.application.client_id,
            "redirect_uri": CALLBACK,
            "scope": f"openid purpose:{purpose.code}",
            "state": "s",
            "nonce": "n",
            "code_challenge": challenge.decode(),
            "code_challenge_method": "S256",
        }
    )
    authorize = "/oidc/authorize?" + query
    assert browser.get(authorize).status_code == 302  # to the portal's sign-in
    portal_sign_in(browser, email, authorize)
    answer = browser.get(authorize)
    if answer.status_code == 200:  # the first sign-in (else a live token skips the page)
        fields = dict(
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', answer.text)
        )
        fields.update({"allow": "true", f"purpose-{purpose.pk}": "agree"})
        answer = browser.post("/oidc/authorize", fields)
    code = parse_qs(urlsplit(answer["Location"]).query)["code"][0]
    basic = base64.b64encode(f"{client.application.client_id}:{secret}".encode()).decode()
    tokens = browser.post(
        "/oidc/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        HTTP_AUTHORIZATION=f"Basic {basic}",
    ).json()
    info = browser.get("/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert info.status_code == 200 and info.json()["purposes"] == [purpose.code]


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1000


def summary(name: str, values: list[float]) -> str:
    values = sorted(values)
    p95 = values[max(0, round(len(values) * 0.95) - 1)]
    return f"{name:<44} median {statistics.median(values):7.1f} ms   p95 {p95:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=20)
    args = parser.parse_args()
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    client, secret, grant = client_for_demo_service()
    purpose = grant.purpose
    assert grant_selectors.service_has_approved_use(grant.service_id)
    emails = residents(grant.consortium, args.residents)
    portal, provider = [], []
    for email in emails:
        portal.append(timed(lambda email=email: portal_sign_in(Client(), email)))
        provider.append(
            timed(lambda email=email: oidc_sign_in(Client(), email, client, secret, purpose))
        )
    print(machine())
    print(f"{args.residents} residents, each signed in both ways, one after the other")
    print(summary("baseline: portal sign-in alone", portal))
    print(summary("sign-in to a service through the provider", provider))


if __name__ == "__main__":
    main()
