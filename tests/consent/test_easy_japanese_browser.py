"""
The portal in やさしい日本語 in headless Chromium: the secretariat writes a notice's Easy Japanese
text in the admin; the resident reads the portal in Easy Japanese at 320 px, without
JavaScript, axe-core clean on every page, furigana shown above the kanji they read.
"""

import pytest

from tests.browser import assert_page_ok, follow, requires_chromium

from .test_browser import page, portal_server, shot, sign_in  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), requires_chromium]


def write_easy_notice(browser, base: str, notice) -> None:
    """The clerk of consortium A writes the notice's Easy Japanese text in the admin."""
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    clerk = desk.new_page()
    clerk.goto(base + "/admin/login/")
    clerk.get_by_label("ユーザー名").fill("clerk_a")
    clerk.get_by_label("パスワード").fill("correct horse battery staple")
    clerk.get_by_role("button", name="ログイン").click()
    clerk.wait_for_url("**/admin/")
    clerk.goto(f"{base}/admin/consent/notice/{notice.pk}/change/")
    assert_page_ok(clerk, width=1280)
    clerk.get_by_label("通知（やさしい日本語）").fill(
        "市《し》は、あなたが 歩《ある》いた 数を 使います。\nいつでも やめられます。"
    )
    clerk.get_by_role("button", name="保存", exact=True).click()
    clerk.wait_for_url("**/admin/consent/notice/")
    desk.close()


def test_the_portal_in_easy_japanese(portal_server, page, purpose, resident, clerk_a):  # noqa: F811
    base = portal_server.url
    write_easy_notice(page.context.browser, base, purpose.current_notice)
    sign_in(page, base, "hanako@example.jp")
    follow(page.get_by_role("button", name="やさしい にほんご"))
    assert page.locator("html").get_attribute("lang") == "ja-easy"
    assert page.get_by_role("heading", name="あなたの 答えを 待って います").count() == 1
    # Furigana: the reading sits in <rt> above its kanji.
    ruby = page.locator("ruby").filter(has_text="市").first
    assert ruby.locator("rt").inner_text() == "し"
    assert_page_ok(page)
    shot(page, "easy-japanese-dashboard")

    follow(page.get_by_role("link", name="くわしい 説明と、これまでの 答え").first)
    assert_page_ok(page)
    page.get_by_role("link", name="お知らせ 第1版").click()
    page.wait_for_url("**/notices/1/")
    text = page.locator(".notice-text")
    assert "あなたが 歩" in text.inner_text() and text.locator("rt").first.inner_text() == "し"
    assert_page_ok(page)
    page.get_by_role("link", name="この 目的の ページに もどる").click()
    page.get_by_role("button", name="いいです", exact=True).click()
    page.wait_for_url("**/portal/**")
    assert_page_ok(page)
    for name in (
        "これまでの 答えと 受領書",
        "わたしの データを 使った ところ",
        "わたしの アカウント",
    ):
        page.goto(base + "/portal/")
        follow(page.get_by_role("link", name=name, exact=True))
        assert_page_ok(page)
    # Back to ordinary Japanese with the same switch.
    follow(page.get_by_role("button", name="日本語"))
    page.goto(base + "/portal/")
    assert page.locator("html").get_attribute("lang") == "ja"
