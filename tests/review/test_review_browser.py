"""
The review pages in headless Chromium (Debian's package, never a downloaded build), in Japanese,
at a phone's width, without JavaScript: a requester files, a reviewer asks for changes, the
requester resubmits, and the board approves. Screenshots go to var/screenshots/.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from review import services
from review.models import ReviewTicket

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
PASSWORD = "correct horse battery staple"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (/usr/bin/chromium)"),
]


@pytest.fixture(scope="session")
def review_server(request, django_db_setup, django_db_blocker):
    # MEDIA_URL is None (attachments are served only through a view that checks access), but
    # Django's live server wraps a media-files handler that needs a string prefix.
    if settings.MEDIA_URL is None:
        settings.MEDIA_URL = "/private-media-not-served/"
    server = request.getfixturevalue("live_server")
    yield server
    connection = connections["default"]
    if connection.vendor == "postgresql":
        # Once, when the session ends (depending on django_db_setup, before the test database
        # is dropped): ending connections after each test also ended the ones the next test
        # had opened. The server stops first; live_server's own stop then finds it stopped.
        server.stop()
        # A connection the server opened can outlive it; end it so the database drops.
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture
def browser(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # meanwhile are still synchronous. Only for this test.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def new_page(browser):
    context = browser.new_context(
        viewport={"width": 360, "height": 780}, locale="ja-JP", java_script_enabled=False
    )
    return context.new_page()


def shot(page, name: str) -> None:
    folder = Path(settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"review-{name}.png"), full_page=True)


def sign_in(browser, base: str, username: str):
    page = new_page(browser)
    page.goto(f"{base}/review/")
    assert "/review/signin/" in page.url  # anonymous visitors are sent to sign in
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    return page


def state_of(ticket_id) -> str:
    return ReviewTicket.objects.get(pk=ticket_id).state


def test_file_request_changes_resubmit_approve(
    review_server, browser, consortium_a, clerk_a, board_a, rep_a, purpose_a, category_a
):
    base = review_server.url

    # The requester files the request through the form, in Japanese.
    page = sign_in(browser, base, "rep_a")
    page.click("text=新しく申請する")
    page.fill("input[name=title]", "オンデマンド交通の配車最適化")
    page.fill("input[name=service_name]", "あいづ乗合")
    page.select_option("select[name=purpose]", str(purpose_a.pk))
    page.check(f"input[name=categories][value='{category_a.pk}']")
    page.fill("input[name=retention_days]", "365")
    page.fill("textarea[name=deletion_method]", "保存期間の終了後に消去する")
    page.fill("textarea[name=security_measures]", "暗号化とアクセス制御")
    page.fill("input[name=pia-0-risk]", "再識別")
    page.select_option("select[name=pia-0-likelihood]", "medium")
    page.select_option("select[name=pia-0-impact]", "high")
    page.fill("textarea[name=pia-0-mitigation]", "仮名化と集計")
    shot(page, "1-file")
    page.click("text=下書きを保存")
    page.wait_for_load_state()
    assert "申請を下書きとして保存しました。" in page.content()
    page.click("text=審査会に提出する")
    page.wait_for_load_state()
    assert "申請を審査会に提出しました。" in page.content()
    ticket = ReviewTicket.objects.get(title="オンデマンド交通の配車最適化")
    assert ticket.state == ReviewTicket.State.SUBMITTED

    # The secretariat assigns three experts and opens the review.
    for reviewer in (board_a.legal, board_a.security, board_a.data):
        services.reviewer_assign(actor=clerk_a, ticket=ticket, reviewer=reviewer)
    services.ticket_review_start(actor=clerk_a, ticket=ticket)

    # The lawyer declares no conflict, reads the request and asks for changes.
    reviewer = sign_in(browser, base, "reviewer_a")
    reviewer.click("text=オンデマンド交通の配車最適化")
    reviewer.wait_for_load_state()
    assert "暗号化とアクセス制御" not in reviewer.content()  # not before the declaration
    reviewer.check("input[name=has_conflict][value=no]")
    reviewer.click("text=申告する")
    reviewer.wait_for_load_state()
    assert "暗号化とアクセス制御" in reviewer.content()
    for other in (board_a.security, board_a.data):
        services.conflict_declare(actor=other, ticket=ticket, has_conflict=False)
        services.review_vote_cast(actor=other, ticket=ticket, choice="request_changes")
    reviewer.check("input[name=choice][value=request_changes]")
    reviewer.fill("textarea[name=reason]", "保存期間が長すぎます")
    shot(reviewer, "2-vote")
    reviewer.click("text=投票する")
    reviewer.wait_for_load_state()
    assert "投票を記録しました。" in reviewer.content()
    assert state_of(ticket.pk) == ReviewTicket.State.CHANGES_REQUESTED

    # The requester shortens the retention and resubmits; the board sees what changed.
    page.goto(f"{base}/review/{ticket.pk}/")
    assert "修正依頼中" in page.content()
    page.click("text=申請内容を編集")
    page.fill("input[name=retention_days]", "90")
    page.click("text=下書きを保存")
    page.click("text=審査会に再提出する")
    page.wait_for_load_state()
    assert "修正した申請を審査会に再提出しました。" in page.content()
    assert state_of(ticket.pk) == ReviewTicket.State.IN_REVIEW

    # The board approves; the lawyer's conditions become part of the approval.
    for other in (board_a.security, board_a.data):
        services.review_vote_cast(actor=other, ticket=ticket, choice="approve")
    reviewer.goto(f"{base}/review/{ticket.pk}/")
    assert "第2ラウンドでの変更点" in reviewer.content()
    reviewer.check("input[name=choice][value=approve_with_conditions]")
    reviewer.fill("textarea[name=obligation-0-text]", "年1回、利用状況を報告すること")
    reviewer.click("text=投票する")
    assert state_of(ticket.pk) == ReviewTicket.State.APPROVED
    reviewer.click("text=決定記録")
    reviewer.wait_for_load_state()
    assert "年1回、利用状況を報告すること" in reviewer.content()
    assert "審査会が申請を承認しました。" in reviewer.content()
    shot(reviewer, "3-decision")

    page.goto(f"{base}/review/{ticket.pk}/")
    assert "承認" in page.content() and "年1回、利用状況を報告すること" in page.content()
