"""Staff confirm their sign-in with a second factor: an authenticator app, or a recovery code."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import Entry, PendingEntry
from governance import services

pytestmark = [pytest.mark.django_db, pytest.mark.second_factor]
PASSWORD = "correct horse battery staple"
SECOND_FACTOR = "/account/second-factor/"


class Clock:
    """The authenticator's and the server's clock, moved on by hand (never slept on)."""

    def __init__(self):
        self.now = 1_800_000_000.0

    def time(self):
        return self.now

    def next_code_window(self):
        self.now += 30


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("django_otp.plugins.otp_totp.models.time", clock)
    return clock


def code(user, clock) -> str:
    """The code the person's authenticator app shows now."""
    device = TOTPDevice.objects.filter(user=user).latest("pk")
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = clock.now
    return f"{totp.token():06d}"


def sign_in(client, username):
    response = client.post(reverse("admin:login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.text
    return client


def logged(action: str) -> list[dict]:
    return [
        json.loads(payload) if isinstance(payload, str) else payload
        for model in (Entry, PendingEntry)
        for payload in model.objects.filter(action=action).values_list("payload", flat=True)
    ]


def enrol(client, user, clock) -> list[str]:
    client.get(SECOND_FACTOR)
    page = client.post(SECOND_FACTOR, {"token": code(user, clock), "next": "/admin/"})
    assert page.status_code == 200, page.text
    return re.findall(r"<li><code>([0-9a-z]+)</code></li>", page.text)


def test_the_administrator_sets_up_the_app_at_first_and_confirms_each_sign_in(
    client, superuser, clock
):
    sign_in(client, "root")

    held = client.get("/admin/governance/consortium/")
    assert held.status_code == 302
    assert held["Location"].startswith(SECOND_FACTOR + "?next=")
    setup = client.get(held["Location"])
    assert setup.status_code == 200 and "<svg" in setup.text  # the QR code, drawn inline
    # A wrong code changes nothing, and says so on the field.
    wrong = client.post(SECOND_FACTOR, {"token": "000000"})
    assert wrong.status_code == 200 and 'aria-invalid="true"' in wrong.text
    assert not TOTPDevice.objects.filter(user=superuser, confirmed=True).exists()
    page = client.post(
        SECOND_FACTOR, {"token": code(superuser, clock), "next": "/admin/governance/consortium/"}
    )
    codes = re.findall(r"<li><code>([0-9a-z]+)</code></li>", page.text)
    assert len(codes) == 10
    assert client.get("/admin/governance/consortium/").status_code == 200
    assert logged("second_factor.enrolled") == [{"user_id": superuser.pk, "recovery_codes": 10}]

    # The next sign-in is held until the app's code is typed; a code already used is refused.
    used = code(superuser, clock)
    later = sign_in(Client(), "root")
    assert later.get("/admin/").status_code == 302
    assert later.post(SECOND_FACTOR, {"token": used}).status_code == 200
    assert later.get("/admin/").status_code == 302
    clock.next_code_window()
    done = later.post(SECOND_FACTOR, {"token": code(superuser, clock), "next": "/admin/"})
    assert done.status_code == 302 and done["Location"] == "/admin/"
    assert later.get("/admin/").status_code == 200


def test_a_recovery_code_signs_in_once_and_a_new_phone_replaces_the_lost_one(
    client, superuser, clock
):
    codes = enrol(sign_in(client, "root"), superuser, clock)

    phone_lost = sign_in(Client(), "root")
    response = phone_lost.post(SECOND_FACTOR, {"token": codes[0].upper(), "next": "/admin/"})
    assert response.status_code == 302
    assert logged("second_factor.recovery_code_used") == [{"user_id": superuser.pk, "remaining": 9}]
    again = sign_in(Client(), "root")
    assert again.post(SECOND_FACTOR, {"token": codes[0]}).status_code == 200
    assert again.get("/admin/").status_code == 302

    # From the session the recovery code confirmed: forget the old phone, set up the new one.
    assert phone_lost.get(SECOND_FACTOR).status_code == 200
    replaced = phone_lost.post(reverse("governance:second_factor_replace"))
    assert replaced.status_code == 302
    assert not TOTPDevice.objects.filter(user=superuser).exists()
    assert phone_lost.get("/admin/").status_code == 302
    assert len(enrol(phone_lost, superuser, clock)) == 10
    assert phone_lost.get("/admin/").status_code == 200
    # The old recovery codes are gone with the old phone.
    assert sign_in(Client(), "root").post(SECOND_FACTOR, {"token": codes[1]}).status_code == 200


def test_a_consortium_requires_it_of_its_own_people_only(
    clerk_a, clerk_b, reviewer_a, consortium_a, clock
):
    a, b, board = sign_in(Client(), "clerk_a"), sign_in(Client(), "clerk_b"), Client()
    board.force_login(reviewer_a)
    assert a.get("/admin/").status_code == 200
    assert board.get(reverse("review:queue")).status_code == 200

    services.consortium_update(actor=clerk_a, consortium=consortium_a, require_second_factor=True)

    assert a.get("/admin/").status_code == 302
    assert board.get(reverse("review:queue"))["Location"].startswith(SECOND_FACTOR)
    assert b.get("/admin/").status_code == 200  # consortium B has not asked for it
    # Nobody reaches the second factor's page without having signed in with the password.
    assert Client().get(SECOND_FACTOR).status_code == 302
    assert Client().post(reverse("governance:second_factor_replace")).status_code == 302


def test_a_development_machine_may_turn_it_off(client, superuser, settings):
    settings.STAFF_SECOND_FACTOR = False
    assert sign_in(client, "root").get("/admin/").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/admin/otp_totp/totpdevice/",
        "/admin/otp_static/staticdevice/",
        "/admin/django_otp_webauthn/webauthncredential/",
    ],
)
def test_no_admin_page_changes_a_second_factor_without_its_service(
    client, superuser, path, settings
):
    # A factor is reset by the secretariat's audited action, never by the libraries' own pages
    # (deleting there would leave no audit entry).
    settings.STAFF_SECOND_FACTOR = False
    client.force_login(superuser)
    assert client.get(path).status_code == 404
    assert client.get("/admin/").status_code == 200
    assert path not in client.get("/admin/").content.decode()
