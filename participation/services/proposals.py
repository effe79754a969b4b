"""
Proposals (提案): a resident proposes an idea to their consortium, other residents support it,
the secretariat hides one (with the reason its author reads) or answers it (accepted into a
plan, being studied, declined — with the reasons) and links what follows.

Every function is atomic, takes keyword-only arguments with the actor first, and writes one
audit entry with ids and states only: never a proposal's title, body, reasons for hiding it
or the answer's reasons.

An author does not support their own proposal: a support counts the backing of *other*
residents, and the proposal itself already stands for its author.
"""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import record
from consent.models import Purpose, Resident
from governance.models import Consortium
from governance.selectors import require_secretariat
from review.models import ReviewTicket

from .. import selectors
from ..models import Proposal, Support

logger = logging.getLogger(__name__)

TITLE_MAX_LENGTH = 200
# Long enough to explain an idea, short enough to be read.
BODY_MAX_LENGTH = 4000


@transaction.atomic
def proposal_submit(
    *,
    actor,
    consortium: Consortium,
    author: Resident,
    kind: str,
    title: str,
    body: str,
    language: str = "ja",
    now=None,
) -> Proposal:
    """Publish a resident's proposal to their consortium."""
    if not selectors.may_propose(author, consortium):
        raise PermissionDenied(_("Only the consortium's residents may make proposals."))
    errors = {}
    title = (title or "").strip()
    body = (body or "").strip()
    if kind not in Proposal.Kind.values:
        errors["kind"] = _("Choose what your proposal is about.")
    if not title:
        errors["title"] = _("Give your proposal a title.")
    elif len(title) > TITLE_MAX_LENGTH:
        errors["title"] = _("A title may be at most %(max)d characters long.") % {
            "max": TITLE_MAX_LENGTH
        }
    if not body:
        errors["body"] = _("Describe your proposal before sending it.")
    elif len(body) > BODY_MAX_LENGTH:
        errors["body"] = _("A proposal may be at most %(max)d characters long (it has %(n)d).") % {
            "max": BODY_MAX_LENGTH,
            "n": len(body),
        }
    if errors:
        raise ValidationError(errors)
    proposal = Proposal(
        consortium=consortium,
        author=author,
        kind=kind,
        title=title,
        body=body,
        language=language[:2],
        submitted_at=now or timezone.now(),
    )
    proposal.full_clean()
    proposal.save()
    record(
        actor=actor,
        action="proposal.submitted",
        obj=proposal,
        consortium=consortium.pk,
        payload={"kind": kind, "author": author.pseudonymous_id},
    )
    return proposal


@transaction.atomic
def proposal_hide(*, actor, proposal: Proposal, reason: str) -> Proposal:
    """Hide a published proposal from other residents, with the reason its author reads."""
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    require_secretariat(actor, proposal.consortium)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"hidden_reason": _("Say why the proposal is hidden: its author will read it.")}
        )
    if proposal.status != Proposal.Status.PUBLISHED:
        raise ValidationError(_("Only a published, unanswered proposal can be hidden."))
    proposal.status = Proposal.Status.HIDDEN
    proposal.hidden_reason = reason
    proposal.save(update_fields=["status", "hidden_reason"])
    record(
        actor=actor,
        action="proposal.hidden",
        obj=proposal,
        consortium=proposal.consortium_id,
        payload={},
    )
    _tell_author(proposal)
    return proposal


@transaction.atomic
def proposal_answer(
    *,
    actor,
    proposal: Proposal,
    outcome: str,
    reasons_ja: str,
    reasons_en: str = "",
    ticket: ReviewTicket | None = None,
    purpose: Purpose | None = None,
    indicator_code: str = "",
    now=None,
) -> Proposal:
    """
    Answer a proposal (or change the answer): the outcome and its reasons, and what follows
    from it (a review request, a purpose, a KPI by its code), each of the same consortium.
    """
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    require_secretariat(actor, proposal.consortium)
    errors = {}
    if outcome not in Proposal.Outcome.values:
        errors["outcome"] = _(
            "Choose the outcome: accepted into a plan, being studied or declined."
        )
    if not (reasons_ja or "").strip():
        errors["reasons_ja"] = _("Write the reasons for the answer: residents read them.")
    if ticket is not None and ticket.consortium_id != proposal.consortium_id:
        errors["ticket"] = _("Choose a review request of the same consortium.")
    if purpose is not None and purpose.consortium_id != proposal.consortium_id:
        errors["purpose"] = _("Choose a purpose of the same consortium.")
    if errors:
        raise ValidationError(errors)
    if proposal.status == Proposal.Status.HIDDEN:
        raise ValidationError(_("A hidden proposal is not answered."))
    proposal.status = Proposal.Status.ANSWERED
    proposal.outcome = outcome
    proposal.reasons_ja = reasons_ja.strip()
    proposal.reasons_en = (reasons_en or "").strip()
    proposal.ticket = ticket
    proposal.purpose = purpose
    proposal.indicator_code = (indicator_code or "").strip()
    proposal.answered_by = actor if getattr(actor, "is_authenticated", False) else None
    proposal.answered_at = now or timezone.now()
    proposal.full_clean()
    proposal.save()
    record(
        actor=actor,
        action="proposal.answered",
        obj=proposal,
        consortium=proposal.consortium_id,
        payload={
            "outcome": outcome,
            "ticket": proposal.ticket_id,
            "purpose": proposal.purpose_id,
            "indicator_linked": bool(proposal.indicator_code),
        },
    )
    _tell_author(proposal)
    return proposal


@transaction.atomic
def support_add(*, actor, proposal: Proposal, resident: Resident, now=None) -> Support:
    """Add a resident's support to another resident's proposal: once per resident."""
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if not selectors.may_propose(resident, proposal.consortium) or (
        proposal.status == Proposal.Status.HIDDEN and proposal.author_id != resident.pk
    ):
        raise PermissionDenied(_("Only the consortium's residents may support its proposals."))
    if proposal.author_id == resident.pk:
        raise ValidationError(_("You cannot support your own proposal."))
    if proposal.status == Proposal.Status.HIDDEN:
        raise ValidationError(_("A hidden proposal cannot be supported."))
    if Support.objects.filter(proposal=proposal, resident=resident).exists():
        raise ValidationError(_("You already support this proposal."))
    try:
        with transaction.atomic():
            support = Support.objects.create(
                proposal=proposal, resident=resident, created_at=now or timezone.now()
            )
    except IntegrityError as error:  # a second request at the same moment
        raise ValidationError(_("You already support this proposal.")) from error
    record(
        actor=actor,
        action="proposal.supported",
        obj=proposal,
        consortium=proposal.consortium_id,
        payload={"resident": resident.pseudonymous_id},
    )
    return support


@transaction.atomic
def support_withdraw(*, actor, proposal: Proposal, resident: Resident) -> None:
    """Withdraw a resident's support of a proposal."""
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    deleted, _rows = Support.objects.filter(proposal=proposal, resident=resident).delete()
    if not deleted:
        raise ValidationError(_("You do not support this proposal."))
    record(
        actor=actor,
        action="proposal.support_withdrawn",
        obj=proposal,
        consortium=proposal.consortium_id,
        payload={"resident": resident.pseudonymous_id},
    )


def _tell_author(proposal: Proposal) -> None:
    """Mail the author that their proposal was answered or hidden (after the commit)."""
    author = Resident.objects.select_related("profile").get(pk=proposal.author_id)
    address = getattr(getattr(author, "profile", None), "contact_email", "")
    if author.is_erased or not address:
        return
    hidden = proposal.status == Proposal.Status.HIDDEN
    proposal_id = proposal.pk

    def send() -> None:
        with translation.override(author.language):
            send_mail(
                subject=_("Your proposal was hidden")
                if hidden
                else _("Your proposal has been answered"),
                message=_(
                    "The secretariat has hidden a proposal you made and says why. Sign in to "
                    "the resident portal and open “My proposals” to read the reason."
                )
                if hidden
                else _(
                    "The secretariat has answered a proposal you made, with its reasons. Sign "
                    "in to the resident portal and open “My proposals” to read the answer."
                ),
                from_email=None,
                recipient_list=[address],
                fail_silently=True,
            )
        logger.info("proposal %s: author told", proposal_id)

    transaction.on_commit(send)
