"""
Renewal before an approval's term ends (更新審査).

- ``renewals_remind`` (daily, django-q): the requester of an approval whose term ends within one
  of settings.REVIEW_RENEWAL_REMINDER_DAYS (60 and 30 by default) is mailed, once per threshold,
  unless a renewal is already filed.
- ``ticket_renew``: the requester starts a renewal from the approved ticket: a draft that copies
  the request, names the previous approval (``previous``) and is reviewed like any other; its
  page shows the previous decision, the record of its obligations and what changes.

On approval, a renewal is an approval of its own with a new term: grants are re-issued under the
renewal ticket (a grant's token names its ticket and ends with its term, so it cannot be
stretched), by the consortium's issuance rule or on request; the previous ticket's grants run
until its own term ends, and its obligations stay owed on it.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..models import ReviewTicket
from ._common import ActorLike, iso, record
from .tickets import (
    TransitionError,
    _is_user,
    _lock,
    _require_requester,
    requester_addresses,
)

State = ReviewTicket.State
OPEN_STATES = {State.DRAFT, State.SUBMITTED, State.IN_REVIEW, State.CHANGES_REQUESTED}


def open_successor(ticket: ReviewTicket, kind: str | None = None) -> ReviewTicket | None:
    """Return the renewal or amendment of ``ticket`` still being prepared or reviewed, if any."""
    successors = ticket.successors.filter(state__in=OPEN_STATES)
    if kind is not None:
        successors = successors.filter(kind=kind)
    return successors.order_by("pk").first()


@transaction.atomic
def ticket_continue(*, actor: ActorLike, ticket: ReviewTicket, kind: str) -> ReviewTicket:
    """
    Start a renewal or an amendment (``kind``) of the approved ``ticket``: a draft of the
    requester that copies the request and names ``ticket`` as its previous approval.
    """
    ticket = _lock(ticket)
    _require_requester(actor, ticket)
    if kind not in (ReviewTicket.Kind.RENEWAL, ReviewTicket.Kind.AMENDMENT):
        raise ValidationError({"kind": _("Choose a renewal or an amendment.")})
    if ticket.state not in (State.APPROVED, State.SUSPENDED) or ticket.valid_until is None:
        raise TransitionError(_("Only an approved ticket can be renewed or amended."))
    existing = open_successor(ticket)
    if existing is not None:
        raise TransitionError(
            _("Request #%(id)s already continues this approval: complete that one.")
            % {"id": existing.pk}
        )
    successor = ReviewTicket(
        consortium=ticket.consortium,
        requester=ticket.requester,
        filed_by=actor if _is_user(actor) else ticket.filed_by,
        kind=kind,
        previous=ticket,
        **{
            name: getattr(ticket, name)
            for name in ReviewTicket.REQUEST_FIELDS
            if name not in ("categories", "recipients")
        },
    )
    successor.full_clean()
    successor.save()
    successor.categories.set(ticket.categories.all())
    successor.recipients.set(ticket.recipients.all())
    record(
        actor=actor,
        action="ticket.created",
        obj=successor,
        consortium=ticket.consortium,
        payload={
            "requester_id": ticket.requester_id,
            "purpose_id": successor.purpose_id,
            "kind": kind,
            "previous_id": ticket.pk,
        },
    )
    return successor


def ticket_renew(*, actor: ActorLike, ticket: ReviewTicket) -> ReviewTicket:
    """Start the renewal of the approved ``ticket`` (the requester): a draft to complete."""
    return ticket_continue(actor=actor, ticket=ticket, kind=ReviewTicket.Kind.RENEWAL)


def reminder_thresholds() -> list[int]:
    return sorted({int(days) for days in settings.REVIEW_RENEWAL_REMINDER_DAYS}, reverse=True)


@transaction.atomic
def renewals_remind(*, today: datetime.date | None = None) -> int:
    """
    Remind the requesters whose approval ends within a threshold of
    settings.REVIEW_RENEWAL_REMINDER_DAYS, once per threshold, unless a renewal is filed
    (the system; daily). Return how many tickets were reminded.
    """
    today = today or timezone.localdate()
    thresholds = reminder_thresholds()
    if not thresholds:
        return 0
    reminded = 0
    tickets = (
        ReviewTicket.objects.filter(
            state=State.APPROVED,
            valid_until__gte=today,
            valid_until__lte=today + datetime.timedelta(days=thresholds[0]),
        )
        .select_related("consortium", "requester")
        .select_for_update(of=("self",))
        .order_by("valid_until", "pk")
    )
    for ticket in tickets:
        days_left = (ticket.valid_until - today).days
        threshold = min(days for days in thresholds if days_left <= days)
        if ticket.renewal_reminded_days is not None and ticket.renewal_reminded_days <= threshold:
            continue
        if (
            ticket.successors.filter(kind=ReviewTicket.Kind.RENEWAL)
            .exclude(state__in=[State.REJECTED, State.CLOSED])
            .exists()
        ):
            continue
        ticket.renewal_reminded_days = threshold
        ticket.save(update_fields=["renewal_reminded_days"])
        record(
            actor=None,
            action="ticket.renewal_reminded",
            obj=ticket,
            consortium=ticket.consortium,
            payload={
                "days_left": days_left,
                "threshold": threshold,
                "valid_until": iso(ticket.valid_until),
            },
        )
        _mail_renewal_reminder(ticket, days_left)
        reminded += 1
    return reminded


def _mail_renewal_reminder(ticket: ReviewTicket, days_left: int) -> None:
    addresses = sorted(requester_addresses(ticket))
    if not addresses:
        return
    ticket_id, title, until = ticket.pk, ticket.title, ticket.valid_until.isoformat()

    def send():
        with translation.override(settings.LANGUAGE_CODE):
            for address in addresses:
                send_mail(
                    subject=_("Data-ethics review #%(id)s: the approval ends on %(date)s")
                    % {"id": ticket_id, "date": until},
                    message=_(
                        'The approval of "%(title)s" (#%(id)s) ends on %(date)s, in %(days)s '
                        "days. To keep using the data after that day, sign in to the review "
                        "pages and file a renewal from the request's page."
                    )
                    % {"title": title, "id": ticket_id, "date": until, "days": days_left},
                    from_email=None,
                    recipient_list=[address],
                    fail_silently=True,
                )

    transaction.on_commit(send)
