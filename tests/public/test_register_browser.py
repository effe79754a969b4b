"""
The public register in headless Chromium, signed out and without scripts: every page read at a
phone's width passes tests/browser.py's checks (axe-core, no sideways scroll at 320 px), in
Japanese, in やさしい日本語 and in English.
"""

import datetime
from decimal import Decimal

import pytest

from tests.browser import assert_page_ok, follow, launch, requires_chromium

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


def indicator_with_values(clerk, consortium) -> None:
    """A public indicator with two values and a review, for the scorecard."""
    from public import services

    indicator = services.indicator_define(
        actor=clerk,
        consortium=consortium,
        code="consent-rate",
        name_ja="歩数データの同意率",
        name_en="Consent rate for step counts",
        definition_ja="歩数データの利用に同意した住民の割合",
        unit="%",
        direction="increase",
        baseline_value=Decimal("20"),
        baseline_on=datetime.date(2026, 4, 1),
        target_value=Decimal("60"),
        target_on=datetime.date(2027, 3, 31),
        is_public=True,
    )
    for day, value in ((datetime.date(2026, 7, 1), "26"), (datetime.date(2026, 10, 1), "31.5")):
        services.measurement_record(
            actor=clerk, indicator=indicator, measured_on=day, value=Decimal(value), source="調査"
        )
    services.pdca_review_record(
        actor=clerk,
        indicator=indicator,
        decision="improve",
        period_start=datetime.date(2026, 4, 1),
        period_end=datetime.date(2026, 9, 30),
        assessment="目標に届く見込みがない",
        actions="紙の同意書を公民館で受け付ける",
    )


def test_every_register_page_reads_on_a_phone_without_scripts(live_server, page, register, clerk_a):
    from tests.participation.conftest import make_consultation, make_meeting

    slug = register["consortium"].slug
    indicator_with_values(clerk_a, register["consortium"])
    consultation = make_consultation(register["consortium"], clerk_a)
    meeting = make_meeting(register["consortium"], clerk_a)
    paths = [
        "/register/",
        f"/register/{slug}/",
        f"/register/{slug}/uses/",
        f"/register/{slug}/uses/{register['approved'].pk}/",
        f"/register/{slug}/uses/{register['rejected'].pk}/",
        f"/register/{slug}/members/",
        f"/register/{slug}/bylaws/",
        f"/register/{slug}/bylaws/1/",
        f"/register/{slug}/bylaws/1/to/1/",
        f"/register/{slug}/resolutions/",
        f"/register/{slug}/consultations/",
        f"/register/{slug}/consultations/{consultation.pk}/",
        f"/register/{slug}/proposals/",
        f"/register/{slug}/meetings/",
        f"/register/{slug}/meetings/{meeting.pk}/",
        f"/register/{slug}/statistics/",
        f"/register/{slug}/data/",
        f"/register/{slug}/scorecard/",
        "/register/checkpoint/",
    ]
    for path in paths:
        for lang_path in (path, f"/en{path}"):
            response = page.goto(live_server.url + lang_path)
            assert response.status == 200, lang_path
            assert_page_ok(page)
    # The language link leads to the same page in the other language.
    page.goto(f"{live_server.url}/register/{slug}/members/")
    follow(page.get_by_role("link", name="English"))
    assert page.url.endswith(f"/en/register/{slug}/members/")
    assert page.locator("html").get_attribute("lang") == "en"


def test_a_resident_reads_the_register_in_easy_japanese(live_server, page, register, clerk_a):
    """
    From the Japanese main page, the switch leads to the same page in やさしい日本語; each page
    a resident reads fits 320 px, is axe-core clean, and explains its hard words.
    """
    from tests.participation.conftest import make_consultation

    slug = register["consortium"].slug
    indicator_with_values(clerk_a, register["consortium"])
    page.goto(f"{live_server.url}/register/{slug}/")
    follow(page.get_by_role("link", name="やさしい にほんご"))
    assert page.url.endswith(f"/ja-easy/register/{slug}/")
    assert page.locator("html").get_attribute("lang") == "ja-easy"
    assert_page_ok(page)
    follow(page.get_by_role("link", name="住民の データの つかいかた"))
    assert page.get_by_role("heading", name="住民の データの つかいかた").count() == 1
    assert_page_ok(page)
    follow(page.get_by_role("link", name=register["approved"].title))
    terms = page.get_by_role("complementary", name="この ページの ことば")
    assert "ようはいりょ こじん じょうほう（要配慮個人情報）" in terms.inner_text()
    assert_page_ok(page)
    consultation = make_consultation(register["consortium"], clerk_a)
    for path in (
        "members/",
        "bylaws/",
        "scorecard/",
        "statistics/",
        "resolutions/",
        "consultations/",
        f"consultations/{consultation.pk}/",
        "proposals/",
        "data/",
    ):
        response = page.goto(f"{live_server.url}/ja-easy/register/{slug}/{path}")
        assert response.status == 200, path
        assert_page_ok(page)
    # The pages of the statistics, consultations, proposals and open data speak it too.
    page.goto(f"{live_server.url}/ja-easy/register/{slug}/proposals/")
    assert "こたえた ていあんは まだ ありません。" in page.content()
    page.goto(f"{live_server.url}/ja-easy/register/{slug}/consultations/{consultation.pk}/")
    assert "さんかした 人" in page.content()
    page.goto(f"{live_server.url}/ja-easy/register/{slug}/statistics/")
    assert "いまの どうい（つかいかた ごと）" in page.content()
    page.goto(f"{live_server.url}/ja-easy/register/{slug}/data/")
    assert "データを あつめる システムの ために" in page.content()
    page.goto(f"{live_server.url}/ja-easy/register/checkpoint/")
    assert page.get_by_role("heading", name="かんさ ログと その たしかめかた").count() == 1
    assert_page_ok(page)
    # And back to ordinary Japanese from the same page.
    follow(page.get_by_role("link", name="日本語"))
    assert page.url.endswith("/register/checkpoint/") and "/ja-easy/" not in page.url
