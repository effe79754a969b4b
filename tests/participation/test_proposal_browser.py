"""
A proposal's story in headless Chromium: a resident proposes an idea on their phone (320 px, no
JavaScript), another resident supports it, the secretariat answers it in the admin, and the
answer shows in the author's portal and on the public register. Every page passes
tests/browser.py's checks (axe-core; no sideways scroll at 320 px for residents' pages).
"""

import pytest

from participation.models import Proposal
from tests.browser import assert_page_ok, follow, requires_chromium
from tests.consent.test_browser import portal_server, sign_in

from .test_consultation_browser import DESKTOP, browser, desk, phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), requires_chromium]
server = portal_server
__all__ = ["browser", "server"]


def test_a_proposal_supported_answered_and_published(
    server, browser, consortium_a, clerk_a, resident, other_resident
):
    base = server.url

    # Hanako proposes on her phone; an empty proposal is refused first, keeping what she typed.
    hanako = phone(browser)
    sign_in(hanako, base, "hanako@example.jp")
    follow(hanako.get_by_role("link", name="提案", exact=True))
    assert_page_ok(hanako)
    follow(hanako.get_by_role("link", name="アイデアを提案する"))
    assert_page_ok(hanako)
    hanako.get_by_label("題名").fill("駅前に混雑センサーを")
    follow(hanako.get_by_role("button", name="提案を送信する"))
    assert "提案の内容を書いてから送信してください。" in hanako.content()
    assert hanako.get_by_label("題名").input_value() == "駅前に混雑センサーを"
    assert_page_ok(hanako)
    assert not Proposal.objects.exists()
    hanako.get_by_label("提案の種類").select_option(label="センサーの設置場所")
    hanako.get_by_label("提案の内容").fill("朝の駅前の混雑を測り、バスの本数に生かしてください。")
    follow(hanako.get_by_role("button", name="提案を送信する"))
    assert "提案を公開しました" in hanako.locator("#messages").inner_text()
    assert_page_ok(hanako)
    proposal = Proposal.objects.get()

    # Taro supports it.
    taro = phone(browser)
    sign_in(taro, base, "taro@example.jp")
    taro.goto(f"{base}/portal/proposals/")
    follow(taro.get_by_role("link", name="駅前に混雑センサーを"))
    assert_page_ok(taro)
    follow(taro.get_by_role("button", name="この提案に賛同する"))
    assert "1件の賛同" in taro.content()
    assert taro.get_by_role("button", name="賛同を取り消す").is_visible()
    assert_page_ok(taro)

    # The secretariat answers it in the admin.
    clerk = desk(browser, base)
    clerk.goto(f"{base}/admin/participation/proposal/?status__exact=published")
    assert "駅前に混雑センサーを" in clerk.content()
    assert_page_ok(clerk, width=DESKTOP)
    clerk.goto(f"{base}/admin/participation/proposal/{proposal.pk}/change/")
    assert_page_ok(clerk, width=DESKTOP)
    clerk.select_option("select[name=decision]", "answer")
    clerk.select_option("select[name=outcome]", "accepted")
    clerk.fill("textarea[name=reasons_ja]", "来年度の交通計画に入れます。")
    clerk.click("input[name=_save]")
    clerk.wait_for_load_state()
    assert Proposal.objects.get().status == Proposal.Status.ANSWERED

    # Hanako reads the answer; the public register shows it.
    hanako.goto(f"{base}/portal/my-proposals/")
    card = hanako.locator(f"#proposal-{proposal.pk}").inner_text()
    assert "計画に採用" in card and "来年度の交通計画に入れます。" in card
    assert_page_ok(hanako)
    public = phone(browser)
    public.goto(f"{base}/register/{consortium_a.slug}/proposals/")
    text = public.content()
    assert "駅前に混雑センサーを" in text and "来年度の交通計画に入れます。" in text
    assert_page_ok(public)
