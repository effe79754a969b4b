"""
Representations (代理): a resident who decides on consent for another person. Registered by
the secretariat with its evidence, or requested by the representative in the portal and then
approved or refused by the secretariat; ended by the secretariat, at the end date, or at the
person's coming of age. Each step writes one audit entry naming residents by pseudonymous id.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import Actor, record

from ..models import Relationship, Representation, Resident

AGE_OF_MAJORITY = 18  # Civil Code art. 4 (since 2022-04-01)


def coming_of_age(birth_date: date) -> date:
    """Return the 18th birthday of someone born on ``birth_date`` (29 February: 1 March)."""
    try:
        return birth_date.replace(year=birth_date.year + AGE_OF_MAJORITY)
    except ValueError:
        return date(birth_date.year + AGE_OF_MAJORITY, 3, 1)


def _payload(representation: Representation, **extra) -> dict:
    return {
        "representation": representation.pk,
        "representative": representation.representative_id,
        "represented": representation.represented_id,
        "relationship": representation.relationship,
        **extra,
    }


def _dates(representation: Representation) -> dict:
    return {
        "evidence_kind": representation.evidence_kind,
        "valid_from": representation.valid_from.isoformat(),
        "valid_until": representation.valid_until.isoformat()
        if representation.valid_until
        else None,
        "comes_of_age_on": representation.comes_of_age_on.isoformat()
        if representation.comes_of_age_on
        else None,
    }


def _check_people(representation: Representation) -> None:
    consortium_id = representation.consortium_id
    for field, resident in (
        ("representative", representation.representative),
        ("represented", representation.represented),
    ):
        if resident is None:
            continue
        if resident.is_erased:
            raise ValidationError({field: _("This resident's account has been deleted.")})
        if not resident.consortia.filter(pk=consortium_id).exists():
            raise ValidationError({field: _("This resident lives in another consortium's area.")})
    if representation.representative.user_id is None:
        raise ValidationError(
            {"representative": _("The representative needs an account of the resident portal.")}
        )
    if (
        representation.represented_id
        and Representation.objects.filter(
            representative_id=representation.representative_id,
            represented_id=representation.represented_id,
            state=Representation.State.ACTIVE,
        )
        .exclude(pk=representation.pk)
        .exists()
    ):
        raise ValidationError(
            _("This representative already acts for this person: end that representation first.")
        )


@transaction.atomic
def representation_register(
    *,
    actor,
    consortium,
    representative: Resident,
    represented: Resident,
    relationship: str,
    evidence_kind: str,
    evidence_checked_on: date,
    valid_from: date,
    valid_until: date | None = None,
    comes_of_age_on: date | None = None,
) -> Representation:
    """
    Register, at the secretariat, that ``representative`` may decide for ``represented``; the
    clerk (``actor``) is recorded as the one who checked the evidence.
    """
    representation = Representation(
        consortium=consortium,
        representative=representative,
        represented=represented,
        relationship=relationship,
        evidence_kind=evidence_kind,
        evidence_checked_by=actor,
        evidence_checked_on=evidence_checked_on,
        valid_from=valid_from,
        valid_until=valid_until,
        comes_of_age_on=comes_of_age_on,
        state=Representation.State.ACTIVE,
    )
    representation.full_clean()
    _check_people(representation)
    representation.save()
    record(
        actor=actor,
        action="representation.registered",
        obj=representation,
        consortium=consortium,
        payload=_payload(representation, **_dates(representation)),
    )
    return representation


@transaction.atomic
def representation_request(
    *,
    actor,
    representative: Resident,
    consortium,
    requested_name: str,
    relationship: str,
    evidence_kind: str,
) -> Representation:
    """
    Record a resident's request, made in the portal, to decide for another person; the
    secretariat checks the evidence and approves or refuses it. The person's name is kept
    only until then, and never enters the audit log.
    """
    requested_name = " ".join((requested_name or "").split())
    if not requested_name:
        raise ValidationError({"requested_name": _("Enter the name of the person.")})
    if relationship not in Relationship.values:
        raise ValidationError({"relationship": _("Choose how you are related to the person.")})
    representation = Representation(
        consortium=consortium,
        representative=representative,
        requested_name=requested_name,
        relationship=relationship,
        evidence_kind=evidence_kind,
        state=Representation.State.REQUESTED,
    )
    representation.full_clean()
    _check_people(representation)
    representation.save()
    record(
        actor=actor,
        action="representation.requested",
        obj=representation,
        consortium=consortium,
        payload=_payload(representation, evidence_kind=evidence_kind),
    )
    return representation


@transaction.atomic
def representation_approve(
    *,
    actor,
    representation: Representation,
    represented: Resident,
    evidence_kind: str,
    evidence_checked_on: date,
    valid_from: date,
    valid_until: date | None = None,
    comes_of_age_on: date | None = None,
    relationship: str | None = None,
) -> Representation:
    """
    Approve an online request, naming the person's resident record, the evidence seen and
    (when the documents show another) the relationship.
    """
    representation = Representation.objects.select_for_update().get(pk=representation.pk)
    if representation.state != Representation.State.REQUESTED:
        raise ValidationError(_("Only a request waiting for the secretariat can be approved."))
    representation.represented = represented
    if relationship:
        representation.relationship = relationship
    representation.evidence_kind = evidence_kind
    representation.evidence_checked_by = actor
    representation.evidence_checked_on = evidence_checked_on
    representation.valid_from = valid_from
    representation.valid_until = valid_until
    representation.comes_of_age_on = comes_of_age_on
    representation.state = Representation.State.ACTIVE
    representation.requested_name = ""
    representation.full_clean()
    _check_people(representation)
    representation.save()
    record(
        actor=actor,
        action="representation.approved",
        obj=representation,
        consortium=representation.consortium_id,
        payload=_payload(representation, **_dates(representation)),
    )
    return representation


@transaction.atomic
def representation_refuse(*, actor, representation: Representation) -> Representation:
    """Refuse an online request (the evidence was not shown or does not hold)."""
    representation = Representation.objects.select_for_update().get(pk=representation.pk)
    if representation.state != Representation.State.REQUESTED:
        raise ValidationError(_("Only a request waiting for the secretariat can be refused."))
    representation.state = Representation.State.REFUSED
    representation.requested_name = ""
    representation.save(update_fields=["state", "requested_name"])
    record(
        actor=actor,
        action="representation.refused",
        obj=representation,
        consortium=representation.consortium_id,
        payload=_payload(representation),
    )
    return representation


@transaction.atomic
def representation_end(
    *, actor, representation: Representation, reason: str, today: date | None = None
) -> Representation:
    """
    End an active representation: from now on the representative can no longer decide for
    the person, who is asked to confirm or change each decision made for them.
    """
    representation = Representation.objects.select_for_update().get(pk=representation.pk)
    if representation.state != Representation.State.ACTIVE:
        raise ValidationError(_("Only an active representation can be ended."))
    if reason not in Representation.EndReason.values:
        raise ValidationError({"end_reason": _("Choose why the representation ends.")})
    representation.state = Representation.State.ENDED
    representation.end_reason = reason
    representation.ended_on = today or timezone.localdate()
    representation.save(update_fields=["state", "end_reason", "ended_on"])
    record(
        actor=actor,
        action="representation.ended",
        obj=representation,
        consortium=representation.consortium_id,
        payload=_payload(
            representation, reason=reason, ended_on=representation.ended_on.isoformat()
        ),
    )
    return representation


def representations_end_due(*, today: date | None = None) -> int:
    """
    End every active representation whose end date passed or whose minor came of age (the
    daily task); return how many ended. The representative is stopped at use already
    (``Representation.is_in_force``): this records the end and asks the person to confirm.
    """
    today = today or timezone.localdate()
    due = Representation.objects.filter(state=Representation.State.ACTIVE).filter(
        Q(valid_until__lt=today) | Q(comes_of_age_on__lte=today)
    )
    ended = 0
    for representation in due:
        reason = representation.due_end_reason(today)
        if reason:
            representation_end(
                actor=Actor.system("consent.representations_end_due"),
                representation=representation,
                reason=reason,
                today=today,
            )
            ended += 1
    return ended


def representations_end_for(*, actor, resident: Resident) -> int:
    """End the representations ``resident`` holds or is the subject of (they are erased)."""
    ended = 0
    for representation in Representation.objects.filter(
        Q(representative=resident) | Q(represented=resident), state=Representation.State.ACTIVE
    ):
        representation_end(
            actor=actor,
            representation=representation,
            reason=Representation.EndReason.REPRESENTATIVE
            if representation.representative_id == resident.pk
            else Representation.EndReason.PERSON_ERASED,
        )
        ended += 1
    for request in Representation.objects.filter(
        representative=resident, state=Representation.State.REQUESTED
    ):
        representation_refuse(actor=actor, representation=request)
    return ended
