"""
The resident portal in headless Chromium (Debian's package, never a downloaded build): sign up,
opt in, opt out, download a receipt, switch language, at a phone's width, without scripts.
Screenshots go to var/screenshots/.
"""

import json
import re
from pathlib import Path

import jwt
import pytest
from django.conf import settings
from django.core import mail
from django.db import connections

from .conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (/usr/bin/chromium)"),
]


@pytest.fixture(scope="session")
def portal_server(request, django_db_setup, django_db_blocker):
    # Depends on django_db_setup so that the server stops before the test database is dropped.
    server = request.getfixturevalue("live_server")
    yield server
    connection = connections["default"]
    if connection.vendor == "postgresql":
        server.stop()  # live_server's own stop, after this, finds it stopped
        # A connection opened while Playwright drives the page (an audit seal after a
        # decision) can outlive the server; end it, or dropping the test database fails.
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture
def page(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # meanwhile are still synchronous. Only for this test: the deployment check refuses it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            viewport={"width": 360, "height": 780},
            locale="ja-JP",
            accept_downloads=True,
            java_script_enabled=False,  # the portal must work without JavaScript
        )
        yield context.new_page()
        context.close()
        browser.close()


def shot(page, name: str) -> None:
    folder = Path(settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"consent-{name}.png"), full_page=True)


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_resident_signs_up_decides_and_keeps_a_receipt(portal_server, page, purpose, tmp_path):
    page.goto(portal_server.url + "/portal/")
    assert "/portal/signin/" in page.url  # anonymous: sent to sign in
    page.get_by_role("link", name="アカウントを作成").click()

    page.get_by_label("メールアドレス").fill("kiku@example.jp")
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_label("パスワード（確認のためもう一度）").fill(PASSWORD)
    page.get_by_label("お住まいの地域").select_option(label="会津スマートシティ推進協議会")
    shot(page, "1-signup")
    page.get_by_role("button", name="アカウントを作成する").click()
    assert "メールを確認してください" in page.content()
    assert fits_the_screen(page)
    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="アカウントを作成する").click()

    card = page.locator(f"#purpose-{purpose.pk}")
    assert "未回答" in card.inner_text()
    assert "要配慮個人情報" in card.inner_text()
    assert page.locator("input[type=checkbox]:checked").count() == 0  # nothing pre-ticked
    assert fits_the_screen(page)
    shot(page, "2-dashboard")

    card.get_by_role("button", name="同意する").click()
    card = page.locator(f"#purpose-{purpose.pk}")
    assert "同意しています" in card.inner_text()
    shot(page, "3-agreed")

    card.get_by_role("button", name="同意をやめる").click()
    card = page.locator(f"#purpose-{purpose.pk}")
    assert "同意していません" in card.inner_text()

    page.get_by_role("link", name="履歴と受領書").click()
    # The click starts the navigation; measuring before the new page exists read a null
    # document (a failure seen once in CI).
    page.wait_for_url("**/portal/history/")
    assert fits_the_screen(page)
    shot(page, "4-history")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="署名付き受領書をダウンロード").first.click()
    target = tmp_path / "receipt.json"
    download_info.value.save_as(target)
    document = json.loads(target.read_text(encoding="utf-8"))
    jwks = page.request.get(portal_server.url + "/.well-known/jwks.json").json()
    kid = jwt.get_unverified_header(document["jws"])["kid"]
    key = next(k for k in jwt.PyJWKSet.from_dict(jwks).keys if k.key_id == kid)
    claims = jwt.decode(document["jws"], key=key, algorithms=["EdDSA", "ES256"])
    assert claims["consentStatus"] == "withdrawn"  # the newest decision comes first
    assert claims["services"][0]["purposes"][0]["purposeId"] == purpose.pk

    page.get_by_role("button", name="English").click()
    assert page.get_by_role("heading", level=1).inner_text() == "History and receipts"
    page.get_by_role("link", name="My consents").click()
    assert "You do not agree" in page.locator(f"#purpose-{purpose.pk}").inner_text()
    shot(page, "5-english")

    page.set_viewport_size({"width": 320, "height": 700})
    assert fits_the_screen(page)
    shot(page, "6-320px")

    # The switch is saved with the account: on a device that has never seen this resident
    # (no cookie, a Japanese browser), the sign-in page is Japanese and what follows English.
    page.get_by_role("button", name="Sign out").click()
    page.context.clear_cookies()
    page.goto(portal_server.url + "/portal/signin/")
    page.get_by_label("メールアドレス").fill("kiku@example.jp")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url("**/portal/")
    assert "You do not agree" in page.locator(f"#purpose-{purpose.pk}").inner_text()


def test_keyboard_users_can_reach_the_decision(portal_server, page, purpose, resident):
    page.goto(portal_server.url + "/portal/signin/")
    page.get_by_label("メールアドレス").fill("hanako@example.jp")
    page.get_by_label("パスワード").fill(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/portal/")
    # Tab from the top: the skip link comes first, and every control is reachable.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "同意する":
            break
    else:
        pytest.fail("the agree button is not reachable by keyboard")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "同意しています" in page.locator(f"#purpose-{purpose.pk}").inner_text()
