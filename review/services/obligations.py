"""
The follow-up of the board's conditions (遵守事項): each an obligation of the requesting
organisation, made when the board approves (``tickets.ticket_approve``).

- open / evidence rejected / overdue -> evidence submitted: ``obligation_evidence_submit`` by the
  requester (its representatives on the review pages, its service through the tickets API);
- evidence submitted -> accepted (or open again for the next year of a recurring obligation) /
  evidence rejected: ``obligation_accept`` / ``obligation_reject`` by the board or the
  secretariat;
- any owed state -> waived: ``obligation_waive`` by the secretariat, with the reason;
- owed and past its due date -> overdue: ``obligations_follow_up`` (daily, django-q), which also
  reminds the requester before the due date and escalates to the board and the secretariat
  when it is missed. An overdue critical obligation suspends the ticket (so its grants) when the
  board's rule says so; accepting or waiving it resumes the ticket.

Audit entries carry ids, kinds, states and dates, never the evidence's or the reasons' text.
"""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from governance import selectors as governance_selectors
from governance.models import Role

from .. import selectors
from ..models import EthicsBoard, Obligation, ObligationEvidence, ReviewTicket, add_years
from ._common import ActorLike, iso, record
from .tickets import (
    TransitionError,
    _is_user,
    _require_requester,
    requester_addresses,
    store_attachment,
    ticket_resume,
    ticket_suspend,
)

logger = logging.getLogger(__name__)

SERVICES = [
    "obligation_evidence_submit",
    "obligation_accept",
    "obligation_reject",
    "obligation_waive",
    "obligations_follow_up",
    "deletion_confirmations_overdue",
]
State = Obligation.State
MAX_EVIDENCE_FILES = 5


def _lock(obligation: Obligation) -> Obligation:
    return (
        Obligation.objects.select_for_update(of=("self",))
        .select_related("ticket", "ticket__consortium", "ticket__requester")
        .get(pk=obligation.pk)
    )


def _require_overseer(actor, ticket: ReviewTicket) -> None:
    """The board's members and the secretariat judge evidence; never the requester's people."""
    if actor is None:
        return
    roles = selectors.ticket_roles(actor, ticket) if _is_user(actor) else set()
    if selectors.REQUESTER in roles or not roles & {selectors.BOARD, selectors.SECRETARIAT}:
        raise PermissionDenied(_("Only the data-ethics board and the secretariat may do this."))


def _require_secretariat(actor, ticket: ReviewTicket) -> None:
    if actor is None:
        return
    roles = selectors.ticket_roles(actor, ticket) if _is_user(actor) else set()
    if selectors.SECRETARIAT not in roles:
        raise PermissionDenied(_("Only the consortium's secretariat may do this."))


def _mail(addresses, subject: str, message: str) -> None:
    """Send one mail to each of ``addresses`` after the commit, in the site's language."""
    addresses = sorted({address for address in addresses if address})
    if not addresses:
        return

    def send():
        for address in addresses:
            send_mail(
                subject=subject,
                message=message,
                from_email=None,
                recipient_list=[address],
                fail_silently=True,
            )

    transaction.on_commit(send)


def overseer_addresses(ticket: ReviewTicket, day: datetime.date) -> set[str]:
    """The addresses of the consortium's ethics-board members and secretariat on ``day``."""
    addresses = {
        role.user.email
        for role in governance_selectors.roles_on(
            ticket.consortium, day, Role.Kind.ETHICS_BOARD_MEMBER
        ).select_related("user")
        if role.user_id and role.user.email
    }
    if ticket.consortium.secretariat_group_id:
        addresses |= set(
            get_user_model()
            .objects.filter(
                groups=ticket.consortium.secretariat_group_id, is_active=True, is_staff=True
            )
            .values_list("email", flat=True)
        )
    return addresses - {""}


@transaction.atomic
def obligation_evidence_submit(
    *, actor: ActorLike, obligation: Obligation, text: str, uploads=()
) -> ObligationEvidence:
    """
    File the requester's evidence that ``obligation`` is met: a text and up to five PDF, PNG or
    JPEG files. The board or the secretariat then accepts or rejects it.
    """
    obligation = _lock(obligation)
    ticket = obligation.ticket
    _require_requester(actor, ticket)
    if not obligation.is_owed:
        raise TransitionError(
            _("This obligation is %(state)s: no evidence is owed.")
            % {"state": obligation.get_state_display()},
            code="not_owed",
        )
    if not text.strip():
        raise ValidationError({"text": _("Describe how the condition is met.")})
    uploads = list(uploads)
    if len(uploads) > MAX_EVIDENCE_FILES:
        raise ValidationError(
            {"files": _("Attach at most %(n)s files.") % {"n": MAX_EVIDENCE_FILES}}
        )
    evidence = ObligationEvidence(
        obligation=obligation,
        due_on=obligation.due_on,
        text=text.strip(),
        submitted_by=actor if _is_user(actor) else None,
    )
    evidence.full_clean()
    evidence.save()
    stored = []
    try:
        for upload in uploads:
            stored.append(
                store_attachment(actor=actor, ticket=ticket, upload=upload, evidence=evidence)
            )
    except Exception:
        for attachment in stored:
            attachment.file.storage.delete(attachment.file.name)
        raise
    old, obligation.state = obligation.state, State.SUBMITTED
    obligation.save(update_fields=["state"])
    record(
        actor=actor,
        action="obligation.evidence_submitted",
        obj=obligation,
        consortium=ticket.consortium,
        payload={
            "ticket_id": ticket.pk,
            "evidence_id": evidence.pk,
            "old": old,
            "attachments": [
                {"attachment_id": a.pk, "sha256": a.sha256, "size": a.size} for a in stored
            ],
        },
    )
    with translation.override(settings.LANGUAGE_CODE):
        _mail(
            overseer_addresses(ticket, timezone.localdate()),
            _("Data-ethics review #%(id)s: evidence filed for a condition") % {"id": ticket.pk},
            _(
                "The requester of review #%(id)s filed evidence for one of the board's "
                "conditions. Sign in to the review pages to accept or reject it."
            )
            % {"id": ticket.pk},
        )
    return evidence


def _pending_evidence(obligation: Obligation) -> ObligationEvidence:
    evidence = (
        obligation.evidence.filter(verdict=ObligationEvidence.Verdict.PENDING)
        .order_by("-submitted_at", "-pk")
        .first()
    )
    if obligation.state != State.SUBMITTED or evidence is None:
        raise TransitionError(_("No evidence awaits a verdict for this obligation."))
    return evidence


def _release_suspension(obligation: Obligation, today: datetime.date) -> bool:
    """
    Resume the ticket ``obligation`` held suspended once no other overdue critical obligation
    holds it; return True if the ticket was resumed.
    """
    if not obligation.holds_suspension:
        return False
    obligation.holds_suspension = False
    obligation.save(update_fields=["holds_suspension"])
    ticket = obligation.ticket
    others = ticket.obligations.filter(holds_suspension=True).exclude(pk=obligation.pk)
    if others.exists() or ticket.state != ReviewTicket.State.SUSPENDED:
        return False
    if today > ticket.valid_until:
        return False  # the term has ended: nothing to resume
    ticket_resume(actor=None, ticket=ticket, today=today)
    return True


@transaction.atomic
def obligation_accept(
    *, actor: ActorLike, obligation: Obligation, today: datetime.date | None = None
) -> Obligation:
    """
    Accept the evidence awaiting a verdict. A recurring obligation falls due again a year
    later (open) until its last year; a ticket this obligation held suspended is resumed.
    """
    today = today or timezone.localdate()
    obligation = _lock(obligation)
    _require_overseer(actor, obligation.ticket)
    evidence = _pending_evidence(obligation)
    evidence.verdict = ObligationEvidence.Verdict.ACCEPTED
    evidence.decided_by = actor if _is_user(actor) else None
    evidence.decided_at = timezone.now()
    evidence.save()
    if obligation.recurrence and obligation.repeats_left > 0:
        obligation.due_on = add_years(obligation.due_on, 1)
        obligation.repeats_left -= 1
        obligation.state = State.OPEN
    else:
        obligation.state = State.ACCEPTED
    obligation.save()
    resumed = _release_suspension(obligation, today)
    record(
        actor=actor,
        action="obligation.accepted",
        obj=obligation,
        consortium=obligation.ticket.consortium,
        payload={
            "ticket_id": obligation.ticket_id,
            "evidence_id": evidence.pk,
            "state": obligation.state,
            "next_due_on": iso(obligation.due_on) if obligation.state == State.OPEN else None,
            "ticket_resumed": resumed,
        },
    )
    _tell_requester(obligation, _("accepted"))
    return obligation


@transaction.atomic
def obligation_reject(
    *,
    actor: ActorLike,
    obligation: Obligation,
    reason: str,
    today: datetime.date | None = None,
) -> Obligation:
    """
    Reject the evidence awaiting a verdict, saying why: the requester owes new evidence (and
    the obligation is overdue at once if its due date has passed).
    """
    today = today or timezone.localdate()
    obligation = _lock(obligation)
    _require_overseer(actor, obligation.ticket)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the evidence is not enough.")})
    evidence = _pending_evidence(obligation)
    evidence.verdict = ObligationEvidence.Verdict.REJECTED
    evidence.verdict_reason = reason.strip()
    evidence.decided_by = actor if _is_user(actor) else None
    evidence.decided_at = timezone.now()
    evidence.save()
    overdue = obligation.due_on is not None and obligation.due_on < today
    obligation.state = State.OVERDUE if overdue else State.REJECTED
    obligation.save(update_fields=["state"])
    record(
        actor=actor,
        action="obligation.rejected",
        obj=obligation,
        consortium=obligation.ticket.consortium,
        payload={
            "ticket_id": obligation.ticket_id,
            "evidence_id": evidence.pk,
            "state": obligation.state,
        },
    )
    _tell_requester(obligation, pgettext("evidence verdict", "rejected"))
    return obligation


@transaction.atomic
def obligation_waive(
    *,
    actor: ActorLike,
    obligation: Obligation,
    reason: str,
    today: datetime.date | None = None,
) -> Obligation:
    """Waive an obligation still owed (secretariat), with the reason; a suspension it held ends."""
    today = today or timezone.localdate()
    obligation = _lock(obligation)
    _require_secretariat(actor, obligation.ticket)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the obligation is waived.")})
    if obligation.state in Obligation.FINISHED:
        raise TransitionError(
            _("This obligation is %(state)s already.") % {"state": obligation.get_state_display()}
        )
    old = obligation.state
    obligation.state = State.WAIVED
    obligation.waiver_reason = reason.strip()
    obligation.full_clean()
    obligation.save()
    resumed = _release_suspension(obligation, today)
    record(
        actor=actor,
        action="obligation.waived",
        obj=obligation,
        consortium=obligation.ticket.consortium,
        payload={"ticket_id": obligation.ticket_id, "old": old, "ticket_resumed": resumed},
    )
    _tell_requester(obligation, _("waived"))
    return obligation


def _tell_requester(obligation: Obligation, what: str) -> None:
    ticket = obligation.ticket
    with translation.override(settings.LANGUAGE_CODE):
        _mail(
            requester_addresses(ticket),
            _("Data-ethics review #%(id)s: a condition was %(what)s")
            % {"id": ticket.pk, "what": what},
            _(
                "A condition of the approval of your request #%(id)s was %(what)s. Sign in to "
                "the review pages for the details."
            )
            % {"id": ticket.pk, "what": what},
        )


@transaction.atomic
def obligations_follow_up(*, today: datetime.date | None = None) -> dict:
    """
    The daily follow-up (the system, run by django-q): remind the requester of obligations due
    within settings.REVIEW_OBLIGATION_REMINDER_DAYS (once per due date); mark those past their
    due date overdue and escalate each once to the board and the secretariat; suspend the
    ticket of an overdue critical one where the board's rule says so. Return the counts.
    """
    today = today or timezone.localdate()
    counts = {"reminded": 0, "overdue": 0, "suspended": 0}
    horizon = today + datetime.timedelta(days=settings.REVIEW_OBLIGATION_REMINDER_DAYS)
    # A closed (or rejected) ticket's obligations are no longer followed: nothing flows under
    # it any more and its requester may have left. An approval whose term has ended still is:
    # reports are owed for years after it (e.g. yearly for five years after the project).
    owed = Obligation.objects.filter(state__in=Obligation.OWED, due_on__isnull=False).exclude(
        ticket__state__in=[ReviewTicket.State.CLOSED, ReviewTicket.State.REJECTED]
    )
    for obligation in (
        owed.filter(due_on__gte=today, due_on__lte=horizon)
        .exclude(reminded_for=F("due_on"))
        .select_related("ticket", "ticket__consortium")
        .select_for_update(of=("self",))
        .order_by("due_on", "pk")
    ):
        _remind(obligation)
        counts["reminded"] += 1
    for obligation in (
        owed.filter(due_on__lt=today)
        .exclude(escalated_for=F("due_on"))
        .select_related("ticket", "ticket__consortium")
        .select_for_update(of=("self",))
        .order_by("due_on", "pk")
    ):
        if _escalate(obligation, today):
            counts["suspended"] += 1
        counts["overdue"] += 1
    return counts


def _remind(obligation: Obligation) -> None:
    ticket = obligation.ticket
    obligation.reminded_for = obligation.due_on
    obligation.save(update_fields=["reminded_for"])
    record(
        actor=None,
        action="obligation.reminded",
        obj=obligation,
        consortium=ticket.consortium,
        payload={"ticket_id": ticket.pk, "due_on": iso(obligation.due_on)},
    )
    with translation.override(settings.LANGUAGE_CODE):
        _mail(
            requester_addresses(ticket),
            _("Reminder: a condition of review #%(id)s is due on %(date)s")
            % {"id": ticket.pk, "date": obligation.due_on.isoformat()},
            _(
                'A condition of the approval of "%(title)s" (#%(id)s), %(kind)s, is due on '
                "%(date)s. Sign in to the review pages and file the evidence."
            )
            % {
                "title": ticket.title,
                "id": ticket.pk,
                "kind": obligation.get_kind_display(),
                "date": obligation.due_on.isoformat(),
            },
        )


def _escalate(obligation: Obligation, today: datetime.date) -> bool:
    """Mark ``obligation`` overdue and escalate it; return True if its ticket was suspended."""
    ticket = obligation.ticket
    old = obligation.state
    obligation.state = State.OVERDUE
    obligation.escalated_for = obligation.due_on
    board = EthicsBoard.objects.filter(consortium_id=ticket.consortium_id).first()
    suspend = (
        obligation.critical
        and board is not None
        and board.overdue_critical == EthicsBoard.OverdueCritical.SUSPEND
    )
    # Only a suspension this obligation made is lifted when it is met: one the secretariat
    # decided on its own stays until the secretariat resumes the ticket.
    suspended = bool(suspend and ticket.is_active_on(today))
    obligation.holds_suspension = obligation.holds_suspension or suspended
    obligation.save(update_fields=["state", "escalated_for", "holds_suspension"])
    if suspended:
        ticket_suspend(actor=None, ticket=ticket)
    record(
        actor=None,
        action="obligation.overdue",
        obj=obligation,
        consortium=ticket.consortium,
        payload={
            "ticket_id": ticket.pk,
            "old": old,
            "due_on": iso(obligation.due_on),
            "critical": obligation.critical,
            "ticket_suspended": suspended,
        },
    )
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Overdue: a condition of review #%(id)s was due on %(date)s") % {
            "id": ticket.pk,
            "date": obligation.due_on.isoformat(),
        }
        message = _(
            'A condition of the approval of "%(title)s" (#%(id)s), %(kind)s, was due on '
            "%(date)s and is not met."
        ) % {
            "title": ticket.title,
            "id": ticket.pk,
            "kind": obligation.get_kind_display(),
            "date": obligation.due_on.isoformat(),
        }
        if suspended:
            message += " " + _("The approval and its grants are suspended until it is met.")
        _mail(overseer_addresses(ticket, today) | requester_addresses(ticket), subject, message)
    return suspended


@transaction.atomic
def deletion_confirmations_overdue(
    *, ticket_id: int, count: int, first_due: datetime.datetime, last_due: datetime.datetime
) -> Obligation | None:
    """
    Services that received residents' data under the grants of ticket ``ticket_id`` have not
    confirmed, within the period of its approval, what they did with it: ``count`` notices
    (withdrawals, closed purposes, ended grants) overdue, falling due between ``first_due`` and
    ``last_due``. Give the ticket an overdue obligation of kind "deletion certificate", owed by
    the requester and due the day the first of them fell due, unless one opened for the same
    reason is still owed or already covers them (opened after ``last_due``); the daily
    follow-up escalates it as any other, and the requester meets it with evidence as any other.
    Return the obligation opened, or None. Run by the system.
    """
    ticket = ReviewTicket.objects.select_for_update().get(pk=ticket_id)
    latest = (
        Obligation.objects.filter(ticket=ticket, from_recipient_notices=True)
        .order_by("-created_at", "-pk")
        .first()
    )
    if latest is not None and (latest.state in Obligation.OWED or latest.created_at >= last_due):
        return None
    since = max(first_due, latest.created_at) if latest is not None else first_due
    due_on = timezone.localdate(since)
    with translation.override(settings.LANGUAGE_CODE):
        text = _(
            "Confirm, for every notice of a withdrawal, a closed purpose or an ended grant, what "
            "the services did with the residents' data, and file a deletion certificate: "
            "%(count)s confirmations were overdue."
        ) % {"count": count}
    obligation = Obligation(
        ticket=ticket,
        owner=ticket.requester,
        kind=Obligation.Kind.DELETION_CERTIFICATE,
        text=text,
        due_on=due_on,
        from_recipient_notices=True,
    )
    obligation.full_clean()
    obligation.state = State.OVERDUE
    obligation.save()
    record(
        actor=None,
        action="obligation.deletions_unconfirmed",
        obj=obligation,
        consortium=ticket.consortium,
        payload={"ticket_id": ticket.pk, "count": count, "due_on": iso(due_on)},
    )
    return obligation
