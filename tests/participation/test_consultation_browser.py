"""
A consultation's story in headless Chromium: the secretariat cannot open a purpose its policy
keeps for after a consultation; two residents comment on their phones (320 px, no JavaScript);
the secretariat hides one comment with a reason, which its author reads; the period ends; the
secretariat answers and publishes the result in the admin; the author reads the answer, the
public register shows the result, and the purpose then opens. Every page passes
tests/browser.py's checks (axe-core; no sideways scroll at 320 px for residents' pages).
"""

import datetime

import pytest
from django.utils import timezone

from consent.models import Purpose
from participation import services
from participation.models import Comment, Consultation
from tests.browser import assert_page_ok, follow, launch, requires_chromium
from tests.consent.test_browser import portal_server, sign_in

from .conftest import make_consultation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), requires_chromium]
server = portal_server
DESKTOP = 1280


@pytest.fixture
def browser(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


def phone(browser):
    context = browser.new_context(
        viewport={"width": 320, "height": 720}, locale="ja-JP", java_script_enabled=False
    )
    return context.new_page()


def desk(browser, base: str):
    page = browser.new_context(
        viewport={"width": DESKTOP, "height": 900}, locale="ja-JP"
    ).new_page()
    page.goto(base + "/admin/login/")
    page.get_by_label("ユーザー名").fill("clerk_a")
    page.get_by_label("パスワード").fill("correct horse battery staple")
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/admin/")
    return page


def open_purpose(page, base: str, purpose) -> str:
    """Run the purpose list's "open for consent" action; return the page's messages."""
    page.goto(base + "/admin/consent/purpose/")
    page.check(f"input[name=_selected_action][value='{purpose.pk}']")
    page.select_option("select[name=action]", "publish")
    page.click("button[name=index]")
    return page.locator("ul.messagelist").inner_text()


def comment_in_portal(page, base: str, email: str, consultation, text: str, age: str) -> None:
    sign_in(page, base, email)
    follow(page.get_by_role("link", name="意見募集", exact=True))
    assert_page_ok(page)
    follow(page.get_by_role("link", name=consultation.title_ja))
    assert "利用目的案と通知文の全文です。" in page.content()
    assert_page_ok(page)
    page.get_by_label("ご意見").fill(text)
    page.get_by_label("年代（任意）").select_option(label=age)
    follow(page.get_by_role("button", name="意見を送信する"))
    assert page.url.endswith("/portal/my-comments/#messages")
    assert "ご意見を送信しました" in page.locator("#messages").inner_text()
    assert text in page.content()
    assert_page_ok(page)


def test_a_consultation_from_opening_to_its_result_and_the_purpose_then_opens(
    server, browser, consortium_a, clerk_a, resident, other_resident, draft_purpose
):
    base = server.url
    services.consultation_policy_set(
        actor=clerk_a, consortium=consortium_a, required_for_sensitive=True
    )
    consultation = make_consultation(consortium_a, clerk_a, purpose=draft_purpose)

    # The secretariat cannot open the purpose yet, and is told why.
    clerk = desk(browser, base)
    assert "意見募集が必要です" in open_purpose(clerk, base, draft_purpose)
    assert Purpose.objects.get(pk=draft_purpose.pk).status == Purpose.Status.DRAFT

    # Two residents comment on their phones; an empty comment is refused first.
    hanako = phone(browser)
    sign_in(hanako, base, "hanako@example.jp")
    hanako.goto(f"{base}/portal/consultations/{consultation.pk}/")
    follow(hanako.get_by_role("button", name="意見を送信する"))
    assert "ご意見を書いてから送信してください。" in hanako.content()
    assert_page_ok(hanako)
    assert not Comment.objects.exists()
    hanako.context.close()
    hanako = phone(browser)
    comment_in_portal(
        hanako, base, "hanako@example.jp", consultation, "保存期間は1年で十分です。", "30代"
    )
    taro = phone(browser)
    comment_in_portal(
        taro, base, "taro@example.jp", consultation, "隣の山田さんに聞いてください。", "回答しない"
    )
    hidden = Comment.objects.get(resident=other_resident)

    # The secretariat hides one, saying why; its author reads the reason.
    clerk.goto(f"{base}/admin/participation/comment/{hidden.pk}/change/")
    assert_page_ok(clerk, width=DESKTOP)
    clerk.select_option("select[name=status]", "hidden")
    clerk.fill("textarea[name=hidden_reason]", "個人の氏名を含むため非公開にしました。")
    clerk.click("input[name=_save]")
    assert Comment.objects.get(pk=hidden.pk).status == Comment.Status.HIDDEN
    taro.goto(f"{base}/portal/my-comments/")
    card = taro.locator(f"#comment-{hidden.pk}").inner_text()
    assert "事務局により非公開になりました" in card and "個人の氏名を含むため" in card
    assert_page_ok(taro)

    # The period ends (moved into the past rather than waited for).
    now = timezone.now()
    Consultation.objects.filter(pk=consultation.pk).update(
        opens_at=now - datetime.timedelta(days=31), closes_at=now - datetime.timedelta(minutes=1)
    )
    clerk.goto(f"{base}/admin/participation/answer/add/?consultation={consultation.pk}")
    assert_page_ok(clerk, width=DESKTOP)
    kept = Comment.objects.get(resident=resident)
    clerk.check(f"input[name=comments][value='{kept.pk}']")
    clerk.fill("textarea[name=opinion_ja]", "保存期間を短くすべきとの意見")
    clerk.fill("textarea[name=response_ja]", "ご意見を踏まえ、保存期間を1年に短縮しました。")
    clerk.check("input[name=changed]")
    clerk.click("input[name=_save]")
    assert Comment.objects.get(pk=kept.pk).answer_id
    clerk.goto(f"{base}/admin/participation/consultation/{consultation.pk}/result/")
    assert_page_ok(clerk, width=DESKTOP)
    clerk.fill("textarea[name=result_ja]", "2名から意見がありました。")
    follow(clerk.get_by_role("button", name="結果を公示する"))
    assert Consultation.objects.get(pk=consultation.pk).status == Consultation.Status.ANSWERED

    # The author reads the answer in the portal; the register shows the result.
    hanako.goto(f"{base}/portal/my-comments/")
    assert "保存期間を1年に短縮しました" in hanako.locator(f"#comment-{kept.pk}").inner_text()
    assert_page_ok(hanako)
    public = phone(browser)
    public.goto(f"{base}/register/{consortium_a.slug}/consultations/{consultation.pk}/")
    text = public.content()
    assert "保存期間を短くすべきとの意見" in text and "保存期間は1年で十分です。" in text
    assert "隣の山田さん" not in text  # the hidden comment is not published
    assert_page_ok(public)

    # Now the purpose opens.
    assert "受付を開始しました" in open_purpose(clerk, base, draft_purpose)
    assert Purpose.objects.get(pk=draft_purpose.pk).status == Purpose.Status.OPEN
