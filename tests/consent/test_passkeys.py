"""
Residents may add a passkey in My account and sign in with it instead of the password (the
portal's choice: a passwordless sign-in, optional, beside the password that keeps working).
"""

import json

import pytest
from django.test import Client
from django.urls import reverse
from django_otp_webauthn.models import WebAuthnCredential

from audit.models import PendingEntry
from tests.passkey_authenticator import ORIGIN, Authenticator

pytestmark = pytest.mark.django_db
REGISTER_OPTIONS = reverse("consent:passkey_register_options")
REGISTER = reverse("consent:passkey_register")
SIGNIN_OPTIONS = reverse("consent:passkey_signin_options")
SIGNIN = reverse("consent:passkey_signin")


@pytest.fixture(autouse=True)
def _relying_party(settings):
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [ORIGIN]


def post_json(client, url, data=None):
    body = b"" if data is None else json.dumps(data).encode()
    return client.post(url, body, content_type="application/json")


def add_passkey(client, authenticator):
    options = post_json(client, REGISTER_OPTIONS)
    assert options.status_code == 200, options.text
    return post_json(client, REGISTER, authenticator.create(options.json()))


def sign_in_with(client, authenticator, next_url=""):
    options = post_json(client, SIGNIN_OPTIONS)
    assert options.status_code == 200, options.text
    assert "allowCredentials" not in options.json() or options.json()["allowCredentials"] == []
    assert options.json()["userVerification"] == "required"
    url = SIGNIN + (f"?next={next_url}" if next_url else "")
    return post_json(client, url, authenticator.get(options.json()))


def signed_in(resident) -> Client:
    client = Client()
    client.force_login(resident.user)
    return client


def test_a_resident_adds_a_passkey_and_signs_in_with_it_alone(resident):
    client = signed_in(resident)
    account = client.get(reverse("consent:account"))
    # Optional, and said so; the page works without JavaScript (the button comes with it).
    assert 'id="passkey-registration-placeholder"' in account.text
    phone = Authenticator()
    added = add_passkey(client, phone)
    assert added.status_code == 200, added.text
    assert added.json()["redirect_url"] == reverse("consent:account")
    (passkey,) = WebAuthnCredential.objects.filter(user=resident.user)
    entry = PendingEntry.objects.get(action="resident.passkey_added")
    payload = entry.payload if isinstance(entry.payload, dict) else json.loads(entry.payload)
    assert payload == {"resident": resident.pseudonymous_id, "passkey": passkey.pk}

    visitor = Client()
    page = visitor.get(reverse("consent:signin"))
    assert 'id="passkey-verification-placeholder"' in page.text
    done = sign_in_with(visitor, phone, next_url="/portal/history/")
    assert done.status_code == 200, done.text
    assert done.json()["redirect_url"] == "/portal/history/"
    assert visitor.get(reverse("consent:portal")).status_code == 200
    # A next page elsewhere is not followed.
    other = sign_in_with(Client(), phone, next_url="https://evil.example/")
    assert other.json()["redirect_url"] == reverse("consent:portal")


def test_a_passkey_answer_is_used_once_and_checked(resident):
    phone = Authenticator()
    add_passkey(signed_in(resident), phone)
    visitor = Client()
    options = post_json(visitor, SIGNIN_OPTIONS).json()
    answer = phone.get(options)
    assert post_json(visitor, SIGNIN, answer).status_code == 200
    replay = Client()
    assert post_json(replay, SIGNIN, answer).json()["error"] == "invalid_state"
    post_json(replay, SIGNIN_OPTIONS)
    assert post_json(replay, SIGNIN, answer).json()["error"] == "invalid_response"
    assert replay.get(reverse("consent:portal")).status_code == 302
    for body in (b"", b"nonsense", b"[]"):
        post_json(replay, SIGNIN_OPTIONS)
        refused = replay.post(SIGNIN, body, content_type="application/json")
        assert refused.status_code == 400 and refused.json()["error"] == "malformed_request"


def test_only_residents_passkeys_sign_in_and_nobody_removes_anothers(
    resident, other_resident, superuser
):
    phone = Authenticator()
    add_passkey(signed_in(resident), phone)
    passkey = WebAuthnCredential.objects.get(user=resident.user)

    # A staff member's passkey is not a resident's: refused as an unknown one is.
    staff_key = Authenticator()
    staff = Client()
    staff.force_login(superuser)
    options = post_json(staff, reverse("governance:passkey_register_options")).json()
    added = post_json(staff, reverse("governance:passkey_register"), staff_key.create(options))
    assert added.status_code == 200
    foreign = sign_in_with(Client(), staff_key)
    unknown = sign_in_with(Client(), Authenticator())
    assert foreign.status_code == unknown.status_code == 400
    assert foreign.json() == unknown.json() and foreign.json()["error"] == "unknown_passkey"

    # Another resident cannot remove the passkey: the same 404 as a missing one.
    other = signed_in(other_resident)
    remove = reverse("consent:passkey_remove", args=[passkey.pk])
    missing = reverse("consent:passkey_remove", args=[passkey.pk + 1000])
    assert other.post(remove).status_code == other.post(missing).status_code == 404
    assert Client().post(remove).status_code == 302  # to sign in
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    for url in (REGISTER_OPTIONS, REGISTER):
        refused = post_json(Client(), url)
        assert refused.status_code == 403 and refused.json()["error"] == "not_authenticated"
        assert post_json(staff, url).status_code == 403  # not a resident

    # The owner removes it (a lost phone): it no longer signs in; the password still does.
    owner = signed_in(resident)
    assert owner.post(remove).status_code == 302
    assert not WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    assert PendingEntry.objects.filter(action="resident.passkey_removed").count() == 1
    assert sign_in_with(Client(), phone).json()["error"] == "unknown_passkey"
