"""
The data-ethics board's review of data-use requests (審査), from draft to decision.

States and who moves them (every move one service function and one audit entry):

- draft -> submitted: ``ticket_submit`` by the requester's representative (or a service);
- submitted -> in review: ``ticket_review_start`` by the secretariat, once enough reviewers
  who are not recused are assigned (``reviewer_assign``) to reach the board's quorum;
- in review -> approved / rejected / changes requested: ``review_vote_cast`` applies the board's
  rule (``selectors.review_tally``) after every vote and conflict declaration, and calls
  ``ticket_approve``, ``ticket_reject`` or ``ticket_request_changes``;
- changes requested -> in review: ``ticket_resubmit`` by the requester, a new round;
- approved <-> suspended: ``ticket_suspend`` / ``ticket_resume`` by the secretariat;
- any state but closed -> closed: ``ticket_close`` by the secretariat, or by the requester
  (a withdrawal).

Approving, suspending, resuming and closing send ``signals.ticket_status_changed`` after the
commit.
"""

import datetime
import hashlib
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from governance import selectors as governance_selectors
from governance.models import Consortium, Organization, Role

from .. import selectors
from ..models import (
    EthicsBoard,
    Obligation,
    ReviewAssignment,
    ReviewAttachment,
    ReviewComment,
    ReviewRound,
    ReviewTicket,
    ReviewVote,
    clean_obligation_specs,
    obligation_schedule,
)
from ..signals import ticket_status_changed
from ._common import ActorLike, iso, record, set_fields

logger = logging.getLogger(__name__)

# The use cases (tests/review/test_review_audit.py checks each writes its entry).
SERVICES = [
    "comment_add",
    "conflict_declare",
    "review_vote_cast",
    "reviewer_assign",
    "ticket_approve",
    "ticket_close",
    "ticket_create",
    "ticket_reject",
    "ticket_request_changes",
    "ticket_resubmit",
    "ticket_resume",
    "ticket_review_start",
    "ticket_submit",
    "ticket_suspend",
    "ticket_update",
    "attachment_add",
    "reminders_send",
]

State = ReviewTicket.State
REQUEST_SCALARS = set(ReviewTicket.REQUEST_FIELDS) - {"categories", "recipients"}


class TransitionError(ValidationError):
    """A transition the ticket's state does not allow."""


def _is_user(actor) -> bool:
    return getattr(actor, "is_authenticated", False)


def _lock(ticket: ReviewTicket) -> ReviewTicket:
    """Re-read ``ticket`` under a row lock: two reviewers voting at once decide once."""
    return (
        ReviewTicket.objects.select_for_update()
        .select_related("consortium", "requester")
        .get(pk=ticket.pk)
    )


def _require_state(ticket: ReviewTicket, allowed: set, doing: str) -> None:
    if ticket.state not in allowed:
        raise TransitionError(
            _("A ticket that is %(state)s cannot be %(doing)s.")
            % {"state": ticket.get_state_display(), "doing": doing}
        )


def _require_requester(actor, ticket: ReviewTicket) -> None:
    """Only the requester's representatives (or a service acting for it) act for the requester."""
    if not _is_user(actor):
        return  # a service authenticated by the grants API, or the system
    if ticket.filed_by_id == actor.pk or governance_selectors.represents(
        actor, ticket.requester, ticket.consortium
    ):
        return
    raise PermissionDenied(_("Only the requesting organisation's representatives may do this."))


_require_secretariat = governance_selectors.require_secretariat


def _board(consortium: Consortium) -> EthicsBoard:
    board = EthicsBoard.objects.filter(consortium=consortium).first()
    if board is None:
        raise ValidationError(
            _("This consortium has no data-ethics board yet: the secretariat sets it up first.")
        )
    return board


def _set_relations(ticket: ReviewTicket, categories, recipients) -> None:
    if categories is not None:
        categories = list(categories)
        ticket.categories.set(categories)
    if recipients is not None:
        recipients = list(recipients)
        if any(
            not isinstance(org, Organization)
            or not governance_selectors.members_on(ticket.consortium, timezone.localdate())
            .filter(organization=org)
            .exists()
            for org in recipients
        ):
            raise ValidationError(
                {"recipients": _("Choose recipients among the consortium's current members.")}
            )
        ticket.recipients.set(recipients)


def requester_addresses(ticket: ReviewTicket) -> set[str]:
    """The addresses of who filed ``ticket`` and of the requester's representatives today."""
    recipients = {ticket.filed_by.email} if ticket.filed_by_id and ticket.filed_by.email else set()
    for membership in (
        governance_selectors.members_on(ticket.consortium, timezone.localdate())
        .filter(organization=ticket.requester, representative__isnull=False)
        .select_related("representative")
    ):
        if membership.representative.email:
            recipients.add(membership.representative.email)
    return recipients


def _notify_requester(ticket: ReviewTicket, event: str) -> None:
    """Mail the requester's people that the ticket moved (after the commit)."""
    recipients = requester_addresses(ticket)
    if not recipients:
        return
    ticket_id, state = ticket.pk, ticket.get_state_display
    title = ticket.title
    decided = event in ("approved", "rejected")

    def send():
        with translation.override(settings.LANGUAGE_CODE):
            message = _(
                'Your request "%(title)s" (#%(id)s) is now %(state)s. '
                "Sign in to the review pages to read the board's comments."
            ) % {"title": title, "id": ticket_id, "state": state()}
            if decided:
                message += " " + _(
                    "The board's decision notice (PDF: the decision, its conditions and "
                    "obligations, and the term) is on the request's page."
                )
            send_mail(
                subject=_("Data-ethics review #%(id)s: %(state)s")
                % {"id": ticket_id, "state": state()},
                message=message,
                from_email=None,
                recipient_list=sorted(recipients),
                fail_silently=True,
            )

    transaction.on_commit(send)
    logger.info("ticket %s: requester told of %s", ticket_id, event)


def _issue_requester_letter(ticket: ReviewTicket) -> None:
    """
    Queue the requester's decision notice right after the commit that decided ``ticket`` (the
    system requests it; the requester finds it on the ticket's page and is told by mail).
    Queued after the commit so that a decision rolled back leaves no notice behind.
    """
    if not settings.REVIEW_REQUESTER_LETTER_ON_DECISION:
        return
    from audit import services as audit_services

    from ..reports import REQUESTER_LETTER

    ticket_id, consortium_id = ticket.pk, ticket.consortium_id

    def request():
        audit_services.report_request(
            actor=None,
            kind=REQUESTER_LETTER,
            parameters={"ticket": ticket_id},
            consortium_id=consortium_id,
            language=settings.LANGUAGE_CODE[:2],
        )

    transaction.on_commit(request)


def _announce(ticket: ReviewTicket, old: str, new: str) -> None:
    def send():
        ticket_status_changed.send(sender=ReviewTicket, ticket=ticket, old=old, new=new)

    transaction.on_commit(send)


# --- Filing ------------------------------------------------------------------------------------


@transaction.atomic
def ticket_create(
    *,
    actor: ActorLike,
    consortium: Consortium,
    requester: Organization,
    title: str,
    service_name: str,
    purpose=None,
    proposed_purpose_title: str = "",
    proposed_purpose_explanation: str = "",
    categories=(),
    recipients=(),
    third_party_provision: bool = False,
    legal_basis: str = ReviewTicket.LegalBasis.CONSENT,
    retention_days: int | None = None,
    deletion_method: str = "",
    security_measures: str = "",
    anonymisation: str = ReviewTicket.Anonymisation.NONE,
    anonymisation_details: str = "",
    cross_border_transfer: bool = False,
    cross_border_details: str = "",
    pia: list | None = None,
) -> ReviewTicket:
    """
    File a draft request of ``requester`` (a current member of ``consortium``) to use data.

    A user must represent the requester; a service (``Actor.service``) is trusted to act for
    the organisation the grants API authenticated.
    """
    if (
        not governance_selectors.members_on(consortium, timezone.localdate())
        .filter(organization=requester)
        .exists()
    ):
        raise ValidationError(
            {"requester": _("Only a current member of the consortium can file a request.")}
        )
    if _is_user(actor) and not governance_selectors.represents(actor, requester, consortium):
        raise PermissionDenied(_("Only the requesting organisation's representatives may do this."))
    ticket = ReviewTicket(
        consortium=consortium,
        requester=requester,
        filed_by=actor if _is_user(actor) else None,
        title=title,
        service_name=service_name,
        purpose=purpose,
        proposed_purpose_title=proposed_purpose_title,
        proposed_purpose_explanation=proposed_purpose_explanation,
        third_party_provision=third_party_provision,
        legal_basis=legal_basis,
        retention_days=retention_days,
        deletion_method=deletion_method,
        security_measures=security_measures,
        anonymisation=anonymisation,
        anonymisation_details=anonymisation_details,
        cross_border_transfer=cross_border_transfer,
        cross_border_details=cross_border_details,
        pia=pia or [],
    )
    ticket.full_clean()
    ticket.save()
    _set_relations(ticket, categories, recipients)
    record(
        actor=actor,
        action="ticket.created",
        obj=ticket,
        consortium=consortium,
        payload={"requester_id": requester.pk, "purpose_id": ticket.purpose_id},
    )
    return ticket


@transaction.atomic
def ticket_update(
    *, actor: ActorLike, ticket: ReviewTicket, categories=None, recipients=None, **fields
) -> ReviewTicket:
    """Change the request while it is a draft or the board has asked for changes."""
    ticket = _lock(ticket)
    _require_requester(actor, ticket)
    _require_state(ticket, ReviewTicket.EDITABLE_STATES, pgettext("ticket action", "edited"))
    changed = set_fields(ticket, fields, REQUEST_SCALARS)
    ticket.full_clean()
    ticket.save()
    before = selectors.ticket_snapshot(ticket)
    _set_relations(ticket, categories, recipients)
    after = selectors.ticket_snapshot(ticket)
    changed += [name for name in ("categories", "recipients") if before[name] != after[name]]
    record(
        actor=actor,
        action="ticket.updated",
        obj=ticket,
        consortium=ticket.consortium,
        payload={"changed": sorted(changed)},
    )
    return ticket


def _open_round(ticket: ReviewTicket, today: datetime.date) -> ReviewRound:
    missing = ticket.missing_for_submission()
    ticket.full_clean()
    if missing:
        raise ValidationError(missing)
    board = _board(ticket.consortium)
    ticket.round += 1
    ticket.due_on = today + datetime.timedelta(days=board.review_days)
    return ReviewRound.objects.create(
        ticket=ticket,
        number=ticket.round,
        submitted_at=timezone.now(),
        due_on=ticket.due_on,
        request=selectors.ticket_snapshot(ticket),
    )


@transaction.atomic
def ticket_submit(
    *, actor: ActorLike, ticket: ReviewTicket, today: datetime.date | None = None
) -> ReviewTicket:
    """Submit a draft to the board: round 1 begins, due after the board's review days."""
    ticket = _lock(ticket)
    _require_requester(actor, ticket)
    _require_state(ticket, {State.DRAFT}, pgettext("ticket action", "submitted"))
    review_round = _open_round(ticket, today or timezone.localdate())
    ticket.state = State.SUBMITTED
    ticket.save()
    record(
        actor=actor,
        action="ticket.submitted",
        obj=ticket,
        consortium=ticket.consortium,
        payload={"round": review_round.number, "due_on": iso(review_round.due_on)},
    )
    return ticket


@transaction.atomic
def ticket_resubmit(
    *, actor: ActorLike, ticket: ReviewTicket, today: datetime.date | None = None
) -> ReviewTicket:
    """Send a revised request back to the board: a new round, with the same reviewers."""
    ticket = _lock(ticket)
    _require_requester(actor, ticket)
    _require_state(ticket, {State.CHANGES_REQUESTED}, pgettext("ticket action", "resubmitted"))
    review_round = _open_round(ticket, today or timezone.localdate())
    ticket.state = State.IN_REVIEW
    ticket.save()
    # New recipients may recuse a reviewer whose organisation now receives the data.
    for assignment in ticket.assignments.select_related("role"):
        _apply_automatic_recusal(ticket, assignment)
    record(
        actor=actor,
        action="ticket.resubmitted",
        obj=ticket,
        consortium=ticket.consortium,
        payload={"round": review_round.number, "due_on": iso(review_round.due_on)},
    )
    _decide(ticket)
    return ticket


# --- The review ------------------------------------------------------------------------------


def _automatic_recusal(ticket: ReviewTicket, role: Role) -> str:
    """Return why ``role``'s holder is recused from ``ticket`` by rule, or ""."""
    organizations = set()
    if role.organization_id:
        organizations.add(role.organization_id)
    # A reviewer also speaks for the organisations they represent in the consortium.
    organizations |= set(
        governance_selectors.members_on(ticket.consortium, timezone.localdate())
        .filter(representative=role.user)
        .values_list("organization", flat=True)
    )
    if ticket.requester_id in organizations:
        return ReviewAssignment.Recusal.REQUESTER
    if organizations & set(ticket.recipients.values_list("pk", flat=True)):
        return ReviewAssignment.Recusal.RECIPIENT
    return ""


def _apply_automatic_recusal(ticket: ReviewTicket, assignment: ReviewAssignment) -> None:
    reason = _automatic_recusal(ticket, assignment.role)
    if reason and assignment.recusal != ReviewAssignment.Recusal.DECLARED:
        assignment.recusal = reason
        assignment.save(update_fields=["recusal"])
        record(
            actor=None,
            action="ticket.reviewer_recused",
            obj=ticket,
            consortium=ticket.consortium,
            payload={"reviewer_id": assignment.reviewer_id, "reason": reason},
        )


@transaction.atomic
def reviewer_assign(*, actor: ActorLike, ticket: ReviewTicket, reviewer) -> ReviewAssignment:
    """
    Assign a member of the consortium's ethics board to review ``ticket`` (secretariat).
    A reviewer whose organisation is the requester or a recipient is recused at once.
    """
    ticket = _lock(ticket)
    _require_secretariat(actor, ticket.consortium)
    _require_state(
        ticket,
        {State.SUBMITTED, State.IN_REVIEW, State.CHANGES_REQUESTED},
        pgettext("ticket action", "assigned reviewers"),
    )
    role = (
        governance_selectors.roles_on(
            ticket.consortium, timezone.localdate(), Role.Kind.ETHICS_BOARD_MEMBER
        )
        .filter(user=reviewer)
        .first()
    )
    if role is None:
        raise ValidationError(
            {"reviewer": _("Choose a current member of this consortium's data-ethics board.")}
        )
    if ReviewAssignment.objects.filter(ticket=ticket, reviewer=reviewer).exists():
        raise ValidationError({"reviewer": _("This reviewer is already assigned to the ticket.")})
    assignment = ReviewAssignment.objects.create(
        ticket=ticket, reviewer=reviewer, role=role, recusal=_automatic_recusal(ticket, role)
    )
    record(
        actor=actor,
        action="ticket.reviewer_assigned",
        obj=ticket,
        consortium=ticket.consortium,
        payload={
            "reviewer_id": reviewer.pk,
            "expertise": role.expertise,
            "recusal": assignment.recusal or None,
        },
    )
    return assignment


@transaction.atomic
def ticket_review_start(*, actor: ActorLike, ticket: ReviewTicket) -> ReviewTicket:
    """Open the board's review of a submitted ticket (secretariat), its quorum assigned."""
    ticket = _lock(ticket)
    _require_secretariat(actor, ticket.consortium)
    _require_state(ticket, {State.SUBMITTED}, pgettext("ticket action", "put in review"))
    board = _board(ticket.consortium)
    participants = ticket.assignments.filter(recusal="").count()
    if participants < board.quorum:
        raise ValidationError(
            _(
                "The board decides with at least %(quorum)s reviewers who are not recused; "
                "%(count)s are assigned. Assign more reviewers first."
            )
            % {"quorum": board.quorum, "count": participants}
        )
    ticket.state = State.IN_REVIEW
    ticket.save()
    record(
        actor=actor,
        action="ticket.review_started",
        obj=ticket,
        consortium=ticket.consortium,
        payload={"round": ticket.round, "reviewers": participants},
    )
    _notify_requester(ticket, "review_started")
    return ticket


@transaction.atomic
def conflict_declare(
    *, actor: ActorLike, ticket: ReviewTicket, has_conflict: bool
) -> ReviewAssignment:
    """
    Declare, before reading the full request, whether the reviewer has a conflict of interest.
    A declared conflict recuses them (and may leave the board short of its quorum).
    """
    ticket = _lock(ticket)
    assignment = selectors.ticket_assignment(actor, ticket)
    if assignment is None:
        raise PermissionDenied(_("Only a reviewer assigned to this ticket may declare."))
    if assignment.conflict_declared_at:
        raise ValidationError(_("You have already declared your conflicts for this ticket."))
    _require_state(
        ticket,
        {State.SUBMITTED, State.IN_REVIEW, State.CHANGES_REQUESTED},
        pgettext("ticket action", "declared on"),
    )
    assignment.conflict_declared_at = timezone.now()
    assignment.has_conflict = bool(has_conflict)
    if has_conflict and not assignment.recusal:
        assignment.recusal = ReviewAssignment.Recusal.DECLARED
    assignment.save()
    record(
        actor=actor,
        action="ticket.conflict_declared",
        obj=ticket,
        consortium=ticket.consortium,
        payload={"reviewer_id": assignment.reviewer_id, "has_conflict": bool(has_conflict)},
    )
    _decide(ticket)
    return assignment


@transaction.atomic
def comment_add(
    *,
    actor: ActorLike,
    ticket: ReviewTicket,
    text: str,
    kind: str = ReviewComment.Kind.COMMENT,
    visibility: str = ReviewComment.Visibility.BOARD,
) -> ReviewComment:
    """
    Add a reviewer's comment or question (to the board only, or to the requester), or the
    requester's answer (always visible to both).
    """
    ticket = _lock(ticket)
    roles = selectors.ticket_roles(actor, ticket) if _is_user(actor) else set()
    if not text.strip():
        raise ValidationError({"text": _("Write the comment.")})
    if kind == ReviewComment.Kind.ANSWER:
        if selectors.REQUESTER not in roles:
            raise PermissionDenied(_("Only the requester answers the board's questions."))
        visibility = ReviewComment.Visibility.REQUESTER
    else:
        if not selectors.sees_board_side(actor, ticket):
            raise PermissionDenied(
                _("Only reviewers who declared no conflict and the secretariat comment.")
            )
    _require_state(
        ticket,
        {State.SUBMITTED, State.IN_REVIEW, State.CHANGES_REQUESTED},
        pgettext("ticket action", "commented on"),
    )
    comment = ReviewComment(
        ticket=ticket,
        round=ticket.round,
        author=actor,
        kind=kind,
        visibility=visibility,
        text=text.strip(),
    )
    comment.full_clean()
    comment.save()
    record(
        actor=actor,
        action="ticket.commented",
        obj=ticket,
        consortium=ticket.consortium,
        payload={"remark_id": comment.pk, "kind": kind, "visibility": visibility},
    )
    if visibility == ReviewComment.Visibility.REQUESTER and kind != ReviewComment.Kind.ANSWER:
        _notify_requester(ticket, "comment")
    return comment


@transaction.atomic
def review_vote_cast(
    *,
    actor: ActorLike,
    ticket: ReviewTicket,
    choice: str,
    conditions: str = "",
    obligations: list | None = None,
    reason: str = "",
    today: datetime.date | None = None,
) -> ReviewVote:
    """
    Cast an assigned reviewer's vote in the current round; the board's rule may decide.

    An approval with conditions gives them as ``obligations`` (see
    ``models.clean_obligation_specs``: kind, text, due date rule, critical), or as free text in
    ``conditions``, which becomes one obligation of kind "other" without a due date.
    """
    ticket = _lock(ticket)
    assignment = selectors.ticket_assignment(actor, ticket)
    if assignment is None:
        raise PermissionDenied(_("Only a reviewer assigned to this ticket may vote."))
    if not assignment.conflict_declared_at:
        raise ValidationError(_("Declare your conflicts of interest before you vote."))
    if assignment.is_recused:
        raise ValidationError(_("You are recused from this ticket and cannot vote."))
    _require_state(ticket, {State.IN_REVIEW}, pgettext("ticket action", "voted on"))
    if ReviewVote.objects.filter(assignment=assignment, round=ticket.round).exists():
        raise ValidationError(_("You have already voted in this round."))
    specs = clean_obligation_specs(obligations) if obligations else []
    if specs:
        conditions = "\n".join(spec["text"] for spec in specs)
    elif conditions.strip() and choice == ReviewVote.Choice.APPROVE_WITH_CONDITIONS:
        specs = clean_obligation_specs([{"text": conditions}])
    vote = ReviewVote(
        ticket=ticket,
        round=ticket.round,
        assignment=assignment,
        choice=choice,
        conditions=conditions.strip(),
        obligations=specs,
        reason=reason.strip(),
    )
    vote.full_clean()
    vote.save()
    record(
        actor=actor,
        action="ticket.vote_cast",
        obj=ticket,
        consortium=ticket.consortium,
        payload={"round": ticket.round, "reviewer_id": actor.pk, "choice": choice},
    )
    _decide(ticket, today=today)
    return vote


def _decide(ticket: ReviewTicket, today: datetime.date | None = None) -> None:
    """Move the ticket on its own when the board's rule is met (the system acts)."""
    tally = selectors.review_tally(ticket)
    if tally.decision == State.APPROVED:
        today = today or timezone.localdate()
        board = _board(ticket.consortium)
        ticket_approve(
            actor=None,
            ticket=ticket,
            conditions="\n".join(dict.fromkeys(tally.conditions)),
            obligations=tally.obligations,
            valid_from=today,
            valid_until=today + datetime.timedelta(days=board.approval_term_days),
        )
    elif tally.decision == State.REJECTED:
        ticket_reject(actor=None, ticket=ticket, veto=tally.veto)
    elif tally.decision == State.CHANGES_REQUESTED:
        ticket_request_changes(actor=None, ticket=ticket)


def _close_round(ticket: ReviewTicket, outcome: str) -> None:
    ReviewRound.objects.filter(ticket=ticket, number=ticket.round).update(outcome=outcome)


@transaction.atomic
def ticket_approve(
    *,
    actor: ActorLike,
    ticket: ReviewTicket,
    conditions: str,
    valid_from: datetime.date,
    valid_until: datetime.date,
    obligations: list | None = None,
) -> ReviewTicket:
    """
    Approve a ticket in review, with the board's conditions and a term (decision rule). Each
    condition becomes an obligation of the requester (``obligations``, as
    ``models.clean_obligation_specs`` takes them; without them, the conditions' text is one
    obligation of kind "other").
    """
    ticket = _lock(ticket)
    if actor is not None:
        raise PermissionDenied(_("Only the board's decision rule approves a ticket."))
    _require_state(ticket, {State.IN_REVIEW}, pgettext("ticket action", "approved"))
    if valid_until < valid_from:
        raise ValidationError({"valid_until": _("The term cannot end before it starts.")})
    ticket.state = State.APPROVED
    ticket.conditions = conditions
    ticket.valid_from, ticket.valid_until = valid_from, valid_until
    ticket.deletion_confirmation_days = _board(ticket.consortium).deletion_confirmation_days
    ticket.decided_at = timezone.now()
    ticket.save()
    _close_round(ticket, State.APPROVED)
    if obligations is None and conditions.strip():
        obligations = [{"text": conditions}]
    created = _obligations_create(ticket, clean_obligation_specs(obligations or []))
    record(
        actor=actor,
        action="ticket.approved",
        obj=ticket,
        consortium=ticket.consortium,
        payload={
            "round": ticket.round,
            "with_conditions": bool(conditions),
            "obligation_ids": [obligation.pk for obligation in created],
            "valid_from": iso(valid_from),
            "valid_until": iso(valid_until),
            "deletion_confirmation_days": ticket.deletion_confirmation_days,
        },
    )
    _notify_requester(ticket, "approved")
    _issue_requester_letter(ticket)
    _announce(ticket, State.IN_REVIEW, State.APPROVED)
    return ticket


def _obligations_create(ticket: ReviewTicket, specs: list[dict]) -> list[Obligation]:
    """Make the approved ``ticket``'s obligations, each owed by the requester, each recorded."""
    created = []
    for spec in specs:
        due_on, recurrence, repeats_left = obligation_schedule(spec, ticket)
        obligation = Obligation(
            ticket=ticket,
            owner_id=ticket.requester_id,
            kind=spec["kind"],
            text=spec["text"],
            critical=spec["critical"],
            due_on=due_on,
            recurrence=recurrence,
            repeats_left=repeats_left,
        )
        obligation.full_clean()
        obligation.save()
        record(
            actor=None,
            action="obligation.created",
            obj=obligation,
            consortium=ticket.consortium,
            payload={
                "ticket_id": ticket.pk,
                "kind": obligation.kind,
                "critical": obligation.critical,
                "due_on": iso(due_on),
                "recurrence": recurrence,
                "repeats_left": repeats_left,
            },
        )
        created.append(obligation)
    return created


@transaction.atomic
def ticket_reject(*, actor: ActorLike, ticket: ReviewTicket, veto: bool = False) -> ReviewTicket:
    """Reject a ticket in review (decision rule)."""
    ticket = _lock(ticket)
    if actor is not None:
        raise PermissionDenied(_("Only the board's decision rule rejects a ticket."))
    _require_state(ticket, {State.IN_REVIEW}, pgettext("ticket action", "rejected"))
    ticket.state = State.REJECTED
    ticket.decided_at = timezone.now()
    ticket.save()
    _close_round(ticket, State.REJECTED)
    record(
        actor=actor,
        action="ticket.rejected",
        obj=ticket,
        consortium=ticket.consortium,
        payload={"round": ticket.round, "veto": veto},
    )
    _notify_requester(ticket, "rejected")
    _issue_requester_letter(ticket)
    return ticket


@transaction.atomic
def ticket_request_changes(*, actor: ActorLike, ticket: ReviewTicket) -> ReviewTicket:
    """Ask the requester to revise the request (decision rule)."""
    ticket = _lock(ticket)
    if actor is not None:
        raise PermissionDenied(_("Only the board's decision rule asks for changes."))
    _require_state(ticket, {State.IN_REVIEW}, pgettext("ticket action", "sent back for changes"))
    ticket.state = State.CHANGES_REQUESTED
    ticket.save()
    _close_round(ticket, State.CHANGES_REQUESTED)
    record(
        actor=actor,
        action="ticket.changes_requested",
        obj=ticket,
        consortium=ticket.consortium,
        payload={"round": ticket.round},
    )
    _notify_requester(ticket, "changes_requested")
    return ticket


# --- After the decision --------------------------------------------------------------------


@transaction.atomic
def ticket_suspend(*, actor: ActorLike, ticket: ReviewTicket) -> ReviewTicket:
    """Suspend an approved ticket (secretariat): its grants stop until it is resumed."""
    ticket = _lock(ticket)
    _require_secretariat(actor, ticket.consortium)
    _require_state(ticket, {State.APPROVED}, pgettext("ticket action", "suspended"))
    return _switch_after_decision(
        actor=actor, ticket=ticket, new=State.SUSPENDED, action="ticket.suspended"
    )


@transaction.atomic
def ticket_resume(
    *, actor: ActorLike, ticket: ReviewTicket, today: datetime.date | None = None
) -> ReviewTicket:
    """Resume a suspended ticket (secretariat), within its term."""
    ticket = _lock(ticket)
    _require_secretariat(actor, ticket.consortium)
    _require_state(ticket, {State.SUSPENDED}, pgettext("ticket action", "resumed"))
    if (today or timezone.localdate()) > ticket.valid_until:
        raise TransitionError(
            _("The approval's term ended on %(date)s: the requester files a new request.")
            % {"date": ticket.valid_until.isoformat()}
        )
    return _switch_after_decision(
        actor=actor, ticket=ticket, new=State.APPROVED, action="ticket.resumed"
    )


def _switch_after_decision(
    *, actor: ActorLike, ticket: ReviewTicket, new: str, action: str
) -> ReviewTicket:
    """Move a decided ticket to ``new``, record ``action`` and tell the requester and services."""
    old, ticket.state = ticket.state, new
    ticket.save()
    record(
        actor=actor,
        action=action,
        obj=ticket,
        consortium=ticket.consortium,
        payload={"old": old},
    )
    _notify_requester(ticket, action.removeprefix("ticket."))
    _announce(ticket, old, new)
    return ticket


@transaction.atomic
def ticket_close(*, actor: ActorLike, ticket: ReviewTicket, reason: str = "") -> ReviewTicket:
    """
    Close a ticket for good: by the secretariat from any state, or withdrawn by the requester.
    A closed approval allows no grant any more. ``reason`` says why when the system closes it
    (``member_left``: the requester's membership ended or was suspended).
    """
    ticket = _lock(ticket)
    is_secretariat = actor is None or (
        _is_user(actor)
        and governance_selectors.consortia_administered_by(actor)
        .filter(pk=ticket.consortium_id)
        .exists()
    )
    if not is_secretariat:
        _require_requester(actor, ticket)
    _require_state(ticket, set(State.values) - {State.CLOSED}, pgettext("ticket action", "closed"))
    old = ticket.state
    ticket.state = State.CLOSED
    ticket.save()
    record(
        actor=actor,
        action="ticket.closed",
        obj=ticket,
        consortium=ticket.consortium,
        payload={"old": old, "reason": reason} if reason else {"old": old},
    )
    _announce(ticket, old, State.CLOSED)
    return ticket


MEMBER_LEFT = "member_left"


def tickets_close_for_member(*, membership) -> int:
    """
    Close every open ticket the member filed in its consortium, its membership having ended or
    been suspended (governance's ``membership_ended``); return how many were closed.
    """
    open_tickets = ReviewTicket.objects.filter(
        consortium_id=membership.consortium_id, requester_id=membership.organization_id
    ).exclude(state__in=[State.CLOSED, State.REJECTED])
    closed = 0
    for ticket in open_tickets.order_by("pk"):
        ticket_close(actor=None, ticket=ticket, reason=MEMBER_LEFT)
        closed += 1
    return closed


# --- Attachments and reminders -------------------------------------------------------------

# The file's first bytes decide its type; the name and the browser's claim are not trusted.
SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}


def sniff_content_type(head: bytes) -> str | None:
    """Return the attachment type ``head`` (the file's first bytes) shows, or None."""
    for signature, content_type in SIGNATURES.items():
        if head.startswith(signature):
            return content_type
    return None


@transaction.atomic
def attachment_add(*, actor: ActorLike, ticket: ReviewTicket, upload) -> ReviewAttachment:
    """
    Attach a PDF, PNG or JPEG to the request while the requester may edit it; the type is
    checked by content and the size against settings.MAX_UPLOAD_SIZE.
    """
    ticket = _lock(ticket)
    _require_requester(actor, ticket)
    _require_state(
        ticket, ReviewTicket.EDITABLE_STATES, pgettext("ticket action", "given attachments")
    )
    attachment = store_attachment(actor=actor, ticket=ticket, upload=upload)
    record(
        actor=actor,
        action="ticket.attachment_added",
        obj=ticket,
        consortium=ticket.consortium,
        payload={
            "attachment_id": attachment.pk,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "sha256": attachment.sha256,
        },
    )
    return attachment


def store_attachment(
    *, actor: ActorLike, ticket: ReviewTicket, upload, evidence=None
) -> ReviewAttachment:
    """
    Check ``upload`` (size, type by content) and keep it as a file of ``ticket`` (of its
    ``evidence`` when given); the caller has checked who may and records the entry.
    """
    if upload.size > settings.MAX_UPLOAD_SIZE:
        raise ValidationError(
            {
                "file": _("The file is larger than %(mb)s MB; attach a smaller one.")
                % {"mb": settings.MAX_UPLOAD_SIZE // (1024 * 1024) or 1}
            }
        )
    upload.seek(0)
    content_type = sniff_content_type(upload.read(16))
    if content_type is None:
        raise ValidationError({"file": _("Attach a PDF, PNG or JPEG file.")})
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = ReviewAttachment(
        ticket=ticket,
        evidence=evidence,
        round=ticket.round,
        uploaded_by=actor if _is_user(actor) else None,
        original_name=(upload.name or "file")[-200:],
        content_type=content_type,
        size=upload.size,
        sha256=digest.hexdigest(),
    )
    attachment.file.save("upload", upload, save=False)
    try:
        attachment.save()
    except Exception:
        # The file is written before its row: do not leave it behind.
        attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment


@transaction.atomic
def reminders_send(*, today: datetime.date | None = None) -> int:
    """
    Remind the reviewers who have not voted, two days before their round is due (the system;
    run daily by django-q). Return how many reminders were sent; each round is reminded once.
    """
    today = today or timezone.localdate()
    sent = 0
    for review_round in selectors.rounds_due_for_reminder(today).select_for_update(of=("self",)):
        ticket = review_round.ticket
        pending = list(selectors.reviewers_yet_to_vote(ticket))
        addresses = sorted({a.reviewer.email for a in pending if a.reviewer.email})
        review_round.reminded_at = timezone.now()
        review_round.save(update_fields=["reminded_at"])
        record(
            actor=None,
            action="ticket.reminded",
            obj=ticket,
            consortium=ticket.consortium,
            payload={
                "round": review_round.number,
                "due_on": iso(review_round.due_on),
                "reviewer_ids": sorted(a.reviewer_id for a in pending),
            },
        )
        if not addresses:
            continue
        ticket_id, title, due_on = ticket.pk, ticket.title, review_round.due_on

        def send(addresses=addresses, ticket_id=ticket_id, title=title, due_on=due_on):
            # One mail per reviewer: reviewers do not learn who else has not voted.
            with translation.override(settings.LANGUAGE_CODE):
                for address in addresses:
                    send_mail(
                        subject=_("Reminder: your vote on review #%(id)s is due on %(date)s")
                        % {"id": ticket_id, "date": due_on.isoformat()},
                        message=_(
                            'The data-ethics review "%(title)s" (#%(id)s) is due on %(date)s '
                            "and your vote is not yet recorded. Please sign in to the review "
                            "pages."
                        )
                        % {"title": title, "id": ticket_id, "date": due_on.isoformat()},
                        from_email=None,
                        recipient_list=[address],
                        fail_silently=True,
                    )

        transaction.on_commit(send)
        sent += len(addresses)
    return sent
