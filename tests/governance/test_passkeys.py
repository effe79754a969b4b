"""
Staff confirm their sign-in with a passkey (WebAuthn): registered from the second factor's
page, accepted by the staff pages' middleware, removed when lost, reset by the secretariat; the
browser's answers are checked (challenge used once, origin, the person's own passkey).
"""

import json
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django_otp_webauthn.models import WebAuthnCredential

from governance import services
from governance.models import Account
from tests.conftest import seat_on_ethics_board
from tests.passkey_authenticator import ORIGIN, Authenticator

from .test_second_factor import PASSWORD, SECOND_FACTOR, logged, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.second_factor]
REGISTER_OPTIONS = reverse("governance:passkey_register_options")
REGISTER = reverse("governance:passkey_register")
SIGNIN_OPTIONS = reverse("governance:passkey_signin_options")
SIGNIN = reverse("governance:passkey_signin")


@pytest.fixture(autouse=True)
def _relying_party(settings):
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [ORIGIN]


def post_json(client, url, data=None, **extra):
    body = b"" if data is None else json.dumps(data).encode()
    return client.post(url, body, content_type="application/json", **extra)


def add_passkey(client, authenticator):
    options = post_json(client, REGISTER_OPTIONS)
    assert options.status_code == 200, options.text
    return post_json(client, REGISTER, authenticator.create(options.json()))


def use_passkey(client, authenticator, **answer):
    options = post_json(client, SIGNIN_OPTIONS)
    assert options.status_code == 200, options.text
    return post_json(client, SIGNIN + "?next=/admin/", authenticator.get(options.json(), **answer))


def test_a_passkey_is_the_first_factor_with_recovery_codes_and_confirms_each_sign_in(
    client, superuser
):
    sign_in(client, "root")
    setup = client.get(SECOND_FACTOR)
    assert 'id="passkey-registration-placeholder"' in setup.text
    assert 'id="otp_webauthn_config"' in setup.text

    phone = Authenticator()
    added = add_passkey(client, phone)
    assert added.status_code == 200, added.text
    assert added.json()["redirect_url"] == reverse("governance:second_factor_recovery_codes")
    codes_page = client.get(added.json()["redirect_url"])
    codes = re.findall(r"<li><code>([0-9a-z]+)</code></li>", codes_page.text)
    assert len(codes) == 10
    # Shown once only.
    assert client.get(reverse("governance:second_factor_recovery_codes")).status_code == 302
    assert client.get("/admin/").status_code == 200
    (passkey,) = WebAuthnCredential.objects.filter(user=superuser)
    assert logged("second_factor.passkey_added") == [
        {"user_id": superuser.pk, "passkey_id": passkey.pk, "recovery_codes": 10}
    ]

    # The next sign-in is held until the passkey signs the page's challenge.
    later = sign_in(Client(), "root")
    assert later.get("/admin/").status_code == 302
    page = later.get(SECOND_FACTOR)
    assert 'id="passkey-verification-placeholder"' in page.text
    done = use_passkey(later, phone)
    assert done.status_code == 200, done.text
    assert done.json() == {"id": passkey.pk, "redirect_url": "/admin/"}
    assert later.get("/admin/").status_code == 200
    passkey.refresh_from_db()
    assert passkey.sign_count == 1 and passkey.last_used_at is not None

    # A second passkey is added from the confirmed session, with no new codes.
    laptop = Authenticator()
    assert add_passkey(later, laptop).json()["redirect_url"] == SECOND_FACTOR
    assert WebAuthnCredential.objects.filter(user=superuser).count() == 2


def test_the_browsers_answers_are_checked(client, superuser):
    phone = Authenticator()
    sign_in(client, "root")
    add_passkey(client, phone)
    later = sign_in(Client(), "root")

    # Nothing started: refused, with the error as the API says errors.
    answer = phone.get({"challenge": "AAAA"})
    refused = post_json(later, SIGNIN, answer)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_state" and refused.json()["detail"]

    # An answer is accepted once: replayed, the challenge it signed is gone.
    options = post_json(later, SIGNIN_OPTIONS).json()
    answer = phone.get(options)
    assert post_json(later, SIGNIN, answer).status_code == 200
    assert post_json(later, SIGNIN, answer).json()["error"] == "invalid_state"
    post_json(later, SIGNIN_OPTIONS)
    assert post_json(later, SIGNIN, answer).json()["error"] == "invalid_response"

    another = sign_in(Client(), "root")
    for bad in (
        lambda options: phone.get(options, origin="https://evil.example"),
        lambda options: phone.get(options, rp_id="evil.example"),
        lambda options: phone.get({"challenge": "c29tZXRoaW5nIGVsc2U"}),
        lambda options: {**phone.get(options), "response": {"signature": 7}},
        lambda options: {"id": "x"},
    ):
        options = post_json(another, SIGNIN_OPTIONS).json()
        response = post_json(another, SIGNIN, bad(options))
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_response"
    for body in (b"not json", b"[1, 2]", b'"text"', b"{" * 5, b"\xff\xfe"):
        post_json(another, SIGNIN_OPTIONS)
        response = another.post(SIGNIN, body, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["error"] == "malformed_request"
    assert another.get("/admin/").status_code == 302
    # GET is not a ceremony.
    assert another.get(SIGNIN_OPTIONS).status_code == 405

    # The same passkey cannot be registered twice.
    confirmed = sign_in(Client(), "root")
    use_passkey(confirmed, phone)
    options = post_json(confirmed, REGISTER_OPTIONS).json()
    again = post_json(confirmed, REGISTER, phone.create(options))
    assert again.status_code == 409 and again.json()["error"] == "passkey_known"


def test_another_persons_passkey_is_neither_used_nor_removed(client, superuser, clerk_a):
    root_key, clerk_key = Authenticator(), Authenticator()
    sign_in(client, "root")
    add_passkey(client, root_key)
    clerk = Client()
    clerk.force_login(clerk_a)
    add_passkey(clerk, clerk_key)
    root_passkey = WebAuthnCredential.objects.get(user=superuser)

    # root's password, the clerk's passkey: refused as an unknown passkey is.
    held = sign_in(Client(), "root")
    foreign = use_passkey(held, clerk_key)
    unknown = use_passkey(held, Authenticator())
    assert foreign.status_code == unknown.status_code == 400
    assert foreign.json() == unknown.json()
    assert foreign.json()["error"] == "unknown_passkey"
    assert held.get("/admin/").status_code == 302

    # The clerk cannot remove root's passkey; the answer is that of a missing one.
    remove = reverse("governance:passkey_remove", args=[root_passkey.pk])
    missing = reverse("governance:passkey_remove", args=[root_passkey.pk + 1000])
    assert clerk.post(remove).status_code == clerk.post(missing).status_code == 404
    assert WebAuthnCredential.objects.filter(pk=root_passkey.pk).exists()

    # Anonymous visitors: JSON refusals on the ceremonies, sign-in for the pages.
    nobody = Client()
    for url in (REGISTER_OPTIONS, REGISTER, SIGNIN_OPTIONS, SIGNIN):
        response = post_json(nobody, url)
        assert response.status_code == 403 and response.json()["error"] == "not_authenticated"
    assert nobody.post(remove).status_code == 302
    assert WebAuthnCredential.objects.filter(pk=root_passkey.pk).exists()


def test_a_password_alone_cannot_add_a_passkey_to_an_account_with_a_second_factor(
    client, superuser
):
    sign_in(client, "root")
    add_passkey(client, Authenticator())
    thief = sign_in(Client(), "root")
    refused = post_json(thief, REGISTER_OPTIONS)
    assert refused.status_code == 403 and refused.json()["error"] == "not_verified"
    assert post_json(thief, REGISTER, {}).status_code == 403
    assert WebAuthnCredential.objects.filter(user=superuser).count() == 1


def test_a_lost_passkey_recovery_code_then_removal(client, superuser):
    phone = Authenticator()
    sign_in(client, "root")
    codes_url = add_passkey(client, phone).json()["redirect_url"]
    codes = re.findall(r"<li><code>([0-9a-z]+)</code></li>", client.get(codes_url).text)
    passkey = WebAuthnCredential.objects.get(user=superuser)

    lost = sign_in(Client(), "root")
    assert lost.post(SECOND_FACTOR, {"token": codes[0], "next": "/admin/"}).status_code == 302
    assert lost.get("/admin/").status_code == 200
    manage = lost.get(SECOND_FACTOR)
    assert reverse("governance:passkey_remove", args=[passkey.pk]) in manage.text
    removed = lost.post(reverse("governance:passkey_remove", args=[passkey.pk]))
    assert removed.status_code == 302
    assert not WebAuthnCredential.objects.filter(user=superuser).exists()
    assert logged("second_factor.passkey_removed") == [
        {"user_id": superuser.pk, "passkey_id": passkey.pk}
    ]
    # The lost phone no longer signs in.
    again = sign_in(Client(), "root")
    assert use_passkey(again, phone).json()["error"] == "unknown_passkey"
    # A new passkey, from the session the recovery code confirmed.
    assert add_passkey(lost, Authenticator()).status_code == 200


def test_the_secretariat_resets_a_persons_second_factor(client, clerk_a, clerk_b, consortium_a):
    account = services.account_invite(
        actor=clerk_a,
        consortium=consortium_a,
        username="board-member",
        last_name="会津",
        first_name="花子",
        email="hanako@example.jp",
        base_url="http://localhost:8000/",
    )
    services.account_activate(user=account.user, password=PASSWORD)
    seat_on_ethics_board(account.user, consortium_a)
    account.user.refresh_from_db()  # the password the person set
    person = Client()
    person.force_login(account.user)
    add_passkey(person, Authenticator())

    with pytest.raises(PermissionDenied):
        services.second_factor_reset(actor=clerk_b, account=account)
    with pytest.raises(PermissionDenied):
        services.second_factor_reset(actor=account.user, account=account)
    assert WebAuthnCredential.objects.filter(user=account.user).exists()

    # In the admin: the account's action, for the clerk of its consortium only.
    admin = Client()
    admin.force_login(clerk_a)
    changelist = reverse("admin:governance_account_changelist")
    response = admin.post(
        changelist, {"action": "reset_second_factor", "_selected_action": [account.pk]}
    )
    assert response.status_code == 302
    assert not WebAuthnCredential.objects.filter(user=account.user).exists()
    assert logged("second_factor.reset") == [{"user_id": account.user_id, "passkeys": 1}]
    # The person's confirmed session no longer counts: the next staff page sets up a new one.
    services.consortium_update(actor=clerk_a, consortium=consortium_a, require_second_factor=True)
    assert person.get(reverse("review:queue"))["Location"].startswith(SECOND_FACTOR)
    assert Account.objects.get(pk=account.pk).user.is_active
