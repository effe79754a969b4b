"""
The decision letter in headless Chromium (Debian's package), in Japanese, at a phone's width,
without JavaScript: a board member requests it on the ticket page, sees it queued, the queued
task runs, and the PDF is downloaded; then the public verification page tells that PDF from an
altered copy. Screenshots go to var/screenshots/.
"""

import pytest
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.signing import SignedPackage

from audit.models import Report
from review import services
from review.models import ReviewTicket
from tests.audit.reports_helpers import pdf_text
from tests.review import test_review_browser
from tests.review.test_review_browser import CHROMIUM, new_page, shot, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (/usr/bin/chromium)"),
]
CONDITIONS = "年1回、利用状況を報告すること"
# The review pages' live server and Chromium, shared with their browser test.
review_server = test_review_browser.review_server
browser = test_review_browser.browser


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def decided(in_review, board_a):
    ticket = in_review()
    services.review_vote_cast(
        actor=board_a.legal, ticket=ticket, choice="approve_with_conditions", conditions=CONDITIONS
    )
    for other in (board_a.security, board_a.data):
        services.review_vote_cast(actor=other, ticket=ticket, choice="approve")
    assert ReviewTicket.objects.get(pk=ticket.pk).state == ReviewTicket.State.APPROVED
    return ticket


@pytest.fixture
def queue_held_back():
    """
    Let requests queue their task with the broker instead of running it at once (the suite
    runs django-q2 synchronously), and hand back a function that runs what was queued.
    """
    Conf.SYNC = False
    broker = get_broker()
    broker.purge_queue()

    def run_queued() -> list:
        from django_q.tasks import _sync

        ran = []
        for task_id, package in broker.dequeue() or []:
            task = SignedPackage.loads(package)
            ran.append((task["func"], task["args"]))
            # What django-q2's own synchronous mode does: the package through a worker and
            # the monitor, exactly as the cluster would run it.
            _sync(package)
            if task_id is not None:
                broker.acknowledge(task_id)
        return ran

    yield run_queued
    broker.purge_queue()
    Conf.SYNC = True


def test_a_board_member_requests_follows_and_downloads_the_letter_then_verifies_it(
    review_server, browser, decided, board_a, queue_held_back, tmp_path
):
    base = review_server.url
    page = sign_in(browser, base, "reviewer_a")
    page.goto(f"{base}/review/{decided.pk}/")
    assert "審査結果通知書（PDF）" in page.content()
    page.select_option("select[name=language]", "ja")
    shot(page, "letter-1-request")
    page.click("text=審査結果通知書を請求する")

    # The reports page: the letter is queued, and the list updates until it is done.
    assert page.url.endswith("/review/reports/")
    assert "審査結果通知書の作成を受け付けました" in page.content()
    report = Report.objects.get(kind="governance.decision_letter")
    assert report.state == Report.State.QUEUED and report.requested_by == board_a.legal
    row = page.locator(f"#report-{report.pk}")
    assert "待機中" in row.inner_text()
    # It updates in place (a status line, no <meta> refresh sending the reader to the top).
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    assert page.locator("[data-refresh-status][role=status]").count() == 1
    assert row.locator("text=PDFをダウンロード").count() == 0
    shot(page, "letter-2-queued")
    # Back on the ticket (a page that does not refresh itself), the letter shows as queued too.
    page.goto(f"{base}/review/{decided.pk}/")
    assert "待機中" in page.locator("section.letter").inner_text()

    # The queued task runs.
    assert queue_held_back() == [("audit.tasks.build_report", (report.pk,))]
    report.refresh_from_db()
    assert report.state == Report.State.DONE

    page.click("text=報告書一覧 >> nth=0")
    page.wait_for_load_state()
    assert page.url.endswith("/review/reports/")
    row = page.locator(f"#report-{report.pk}")
    assert "完了" in row.inner_text()
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    shot(page, "letter-3-done")
    with page.expect_download() as download:
        row.locator("text=PDFをダウンロード").click()
    genuine = tmp_path / "letter.pdf"
    download.value.save_as(genuine)
    data = genuine.read_bytes()
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert "審査結果通知書" in text and CONDITIONS in text.replace(" ", "")

    # Anyone can check the file on the public page, without signing in.
    visitor = new_page(browser)
    visitor.goto(f"{base}/reports/verify")
    visitor.set_input_files("input[type=file]", str(genuine))
    visitor.click("main button[type=submit]")
    verdict = visitor.locator("#verdict")
    assert "本物です" in verdict.inner_text()
    assert str(Report.objects.get(kind="governance.decision_letter").audit_seq) in visitor.content()
    shot(visitor, "letter-4-genuine")

    altered = tmp_path / "altered.pdf"
    altered.write_bytes(data[:-10] + b"0" * 10)
    visitor.goto(f"{base}/reports/verify")
    visitor.set_input_files("input[type=file]", str(altered))
    visitor.click("main button[type=submit]")
    verdict = visitor.locator("#verdict")
    assert "見つかりません" in verdict.inner_text()
    assert visitor.locator(".result-ok").count() == 0
    shot(visitor, "letter-5-altered")


def test_a_board_member_not_on_the_ticket_is_offered_no_letter(
    review_server, browser, decided, board_a
):
    base = review_server.url
    page = sign_in(browser, base, "resident_a")  # on the board, never assigned to this ticket
    page.goto(f"{base}/review/{decided.pk}/")
    assert decided.title in page.content()
    assert "審査結果通知書を請求する" not in page.content()
    page.goto(f"{base}/review/reports/")
    assert "報告書はまだありません" in page.content()
