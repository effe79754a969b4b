"""
A meeting's story in headless Chromium: the secretariat announces it in the admin, a resident
registers on their phone (320 px, no JavaScript), the meeting is held and attendance recorded
at the door, comments collected there are entered with the channel "meeting", the minutes are
published and read on the public register, and the consultation's counts show the meeting.
Every page passes tests/browser.py's checks (axe-core; no sideways scroll at 320 px for
residents' and the register's pages).
"""

import datetime

import pytest
from django.utils import timezone

from participation import services
from participation.models import Comment, Meeting, Registration
from tests.browser import assert_page_ok, follow, requires_chromium
from tests.consent.test_browser import portal_server, sign_in

from .conftest import make_meeting
from .test_consultation_browser import DESKTOP, browser, desk, phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), requires_chromium]
server = portal_server
__all__ = ["browser", "server"]


def test_a_meeting_announced_attended_minuted_and_its_comments_counted(
    server, browser, consortium_a, clerk_a, resident, consultation
):
    base = server.url
    meeting = make_meeting(consortium_a, clerk_a, consultations=[consultation], announce=False)

    # The secretariat announces it from the meetings list.
    clerk = desk(browser, base)
    clerk.goto(f"{base}/admin/participation/meeting/")
    assert_page_ok(clerk, width=DESKTOP)
    clerk.check(f"input[name=_selected_action][value='{meeting.pk}']")
    clerk.select_option("select[name=action]", "announce")
    clerk.click("button[name=index]")
    clerk.wait_for_load_state()
    assert "1件の説明会を告知しました" in clerk.locator("ul.messagelist").inner_text()
    assert Meeting.objects.get().status == Meeting.Status.ANNOUNCED

    # Hanako registers on her phone.
    hanako = phone(browser)
    sign_in(hanako, base, "hanako@example.jp")
    follow(hanako.get_by_role("link", name="説明会", exact=True))
    assert_page_ok(hanako)
    follow(hanako.get_by_role("link", name=meeting.title_ja))
    assert "残り30席" in hanako.content()
    assert_page_ok(hanako)
    follow(hanako.get_by_role("button", name="参加を申し込む"))
    assert "申し込みました" in hanako.locator("#messages").inner_text()
    assert hanako.get_by_role("button", name="申込を取り消す").is_visible()
    assert_page_ok(hanako)
    registration = Registration.objects.get()

    # The meeting starts (moved into the past rather than waited for): attendance at the door.
    now = timezone.now()
    Meeting.objects.filter(pk=meeting.pk).update(
        starts_at=now - datetime.timedelta(hours=1), ends_at=now + datetime.timedelta(hours=1)
    )
    clerk.goto(f"{base}/admin/participation/meeting/{meeting.pk}/attendance/")
    assert_page_ok(clerk, width=DESKTOP)
    clerk.check(f"input[name=present][value='{registration.pk}']")
    clerk.fill("input[name=walk_ins]", "12")
    clerk.get_by_role("button", name="出席を記録する").click()
    clerk.wait_for_url(f"**/admin/participation/meeting/{meeting.pk}/change/")
    assert_page_ok(clerk, width=DESKTOP)
    assert Meeting.objects.get().status == Meeting.Status.HELD

    # A comment collected at the meeting, entered from the meeting's page.
    follow(
        clerk.get_by_role("link", name=f"説明会で受け付けた意見を入力する：{consultation.title_ja}")
    )
    assert_page_ok(clerk, width=DESKTOP)
    clerk.fill("textarea[name=text]", "駅前にもセンサーを置いてください。")
    clerk.click("input[name=_save]")
    clerk.wait_for_load_state()
    comment = Comment.objects.get()
    assert (comment.channel, comment.meeting_id) == ("meeting", meeting.pk)
    # The other nine comment cards of that evening, entered the same way.
    for number in range(9):
        services.comment_enter_offline(
            actor=clerk_a,
            consultation=consultation,
            channel="meeting",
            text=f"会場での意見 {number}",
            meeting=meeting,
        )

    # The minutes are published; an empty text is refused first.
    clerk.goto(f"{base}/admin/participation/meeting/{meeting.pk}/minutes/")
    assert_page_ok(clerk, width=DESKTOP)
    follow(clerk.get_by_role("button", name="議事録を公開する"))
    assert "議事録を書いてから公開してください。" in clerk.content()
    assert Meeting.objects.get().status == Meeting.Status.HELD
    clerk.fill("textarea[name=minutes_ja]", "駅前への設置に賛成の意見が多く出ました。")
    clerk.get_by_role("button", name="議事録を公開する").click()
    clerk.wait_for_url(f"**/admin/participation/meeting/{meeting.pk}/change/")
    assert Meeting.objects.get().status == Meeting.Status.MINUTES

    # Hanako reads them in the portal; the register shows them and the counts by channel.
    hanako.goto(f"{base}/portal/meetings/{meeting.pk}/")
    assert "駅前への設置に賛成の意見が多く出ました。" in hanako.content()
    assert_page_ok(hanako)
    public = phone(browser)
    public.goto(f"{base}/register/{consortium_a.slug}/meetings/")
    assert_page_ok(public)
    follow(public.get_by_role("link", name=meeting.title_ja))
    text = public.content()
    assert "駅前への設置に賛成の意見が多く出ました。" in text and "議事録公開" in text
    assert_page_ok(public)
    follow(public.get_by_role("link", name=consultation.title_ja))
    row = public.get_by_role("row", name="説明会")
    assert row.get_by_role("cell").inner_text() == "10"
    assert_page_ok(public)
