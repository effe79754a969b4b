"""
Passkeys in headless Chromium with its virtual authenticator (DevTools' WebAuthn domain: CTAP2,
internal transport, resident keys, the person verified): a member of staff adds one as the
first second factor and signs in with it, loses the device, signs in with a recovery code and
replaces it; a resident adds one in My account and signs in with it alone. Each new page passes
the checks every page people use must pass (tests/browser.py).
"""

import re
from urllib.parse import urlsplit

import pytest
from django_otp_webauthn.models import WebAuthnCredential

from tests.browser import assert_page_ok, launch, requires_chromium
from tests.consent.conftest import make_resident
from tests.consent.test_browser import portal_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.second_factor,
    pytest.mark.django_db(transaction=True),
    requires_chromium,
]
server = portal_server
PASSWORD = "correct horse battery staple"


@pytest.fixture
def origin(server, settings):
    """The live server at localhost (an IP address cannot be a passkey's relying party)."""
    parts = urlsplit(server.url)
    url = f"{parts.scheme}://localhost:{parts.port}"
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [url]
    return url


@pytest.fixture
def browser(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


def phone_page(browser):
    """A page at a phone's width, with JavaScript (a passkey needs it)."""
    context = browser.new_context(viewport={"width": 360, "height": 780}, locale="ja-JP")
    return context.new_page()


def add_authenticator(page) -> tuple:
    """Give the page's browser a passkey-capable device; return it and its DevTools session."""
    session = page.context.new_cdp_session(page)
    session.send("WebAuthn.enable")
    added = session.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return session, added["authenticatorId"]


def staff_sign_in(page, origin):
    page.goto(origin + "/admin/login/?next=/admin/")
    page.get_by_label("ユーザー名").fill("root")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/account/second-factor/**")


def test_staff_add_a_passkey_sign_in_with_it_and_replace_a_lost_one(origin, browser, superuser):
    page = phone_page(browser)
    session, device = add_authenticator(page)

    # Enrolment: the first factor is a passkey, with recovery codes.
    staff_sign_in(page, origin)
    assert_page_ok(page)
    page.locator("#passkey-register-button").click()
    page.wait_for_url("**/account/second-factor/recovery-codes/**")
    codes = [code.strip() for code in page.locator(".recovery-codes code").all_inner_texts()]
    assert len(codes) == 10
    assert_page_ok(page)
    page.locator("a.button").click()
    page.wait_for_url("**/admin/")
    assert WebAuthnCredential.objects.filter(user=superuser).count() == 1

    # Sign-in: the password, then the passkey.
    page.context.clear_cookies()
    staff_sign_in(page, origin)
    assert page.locator("#passkey-verification-button").count() == 1
    assert_page_ok(page)
    page.locator("#passkey-verification-button").click()
    page.wait_for_url("**/admin/")
    assert page.url.endswith("/admin/")

    # The device is lost: a recovery code signs in, the lost passkey is removed, a new one added.
    session.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": device})
    page.context.clear_cookies()
    staff_sign_in(page, origin)
    page.get_by_label("コード").fill(codes[0])
    page.locator("form input[type=submit]").click()
    page.wait_for_url("**/admin/")
    page.goto(origin + "/account/second-factor/")
    assert page.locator("ul.passkeys li").count() == 1
    assert_page_ok(page)
    page.locator("ul.passkeys input[type=submit]").click()
    page.wait_for_url("**/account/second-factor/")
    assert page.locator("ul.passkeys li").count() == 0
    assert not WebAuthnCredential.objects.filter(user=superuser).exists()
    add_authenticator(page)
    page.locator("#passkey-register-button").click()
    page.locator("ul.passkeys li").first.wait_for()
    assert page.locator("ul.passkeys li").count() == 1
    assert_page_ok(page)

    # And the new one signs in.
    page.context.clear_cookies()
    staff_sign_in(page, origin)
    page.locator("#passkey-verification-button").click()
    page.wait_for_url("**/admin/")


def test_a_resident_adds_a_passkey_and_signs_in_with_it(origin, browser, consortium_a):
    make_resident("hanako@example.jp", consortium_a)
    page = phone_page(browser)
    add_authenticator(page)
    page.goto(origin + "/portal/signin/")
    page.locator("input[name=email]").fill("hanako@example.jp")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/portal/$"))

    page.goto(origin + "/portal/account/")
    assert_page_ok(page)
    page.locator("#passkey-register-button").click()
    page.locator("ul.passkeys li").first.wait_for()
    assert page.locator("ul.passkeys li").count() == 1
    assert_page_ok(page)

    page.context.clear_cookies()
    page.goto(origin + "/portal/signin/?next=/portal/history/")
    assert_page_ok(page)
    page.locator("#passkey-verification-button").click()
    page.wait_for_url("**/portal/history/")
