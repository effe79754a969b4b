"""The review pages through HTTP: the visibility matrix for every page and role, and the flows."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit import selectors as audit_selectors
from audit.models import Report
from review import selectors as review_selectors
from review import services
from review.models import ReviewTicket

pytestmark = pytest.mark.django_db
State = ReviewTicket.State
SECRET = "暗号化とアクセス制御"  # the request's security measures: only for those who may read it
BOARD_ONLY = "理事会内部のメモ"
TO_REQUESTER = "保存期間の根拠を教えてください"
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def client():
    """A browser that asks for English (the site's default is Japanese), to assert messages."""
    from django.test import Client

    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def people(rep_a, other_member_a, clerk_a, clerk_b, board_a, reviewer_b, superuser):
    return {
        "requester": rep_a,
        "other_requester": other_member_a.representative,
        "clerk_a": clerk_a,
        "clerk_b": clerk_b,
        "reviewer": board_a.legal,
        "unassigned_board": board_a.resident,
        "reviewer_b": reviewer_b,
        "superuser": superuser,
    }


@pytest.fixture
def reviewed(in_review, board_a, rep_a):
    """A ticket in review with an attachment and one comment of each visibility."""
    ticket = make_with_attachment(in_review, rep_a)
    services.comment_add(actor=board_a.legal, ticket=ticket, text=BOARD_ONLY)
    services.comment_add(
        actor=board_a.legal,
        ticket=ticket,
        text=TO_REQUESTER,
        kind="question",
        visibility="requester",
    )
    return ticket


def make_with_attachment(in_review, rep_a):
    original = services.ticket_submit

    def submit_with_attachment(*, actor, ticket, **kwargs):
        services.attachment_add(
            actor=rep_a, ticket=ticket, upload=SimpleUploadedFile("pia.pdf", PDF)
        )
        return original(actor=actor, ticket=ticket, **kwargs)

    services.ticket_submit = submit_with_attachment
    try:
        return in_review()
    finally:
        services.ticket_submit = original


def get(client, user, url):
    client.force_login(user)
    return client.get(url)


# --- Who sees what ---------------------------------------------------------------------------

TICKET_PAGE = {
    "requester": 200,
    "other_requester": 404,
    "clerk_a": 200,
    "clerk_b": 404,
    "reviewer": 200,
    "unassigned_board": 200,
    "reviewer_b": 404,
    "superuser": 200,
}


@pytest.mark.parametrize("who", TICKET_PAGE)
def test_the_ticket_page(client, people, reviewed, who):
    response = get(client, people[who], reverse("review:ticket", args=[reviewed.pk]))
    assert response.status_code == TICKET_PAGE[who]
    if response.status_code == 404:
        assert reviewed.title not in response.content.decode()
        return
    body = response.content.decode()
    full = who in {"requester", "clerk_a", "reviewer", "superuser"}
    assert (SECRET in body) is full
    assert (BOARD_ONLY in body) is (who in {"clerk_a", "reviewer", "superuser"})
    assert (TO_REQUESTER in body) is full
    assert ("pia.pdf" in body) is full


def test_anonymous_visitors_are_sent_to_sign_in(client, reviewed):
    for name, args in [
        ("queue", []),
        ("ticket_new", []),
        ("ticket", [reviewed.pk]),
        ("ticket_edit", [reviewed.pk]),
        ("decision", [reviewed.pk]),
        ("attachment", [reviewed.pk, reviewed.attachments.get().pk]),
    ]:
        response = client.get(reverse(f"review:{name}", args=args))
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("review:signin"))
    for name in ("submit", "declare", "comment", "vote", "assign", "start", "close"):
        response = client.post(
            reverse(f"review:{name}".replace(":submit", ":ticket_submit"), args=[reviewed.pk])
        )
        assert response.status_code == 302, name


ATTACHMENT = {
    "requester": 200,
    "other_requester": 404,
    "clerk_a": 200,
    "clerk_b": 404,
    "reviewer": 200,
    "unassigned_board": 404,
    "reviewer_b": 404,
    "superuser": 200,
}


@pytest.mark.parametrize("who", ATTACHMENT)
def test_the_attachment(client, people, reviewed, who):
    attachment = reviewed.attachments.get()
    url = reverse("review:attachment", args=[reviewed.pk, attachment.pk])
    response = get(client, people[who], url)
    assert response.status_code == ATTACHMENT[who]
    if response.status_code == 200:
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "attachment" in response["Content-Disposition"]


def test_attachments_are_not_under_the_web_root(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    stored = tmp_path / "review" / "attachment.pdf"
    stored.parent.mkdir()
    stored.write_bytes(b"%PDF-1.7 confidential")

    for static_dir in [settings.STATIC_ROOT, *settings.STATICFILES_DIRS]:
        assert not stored.is_relative_to(static_dir)
    assert client.get(f"{settings.MEDIA_URL}review/attachment.pdf").status_code == 404


@pytest.mark.parametrize("who", TICKET_PAGE)
def test_a_draft_is_the_requesters_alone(client, people, make_ticket, who):
    draft = make_ticket()
    expected = 200 if who == "requester" else 404
    for name in ("ticket", "ticket_edit"):
        response = get(client, people[who], reverse(f"review:{name}", args=[draft.pk]))
        assert response.status_code == expected, name


@pytest.mark.parametrize("who", TICKET_PAGE)
def test_the_queue_lists_only_what_each_may_see(client, people, reviewed, make_ticket, who):
    draft = make_ticket(title="下書きの申請")
    response = get(client, people[who], reverse("review:queue"))
    assert response.status_code == 200
    body = response.content.decode()
    assert (reviewed.title in body) is (TICKET_PAGE[who] == 200)
    assert (draft.title in body) is (who == "requester")


def test_the_queue_filters(client, people, reviewed, make_ticket, rep_a):
    services.ticket_submit(actor=rep_a, ticket=make_ticket(title="提出済みの申請"))
    client.force_login(people["reviewer"])
    body = client.get(reverse("review:queue"), {"state": "in_review"}).content.decode()
    assert reviewed.title in body and "提出済みの申請" not in body
    body = client.get(reverse("review:queue"), {"mine": "on"}).content.decode()
    assert reviewed.title in body and "提出済みの申請" not in body
    ReviewTicket.objects.filter(pk=reviewed.pk).update(due_on="2020-01-01")
    body = client.get(reverse("review:queue"), {"due": "overdue"}).content.decode()
    assert reviewed.title in body and "overdue" in body
    assert client.get(reverse("review:queue"), {"state": "nonsense"}).status_code == 200


DECISION = {
    "requester": 200,
    "other_requester": 404,
    "clerk_a": 200,
    "clerk_b": 404,
    "reviewer": 200,
    "unassigned_board": 200,
    "reviewer_b": 404,
    "superuser": 200,
}


@pytest.mark.parametrize("who", DECISION)
def test_the_decision_record(client, people, reviewed, board_a, who):
    services.review_vote_cast(
        actor=board_a.legal,
        ticket=reviewed,
        choice="approve_with_conditions",
        conditions="年次報告",
    )
    services.review_vote_cast(actor=board_a.security, ticket=reviewed, choice="approve")
    services.review_vote_cast(actor=board_a.data, ticket=reviewed, choice="abstain")
    response = get(client, people[who], reverse("review:decision", args=[reviewed.pk]))
    assert response.status_code == DECISION[who]
    if response.status_code != 200:
        return
    body = response.content.decode()
    # The record says what happened in words, not in the audit log's codes.
    assert "年次報告" in body and "The board approved the request." in body
    assert "ticket.approved" not in body
    # Who voted how is the board's and the secretariat's; the requester sees the decision.
    assert ("security_a" in body) is (who != "requester")


def test_no_decision_record_before_the_decision(client, people, reviewed):
    response = get(client, people["clerk_a"], reverse("review:decision", args=[reviewed.pk]))
    assert response.status_code == 404


# --- Acting through the pages -----------------------------------------------------------------


def test_the_wrong_person_cannot_act(client, people, reviewed):
    url = reverse("review:vote", args=[reviewed.pk])
    for who in ("other_requester", "clerk_b", "reviewer_b"):
        client.force_login(people[who])
        assert client.post(url, {"choice": "approve"}).status_code == 404
        assert client.post(reverse("review:close", args=[reviewed.pk])).status_code == 404
    # The requester and an unassigned board member may see the page but not vote or close.
    for who in ("requester", "unassigned_board"):
        client.force_login(people[who])
        client.post(url, {"choice": "approve"})
    assert not reviewed.votes.exists()
    client.force_login(people["unassigned_board"])
    assert client.post(reverse("review:close", args=[reviewed.pk])).status_code == 404
    assert client.post(reverse("review:suspend", args=[reviewed.pk])).status_code == 404
    assert ReviewTicket.objects.get(pk=reviewed.pk).state == State.IN_REVIEW


def test_a_reviewer_declares_then_reads_and_votes(client, make_ticket, rep_a, clerk_a, board_a):
    ticket = services.ticket_submit(actor=rep_a, ticket=make_ticket())
    services.reviewer_assign(actor=clerk_a, ticket=ticket, reviewer=board_a.legal)
    client.force_login(board_a.legal)
    url = reverse("review:ticket", args=[ticket.pk])
    body = client.get(url).content.decode()
    assert SECRET not in body and 'name="has_conflict"' in body
    response = client.post(reverse("review:declare", args=[ticket.pk]), {"has_conflict": "no"})
    assert response.status_code == 302
    assert SECRET in client.get(url).content.decode()


def test_a_vote_without_conditions_shows_the_error(client, in_review, board_a):
    ticket = in_review()
    client.force_login(board_a.legal)
    response = client.post(
        reverse("review:vote", args=[ticket.pk]),
        {"choice": "approve_with_conditions"},
        follow=True,
    )
    assert "Write the conditions of your approval." in response.content.decode()
    assert not ticket.votes.exists()


def request_form(purpose, category, changes=None) -> dict:
    """The request form as a requester fills it in, with one PIA row, and ``changes``."""
    return {
        "title": "歩行データの活用",
        "service_name": "あるくポイント",
        "purpose": purpose.pk,
        "categories": [category.pk],
        "retention_days": "180",
        "deletion_method": "消去",
        "security_measures": "暗号化",
        "anonymisation": "none",
        "pia-TOTAL_FORMS": "1",
        "pia-INITIAL_FORMS": "0",
        "pia-0-risk": "目的外利用",
        "pia-0-likelihood": "low",
        "pia-0-impact": "high",
        "pia-0-mitigation": "アクセスログの監査",
        **(changes or {}),
    }


def test_the_requester_files_through_the_form(client, rep_a, purpose_a, category_a, board_a):
    client.force_login(rep_a)
    assert client.get(reverse("review:ticket_new")).status_code == 200
    # A second PIA row left empty is no row.
    data = request_form(purpose_a, category_a, {"pia-TOTAL_FORMS": "2", "pia-1-risk": ""})
    response = client.post(reverse("review:ticket_new"), data)
    ticket = ReviewTicket.objects.get(title="歩行データの活用")
    assert response.status_code == 302
    assert ticket.pia == [
        {
            "risk": "目的外利用",
            "likelihood": "low",
            "impact": "high",
            "mitigation": "アクセスログの監査",
        }
    ]
    client.post(reverse("review:ticket_submit", args=[ticket.pk]))
    assert ReviewTicket.objects.get(pk=ticket.pk).state == State.SUBMITTED


@pytest.mark.parametrize("field", ["categories", "recipients", "purpose"])
@pytest.mark.parametrize("value", [str(2**70), str(2**63), "²", "-1"])
def test_a_number_no_id_can_be_is_a_field_error(
    client, rep_a, purpose_a, category_a, board_a, field, value
):
    """Was a 500 (the database refused the number) for the multiple choices."""
    client.force_login(rep_a)
    data = request_form(purpose_a, category_a, {field: [value]})
    response = client.post(reverse("review:ticket_new"), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not ReviewTicket.objects.exists()


def test_a_bad_form_shows_errors_and_saves_nothing(client, rep_a, purpose_a, board_a):
    client.force_login(rep_a)
    response = client.post(
        reverse("review:ticket_new"),
        {
            "title": "",
            "purpose": purpose_a.pk,
            "anonymisation": "none",
            "cross_border_transfer": "on",
            "pia-TOTAL_FORMS": "1",
            "pia-INITIAL_FORMS": "0",
            "pia-0-risk": "漏えい",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "This field is required." in body
    assert "Describe both the risk and its mitigation." in body
    assert not ReviewTicket.objects.exists()


def test_someone_who_represents_nobody_cannot_file(client, board_a):
    client.force_login(board_a.legal)
    assert client.get(reverse("review:ticket_new")).status_code == 404


def test_an_upload_of_the_wrong_type_is_refused(client, make_ticket, rep_a):
    ticket = make_ticket()
    client.force_login(rep_a)
    response = client.post(
        reverse("review:attachment_upload", args=[ticket.pk]),
        {"file": SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf")},
        follow=True,
    )
    assert "Attach a PDF, PNG or JPEG file." in response.content.decode()
    assert not ticket.attachments.exists()


def test_the_secretariat_assigns_and_opens_through_the_page(
    client, make_ticket, rep_a, clerk_a, board_a
):
    ticket = services.ticket_submit(actor=rep_a, ticket=make_ticket())
    client.force_login(clerk_a)
    for reviewer in (board_a.legal, board_a.security):
        client.post(reverse("review:assign", args=[ticket.pk]), {"reviewer": reviewer.pk})
    response = client.post(reverse("review:start", args=[ticket.pk]), follow=True)
    assert "Assign more reviewers first." in response.content.decode()
    client.post(reverse("review:assign", args=[ticket.pk]), {"reviewer": board_a.data.pk})
    client.post(reverse("review:start", args=[ticket.pk]))
    assert ReviewTicket.objects.get(pk=ticket.pk).state == State.IN_REVIEW


def test_pages_are_japanese_by_default(client, rep_a, reviewed):
    from django.test import Client

    browser = Client()
    browser.force_login(rep_a)
    response = browser.get(reverse("review:ticket", args=[reviewed.pk]))
    body = response.content.decode()
    assert '<html lang="ja">' in body
    assert "申請内容" in body and "The request" not in body


def test_a_board_member_representing_the_requester_sees_only_the_requester_side(
    client, reviewed, board_a, requester_a
):
    # The resident representative also represents the requesting company (recused).
    membership = requester_a.memberships.get()
    membership.representative = board_a.resident
    membership.save()
    client.force_login(board_a.resident)
    body = client.get(reverse("review:ticket", args=[reviewed.pk])).content.decode()
    assert SECRET in body and TO_REQUESTER in body
    assert BOARD_ONLY not in body
    assert 'name="text"' in body and 'value="answer"' in body  # answers, never board comments
    response = client.post(
        reverse("review:comment", args=[reviewed.pk]),
        {"text": "内部コメント", "kind": "comment", "visibility": "board"},
    )
    assert response.status_code == 302
    assert not reviewed.comments.filter(text="内部コメント").exists()


def test_the_admin_lists_the_consortiums_tickets_only(client, people, reviewed, make_ticket):
    draft = make_ticket(title="下書きの申請")
    client.force_login(people["clerk_a"])
    response = client.get("/admin/review/reviewticket/")
    body = response.content.decode()
    assert response.status_code == 200
    assert reviewed.title in body and draft.title not in body
    assert reverse("review:ticket", args=[reviewed.pk]) in body
    assert client.get(f"/admin/review/reviewticket/{reviewed.pk}/change/").status_code == 200
    client.force_login(people["clerk_b"])
    assert reviewed.title not in client.get("/admin/review/reviewticket/").content.decode()
    assert client.get(f"/admin/review/reviewticket/{reviewed.pk}/change/").status_code == 404


@pytest.mark.parametrize("given", ["²", "١٢", "", "abc"])
def test_ids_that_are_no_numbers_find_nothing(rep_a, clerk_a, given):
    """Other digits than 0-9 (str.isdigit takes them, int() does not always) are no id."""
    with pytest.raises(ReviewTicket.DoesNotExist):
        review_selectors.access_ticket(rep_a, given)
    with pytest.raises(ReviewTicket.DoesNotExist):
        review_selectors.ticket_approved(given)
    with pytest.raises(Report.DoesNotExist):
        audit_selectors.access_report(clerk_a, given)


def test_the_admin_pages_of_the_review_answer_at_their_former_addresses(client, reviewed, clerk_a):
    client.force_login(clerk_a)
    response = client.get(f"/admin/governance/reviewticket/{reviewed.pk}/change/?x=1")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/review/reviewticket/{reviewed.pk}/change/?x=1"
    board = reviewed.consortium.ethics_board
    response = client.get(f"/admin/governance/ethicsboard/{board.pk}/change/", follow=True)
    assert response.status_code == 200 and board.name_ja in response.text
