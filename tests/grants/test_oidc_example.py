"""
The example relying party (examples/oidc_relying_party.py, on Authlib) against a live platform:
a resident signs in at the service with the city account and agrees to one purpose on the
authorization page, the service checks consent with its pairwise id, the resident withdraws in
the portal, the service receives the event, deletes and confirms, and the resident sees it.
"""

import importlib.util
import re
from pathlib import Path

import pytest
import requests

from consent.models import RecipientNotice

from .conftest import make_resident
from .oidc_helpers import form_fields, query

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "oidc_relying_party.py"
CALLBACK = "https://rp.example.jp/callback"


@pytest.fixture
def example():
    spec = importlib.util.spec_from_file_location("oidc_relying_party", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def server(request, django_db_setup):
    from django.conf import settings

    if settings.MEDIA_URL is None:
        settings.MEDIA_URL = "/private-media-not-served/"
    return request.getfixturevalue("live_server")


def csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


@pytest.mark.django_db(transaction=True)
def test_sign_in_check_withdraw_and_confirmed_deletion(
    example, server, service_a, grant, purpose, consortium_a
):
    from grants import services

    make_resident("rp@example.jp", consortium_a)
    client, secret = services.openid_client_register(
        actor=None,
        service=service_a.service,
        redirect_uris=[CALLBACK],
        sector_identifier="mobility.example.jp",
    )
    rp = example.RelyingParty(
        server.url,
        client.application.client_id,
        secret,
        CALLBACK,
        service_a.credential.client_id,
        service_a.secret,
    )
    url, kept = rp.login_url(f"openid purpose:{purpose.code}")

    browser = requests.Session()
    page = browser.get(url, timeout=10)
    page = browser.post(
        page.url,
        data={
            "csrfmiddlewaretoken": csrf(page.text),
            "email": "rp@example.jp",
            "password": "correct horse battery staple",
            "next": query(page.url)["next"],
        },
        headers={"Referer": page.url},
        timeout=10,
    )
    fields = {**form_fields(page.text), "allow": "true", f"purpose-{purpose.pk}": "agree"}
    answer = browser.post(
        page.url, data=fields, headers={"Referer": page.url}, allow_redirects=False, timeout=10
    )
    claims = rp.finish(answer.headers["Location"], kept)
    subject = claims["sub"]
    assert claims["purposes"] == [purpose.code]
    assert rp.allowed(grant.jti, [subject]) == {subject}

    # The resident withdraws in the portal.
    portal = browser.get(f"{server.url}/portal/purposes/{purpose.pk}/", timeout=10)
    browser.post(
        f"{server.url}/portal/purposes/{purpose.pk}/decline/",
        data={"csrfmiddlewaretoken": csrf(portal.text)},
        headers={"Referer": portal.url},
        timeout=10,
    )
    assert rp.allowed(grant.jti, [subject]) == set()
    assert rp.handle_withdrawals() == [subject]
    assert subject not in rp.held
    notice = RecipientNotice.objects.get()
    assert notice.outcome == "deleted" and notice.acknowledged_at is not None

    accesses = browser.get(f"{server.url}/portal/accesses/", timeout=10).text
    assert "Aizu mobility planner" in accesses
    assert notice.confirmed_at is not None
