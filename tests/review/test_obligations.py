"""
The board's conditions as obligations, through the services: made on approval, reminded,
evidenced, rejected, overdue and escalated, suspending the ticket's grants where the board's rule
says so, and resumed on acceptance.
"""

import datetime
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django_q.models import Schedule

from audit.models import PendingEntry
from review import services
from review.models import Obligation, ReviewTicket
from review.services.tickets import TransitionError
from tests.review.conftest import AUDIT, REPORT

pytestmark = pytest.mark.django_db

EVIDENCE_TEXT = "監査報告書を添付します（秘匿事項を含む）"


def test_approval_makes_one_obligation_per_condition(approve, requester_a):
    ticket = approve()
    report, audit = ticket.obligations.order_by("kind")
    assert (report.kind, report.owner, report.state) == (
        "periodic_report",
        requester_a,
        Obligation.State.OPEN,
    )
    # Yearly for two years after the term: first due a year after its end, once more after.
    assert report.due_on == ticket.valid_until.replace(year=ticket.valid_until.year + 1)
    assert (report.recurrence, report.repeats_left) == ("yearly", 1)
    assert audit.due_on == ticket.valid_from + datetime.timedelta(days=90) and audit.critical
    assert ticket.conditions == f"{REPORT['text']}\n{AUDIT['text']}"
    entries = PendingEntry.objects.filter(action="obligation.created")
    assert entries.count() == 2
    assert all("報告" not in str(entry.payload) for entry in entries)


def test_free_text_conditions_are_one_obligation_of_kind_other(in_review, board_a):
    ticket = in_review()
    services.review_vote_cast(
        actor=board_a.legal, ticket=ticket, choice="approve_with_conditions", conditions="条件A"
    )
    for reviewer in (board_a.security, board_a.data):
        services.review_vote_cast(actor=reviewer, ticket=ticket, choice="approve")
    (obligation,) = ticket.obligations.all()
    assert (obligation.kind, obligation.text, obligation.due_on) == ("other", "条件A", None)


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"kind": "periodic_report", "text": " "}, "write what is required"),
        ({"kind": "nonsense", "text": "x"}, "choose a kind"),
        ({"text": "x", "due": "days"}, "give the days"),
        ({"text": "x", "due": "yearly", "years": 99}, "how many years"),
        ({"text": "x", "due": "someday"}, "choose when it is due"),
    ],
)
def test_malformed_conditions_are_refused_and_no_vote_is_recorded(
    in_review, board_a, spec, message
):
    ticket = in_review()
    with pytest.raises(ValidationError, match=message):
        services.review_vote_cast(
            actor=board_a.legal,
            ticket=ticket,
            choice="approve_with_conditions",
            obligations=[spec],
        )
    assert not ticket.votes.exists()


def test_the_whole_life_reminder_evidence_rejection_overdue_suspension_resumption(
    approve, board_a, rep_a, clerk_a, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    board_a.overdue_critical = "suspend"
    board_a.save()
    ticket = approve()
    audit = ticket.obligations.get(kind="security_audit")
    due = audit.due_on
    mail.outbox.clear()

    # Reminder: REVIEW_OBLIGATION_REMINDER_DAYS before, once per due date, to the requester.
    early = due - datetime.timedelta(days=settings.REVIEW_OBLIGATION_REMINDER_DAYS + 1)
    assert services.obligations_follow_up(today=early)["reminded"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.obligations_follow_up(today=due - datetime.timedelta(days=3))
    assert counts == {"reminded": 1, "overdue": 0, "suspended": 0}
    assert [m.to for m in mail.outbox] == [[rep_a.email]]
    assert str(due) in mail.outbox[0].subject
    assert services.obligations_follow_up(today=due)["reminded"] == 0

    # Evidence, then the board rejects it, saying why.
    pdf = SimpleUploadedFile("audit.pdf", b"%PDF-1.4 audit", content_type="application/pdf")
    evidence = services.obligation_evidence_submit(
        actor=rep_a, obligation=audit, text=EVIDENCE_TEXT, uploads=[pdf]
    )
    audit.refresh_from_db()
    assert audit.state == Obligation.State.SUBMITTED
    assert evidence.attachments.get().content_type == "application/pdf"
    with pytest.raises(ValidationError, match="Say why"):
        services.obligation_reject(actor=board_a.security, obligation=audit, reason="")
    services.obligation_reject(actor=board_a.security, obligation=audit, reason="範囲が不足")
    audit.refresh_from_db()
    assert audit.state == Obligation.State.REJECTED

    # Missed: overdue, escalated to the board and the secretariat, the ticket suspended.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.obligations_follow_up(today=due + datetime.timedelta(days=1))
    assert counts == {"reminded": 0, "overdue": 1, "suspended": 1}
    audit.refresh_from_db()
    ticket.refresh_from_db()
    assert audit.state == Obligation.State.OVERDUE and audit.holds_suspension
    assert ticket.state == ReviewTicket.State.SUSPENDED
    told = {address for message in mail.outbox for address in message.to}
    assert {"sec@example.jp", "data@example.jp", rep_a.email} <= told
    # Escalated once per due date.
    assert services.obligations_follow_up(today=due + datetime.timedelta(days=2))["overdue"] == 0

    # New evidence, accepted: the obligation is met and the ticket resumed.
    services.obligation_evidence_submit(actor=rep_a, obligation=audit, text="再監査の報告")
    services.obligation_accept(
        actor=board_a.legal, obligation=audit, today=due + datetime.timedelta(days=3)
    )
    audit.refresh_from_db()
    ticket.refresh_from_db()
    assert audit.state == Obligation.State.ACCEPTED and not audit.holds_suspension
    assert ticket.state == ReviewTicket.State.APPROVED

    actions = list(
        PendingEntry.objects.filter(action__startswith="obligation.").values_list(
            "action", flat=True
        )
    )
    for action in (
        "obligation.reminded",
        "obligation.evidence_submitted",
        "obligation.rejected",
        "obligation.overdue",
        "obligation.accepted",
    ):
        assert action in actions
    payloads = str(list(PendingEntry.objects.values_list("payload", flat=True)))
    assert "監査報告書" not in payloads and "範囲が不足" not in payloads
    assert PendingEntry.objects.filter(action="ticket.suspended").exists()
    assert PendingEntry.objects.filter(action="ticket.resumed").exists()


def test_an_overdue_critical_obligation_only_escalates_by_default(approve, board_a):
    ticket = approve()
    audit = ticket.obligations.get(kind="security_audit")
    counts = services.obligations_follow_up(today=audit.due_on + datetime.timedelta(days=1))
    assert counts == {"reminded": 0, "overdue": 1, "suspended": 0}
    ticket.refresh_from_db()
    assert ticket.state == ReviewTicket.State.APPROVED


def test_a_recurring_obligation_falls_due_again_until_its_last_year(approve, board_a, rep_a):
    ticket = approve()
    report = ticket.obligations.get(kind="periodic_report")
    first = report.due_on
    services.obligation_evidence_submit(actor=rep_a, obligation=report, text="1年目")
    services.obligation_accept(actor=board_a.legal, obligation=report)
    report.refresh_from_db()
    assert report.state == Obligation.State.OPEN
    assert report.due_on == first.replace(year=first.year + 1) and report.repeats_left == 0
    services.obligation_evidence_submit(actor=rep_a, obligation=report, text="2年目")
    services.obligation_accept(actor=board_a.legal, obligation=report)
    report.refresh_from_db()
    assert report.state == Obligation.State.ACCEPTED
    assert report.evidence.count() == 2


def test_who_may_do_what(approve, board_a, rep_a, clerk_a, reviewer_b, other_member_a):
    ticket = approve()
    audit = ticket.obligations.get(kind="security_audit")
    # Only the requester files evidence.
    for stranger in (board_a.legal, reviewer_b):
        with pytest.raises(PermissionDenied):
            services.obligation_evidence_submit(actor=stranger, obligation=audit, text="x")
    with pytest.raises(ValidationError, match="Describe"):
        services.obligation_evidence_submit(actor=rep_a, obligation=audit, text=" ")
    services.obligation_evidence_submit(actor=rep_a, obligation=audit, text="報告")
    # The requester does not judge its own evidence; another consortium's reviewer neither.
    for stranger in (rep_a, reviewer_b):
        with pytest.raises(PermissionDenied):
            services.obligation_accept(actor=stranger, obligation=audit)
    # Nothing more is owed while evidence awaits its verdict.
    with pytest.raises(TransitionError):
        services.obligation_evidence_submit(actor=rep_a, obligation=audit, text="again")
    # Waiving: the secretariat alone, with a reason.
    with pytest.raises(PermissionDenied):
        services.obligation_waive(actor=board_a.legal, obligation=audit, reason="不要")
    with pytest.raises(ValidationError, match="Say why"):
        services.obligation_waive(actor=clerk_a, obligation=audit, reason="")
    services.obligation_waive(actor=clerk_a, obligation=audit, reason="事業中止のため不要")
    audit.refresh_from_db()
    assert audit.state == Obligation.State.WAIVED
    with pytest.raises(TransitionError):
        services.obligation_accept(actor=board_a.legal, obligation=audit)


def test_the_daily_schedule_exists():
    schedule = Schedule.objects.get(name="review: obligations follow-up")
    assert schedule.func == "review.tasks.follow_up_obligations"
    assert schedule.schedule_type == Schedule.DAILY


def test_existing_conditions_are_migrated_to_one_obligation_each(approve):
    """The data migration's function, on a ticket approved before obligations existed."""
    import importlib

    from django.apps import apps
    from django.db import connection

    ticket = approve()
    ticket.obligations.all().delete()
    module = importlib.import_module("review.migrations.0003_obligations")
    editor = SimpleNamespace(connection=connection)  # all the function reads of it
    module.conditions_to_obligations(apps, editor)
    module.conditions_to_obligations(apps, editor)  # again: nothing more
    (obligation,) = ticket.obligations.all()
    assert (obligation.kind, obligation.text, obligation.state) == (
        "other",
        ticket.conditions,
        "open",
    )


@pytest.mark.parametrize("final", ["closed", "rejected"])
def test_obligations_of_a_closed_or_rejected_ticket_are_neither_reminded_nor_escalated(
    approve, board_a, clerk_a, final
):
    ticket = approve()
    audit = ticket.obligations.get(kind="security_audit")
    if final == "closed":
        services.ticket_close(actor=clerk_a, ticket=ticket)
    else:
        # No transition rejects an approved ticket today; the follow-up reads the state all
        # the same, so that one added later cannot bring the reminders back.
        ReviewTicket.objects.filter(pk=ticket.pk).update(state=ReviewTicket.State.REJECTED)
    mail.outbox.clear()
    before = PendingEntry.objects.count()
    assert services.obligations_follow_up(today=audit.due_on - datetime.timedelta(days=3)) == {
        "reminded": 0,
        "overdue": 0,
        "suspended": 0,
    }
    assert services.obligations_follow_up(today=audit.due_on + datetime.timedelta(days=1)) == {
        "reminded": 0,
        "overdue": 0,
        "suspended": 0,
    }
    audit.refresh_from_db()
    assert audit.state == Obligation.State.OPEN
    assert mail.outbox == []
    assert PendingEntry.objects.count() == before


def test_obligations_of_an_expired_approval_are_still_followed_up(approve, board_a):
    # Reports owed for years after the approval's term (the seeds' five years after a
    # subsidised project ends) are reminded and escalated after the term.
    ticket = approve()
    audit = ticket.obligations.get(kind="security_audit")
    after_term = ticket.valid_until + datetime.timedelta(days=1)
    Obligation.objects.filter(pk=audit.pk).update(due_on=after_term)
    counts = services.obligations_follow_up(today=after_term + datetime.timedelta(days=1))
    assert counts["overdue"] == 1
