"""
A purpose made from the approval that proposed it (目的の新設).

A ticket may propose a new purpose instead of choosing an existing one. Once the board approves
it, the consortium's secretariat creates that purpose from the ticket: prefilled with what the
board approved (the proposed title and explanation, the data categories, the requester as
controller, the recipients, the retention, the legal basis and the processing) and linked to
the ticket, so that grants for the ticket name it and the ticket's approval covers it. The
purpose is created as a draft; the secretariat reviews its English texts and opens it for
consent in the admin.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from consent import services as consent_services
from consent.models import Purpose

from ..models import ReviewTicket
from ._common import ActorLike, record
from .tickets import TransitionError, _lock, _require_secretariat

State = ReviewTicket.State


@transaction.atomic
def purpose_create_from_ticket(
    *, actor: ActorLike, ticket: ReviewTicket, code: str, title_en: str = "", explanation_en=""
) -> Purpose:
    """
    Create the purpose the approved ``ticket`` proposed (secretariat), prefilled from the
    approval, as a draft with ``code``, and link it to the ticket.
    """
    ticket = _lock(ticket)
    _require_secretariat(actor, ticket.consortium)
    if ticket.state not in (State.APPROVED, State.SUSPENDED):
        raise TransitionError(_("Only an approved request's purpose can be created from it."))
    if ticket.purpose_id is not None:
        raise TransitionError(_("This request already has its purpose."))
    purpose = Purpose(
        consortium=ticket.consortium,
        code=code,
        title_ja=ticket.proposed_purpose_title,
        title_en=title_en.strip() or ticket.proposed_purpose_title,
        explanation_ja=ticket.proposed_purpose_explanation or ticket.proposed_purpose_title,
        explanation_en=explanation_en.strip()
        or ticket.proposed_purpose_explanation
        or ticket.proposed_purpose_title,
        controller=ticket.requester,
        retention_days=ticket.retention_days or 1,
        legal_basis=ticket.legal_basis,
        processing=ticket.anonymisation,
    )
    if Purpose.objects.filter(consortium=ticket.consortium, code=code).exists():
        raise ValidationError({"code": _("This consortium already has a purpose with this code.")})
    purpose = consent_services.purpose_save(
        actor=actor,
        purpose=purpose,
        categories=ticket.categories.all(),
        recipients=ticket.recipients.all(),
    )
    # The approved request stays as it was decided (its rounds keep the proposal); only the
    # link is added, so ``full_clean`` (which wants one or the other) is not asked here.
    ticket.purpose = purpose
    ticket.save(update_fields=["purpose", "updated_at"])
    record(
        actor=actor,
        action="ticket.purpose_linked",
        obj=ticket,
        consortium=ticket.consortium,
        payload={"purpose_id": purpose.pk},
    )
    return purpose
