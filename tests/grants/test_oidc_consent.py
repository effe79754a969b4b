"""
Consent at sign-in: the authorization page shows the purposes the service may use under its
approved uses with the portal's notice summary and one choice each, nothing pre-ticked; the
choices are consent records (method ``oidc``, with receipts); saying no still signs in; the ID
token names only the purposes asked for that the resident agrees to.
"""

import re

import jwt
import pytest

from consent.models import ConsentRecord

from .conftest import make_resident
from .oidc_helpers import exchange, form_fields, query, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def rp(service_a, grant):
    return register(service_a.service)


@pytest.fixture
def citizen(consortium_a, client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    resident = make_resident("choose@example.jp", consortium_a)
    client.force_login(resident.user)
    return resident


def page_for(client, rp, scope):
    page = client.get(rp.authorize_url(scope=scope))
    assert page.status_code == 200, page.content
    return page.content.decode()


def decide(client, rp, html, choices: dict, allow=True):
    data = {**form_fields(html), **choices}
    if allow:
        data["allow"] = "true"
    return client.post("/oidc/authorize", data)


def id_token_claims(client, rp, code):
    body = exchange(client, rp, code).json()
    return jwt.decode(body["id_token"], options={"verify_signature": False})


def test_the_page_shows_the_services_purposes_with_nothing_pre_ticked(client, rp, citizen, purpose):
    html = page_for(client, rp, f"openid purpose:{purpose.code}")
    assert purpose.current_notice.terms["title"]["en"] in html or purpose.title_en in html
    radios = re.findall(r'<input type="radio"[^>]*>', html)
    assert len(radios) == 2
    assert not any("checked" in radio for radio in radios)
    assert "Saying no costs you nothing" in html


def test_agreeing_records_consent_with_a_receipt_and_the_id_token_says_so(
    client, rp, citizen, purpose
):
    html = page_for(client, rp, f"openid purpose:{purpose.code}")
    answer = decide(client, rp, html, {f"purpose-{purpose.pk}": "agree"})
    assert answer.status_code == 302
    record = ConsentRecord.objects.get(resident=citizen, purpose=purpose)
    assert record.method == "oidc" and record.decision == "given"
    assert record.receipt_id
    claims = id_token_claims(client, rp, query(answer["Location"])["code"])
    assert claims["purposes"] == [purpose.code]
    history = client.get("/portal/history/").content.decode()
    assert "while signing in to a city service" in history


def test_saying_no_still_signs_in_and_the_id_token_names_no_purpose(client, rp, citizen, purpose):
    html = page_for(client, rp, f"openid purpose:{purpose.code}")
    answer = decide(client, rp, html, {f"purpose-{purpose.pk}": "decline"})
    assert answer.status_code == 302
    location = query(answer["Location"])
    assert "code" in location
    record = ConsentRecord.objects.get(resident=citizen, purpose=purpose)
    assert record.decision == "withdrawn" and record.method == "oidc"
    assert id_token_claims(client, rp, location["code"])["purposes"] == []


def test_leaving_a_choice_empty_decides_nothing(client, rp, citizen, purpose):
    html = page_for(client, rp, "openid")
    answer = decide(client, rp, html, {})
    assert answer.status_code == 302
    assert not ConsentRecord.objects.exists()
    claims = id_token_claims(client, rp, query(answer["Location"])["code"])
    assert "purposes" not in claims


def test_cancelling_records_nothing_and_signs_in_no_one(client, rp, citizen, purpose):
    html = page_for(client, rp, "openid")
    answer = decide(client, rp, html, {f"purpose-{purpose.pk}": "agree"}, allow=False)
    assert answer.status_code == 302
    assert query(answer["Location"])["error"] == "access_denied"
    assert not ConsentRecord.objects.exists()


def test_a_purpose_the_service_may_not_use_cannot_be_asked_for(client, rp, citizen):
    answer = client.get(rp.authorize_url(scope="openid purpose:someone-elses"))
    assert answer.status_code == 302
    assert query(answer["Location"])["error"] == "invalid_scope"


def test_a_decided_purpose_shows_as_decided_and_can_be_changed(client, rp, citizen, purpose):
    from consent import services as consent_services

    consent_services.consent_give(actor=None, resident=citizen, purpose=purpose)
    html = page_for(client, rp, "openid")
    assert "You agree" in html
    assert "Withdraw consent" in html
    answer = decide(client, rp, html, {f"purpose-{purpose.pk}": "decline"})
    assert answer.status_code == 302
    latest = ConsentRecord.objects.filter(resident=citizen).order_by("-id").first()
    assert latest.decision == "withdrawn" and latest.method == "oidc"


def test_a_forged_choice_for_another_purpose_is_ignored(
    client, rp, citizen, purpose, consortium_a, city_a, steps
):
    from tests.consent.conftest import make_purpose

    other = make_purpose(consortium_a, city_a, [steps], code="other-use")
    html = page_for(client, rp, "openid")
    decide(client, rp, html, {f"purpose-{other.pk}": "agree"})
    assert not ConsentRecord.objects.filter(purpose=other).exists()
