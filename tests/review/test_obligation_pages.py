"""
Obligations through HTTP: the board attaches structured conditions when it votes, the requester
files evidence on the obligation's page, the board accepts or rejects it, the secretariat waives;
everyone else gets the same 404.
"""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from review.models import Obligation, ReviewTicket
from tests.review.test_review_pages import client, people  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%%EOF\n"
EVIDENCE = "第三者監査の報告書を提出します"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


def url(name, obligation, **kwargs):
    return reverse(name, args=[obligation.ticket_id, obligation.pk])


def test_the_board_votes_with_structured_conditions(client, in_review, board_a):  # noqa: F811
    ticket = in_review()
    client.force_login(board_a.legal)
    rows = {
        "obligation-TOTAL_FORMS": "3",
        "obligation-INITIAL_FORMS": "0",
        "obligation-0-text": "外部監査",
        "obligation-0-kind": "security_audit",
        "obligation-0-due": "days",
        "obligation-0-days": "60",
        "obligation-0-critical": "on",
        "obligation-1-text": "成果の公表",
        "obligation-1-kind": "publication",
        "obligation-1-due": "term_end",
    }
    # A due rule without its number: refused, the row's error shown, what was typed kept.
    refused = client.post(
        reverse("review:vote", args=[ticket.pk]),
        {"choice": "approve_with_conditions", **rows, "obligation-0-days": ""},
    )
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "give the days after the approval" in body and "成果の公表" in body
    assert not ticket.votes.exists()
    response = client.post(
        reverse("review:vote", args=[ticket.pk]), {"choice": "approve_with_conditions", **rows}
    )
    assert response.status_code == 302
    (vote,) = ticket.votes.all()
    assert [spec["kind"] for spec in vote.obligations] == ["security_audit", "publication"]
    assert vote.conditions == "外部監査\n成果の公表"


def test_a_vote_without_condition_rows_is_refused_on_the_first_row(
    client,  # noqa: F811
    in_review,
    board_a,
):
    ticket = in_review()
    client.force_login(board_a.legal)
    response = client.post(
        reverse("review:vote", args=[ticket.pk]),
        {
            "choice": "approve_with_conditions",
            "reason": "理由",
            "obligation-TOTAL_FORMS": "3",
            "obligation-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'name="obligation-0-text"' in body and 'aria-invalid="true"' in body
    assert "Write the conditions of your approval." in body


PAGE = {
    "requester": 200,
    "other_requester": 404,
    "clerk_a": 200,
    "clerk_b": 404,
    "reviewer": 200,
    "unassigned_board": 200,
    "reviewer_b": 404,
    "superuser": 200,
}


@pytest.mark.parametrize("who", PAGE)
def test_the_obligation_page_is_for_the_requester_the_board_and_the_secretariat(
    client,  # noqa: F811
    people,  # noqa: F811
    approve,
    who,
):
    obligation = approve().obligations.get(kind="security_audit")
    client.force_login(people[who])
    response = client.get(url("review:obligation", obligation))
    assert response.status_code == PAGE[who]
    if response.status_code == 200:
        assert "外部のセキュリティ監査を受けること" in response.content.decode()
    # A ticket's page lists its obligations for those who see the ticket.
    ticket_page = client.get(reverse("review:ticket", args=[obligation.ticket_id]))
    if ticket_page.status_code == 200:
        assert url("review:obligation", obligation) in ticket_page.content.decode()


def test_evidence_rejection_and_acceptance_through_http(
    client,  # noqa: F811
    people,  # noqa: F811
    approve,
    board_a,
    rep_a,
    clerk_a,
):
    board_a.overdue_critical = "suspend"
    board_a.save()
    obligation = approve().obligations.get(kind="security_audit")
    ticket = obligation.ticket

    # Who is not the requester files nothing: the same 404 as for a missing obligation.
    for who in ("reviewer", "other_requester", "clerk_b"):
        client.force_login(people[who])
        response = client.post(url("review:obligation_evidence", obligation), {"text": "x"})
        assert response.status_code == 404
    client.force_login(rep_a)
    missing = reverse("review:obligation", args=[ticket.pk, obligation.pk + 999])
    assert client.get(missing).status_code == 404

    # Empty evidence: the field's error, nothing filed.
    response = client.post(url("review:obligation_evidence", obligation), {"text": ""})
    assert response.status_code == 400
    assert obligation.evidence.count() == 0
    # A file that is not a PDF, PNG or JPEG: refused, the text kept.
    response = client.post(
        url("review:obligation_evidence", obligation),
        {"text": EVIDENCE, "files": SimpleUploadedFile("x.pdf", b"MZ not a pdf")},
    )
    assert response.status_code == 400
    assert EVIDENCE in response.content.decode() and obligation.evidence.count() == 0
    response = client.post(
        url("review:obligation_evidence", obligation),
        {"text": EVIDENCE, "files": [SimpleUploadedFile("audit.pdf", PDF)]},
    )
    assert response.status_code == 302
    evidence = obligation.evidence.get()
    attachment = evidence.attachments.get()
    # The file is on the obligation's page, not among the request's attachments.
    assert (
        attachment.original_name
        in client.get(url("review:obligation", obligation)).content.decode()
    )
    assert (
        "audit.pdf" not in client.get(reverse("review:ticket", args=[ticket.pk])).content.decode()
    )

    # The requester does not judge its own evidence.
    assert client.post(url("review:obligation_accept", obligation)).status_code == 404
    # An unassigned board member reads the evidence and its file, and rejects it with a reason.
    client.force_login(board_a.resident)
    file_url = reverse("review:attachment", args=[ticket.pk, attachment.pk])
    assert client.get(file_url).status_code == 200
    response = client.post(url("review:obligation_reject", obligation), {"reason": ""})
    assert response.status_code == 400 and "Say why" in response.content.decode()
    response = client.post(url("review:obligation_reject", obligation), {"reason": "範囲不足"})
    assert response.status_code == 302
    obligation.refresh_from_db()
    assert obligation.state == Obligation.State.REJECTED

    # Overdue and critical: the follow-up suspends the ticket; acceptance resumes it.
    from review import services

    services.obligations_follow_up(today=obligation.due_on + datetime.timedelta(days=1))
    ticket.refresh_from_db()
    assert ticket.state == ReviewTicket.State.SUSPENDED
    client.force_login(rep_a)
    client.post(url("review:obligation_evidence", obligation), {"text": "再提出"})
    client.force_login(clerk_a)
    assert client.post(url("review:obligation_accept", obligation)).status_code == 302
    obligation.refresh_from_db()
    ticket.refresh_from_db()
    assert obligation.state == Obligation.State.ACCEPTED
    assert ticket.state == ReviewTicket.State.APPROVED


def test_the_secretariat_waives_with_a_reason(client, approve, clerk_a, board_a):  # noqa: F811
    obligation = approve().obligations.get(kind="periodic_report")
    client.force_login(board_a.legal)
    assert (
        client.post(url("review:obligation_waive", obligation), {"reason": "x"}).status_code == 404
    )
    client.force_login(clerk_a)
    response = client.post(url("review:obligation_waive", obligation), {"reason": ""})
    assert response.status_code == 400
    response = client.post(url("review:obligation_waive", obligation), {"reason": "事業終了"})
    assert response.status_code == 302
    obligation.refresh_from_db()
    assert obligation.state == Obligation.State.WAIVED
