"""
The public register in headless Chromium, signed out and without scripts: every page read at a
phone's width passes tests/browser.py's checks (axe-core, no sideways scroll at 320 px), in
Japanese and in English.
"""

import pytest

from tests.browser import assert_page_ok, launch, requires_chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), requires_chromium]


@pytest.fixture
def page(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(
            viewport={"width": 360, "height": 780}, locale="ja-JP", java_script_enabled=False
        )
        yield context.new_page()
        context.close()
        browser.close()


def test_every_register_page_reads_on_a_phone_without_scripts(live_server, page, register):
    slug = register["consortium"].slug
    paths = [
        "/register/",
        f"/register/{slug}/",
        f"/register/{slug}/uses/",
        f"/register/{slug}/uses/{register['approved'].pk}/",
        f"/register/{slug}/uses/{register['rejected'].pk}/",
        f"/register/{slug}/members/",
        f"/register/{slug}/bylaws/",
        f"/register/{slug}/bylaws/1/",
        f"/register/{slug}/resolutions/",
        f"/register/{slug}/statistics/",
        f"/register/{slug}/data/",
        "/register/checkpoint/",
    ]
    for path in paths:
        for lang_path in (path, f"/en{path}"):
            response = page.goto(live_server.url + lang_path)
            assert response.status == 200, lang_path
            assert_page_ok(page)
    # The language link leads to the same page in the other language.
    page.goto(f"{live_server.url}/register/{slug}/members/")
    page.click("a.language-link")
    assert page.url.endswith(f"/en/register/{slug}/members/")
    assert page.locator("html").get_attribute("lang") == "en"
