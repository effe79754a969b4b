"""
The decision letter on the review pages, through HTTP: who may request it, follow it and
download it (per ticket, not only per consortium), the reports page with its states, and the
same record check in the admin.
"""

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from audit import selectors as audit_selectors
from audit import services as audit_services
from audit.models import Entry, PendingEntry, Report
from review import services
from review.models import ReviewTicket
from tests.audit.reports_helpers import pdf_fonts, pdf_text
from tests.conftest import make_user, seat_on_ethics_board
from tests.review import test_review_pages as review_pages

pytestmark = pytest.mark.django_db
LETTER = "governance.decision_letter"
CONDITIONS = "年次報告を提出すること"


# The review pages' English browser and private media folder.
client = review_pages.client
_private_media = review_pages._private_media


@pytest.fixture
def recused_a(consortium_a, board_a):
    """A board member of A assigned to the ticket who declared a conflict of interest."""
    return seat_on_ethics_board(make_user("recused_a"), consortium_a, "data_ethics")


@pytest.fixture
def decided(in_review, board_a, clerk_a, recused_a):
    """A ticket the board approved with conditions; one assigned member recused themselves."""
    ticket = in_review()
    services.reviewer_assign(actor=clerk_a, ticket=ticket, reviewer=recused_a)
    services.conflict_declare(actor=recused_a, ticket=ticket, has_conflict=True)
    services.review_vote_cast(
        actor=board_a.legal, ticket=ticket, choice="approve_with_conditions", conditions=CONDITIONS
    )
    services.review_vote_cast(actor=board_a.security, ticket=ticket, choice="approve")
    services.review_vote_cast(actor=board_a.data, ticket=ticket, choice="approve")
    ticket.refresh_from_db()
    assert ticket.state == ReviewTicket.State.APPROVED
    return ticket


@pytest.fixture
def people(rep_a, other_member_a, clerk_a, clerk_b, board_a, recused_a, reviewer_b, superuser):
    return {
        "reviewer": board_a.legal,
        "clerk_a": clerk_a,
        "superuser": superuser,
        "unassigned_board": board_a.resident,
        "recused": recused_a,
        "requester": rep_a,
        "other_requester": other_member_a.representative,
        "clerk_b": clerk_b,
        "reviewer_b": reviewer_b,
    }


# Who may have the letter: who reads the ticket's whole record, the board's side included.
ALLOWED = ["reviewer", "clerk_a", "superuser"]
# Who sees the ticket page but not all of it (a summary, or the requester's side only).
PARTIAL = ["unassigned_board", "recused", "requester"]
# Who may not see the ticket at all.
OUTSIDERS = ["other_requester", "clerk_b", "reviewer_b"]


def request_letter(client, ticket, captured, language="ja", execute=True):
    with captured(execute=execute):
        return client.post(
            reverse("review:letter_request", args=[ticket.pk]), {"language": language}
        )


def make_letter(ticket, actor, language="ja") -> Report:
    """Queue and build a letter through the service and the task, as a request would."""
    report = audit_services.report_request(
        actor=actor,
        kind=LETTER,
        parameters={"ticket": ticket.pk},
        consortium_id=ticket.consortium_id,
        language=language,
        enqueue=False,
    )
    return audit_services.report_build(report_id=report.pk)


@pytest.mark.parametrize("who", ALLOWED + PARTIAL)
def test_the_ticket_page_offers_the_letter_only_to_those_who_may_have_it(
    client, people, decided, who
):
    client.force_login(people[who])
    body = client.get(reverse("review:ticket", args=[decided.pk])).content.decode()
    action = reverse("review:letter_request", args=[decided.pk])
    assert (action in body) is (who in ALLOWED)
    body = client.get(reverse("review:decision", args=[decided.pk])).content.decode()
    assert (action in body) is (who in ALLOWED)


@pytest.mark.parametrize("who", ALLOWED)
def test_those_allowed_request_follow_and_download_the_letter(
    client, people, decided, who, django_capture_on_commit_callbacks
):
    client.force_login(people[who])
    response = request_letter(client, decided, django_capture_on_commit_callbacks, "en")
    assert response.status_code == 302 and response["Location"] == reverse("review:reports")
    report = Report.objects.get()
    assert report.kind == LETTER and report.parameters == {"ticket": decided.pk}
    assert report.requested_by == people[who] and report.consortium_id == decided.consortium_id
    # The request is in the audit log (the task ran on commit, as the cluster would).
    assert (
        Entry.objects.filter(action="report.requested", actor_id=str(people[who].pk)).exists()
        or PendingEntry.objects.filter(action="report.requested").exists()
    )
    assert report.state == Report.State.DONE

    page = client.get(reverse("review:reports")).content.decode()
    download = reverse("review:report_download", args=[report.pk])
    assert "The decision letter is queued" in page and download in page
    assert "data-refresh-status" not in page  # nothing left to wait for
    response = client.get(download)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    text = pdf_text(b"".join(response.streaming_content))
    assert "Decision of the data ethics board" in text and decided.title in text
    assert "recused" in text  # the conflicted member is named as recused, never counted
    # The ticket page lists the letter with its download.
    body = client.get(reverse("review:ticket", args=[decided.pk])).content.decode()
    assert download in body


@pytest.mark.parametrize("who", PARTIAL)
def test_those_who_see_the_ticket_but_not_its_whole_record_cannot_request_it(
    client, people, decided, who, django_capture_on_commit_callbacks
):
    client.force_login(people[who])
    response = request_letter(client, decided, django_capture_on_commit_callbacks)
    assert response.status_code == 404
    assert not Report.objects.exists()
    with pytest.raises(PermissionDenied):
        audit_services.report_request(
            actor=people[who],
            kind=LETTER,
            parameters={"ticket": decided.pk},
            consortium_id=decided.consortium_id,
        )


@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_learn_nothing_of_the_ticket_or_its_letter(
    client, people, decided, who, django_capture_on_commit_callbacks
):
    letter = make_letter(decided, people["clerk_a"])
    client.force_login(people[who])
    response = request_letter(client, decided, django_capture_on_commit_callbacks)
    assert response.status_code == 404 and decided.title not in response.content.decode()
    assert Report.objects.count() == 1
    response = client.get(reverse("review:report_download", args=[letter.pk]))
    assert response.status_code == 404
    page = client.get(reverse("review:reports")).content.decode()
    assert decided.title not in page and f"report-{letter.pk}" not in page


@pytest.mark.parametrize("who", ALLOWED + PARTIAL + OUTSIDERS)
def test_a_letter_is_listed_and_served_only_to_those_who_may_see_the_ticket_in_full(
    client, people, decided, who
):
    letter = make_letter(decided, people["clerk_a"])
    assert letter.state == Report.State.DONE
    client.force_login(people[who])
    download = reverse("review:report_download", args=[letter.pk])
    response = client.get(download)
    assert response.status_code == (200 if who in ALLOWED else 404)
    page = client.get(reverse("review:reports")).content.decode()
    assert (download in page) is (who in ALLOWED)
    assert (f'id="report-{letter.pk}"' in page) is (who in ALLOWED)
    # The same rule through the selectors every page uses.
    assert audit_selectors.reports_visible_to(people[who]).filter(pk=letter.pk).exists() is (
        who in ALLOWED
    )


def test_a_reviewer_recused_after_the_letter_was_made_can_no_longer_download_it(
    client, people, decided, board_a
):
    letter = make_letter(decided, board_a.legal)
    client.force_login(board_a.legal)
    download = reverse("review:report_download", args=[letter.pk])
    assert client.get(download).status_code == 200
    # The reviewer turns out to represent the requester: now on the requester's side only.
    membership = decided.requester.memberships.get()
    membership.representative = board_a.legal
    membership.save()
    assert client.get(download).status_code == 404
    assert download not in client.get(reverse("review:reports")).content.decode()
    response = client.post(reverse("review:letter_request", args=[decided.pk]), {"language": "ja"})
    assert response.status_code == 404 and Report.objects.count() == 1


def test_anonymous_visitors_are_sent_to_sign_in_and_nothing_is_queued(client, decided, people):
    letter = make_letter(decided, people["clerk_a"])
    for url in (
        reverse("review:reports"),
        reverse("review:report_download", args=[letter.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("review:signin"))
    response = client.post(reverse("review:letter_request", args=[decided.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("review:signin"))
    assert Report.objects.count() == 1


def test_no_letter_before_the_decision(
    client, in_review, clerk_a, django_capture_on_commit_callbacks
):
    ticket = in_review()
    client.force_login(clerk_a)
    body = client.get(reverse("review:ticket", args=[ticket.pk])).content.decode()
    assert reverse("review:letter_request", args=[ticket.pk]) not in body
    response = request_letter(client, ticket, django_capture_on_commit_callbacks)
    assert response.status_code == 404
    assert not Report.objects.exists()


def test_the_reports_page_shows_each_state_and_refreshes_while_one_is_pending(
    client, people, decided, django_capture_on_commit_callbacks
):
    client.force_login(people["reviewer"])
    # Queued: the task has not started (the commit's callbacks are held back).
    response = request_letter(client, decided, django_capture_on_commit_callbacks, execute=False)
    assert response.status_code == 302
    report = Report.objects.get()
    page = client.get(reverse("review:reports")).content.decode()
    # It updates in place while one is pending, never by a <meta> refresh.
    assert "state-queued" in page and "data-refresh-status" in page
    assert 'http-equiv="refresh"' not in page
    assert reverse("review:report_download", args=[report.pk]) not in page
    # A second click while it is queued queues nothing more.
    request_letter(client, decided, django_capture_on_commit_callbacks, execute=False)
    assert Report.objects.count() == 1
    page = client.get(reverse("review:reports")).content.decode()
    assert "already being prepared" in page

    Report.objects.filter(pk=report.pk).update(state=Report.State.RUNNING, progress=40)
    page = client.get(reverse("review:reports")).content.decode()
    assert 'value="40"' in page and "40%" in page and "data-refresh-status" in page
    # The site's CSP allows no inline script: the list's updater is a file of the site's own.
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/js/list-refresh.js" defer>']


def test_a_failed_build_shows_its_reason(
    client, people, decided, monkeypatch, tmp_path, django_capture_on_commit_callbacks
):
    from audit import reports

    monkeypatch.setattr(reports, "FONT_PATH", tmp_path / "missing.ttf")
    client.force_login(people["reviewer"])
    request_letter(client, decided, django_capture_on_commit_callbacks)
    report = Report.objects.get()
    assert report.state == Report.State.FAILED
    page = client.get(reverse("review:reports")).content.decode()
    assert "state-failed" in page and "the Japanese font" in page and "missing.ttf" in page
    assert "data-refresh-status" not in page
    assert client.get(reverse("review:report_download", args=[report.pk])).status_code == 404


def test_the_language_must_be_one_offered(
    client, people, decided, django_capture_on_commit_callbacks
):
    client.force_login(people["reviewer"])
    response = request_letter(client, decided, django_capture_on_commit_callbacks, language="fr")
    assert response.status_code == 302
    assert response["Location"] == reverse("review:ticket", args=[decided.pk])
    assert not Report.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "Choose the language of the letter." in page


def test_the_new_screens_are_japanese_first(people, decided, django_capture_on_commit_callbacks):
    browser = Client()  # no Accept-Language: the site's default
    browser.force_login(people["reviewer"])
    body = browser.get(reverse("review:ticket", args=[decided.pk])).content.decode()
    assert "審査結果通知書（PDF）" in body and "審査結果通知書を請求する" in body
    request_letter(browser, decided, django_capture_on_commit_callbacks)
    body = browser.get(reverse("review:reports")).content.decode()
    assert "報告書一覧" in body and "PDFをダウンロード" in body and "Download" not in body
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    english.force_login(people["reviewer"])
    body = english.get(reverse("review:reports")).content.decode()
    assert "Your reports" in body and "Download the PDF" in body


def test_a_letter_in_the_wrong_consortium_is_refused(people, decided, consortium_b):
    # A reviewer seated on both boards still cannot file A's ticket under B.
    seat_on_ethics_board(people["reviewer"], consortium_b)
    with pytest.raises(PermissionDenied):
        audit_services.report_request(
            actor=people["reviewer"],
            kind=LETTER,
            parameters={"ticket": decided.pk},
            consortium_id=consortium_b.pk,
        )


# --- The admin applies the same record check ------------------------------------------------


def test_the_admin_hides_the_letter_from_a_staff_board_member_not_on_the_ticket(
    client, people, decided, django_capture_on_commit_callbacks
):
    letter = make_letter(decided, people["clerk_a"])
    member = people["unassigned_board"]
    member.is_staff = True
    member.save()
    client.force_login(member)
    listing = client.get(reverse("admin:audit_report_changelist"))
    assert reverse("admin:audit_report_download", args=[letter.pk]) not in listing.content.decode()
    assert client.get(reverse("admin:audit_report_download", args=[letter.pk])).status_code == 404
    assert client.get(reverse("admin:audit_report_change", args=[letter.pk])).status_code in (
        302,
        403,
        404,
    )
    url = reverse("admin:audit_report_request") + f"?kind={LETTER}"
    page = client.get(url)
    assert page.status_code == 200 and decided.title not in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"kind": LETTER, "ticket": decided.pk, "language": "ja"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert Report.objects.count() == 1


def test_the_secretariat_still_requests_the_letter_in_the_admin(
    client, people, decided, django_capture_on_commit_callbacks
):
    client.force_login(people["clerk_a"])
    url = reverse("admin:audit_report_request") + f"?kind={LETTER}"
    assert decided.title in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"kind": LETTER, "ticket": decided.pk, "language": "ja"})
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.state == Report.State.DONE
    response = client.get(reverse("admin:audit_report_download", args=[report.pk]))
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    assert "審査結果通知書" in pdf_text(data) and "IPAexGothic" in pdf_fonts(data)
    # The same report on the review side.
    assert client.get(reverse("review:report_download", args=[report.pk])).status_code == 200
