"""
The requester's decision notice: its own report kind, without per-member votes or raw codes,
made when the board decides, on the requester's ticket page, and mailed about.
"""

import pytest
from django.core import mail
from django.urls import reverse

from audit import reports as audit_reports
from audit.models import Report
from review import services
from review.models import ReviewTicket
from review.reports import REQUESTER_LETTER, document_number
from tests.audit.reports_helpers import pdf_text
from tests.governance.test_reports import build
from tests.review.test_review_pages import client, people  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
REASON = "委員個人の理由：安全管理は十分"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.REVIEW_REQUESTER_LETTER_ON_DECISION = True


@pytest.fixture
def decided(in_review, board_a, django_capture_on_commit_callbacks):
    """Approved with structured conditions; the notice queued and built after the commit."""
    from tests.review.conftest import AUDIT, REPORT

    ticket = in_review()
    services.review_vote_cast(
        actor=board_a.legal,
        ticket=ticket,
        choice="approve_with_conditions",
        obligations=[REPORT, AUDIT],
        reason=REASON,
    )
    services.review_vote_cast(actor=board_a.security, ticket=ticket, choice="approve")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.review_vote_cast(actor=board_a.data, ticket=ticket, choice="approve")
    ticket.refresh_from_db()
    assert ticket.state == ReviewTicket.State.APPROVED
    return ticket


def test_the_notice_is_made_and_the_requester_told_when_the_board_decides(decided, rep_a):
    report = Report.objects.get(kind=REQUESTER_LETTER)
    assert report.parameters == {"ticket": decided.pk} and report.requested_by is None
    assert report.state == Report.State.DONE  # the suite runs django-q synchronously
    told = [message for message in mail.outbox if rep_a.email in message.to]
    assert told and "審査結果通知書" in told[0].body  # mails go out in the site language


def test_the_notice_says_what_was_decided_without_votes_or_codes(decided, tmp_path, board_a):
    text = pdf_text(build(tmp_path, REQUESTER_LETTER, "en", ticket=decided.pk))
    assert "Notice of the data ethics board's decision" in text
    assert document_number(decided) in text
    assert decided.requester.name_en in text or decided.requester.name_ja in text
    assert "approved" in text and "with the conditions below" in text
    assert decided.valid_from.isoformat() in text and decided.valid_until.isoformat() in text
    assert "periodic report" in text and "security audit" in text and "(critical)" in text
    # No per-member vote, no reviewer's name, no reason, no raw code.
    for name in (board_a.legal, board_a.security, board_a.data):
        assert name.username not in text and (not name.last_name or name.last_name not in text)
    for label in ("approve with conditions", "request changes", "abstain", "no vote"):
        assert label not in text
    assert REASON not in text
    for code in ("ticket.", "security_audit", "periodic_report", "approve_with_conditions"):
        assert code not in text
    japanese = pdf_text(build(tmp_path, REQUESTER_LETTER, "ja", ticket=decided.pk))
    assert "承認" in japanese and "セキュリティ監査" in japanese


def test_a_rejection_notice(in_review, board_a, tmp_path):
    ticket = in_review()
    for reviewer in (board_a.legal, board_a.security, board_a.data):
        services.review_vote_cast(actor=reviewer, ticket=ticket, choice="reject")
    text = pdf_text(build(tmp_path, REQUESTER_LETTER, "en", ticket=ticket.pk))
    assert "rejected" in text and "may not be used" in text


NOTICE = {
    "requester": True,
    "other_requester": False,
    "clerk_a": True,
    "clerk_b": False,
    "reviewer": False,  # the board has its own letter
    "unassigned_board": False,
    "reviewer_b": False,
}


@pytest.mark.parametrize("who", NOTICE)
def test_who_has_the_notice(client, people, decided, who):  # noqa: F811
    user = people[who]
    report = Report.objects.get(kind=REQUESTER_LETTER)
    assert (
        audit_reports.can_access(
            user, REQUESTER_LETTER, decided.consortium_id, parameters={"ticket": decided.pk}
        )
        is NOTICE[who]
    )
    client.force_login(user)
    download = client.get(reverse("review:report_download", args=[report.pk]))
    assert download.status_code == (200 if NOTICE[who] else 404)
    page = client.get(reverse("review:ticket", args=[decided.pk]))
    if page.status_code == 200:
        assert ('id="notice-heading"' in page.content.decode()) is NOTICE[who]
    again = client.post(reverse("review:notice_request", args=[decided.pk]), {"language": "en"})
    assert again.status_code == (302 if NOTICE[who] else 404)
