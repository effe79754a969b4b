"""The data-ethics board's decision letter as a report (audit_report and the report admin)."""

import io

import pytest
from django.core.management import CommandError
from django.urls import reverse

from audit import actions
from audit import services as audit_services
from audit.models import Report
from governance import demo
from review import demo as review_demo
from review.models import ReviewTicket
from tests.audit.reports_helpers import pdf_fonts, pdf_text
from tests.governance.test_reports import build

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def aizu():
    demo.seed(stdout=io.StringIO())
    return demo.demo_consortium()


@pytest.fixture
def decided_ticket(aizu):
    review_demo.seed()
    audit_services.seal()
    return ReviewTicket.objects.get(title=review_demo.REVIEW_APPROVED_TITLE)


def test_the_decision_letter_of_an_approved_request(decided_ticket, tmp_path):
    from audit.models import Entry

    data = build(tmp_path, "governance.decision_letter", "en", ticket=decided_ticket.pk)
    text = pdf_text(data)
    assert "Decision of the data ethics board" in text
    assert decided_ticket.title in text and decided_ticket.service_name in text
    assert "Planning on-demand buses" in text and "Ride and trip history" in text
    assert decided_ticket.valid_until.isoformat() in text
    assert decided_ticket.conditions.split()[0] in text
    # Every board member is named with their vote; the audit entries of the request are listed.
    assert "legal approve with conditions" in text and "security approve with conditions" in text
    seqs = Entry.objects.filter(
        object_type="review.reviewticket", object_id=str(decided_ticket.pk)
    ).values_list("seq", "action")
    # In words: the log keeps the codes, the letter says what happened.
    assert seqs and all(str(actions.label(action)) in text for _, action in seqs)
    assert not any(action in text for _, action in seqs)
    assert "Chair of the data ethics board" in text
    data = build(tmp_path, "governance.decision_letter", "ja", ticket=decided_ticket.pk)
    text = pdf_text(data)
    assert "審査結果通知書" in text and "条件付き承認" in text
    # Names as Japanese documents write them: family name first.
    assert "佐藤 健" in text and "健 佐藤" not in text
    assert "IPAexGothic" in pdf_fonts(data)


def test_an_undecided_request_has_no_letter(decided_ticket, tmp_path):
    pending = ReviewTicket.objects.get(title=review_demo.REVIEW_IN_REVIEW_TITLE)
    with pytest.raises(CommandError, match="--param ticket"):
        build(tmp_path, "governance.decision_letter", ticket=pending.pk)
    report = audit_services.report_request(
        actor=None,
        kind="governance.decision_letter",
        parameters={"ticket": pending.pk},
        consortium_id=pending.consortium_id,
        enqueue=False,
    )
    report = audit_services.report_build(report_id=report.pk)
    assert report.state == Report.State.FAILED and report.failure_reason


def test_another_consortiums_clerk_cannot_request_the_letter(decided_ticket, client, clerk_b):
    client.force_login(clerk_b)
    url = reverse("admin:audit_report_request") + "?kind=governance.decision_letter"
    response = client.post(
        url, {"kind": "governance.decision_letter", "ticket": decided_ticket.pk, "language": "ja"}
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not Report.objects.exists()
