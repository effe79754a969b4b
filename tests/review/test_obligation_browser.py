"""
An obligation in headless Chromium (Japanese, a phone's width, no JavaScript): the requester
files evidence with a file on the obligation's page, a board member rejects it with a reason,
the requester files again, and the board member accepts it. Each page passes assert_page_ok.
"""

import pytest

from review.models import Obligation
from tests.browser import assert_page_ok, follow

from .test_review_browser import browser, review_server, shot, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


def test_the_requester_files_evidence_and_the_board_rejects_then_accepts(
    review_server,  # noqa: F811
    browser,  # noqa: F811
    approve,
    rep_a,
    board_a,
    tmp_path,
):
    base = review_server.url
    ticket = approve()
    obligation = ticket.obligations.get(kind="security_audit")

    # The requester finds the obligation on the ticket page and opens it.
    page = sign_in(browser, base, rep_a.username)
    page.goto(f"{base}/review/{ticket.pk}/")
    table = page.locator("table.obligations").inner_text()
    assert "セキュリティ監査" in table and "未履行" in table
    assert_page_ok(page)
    page.click("table.obligations >> text=外部のセキュリティ監査を受けること")
    page.wait_for_load_state()
    assert page.url.endswith(f"/review/{ticket.pk}/obligations/{obligation.pk}/")
    assert_page_ok(page)
    shot(page, "obligation-1-owed")

    # The text is required (the server refuses it too: test_obligation_pages.py).
    assert page.locator("textarea[name=text]").get_attribute("required") is not None
    evidence_file = tmp_path / "audit.pdf"
    evidence_file.write_bytes(PDF)
    page.fill("textarea[name=text]", "第三者監査の報告書を添付します")
    page.set_input_files("input[name=files]", str(evidence_file))
    page.click("text=審査会に提出する")
    page.wait_for_load_state()
    assert "履行報告を審査会に提出しました。" in page.content()
    assert "audit.pdf" in page.content()
    assert_page_ok(page)
    shot(page, "obligation-2-filed")

    # A board member rejects it, saying why.
    board = sign_in(browser, base, board_a.security.username)
    board.goto(f"{base}/review/{ticket.pk}/obligations/{obligation.pk}/")
    assert "第三者監査の報告書を添付します" in board.content()
    assert_page_ok(board)
    board.fill("textarea[name=reason]", "監査の範囲にアクセスログが含まれていません")
    board.click("text=履行報告を差し戻す")
    board.wait_for_load_state()
    assert "差し戻し" in board.locator("dl.request").inner_text()
    obligation.refresh_from_db()
    assert obligation.state == Obligation.State.REJECTED
    shot(board, "obligation-3-rejected")

    # The requester reads why, and files again; the board member accepts.
    page.reload()
    assert "監査の範囲にアクセスログが含まれていません" in page.content()
    page.fill("textarea[name=text]", "アクセスログを含めて再監査しました")
    page.click("text=審査会に提出する")
    board.reload()
    board.click("text=履行報告を承認する")
    board.wait_for_load_state()
    assert "承認済み" in board.locator("dl.request").inner_text()
    assert_page_ok(board)
    shot(board, "obligation-4-accepted")
    obligation.refresh_from_db()
    assert obligation.state == Obligation.State.ACCEPTED


def test_the_secretariat_follows_obligations_in_the_admin(
    review_server,  # noqa: F811
    browser,  # noqa: F811
    approve,
    clerk_a,
):
    base = review_server.url
    ticket = approve()
    audit = ticket.obligations.get(kind="security_audit")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    page.goto(f"{base}/admin/login/")
    page.get_by_label("ユーザー名").fill(clerk_a.username)
    page.get_by_label("パスワード").fill("correct horse battery staple")
    follow(page.get_by_role("button", name="ログイン"))
    page.goto(f"{base}/admin/review/obligation/")
    assert page.url.endswith("/admin/review/obligation/"), page.url
    assert "外部のセキュリティ監査を受けること" in page.content()
    assert_page_ok(page, width=1280)
    page.goto(f"{base}/admin/review/obligation/?state__exact=open&ticket={ticket.pk}")
    assert_page_ok(page, width=1280)
    page.goto(f"{base}/admin/review/obligation/{audit.pk}/change/")
    assert "外部のセキュリティ監査を受けること" in page.content()
    assert_page_ok(page, width=1280)
    context.close()
