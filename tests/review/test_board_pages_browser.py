"""
The board's pages as board members found them, fixed, in headless Chromium (Japanese, a phone's
width, no JavaScript): the queue says what each member must do next; the conflict step shows the
purpose; the page says a vote is final before it is cast; a refused vote keeps what was typed,
with the error on the field (aria-invalid); the secretariat's picker shows expertise; the
decision record says what happened in words, with the reasons.
"""

import pytest
from django.test import Client
from django.urls import reverse

from review import services
from review.models import ReviewTicket
from tests.browser import assert_page_ok

from .test_review_browser import browser, review_server, shot, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def row_of(page, ticket) -> str:
    return page.locator("tr", has_text=f"#{ticket.pk} ").inner_text()


def test_a_board_member_declares_sees_the_purpose_and_a_refused_vote_keeps_the_reason(
    review_server,  # noqa: F811
    browser,  # noqa: F811
    make_ticket,
    clerk_a,
    board_a,
    rep_a,
    purpose_a,
):
    base = review_server.url
    ticket = services.ticket_submit(actor=rep_a, ticket=make_ticket())
    for reviewer in (board_a.legal, board_a.security, board_a.data):
        services.reviewer_assign(actor=clerk_a, ticket=ticket, reviewer=reviewer)
    services.conflict_declare(actor=board_a.security, ticket=ticket, has_conflict=False)
    services.conflict_declare(actor=board_a.data, ticket=ticket, has_conflict=False)
    services.ticket_review_start(actor=clerk_a, ticket=ticket)

    # The queue says what this member must do next: declare, not just "in review".
    page = sign_in(browser, base, "reviewer_a")
    assert "利益相反を申告してください" in row_of(page, ticket)
    assert_page_ok(page)
    shot(page, "fix-1-queue")

    # The conflict step shows the purpose the declaration is about.
    page.click(f"text=#{ticket.pk} ")
    declaration = page.locator("section.declare").inner_text()
    assert purpose_a.title_ja in declaration and "配車のため" in declaration
    assert_page_ok(page)
    page.check("input[name=has_conflict][value=no]")
    page.click("text=申告する")

    # Before voting, the page says a vote is final.
    assert "投票は最終的なもの" in page.locator("#vote-final").inner_text()
    # An approval with conditions but no conditions: refused, the reason kept, the error on
    # the field, which says it is invalid.
    page.check("input[name=choice][value=approve_with_conditions]")
    page.fill("textarea[name=reason]", "安全管理措置は十分だが報告を求めたい")
    page.click("text=投票する")
    conditions = page.locator("textarea[name=obligation-0-text]")
    assert conditions.get_attribute("aria-invalid") == "true"
    error_id = conditions.get_attribute("aria-describedby")
    assert "承認の条件を記入してください" in page.locator(f"#{error_id}").inner_text()
    assert page.input_value("textarea[name=reason]") == "安全管理措置は十分だが報告を求めたい"
    assert page.is_checked("input[name=choice][value=approve_with_conditions]")
    assert not ticket.votes.filter(assignment__reviewer=board_a.legal).exists()
    assert_page_ok(page)
    shot(page, "fix-2-refused-vote")
    page.fill("textarea[name=obligation-0-text]", "年1回、利用状況を報告すること")
    page.click("text=投票する")
    page.wait_for_load_state()
    assert "投票を記録しました。" in page.content()
    page.goto(f"{base}/review/")
    assert "投票済み" in row_of(page, ticket)

    # The others vote; the decision record says what happened in words, with the reasons.
    services.review_vote_cast(
        actor=board_a.security, ticket=ticket, choice="approve", reason="暗号化が適切"
    )
    services.review_vote_cast(actor=board_a.data, ticket=ticket, choice="approve")
    assert ReviewTicket.objects.get(pk=ticket.pk).state == ReviewTicket.State.APPROVED
    page.goto(f"{base}/review/{ticket.pk}/decision/")
    record = page.content()
    assert "審査会が申請を承認しました。" in record and "委員が投票しました。" in record
    assert "ticket.vote_cast" not in record and "ticket.approved" not in record
    assert "暗号化が適切" in record and "安全管理措置は十分だが報告を求めたい" in record
    assert_page_ok(page)
    shot(page, "fix-3-decision")


def test_the_secretariat_picks_reviewers_by_expertise(
    review_server,  # noqa: F811
    browser,  # noqa: F811
    make_ticket,
    clerk_a,
    board_a,
    rep_a,
):
    base = review_server.url
    ticket = services.ticket_submit(actor=rep_a, ticket=make_ticket())
    page = sign_in(browser, base, "clerk_a")
    assert "審査委員を割り当て、審査を開始してください" in row_of(page, ticket)
    page.goto(f"{base}/review/{ticket.pk}/")
    options = page.locator("select[name=reviewer] option").all_inner_texts()
    assert any("セキュリティ" in option for option in options)
    assert any("法律" in option for option in options)
    assert_page_ok(page)


def test_the_requester_queue_says_what_to_do(client: Client, make_ticket, rep_a, board_a):
    draft = make_ticket()
    client.force_login(rep_a)
    body = client.get(reverse("review:queue")).content.decode()
    assert "申請を仕上げて提出してください" in body
    services.ticket_submit(actor=rep_a, ticket=draft)
    body = client.get(reverse("review:queue")).content.decode()
    assert "審査会の審査待ち" in body
