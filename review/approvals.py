"""
Which decision of the board covers a purpose's notice (registered with ``consent.approvals``).

A purpose is covered by an approval in force of a ticket linked to it (chosen when filed, or
set by ``purpose_create_from_ticket``; a renewal or an amendment keeps the link): approved
(with or without conditions), within its term, not suspended or closed. The approval covers the
notice's terms when each is within what the ticket approved:

- data categories: every category of the purpose is one the ticket asked for;
- recipients (第三者提供): every recipient is the requester or one of the ticket's recipients,
  and a purpose with recipients needs a ticket that asked for third-party provision;
- retention: no longer than the ticket's;
- legal basis: the ticket's;
- processing: at least as protective as the ticket's anonymisation (identifiable <
  pseudonymised < anonymised < statistics only).

Several approvals in force: the latest decided that covers the terms. None: a ValidationError
that says which approval is missing (or why the one there is not in force), or which term goes
beyond the latest approval and that an amendment of it is needed.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from consent.approvals import Approval
from consent.models import PROCESSING_ORDER

from .models import ReviewTicket

State = ReviewTicket.State


def _in_force(ticket: ReviewTicket, today) -> bool:
    return ticket.is_active_on(today)


def widenings(ticket: ReviewTicket, terms: dict) -> dict[str, list[str]]:
    """Return ``{field: [message]}`` for each term of ``terms`` beyond ``ticket``'s approval."""
    found: dict[str, list[str]] = {}
    number = ticket.pk
    approved_codes = set(ticket.categories.values_list("code", flat=True))
    extra = [
        _name(category)
        for category in terms["categories"]
        if category["code"] not in approved_codes
    ]
    if extra:
        found["categories"] = [
            _("The data categories %(names)s are not approved by review #%(id)s.")
            % {"names": _join(extra), "id": number}
        ]
    recipients = terms["recipients"]
    approved_recipients = set(ticket.recipients.values_list("pk", flat=True)) | {
        ticket.requester_id
    }
    messages = []
    if recipients and not ticket.third_party_provision:
        messages.append(_("Review #%(id)s did not approve third-party provision.") % {"id": number})
    outside = [
        _name(recipient) for recipient in recipients if recipient["id"] not in approved_recipients
    ]
    if outside:
        messages.append(
            _("The recipients %(names)s are not approved by review #%(id)s.")
            % {"names": _join(outside), "id": number}
        )
    if messages:
        found["recipients"] = messages
    retention = terms["retention_days"]
    if ticket.retention_days is None or retention > ticket.retention_days:
        found["retention_days"] = [
            _("A retention of %(days)s days is longer than review #%(id)s approved (%(approved)s).")
            % {"days": retention, "id": number, "approved": ticket.retention_days or "—"}
        ]
    legal_basis = terms.get("legal_basis", "consent")
    if legal_basis != ticket.legal_basis:
        found["legal_basis"] = [_("Review #%(id)s approved another legal basis.") % {"id": number}]
    processing = terms.get("processing", "none")
    if _level(processing) < _level(ticket.anonymisation):
        found["processing"] = [
            _(
                "Review #%(id)s approved the use of %(approved)s data only; this purpose "
                "would use %(asked)s data."
            )
            % {
                "id": number,
                "approved": ReviewTicket.Anonymisation(ticket.anonymisation).label,
                "asked": ReviewTicket.Anonymisation(processing).label,
            }
        ]
    return found


def _english() -> bool:
    return (get_language() or "ja")[:2] == "en"


def _name(term: dict) -> str:
    """Return a category's or an organisation's name from the terms, in the active language."""
    names = term["name"]
    return (names.get("en") if _english() else "") or names["ja"]


def _join(names: list[str]) -> str:
    return ", ".join(names) if _english() else "、".join(names)


def _level(value: str) -> int:
    return PROCESSING_ORDER.index(value) if value in PROCESSING_ORDER else 0


def covering_approval(purpose, terms: dict, today=None) -> Approval:
    """
    Return the approval in force that covers ``terms`` of ``purpose``; raise ValidationError
    naming the missing approval or the terms that widen it.
    """
    today = today or timezone.localdate()
    tickets = list(
        ReviewTicket.objects.filter(purpose_id=purpose.pk)
        .exclude(purpose_id=None)
        .order_by("-decided_at", "-pk")
    )
    in_force = [ticket for ticket in tickets if _in_force(ticket, today)]
    for ticket in in_force:
        if not widenings(ticket, terms):
            return Approval(
                ticket_id=ticket.pk,
                decided_on=timezone.localdate(ticket.decided_at),
                valid_until=ticket.valid_until,
            )
    if in_force:
        latest = in_force[0]
        errors = {
            NON_FIELD_ERRORS: [
                _(
                    "This notice goes beyond the approval of review #%(id)s: the requester "
                    "files an amendment of it on the review pages, and the notice can be "
                    "published once the board approves the amendment."
                )
                % {"id": latest.pk}
            ]
        }
        errors.update(widenings(latest, terms))
        raise ValidationError(errors, code="not_approved")
    raise ValidationError(_missing(tickets, today), code="not_approved")


def _missing(tickets: list[ReviewTicket], today) -> str:
    """Say why no approval is in force for a purpose whose tickets are ``tickets``."""
    decided = [ticket for ticket in tickets if ticket.valid_until is not None]
    if decided:
        ticket = max(decided, key=lambda t: (t.decided_at or timezone.now(), t.pk))
        if ticket.state == State.SUSPENDED:
            return _(
                "The approval of review #%(id)s is suspended: the purpose can open, or its "
                "notice change, only once the secretariat resumes it."
            ) % {"id": ticket.pk}
        if ticket.state == State.CLOSED:
            return _(
                "Review #%(id)s is closed: the purpose needs a new approval of the "
                "data-ethics board."
            ) % {"id": ticket.pk}
        if ticket.state == State.APPROVED and ticket.valid_until < today:
            return _(
                "The approval of review #%(id)s ended on %(date)s: the requester files a "
                "renewal, and the purpose can open once the board approves it."
            ) % {"id": ticket.pk, "date": ticket.valid_until.isoformat()}
        if ticket.state == State.APPROVED and ticket.valid_from > today:
            return _("The approval of review #%(id)s starts on %(date)s.") % {
                "id": ticket.pk,
                "date": ticket.valid_from.isoformat(),
            }
    pending = [ticket for ticket in tickets if ticket.state not in ReviewTicket.DECIDED_STATES]
    if pending:
        return _(
            "Review #%(id)s for this purpose is not approved yet (%(state)s): the purpose can "
            "open once the data-ethics board approves it."
        ) % {"id": pending[0].pk, "state": pending[0].get_state_display()}
    return _(
        "No approval of the data-ethics board covers this purpose: a member files a review "
        "request for it, and the purpose can open once the board approves it."
    )
