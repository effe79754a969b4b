"""Consortia, organisations, memberships and roles."""

import datetime

from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from .. import selectors
from ..models import (
    BylawVersion,
    Consortium,
    Membership,
    Organization,
    Resolution,
    Role,
)
from ..signals import membership_ended
from ._common import ActorLike, iso, record, set_fields

CONSORTIUM_FIELDS = {
    "name_ja",
    "name_en",
    "area",
    "vision",
    "established_on",
    "status",
    "require_second_factor",
}
ORGANIZATION_FIELDS = {"kind", "name_ja", "name_en", "corporate_number"}
MEMBERSHIP_FIELDS = {"member_class", "representative"}
ROLE_FIELDS = {"kind", "user", "organization", "expertise", "start_on", "end_on", "elected_by"}


@transaction.atomic
def consortium_create(
    *,
    actor: ActorLike,
    slug: str,
    name_ja: str,
    name_en: str,
    area: str = "",
    vision: str = "",
    established_on: datetime.date | None = None,
    status: str = Consortium.Status.ACTIVE,
    require_second_factor: bool = False,
) -> Consortium:
    """Create a consortium with its secretariat group, which administers its records."""
    consortium = Consortium(
        slug=slug,
        name_ja=name_ja,
        name_en=name_en,
        area=area,
        vision=vision,
        established_on=established_on,
        status=status,
        require_second_factor=require_second_factor,
    )
    consortium.full_clean()
    group, _created = Group.objects.get_or_create(name=f"secretariat: {slug}")
    if Consortium.objects.filter(secretariat_group=group).exists():
        raise ValidationError(
            {"slug": _("The secretariat group for this short name is taken; choose another one.")}
        )
    consortium.secretariat_group = group
    consortium.save()
    assign_perm("governance.administer_consortium", group, consortium)
    record(
        actor=actor,
        action="consortium.created",
        obj=consortium,
        consortium=consortium,
        payload={"slug": slug, "status": status, "secretariat_group_id": group.pk},
    )
    return consortium


@transaction.atomic
def consortium_update(*, actor: ActorLike, consortium: Consortium, **fields) -> Consortium:
    """Change a consortium's names, area, vision, established date or status."""
    changed = set_fields(consortium, fields, CONSORTIUM_FIELDS)
    consortium.full_clean()
    consortium.save()
    record(
        actor=actor,
        action="consortium.updated",
        obj=consortium,
        consortium=consortium,
        payload={"changed": changed, "status": consortium.status},
    )
    return consortium


@transaction.atomic
def organization_register(
    *,
    actor: ActorLike,
    registered_by: Consortium | None,
    kind: str,
    name_ja: str,
    name_en: str,
    corporate_number: str = "",
) -> Organization:
    """Register a member organisation; a wrong corporate number is refused."""
    organization = Organization(
        registered_by=registered_by,
        kind=kind,
        name_ja=name_ja,
        name_en=name_en,
        corporate_number=corporate_number.strip(),
    )
    organization.full_clean()
    organization.save()
    record(
        actor=actor,
        action="organization.registered",
        obj=organization,
        consortium=registered_by,
        payload={"kind": kind, "corporate_number": organization.corporate_number or None},
    )
    return organization


@transaction.atomic
def organization_update(*, actor: ActorLike, organization: Organization, **fields) -> Organization:
    """Change an organisation's kind, names or corporate number."""
    if "corporate_number" in fields:
        fields["corporate_number"] = fields["corporate_number"].strip()
    changed = set_fields(organization, fields, ORGANIZATION_FIELDS)
    organization.full_clean()
    organization.save()
    record(
        actor=actor,
        action="organization.updated",
        obj=organization,
        consortium=organization.registered_by_id,
        payload={"changed": changed},
    )
    return organization


def _check_admission(
    *,
    consortium: Consortium,
    member_class: str,
    joined_on: datetime.date,
    admission_resolution: Resolution | None,
) -> None:
    """Raise ValidationError unless the bylaws in force let this member in as given."""
    if admission_resolution is not None:
        # Read the resolution as stored: its outcome is what counts, not a caller's copy.
        admission_resolution = Resolution.objects.select_related("assembly").get(
            pk=admission_resolution.pk
        )
        assembly = admission_resolution.assembly
        if assembly.consortium_id != consortium.pk:
            raise ValidationError(
                {"admission_resolution": _("Choose a resolution of this consortium's assembly.")}
            )
        if admission_resolution.kind != Resolution.Kind.ADMISSION:
            raise ValidationError(
                {"admission_resolution": _("Choose a resolution on the admission of a member.")}
            )
        if admission_resolution.outcome != Resolution.Outcome.CARRIED:
            raise ValidationError(
                {
                    "admission_resolution": _(
                        "This admission has not been carried: close the vote first, and admit "
                        "the member only if it is carried."
                    )
                }
            )
        if assembly.held_on > joined_on:
            raise ValidationError(
                {
                    "joined_on": _(
                        "A member joins on or after the assembly that admitted it (%(date)s)."
                    )
                    % {"date": assembly.held_on.isoformat()}
                }
            )
        return
    if member_class == Membership.MemberClass.OBSERVER:
        return
    bylaws = selectors.bylaw_in_force(consortium, joined_on)
    if bylaws is None or not bylaws.admission_requires_resolution:
        return
    # Members joining on the day the founding bylaws take effect are founding members
    # (設立時会員): the founding assembly that adopted the bylaws admitted them.
    if bylaws.adopted_by_id is None and joined_on == bylaws.effective_on:
        return
    raise ValidationError(
        {
            "admission_resolution": _(
                "The bylaws in force require a general assembly resolution to admit a member: "
                "choose the carried admission resolution."
            )
        }
    )


@transaction.atomic
def membership_admit(
    *,
    actor: ActorLike,
    consortium: Consortium,
    organization: Organization,
    member_class: str,
    joined_on: datetime.date,
    representative: AbstractBaseUser | None = None,
    admission_resolution: Resolution | None = None,
    accepted_bylaw_version: BylawVersion | None = None,
    accepted_confidentiality: bool = False,
    accepted_ip_terms: bool = False,
    terms_accepted_on: datetime.date | None = None,
) -> Membership:
    """Admit ``organization`` to ``consortium``, by resolution when the bylaws require one."""
    Consortium.objects.select_for_update().get(pk=consortium.pk)
    membership = Membership(
        consortium=consortium,
        organization=organization,
        member_class=member_class,
        joined_on=joined_on,
        representative=representative,
        admission_resolution=admission_resolution,
        accepted_bylaw_version=accepted_bylaw_version,
        accepted_confidentiality=accepted_confidentiality,
        accepted_ip_terms=accepted_ip_terms,
        terms_accepted_on=terms_accepted_on,
    )
    membership.full_clean()
    if Membership.objects.filter(
        consortium=consortium, organization=organization, left_on__isnull=True
    ).exists():
        raise ValidationError(
            {"organization": _("This organisation is already a member of the consortium.")}
        )
    _check_admission(
        consortium=consortium,
        member_class=member_class,
        joined_on=joined_on,
        admission_resolution=admission_resolution,
    )
    membership.save()
    record(
        actor=actor,
        action="membership.admitted",
        obj=membership,
        consortium=consortium,
        payload={
            "organization_id": organization.pk,
            "member_class": member_class,
            "joined_on": iso(joined_on),
            "representative_id": getattr(representative, "pk", None),
            "admission_resolution_id": getattr(admission_resolution, "pk", None),
            "accepted_bylaw_version_id": getattr(accepted_bylaw_version, "pk", None),
            "accepted_confidentiality": accepted_confidentiality,
            "accepted_ip_terms": accepted_ip_terms,
        },
    )
    return membership


@transaction.atomic
def membership_update(*, actor: ActorLike, membership: Membership, **fields) -> Membership:
    """Change a member's class or representative (votes already closed keep their count)."""
    if membership.left_on is not None:
        raise ValidationError(_("This member has left; a former membership cannot be changed."))
    class_before = membership.member_class
    changed = set_fields(membership, fields, MEMBERSHIP_FIELDS)
    membership.full_clean()
    if (
        membership.member_class != class_before
        and membership.votes.filter(resolution__status=Resolution.Status.OPEN).exists()
    ):
        raise ValidationError(
            {
                "member_class": _(
                    "This member has votes on resolutions still open; close those votes before "
                    "changing its class."
                )
            }
        )
    membership.save()
    record(
        actor=actor,
        action="membership.updated",
        obj=membership,
        consortium=membership.consortium_id,
        payload={
            "changed": changed,
            "member_class": membership.member_class,
            "representative_id": membership.representative_id,
        },
    )
    return membership


@transaction.atomic
def membership_terms_accept(
    *,
    actor: ActorLike,
    membership: Membership,
    bylaw_version: BylawVersion | None,
    confidentiality: bool,
    ip_terms: bool,
    accepted_on: datetime.date,
) -> Membership:
    """Record that the member accepted a bylaw version and the confidentiality and IP terms."""
    if bylaw_version is not None and bylaw_version.is_draft:
        raise ValidationError(
            {"accepted_bylaw_version": _("A member accepts adopted bylaws, not a draft.")}
        )
    membership.accepted_bylaw_version = bylaw_version
    membership.accepted_confidentiality = confidentiality
    membership.accepted_ip_terms = ip_terms
    membership.terms_accepted_on = accepted_on
    membership.full_clean()
    membership.save()
    record(
        actor=actor,
        action="membership.terms_accepted",
        obj=membership,
        consortium=membership.consortium_id,
        payload={
            "bylaw_version_id": getattr(bylaw_version, "pk", None),
            "confidentiality": confidentiality,
            "ip_terms": ip_terms,
            "accepted_on": iso(accepted_on),
        },
    )
    return membership


@transaction.atomic
def membership_leave(
    *,
    actor: ActorLike,
    membership: Membership,
    left_on: datetime.date,
    reason: str = Membership.EndReason.LEFT,
) -> Membership:
    """
    End a membership on ``left_on`` (the member may vote at assemblies up to that day), as
    ``reason``: it left (退会) or was expelled (除名). From that day its data flows are cut off
    (``membership_cut_off``): at once when the day has come, else by the daily task.
    """
    if reason not in Membership.EndReason.values:
        raise ValidationError({"reason": _("Choose whether the member left or was expelled.")})
    if membership.left_on is not None:
        raise ValidationError(_("This member has already left."))
    membership.left_on = left_on
    membership.end_reason = reason
    membership.full_clean()
    if membership.votes.filter(resolution__assembly__held_on__gt=left_on).exists():
        raise ValidationError(
            {"left_on": _("This member voted at an assembly after that date: choose a later date.")}
        )
    membership.save()
    record(
        actor=actor,
        action="membership.left",
        obj=membership,
        consortium=membership.consortium_id,
        payload={"left_on": iso(left_on), "reason": reason},
    )
    _cut_off_if_due(membership)
    return membership


@transaction.atomic
def membership_suspend(
    *, actor: ActorLike, membership: Membership, suspended_on: datetime.date
) -> Membership:
    """
    Suspend a member (資格停止) from ``suspended_on``: it keeps its seat, but its data flows are
    cut off from that day as if it had left, until ``membership_reinstate``.
    """
    if membership.left_on is not None:
        raise ValidationError(_("This member has already left."))
    if membership.suspended_on is not None:
        raise ValidationError(_("This member is already suspended."))
    if suspended_on < membership.joined_on:
        raise ValidationError(
            {"suspended_on": _("A member cannot be suspended before joining: check the date.")}
        )
    membership.suspended_on = suspended_on
    membership.save(update_fields=["suspended_on"])
    record(
        actor=actor,
        action="membership.suspended",
        obj=membership,
        consortium=membership.consortium_id,
        payload={"suspended_on": iso(suspended_on)},
    )
    _cut_off_if_due(membership)
    return membership


@transaction.atomic
def membership_reinstate(*, actor: ActorLike, membership: Membership) -> Membership:
    """
    End a member's suspension. What the suspension cut off stays so (revoked grants, closed
    requests, deactivated services): the member files again and the secretariat reactivates.
    """
    if membership.suspended_on is None or membership.left_on is not None:
        raise ValidationError(_("Only a suspended current member can be reinstated."))
    membership.suspended_on = None
    membership.cut_off_at = None
    membership.save(update_fields=["suspended_on", "cut_off_at"])
    record(
        actor=actor,
        action="membership.reinstated",
        obj=membership,
        consortium=membership.consortium_id,
        payload={},
    )
    return membership


def _cut_off_if_due(membership: Membership, today: datetime.date | None = None) -> bool:
    ends_on = membership.data_ends_on()
    if membership.cut_off_at is not None or ends_on is None:
        return False
    if ends_on > (today or timezone.localdate()):
        return False
    membership_cut_off(actor=None, membership=membership)
    return True


@transaction.atomic
def membership_cut_off(*, actor: ActorLike, membership: Membership) -> Membership:
    """
    Cut off an ended or suspended member's data flows, once: record it, then tell the apps
    that hold them (``signals.membership_ended``, in this transaction, so that the member's
    services, grants and open requests end with it or not at all).
    """
    stored = Membership.objects.select_for_update().get(pk=membership.pk)
    if stored.cut_off_at is not None:
        return stored
    if stored.left_on is None and stored.suspended_on is None:
        raise ValidationError(_("This member neither left nor is suspended."))
    reason = (stored.end_reason or Membership.EndReason.LEFT) if stored.left_on else "suspended"
    membership.cut_off_at = stored.cut_off_at = timezone.now()
    stored.save(update_fields=["cut_off_at"])
    record(
        actor=actor,
        action="membership.cut_off",
        obj=membership,
        consortium=membership.consortium_id,
        payload={"reason": reason, "organization": membership.organization_id},
    )
    membership_ended.send(sender=Membership, membership=stored, reason=reason)
    return membership


def memberships_cut_off(*, today: datetime.date | None = None) -> int:
    """Cut off the members whose leaving or suspension day has come; return how many."""
    today = today or timezone.localdate()
    due = (
        Membership.objects.filter(cut_off_at__isnull=True)
        .filter(Q(left_on__lte=today) | Q(suspended_on__lte=today))
        .order_by("pk")
    )
    count = 0
    for membership in due:
        if _cut_off_if_due(membership, today):
            count += 1
    return count


def check_role(role: Role) -> None:
    """Raise ValidationError if ``role`` overlaps a term it may not overlap."""
    others = Role.objects.filter(consortium_id=role.consortium_id, kind=role.kind)
    if role.pk:
        others = others.exclude(pk=role.pk)
    # Two terms overlap when each starts before (or on the day) the other ends.
    if role.end_on is not None:
        others = others.filter(start_on__lte=role.end_on)
    overlapping = [
        other for other in others if other.end_on is None or other.end_on >= role.start_on
    ]
    if role.kind == Role.Kind.CHAIR and overlapping:
        raise ValidationError(
            {
                "start_on": _(
                    "The consortium has one chair at a time, and this term overlaps the current "
                    "chair's term (%(start)s to %(end)s). End that term first, or start this one "
                    "after it."
                )
                % {
                    "start": overlapping[0].start_on.isoformat(),
                    "end": iso(overlapping[0].end_on) or "…",
                }
            }
        )
    if any(other.user_id == role.user_id for other in overlapping):
        raise ValidationError(
            {"start_on": _("This person already holds this role in that period.")}
        )
    if (
        role.organization_id
        and not Membership.objects.filter(
            consortium_id=role.consortium_id, organization_id=role.organization_id
        ).exists()
    ):
        raise ValidationError(
            {"organization": _("Choose an organisation that is a member of this consortium.")}
        )
    if role.elected_by_id and (
        role.elected_by.assembly.consortium_id != role.consortium_id
        or role.elected_by.outcome != Resolution.Outcome.CARRIED
    ):
        raise ValidationError(
            {"elected_by": _("Choose a carried resolution of this consortium's assembly.")}
        )


@transaction.atomic
def role_assign(
    *,
    actor: ActorLike,
    consortium: Consortium,
    kind: str,
    user: AbstractBaseUser,
    start_on: datetime.date,
    end_on: datetime.date | None = None,
    organization: Organization | None = None,
    expertise: str = "",
    elected_by: Resolution | None = None,
) -> Role:
    """Give ``user`` a role in ``consortium`` from ``start_on``; one chair at a time."""
    # Serialise role changes per consortium so that two overlapping chairs cannot both pass.
    Consortium.objects.select_for_update().get(pk=consortium.pk)
    role = Role(
        consortium=consortium,
        kind=kind,
        user=user,
        organization=organization,
        expertise=expertise,
        start_on=start_on,
        end_on=end_on,
        elected_by=elected_by,
    )
    role.full_clean()
    check_role(role)
    role.save()
    record(
        actor=actor,
        action="role.assigned",
        obj=role,
        consortium=consortium,
        payload={
            "kind": kind,
            "user_id": user.pk,
            "organization_id": getattr(organization, "pk", None),
            "expertise": expertise or None,
            "start_on": iso(start_on),
            "end_on": iso(end_on),
            "elected_by_id": getattr(elected_by, "pk", None),
        },
    )
    return role


@transaction.atomic
def role_update(*, actor: ActorLike, role: Role, **fields) -> Role:
    """Correct a role's holder, expertise or term, under the same rules as ``role_assign``."""
    Consortium.objects.select_for_update().get(pk=role.consortium_id)
    changed = set_fields(role, fields, ROLE_FIELDS)
    role.full_clean()
    check_role(role)
    role.save()
    record(
        actor=actor,
        action="role.updated",
        obj=role,
        consortium=role.consortium_id,
        payload={
            "changed": changed,
            "kind": role.kind,
            "user_id": role.user_id,
            "start_on": iso(role.start_on),
            "end_on": iso(role.end_on),
        },
    )
    return role


@transaction.atomic
def role_end(*, actor: ActorLike, role: Role, end_on: datetime.date) -> Role:
    """End a role on ``end_on``."""
    if role.end_on is not None and role.end_on <= end_on:
        raise ValidationError({"end_on": _("This term already ends on or before that date.")})
    role.end_on = end_on
    role.full_clean()
    role.save()
    record(
        actor=actor,
        action="role.ended",
        obj=role,
        consortium=role.consortium_id,
        payload={"kind": role.kind, "user_id": role.user_id, "end_on": iso(end_on)},
    )
    return role
