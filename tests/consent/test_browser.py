"""
The resident portal in headless Chromium (Debian's package, never a downloaded build): sign up,
opt in, opt out, download a receipt, switch language, at a phone's width, without scripts.
Every page visited passes tests/browser.py's checks (axe-core, no sideways scroll at 320 px).
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
from pypdf import PdfReader

from governance.models import Organization
from tests.browser import assert_page_ok, follow, launch, requires_chromium

from .conftest import PASSWORD, make_purpose

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), requires_chromium]


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
        browser = launch(playwright)
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


def in_view(page, selector: str) -> bool:
    """Return True if the element is on the screen as the page is scrolled now."""
    return page.evaluate(
        """(selector) => {
            const box = document.querySelector(selector).getBoundingClientRect();
            return box.bottom > 0 && box.top < window.innerHeight;
        }""",
        selector,
    )


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/portal/signin/")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url("**/portal/")


def test_a_resident_signs_up_decides_and_keeps_a_receipt(portal_server, page, purpose, tmp_path):
    page.goto(portal_server.url + "/portal/")
    assert "/portal/signin/" in page.url  # anonymous: sent to sign in
    assert_page_ok(page)
    follow(page.get_by_role("link", name="アカウントを作成"))
    assert_page_ok(page)

    page.get_by_label("メールアドレス").fill("kiku@example.jp")
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_label("パスワード（確認のためもう一度）").fill(PASSWORD)
    page.get_by_label("お住まいの地域").select_option(label="会津スマートシティ推進協議会")
    shot(page, "1-signup")
    follow(page.get_by_role("button", name="アカウントを作成する"))
    assert "メールを確認してください" in page.content()
    assert_page_ok(page)
    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="アカウントを作成する").click()

    card = page.locator(f"#purpose-{purpose.pk}")
    text = card.inner_text()
    assert "未回答" in text
    assert "要配慮個人情報" in text
    assert "要配慮個人情報とは" in text  # explained where it appears
    assert "1年" in text and "365日" not in text  # retention in years and months
    assert "同意しなくても" in text  # saying no costs nothing, on the card itself
    assert "マイナンバー（個人番号）ではありません" in page.locator(".resident-number").inner_text()
    assert page.locator("input[type=checkbox]:checked").count() == 0  # nothing pre-ticked
    assert_page_ok(page)
    shot(page, "2-dashboard")

    card.get_by_role("button", name="同意する").click()
    # The confirmation is where the eye and the screen reader are: the page is sent to the
    # live region at the top, on the screen, with the purpose named.
    assert page.url.endswith("/portal/#messages")
    confirmation = page.locator("#messages[role=status]")
    assert "歩いて健康ポイント" in confirmation.inner_text()
    assert in_view(page, "#messages")
    assert page.evaluate("document.querySelector('#messages').matches(':target')")
    # Decided: one line in "already decided", opened to change the decision.
    card = page.locator(f"details#purpose-{purpose.pk}")
    assert "同意しています" in card.locator("summary").inner_text()
    assert card.locator("summary").bounding_box()["height"] < 90
    assert_page_ok(page)
    shot(page, "3-agreed")

    card.locator("summary").click()
    card.get_by_role("button", name="同意をやめる").click()
    card = page.locator(f"#purpose-{purpose.pk}")
    assert "同意していません" in card.inner_text()

    page.get_by_role("link", name="履歴と受領書").click()
    # The click starts the navigation; measuring before the new page exists read a null
    # document (a failure seen once in CI).
    page.wait_for_url("**/portal/history/")
    kinds = page.locator(".records .kind").all_inner_texts()
    assert [kind.strip("✔↩✖ ") for kind in kinds] == ["同意をやめました", "同意しました"]
    assert_page_ok(page)
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

    # The newest decision's receipt in words, and its PDF to print or show.
    page.get_by_role("link", name="受領書を見る・印刷する").first.click()
    page.wait_for_url("**/portal/decisions/**")
    assert "同意をやめました" in page.locator("main").inner_text()
    assert_page_ok(page)
    shot(page, "4b-receipt")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="PDFで保存する（印刷用）").click()
    pdf = tmp_path / "receipt.pdf"
    download_info.value.save_as(pdf)
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages).replace("\n", "")
    assert "同意をやめました" in text and "歩いて健康ポイント" in text
    page.get_by_role("link", name="← 履歴と受領書").click()
    page.wait_for_url("**/portal/history/")

    follow(page.get_by_role("button", name="English"))
    assert page.get_by_role("heading", level=1).inner_text() == "History and receipts"
    assert_page_ok(page, width=390)
    follow(page.get_by_role("link", name="My consents"))
    assert "You do not agree" in page.locator(f"#purpose-{purpose.pk}").inner_text()
    shot(page, "5-english")

    page.set_viewport_size({"width": 320, "height": 700})
    assert_page_ok(page)
    shot(page, "6-320px")

    # The switch is saved with the account: on a device that has never seen this resident
    # (no cookie, a Japanese browser), the sign-in page is Japanese and what follows English.
    page.get_by_role("button", name="Sign out").click()
    page.context.clear_cookies()
    sign_in(page, portal_server.url, "kiku@example.jp")
    assert "You do not agree" in page.locator(f"#purpose-{purpose.pk}").inner_text()


def test_every_portal_page_fits_a_phone_and_has_a_way_back(
    portal_server, page, purpose, resident, consortium_a, city_a, company_a, steps
):
    # A second purpose given to two recipients: an English list reads "A and B".
    university_a = Organization.objects.create(
        kind=Organization.Kind.UNIVERSITY, name_ja="会津大学", name_en="University of Aizu"
    )
    make_purpose(consortium_a, city_a, [steps], [company_a, university_a], code="bus-routes")
    base = portal_server.url
    for path in ("/", "/reports/verify", "/portal/password-reset/"):
        page.goto(base + path)
        assert_page_ok(page)
    page.get_by_role("link", name="ログイン画面に戻る").click()
    page.wait_for_url("**/portal/signin/")

    sign_in(page, base, "hanako@example.jp")
    assert_page_ok(page)
    # Every page of the portal, each with a way back to where the resident came from.
    follow(page.get_by_role("link", name="詳しい説明、通知の全文、これまでの回答").first)
    assert_page_ok(page)
    page.get_by_role("link", name="通知 第1版").click()
    page.wait_for_url("**/notices/1/")
    assert_page_ok(page)
    page.get_by_role("link", name="この利用目的に戻る").click()
    page.get_by_role("link", name="← 同意の状況").click()
    page.wait_for_url("**/portal/")
    for name, back in (
        ("データの利用状況", "同意の状況"),
        ("アカウント", "同意の状況"),
    ):
        follow(page.get_by_role("link", name=name, exact=True))
        assert_page_ok(page)
        page.get_by_role("link", name=back, exact=True).click()
        page.wait_for_url("**/portal/")
    page.goto(base + "/portal/withdraw-all/")
    assert_page_ok(page)
    page.goto(base + "/portal/account/delete/")
    assert_page_ok(page)

    follow(page.get_by_role("button", name="English"))
    page.goto(base + "/portal/")
    card = page.locator("article").filter(has_text="Walking health points").last
    assert card.count() == 1
    recipients = page.locator("dd").filter(has_text=company_a.name_en).all_inner_texts()
    assert f"{company_a.name_en} and {university_a.name_en}" in recipients
    assert "、" not in "".join(recipients)
    assert_page_ok(page, width=390)


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
    # The focus ring stands out from the white page at 3:1 or more (WCAG 2.4.13): dark.
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    assert outline == "rgb(26, 26, 26)"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineWidth") == "3px"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "同意しています" in page.locator(f"#purpose-{purpose.pk}").inner_text()
