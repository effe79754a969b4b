"""General assemblies: attendance, resolutions, votes, and closing a vote."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import selectors
from ..models import (
    Attendance,
    BylawVersion,
    Consortium,
    GeneralAssembly,
    Membership,
    Resolution,
    Vote,
)
from ._common import ActorLike, iso, record, set_fields

ASSEMBLY_FIELDS = {"kind", "title_ja", "title_en", "held_on", "place", "online", "agenda"}
RESOLUTION_FIELDS = {
    "kind",
    "title_ja",
    "title_en",
    "text",
    "bylaw_version",
    "amendment_effective_on",
}


def _bylaws_for(assembly: GeneralAssembly) -> BylawVersion:
    bylaws = selectors.bylaw_in_force(assembly.consortium, assembly.held_on)
    if bylaws is None:
        raise ValidationError(
            _(
                "No bylaws are in force on the assembly date, so no vote can be counted. "
                "Record the consortium's founding bylaws first."
            )
        )
    return bylaws


def _refuse_if_any_closed(assembly: GeneralAssembly) -> None:
    if assembly.resolutions.filter(status=Resolution.Status.CLOSED).exists():
        raise ValidationError(
            _("A vote of this assembly has been closed: its date and attendance are frozen.")
        )


@transaction.atomic
def assembly_create(
    *,
    actor: ActorLike,
    consortium: Consortium,
    title_ja: str,
    held_on: datetime.date,
    title_en: str = "",
    kind: str = GeneralAssembly.Kind.ORDINARY,
    place: str = "",
    online: bool = False,
    agenda: str = "",
) -> GeneralAssembly:
    """Convene a general assembly (総会) of ``consortium`` on ``held_on``."""
    assembly = GeneralAssembly(
        consortium=consortium,
        kind=kind,
        title_ja=title_ja,
        title_en=title_en,
        held_on=held_on,
        place=place,
        online=online,
        agenda=agenda,
    )
    assembly.full_clean()
    assembly.save()
    record(
        actor=actor,
        action="assembly.created",
        obj=assembly,
        consortium=consortium,
        payload={"kind": kind, "held_on": iso(held_on), "online": online},
    )
    return assembly


@transaction.atomic
def assembly_update(*, actor: ActorLike, assembly: GeneralAssembly, **fields) -> GeneralAssembly:
    """Change an assembly's details; its date is frozen once a vote has closed."""
    assembly = GeneralAssembly.objects.select_for_update().get(pk=assembly.pk)
    if "held_on" in fields and fields["held_on"] != assembly.held_on:
        _refuse_if_any_closed(assembly)
        # Who may vote depends on the date: votes recorded for one date stay with it.
        if Vote.objects.filter(resolution__assembly=assembly).exists():
            raise ValidationError(
                {
                    "held_on": _(
                        "Votes have been recorded for this date; the assembly's date can no "
                        "longer change."
                    )
                }
            )
    changed = set_fields(assembly, fields, ASSEMBLY_FIELDS)
    assembly.full_clean()
    assembly.save()
    record(
        actor=actor,
        action="assembly.updated",
        obj=assembly,
        consortium=assembly.consortium_id,
        payload={"changed": changed, "held_on": iso(assembly.held_on)},
    )
    return assembly


def check_attendance(attendance: Attendance) -> None:
    """Raise ValidationError unless ``attendance`` may be recorded for its assembly."""
    assembly, membership = attendance.assembly, attendance.membership
    if membership.consortium_id != assembly.consortium_id:
        raise ValidationError({"membership": _("Choose a member of this consortium.")})
    if not membership.is_member_on(assembly.held_on):
        raise ValidationError(
            {
                "membership": _(
                    "This organisation was not a member on the assembly date (joined %(joined)s, "
                    "left %(left)s)."
                )
                % {"joined": iso(membership.joined_on), "left": iso(membership.left_on) or "—"}
            }
        )


@transaction.atomic
def attendance_record(
    *,
    actor: ActorLike,
    assembly: GeneralAssembly,
    membership: Membership,
    status: str,
    proxy_holder: str = "",
) -> Attendance:
    """Record (or correct) whether a member attended, by proxy (holder named) or not at all."""
    assembly = GeneralAssembly.objects.select_for_update().get(pk=assembly.pk)
    _refuse_if_any_closed(assembly)
    attendance = Attendance.objects.filter(assembly=assembly, membership=membership).first()
    if attendance is None:
        attendance = Attendance(assembly=assembly, membership=membership)
    previous = attendance.status
    attendance.status = status
    attendance.proxy_holder = proxy_holder.strip() if status == Attendance.Status.PROXY else ""
    attendance.full_clean()
    check_attendance(attendance)
    if (
        status == Attendance.Status.ABSENT
        and Vote.objects.filter(resolution__assembly=assembly, membership=membership).exists()
    ):
        raise ValidationError(
            {"status": _("This member has voted at this assembly and cannot be marked absent.")}
        )
    attendance.save()
    record(
        actor=actor,
        action="attendance.recorded",
        obj=attendance,
        consortium=assembly.consortium_id,
        payload={
            "assembly_id": assembly.pk,
            "membership_id": membership.pk,
            "status": status,
            "previous_status": previous or None,
        },
    )
    return attendance


@transaction.atomic
def attendance_prepare(*, actor: ActorLike, assembly: GeneralAssembly) -> int:
    """
    Start the attendance list: record every member on the assembly date who has no entry yet
    as absent, for the secretariat to mark present or by proxy. Return how many were added.
    """
    assembly = GeneralAssembly.objects.select_for_update().get(pk=assembly.pk)
    _refuse_if_any_closed(assembly)
    missing = selectors.members_on(assembly.consortium, assembly.held_on).exclude(
        attendances__assembly=assembly
    )
    added = Attendance.objects.bulk_create(
        Attendance(assembly=assembly, membership=membership, status=Attendance.Status.ABSENT)
        for membership in missing
    )
    record(
        actor=actor,
        action="attendance.prepared",
        obj=assembly,
        consortium=assembly.consortium_id,
        payload={"added": len(added), "membership_ids": [a.membership_id for a in added]},
    )
    return len(added)


def check_resolution(resolution: Resolution) -> None:
    """Raise ValidationError unless ``resolution`` may be put to ``its assembly``."""
    if resolution.kind != Resolution.Kind.BYLAW_AMENDMENT:
        return
    assembly, version = resolution.assembly, resolution.bylaw_version
    if version.consortium_id != assembly.consortium_id:
        raise ValidationError({"bylaw_version": _("Choose a version of this consortium's bylaws.")})
    if not version.is_draft:
        raise ValidationError(
            {"bylaw_version": _("This version is already adopted; propose a draft version.")}
        )
    if not version.articles.exists():
        raise ValidationError({"bylaw_version": _("This draft version has no articles yet.")})
    # The amendment is adopted on the assembly date and cannot take effect before it.
    if resolution.amendment_effective_on < assembly.held_on:
        raise ValidationError(
            {
                "amendment_effective_on": _(
                    "An amendment cannot take effect before its adoption by the assembly on "
                    "%(date)s: choose that date or a later one."
                )
                % {"date": assembly.held_on.isoformat()}
            }
        )
    # Versions take effect in the order they are adopted, so that a later one is never
    # overtaken by an earlier one whose effective date comes after it.
    latest = (
        BylawVersion.objects.filter(
            consortium_id=assembly.consortium_id,
            effective_on__gte=resolution.amendment_effective_on,
        )
        .order_by("-effective_on")
        .first()
    )
    if latest is not None:
        raise ValidationError(
            {
                "amendment_effective_on": _(
                    "Version %(number)s takes effect on %(date)s; an amendment adopted now must "
                    "take effect after that day."
                )
                % {"number": latest.number, "date": latest.effective_on.isoformat()}
            }
        )
    pending = Resolution.objects.filter(
        bylaw_version=version, status=Resolution.Status.OPEN
    ).exclude(pk=resolution.pk)
    if pending.exists():
        raise ValidationError(
            {"bylaw_version": _("Another open resolution already proposes this version.")}
        )


@transaction.atomic
def resolution_propose(
    *,
    actor: ActorLike,
    assembly: GeneralAssembly,
    kind: str,
    title_ja: str,
    title_en: str = "",
    text: str = "",
    bylaw_version: BylawVersion | None = None,
    amendment_effective_on: datetime.date | None = None,
) -> Resolution:
    """Put a resolution (議案) to ``assembly``, numbered after the last; voting is open."""
    assembly = GeneralAssembly.objects.select_for_update().get(pk=assembly.pk)
    last = assembly.resolutions.aggregate(n=Max("number"))["n"]
    resolution = Resolution(
        assembly=assembly,
        number=(last or 0) + 1,
        kind=kind,
        title_ja=title_ja,
        title_en=title_en,
        text=text,
        bylaw_version=bylaw_version,
        amendment_effective_on=amendment_effective_on,
    )
    resolution.full_clean()
    check_resolution(resolution)
    resolution.save()
    record(
        actor=actor,
        action="resolution.proposed",
        obj=resolution,
        consortium=assembly.consortium_id,
        payload={
            "assembly_id": assembly.pk,
            "number": resolution.number,
            "kind": kind,
            "bylaw_version_id": getattr(bylaw_version, "pk", None),
            "amendment_effective_on": iso(amendment_effective_on),
        },
    )
    return resolution


def _refuse_if_closed(resolution: Resolution) -> None:
    if not resolution.is_open:
        raise ValidationError(
            _("The vote on this resolution is closed; its votes and outcome can no longer change.")
        )


@transaction.atomic
def resolution_update(*, actor: ActorLike, resolution: Resolution, **fields) -> Resolution:
    """Correct an open resolution's kind, titles, text or proposed bylaw version."""
    resolution = Resolution.objects.select_for_update().get(pk=resolution.pk)
    _refuse_if_closed(resolution)
    changed = set_fields(resolution, fields, RESOLUTION_FIELDS)
    resolution.full_clean()
    check_resolution(resolution)
    resolution.save()
    record(
        actor=actor,
        action="resolution.updated",
        obj=resolution,
        consortium=resolution.assembly.consortium_id,
        payload={"changed": changed, "kind": resolution.kind},
    )
    return resolution


def check_vote(resolution: Resolution, membership: Membership) -> None:
    """Raise ValidationError unless ``membership`` may vote on ``resolution``."""
    _refuse_if_closed(resolution)
    assembly = resolution.assembly
    bylaws = _bylaws_for(assembly)
    if membership.consortium_id != assembly.consortium_id:
        raise ValidationError({"membership": _("Only members of this consortium vote.")})
    if not membership.is_member_on(assembly.held_on):
        raise ValidationError(
            {
                "membership": _(
                    "This organisation was not a member on the assembly date and cannot vote."
                )
            }
        )
    if membership.member_class not in selectors.voting_classes(bylaws):
        message = (
            _("Under the bylaws in force only regular and associate members vote.")
            if bylaws.associates_may_vote
            else _("Under the bylaws in force only regular members vote.")
        )
        raise ValidationError({"membership": message})
    attendance = Attendance.objects.filter(assembly=assembly, membership=membership).first()
    if attendance is None:
        raise ValidationError(
            {"membership": _("Record this member's attendance before recording its vote.")}
        )
    if attendance.status == Attendance.Status.ABSENT:
        raise ValidationError(
            {"membership": _("This member is recorded as absent and cannot vote.")}
        )
    if attendance.status == Attendance.Status.PROXY and not bylaws.proxies_counted:
        raise ValidationError(
            {"membership": _("The bylaws in force do not count proxies, so a proxy cannot vote.")}
        )
    if Vote.objects.filter(resolution=resolution, membership=membership).exists():
        raise ValidationError(
            {
                "membership": _(
                    "This member has already voted on this resolution; correct that vote instead."
                )
            }
        )


@transaction.atomic
def resolution_vote_cast(
    *, actor: ActorLike, resolution: Resolution, membership: Membership, choice: str
) -> Vote:
    """Record one eligible member's vote (for, against, abstain) on an open resolution."""
    # The lock makes the vote and a concurrent close happen one after the other.
    resolution = Resolution.objects.select_for_update().get(pk=resolution.pk)
    vote = Vote(resolution=resolution, membership=membership, choice=choice)
    vote.full_clean(validate_constraints=False)
    check_vote(resolution, membership)
    vote.save()
    record(
        actor=actor,
        action="vote.cast",
        obj=vote,
        consortium=resolution.assembly.consortium_id,
        payload={
            "resolution_id": resolution.pk,
            "membership_id": membership.pk,
            "choice": choice,
        },
    )
    return vote


@transaction.atomic
def resolution_vote_change(*, actor: ActorLike, vote: Vote, choice: str) -> Vote:
    """Correct a vote recorded by mistake, while the vote is still open."""
    resolution = Resolution.objects.select_for_update().get(pk=vote.resolution_id)
    _refuse_if_closed(resolution)
    previous = vote.choice
    vote.choice = choice
    vote.full_clean()
    vote.save()
    record(
        actor=actor,
        action="vote.changed",
        obj=vote,
        consortium=resolution.assembly.consortium_id,
        payload={
            "resolution_id": resolution.pk,
            "membership_id": vote.membership_id,
            "choice": choice,
            "previous_choice": previous,
        },
    )
    return vote


@transaction.atomic
def resolution_close(
    *, actor: ActorLike, resolution: Resolution, today: datetime.date | None = None
) -> Resolution:
    """
    Close the vote: compute the outcome from the bylaws in force on the assembly date, freeze
    the tally, and, when a bylaw amendment is carried, adopt its version from the date it names.
    """
    resolution = Resolution.objects.select_for_update().get(pk=resolution.pk)
    _refuse_if_closed(resolution)
    assembly = resolution.assembly
    today = today or timezone.localdate()
    if today < assembly.held_on:
        raise ValidationError(
            _("The assembly meets on %(date)s; close its votes on or after that day.")
            % {"date": assembly.held_on.isoformat()}
        )
    bylaws = _bylaws_for(assembly)
    tally = selectors.resolution_tally(resolution, bylaws)
    resolution.status = Resolution.Status.CLOSED
    resolution.closed_at = timezone.now()
    resolution.outcome = tally.outcome
    resolution.bylaws_applied = bylaws
    resolution.regular_members = tally.regular_members
    resolution.members_present = tally.members_present
    resolution.votes_for = tally.votes_for
    resolution.votes_against = tally.votes_against
    resolution.votes_abstain = tally.votes_abstain
    adopted = None
    if (
        resolution.kind == Resolution.Kind.BYLAW_AMENDMENT
        and tally.outcome == Resolution.Outcome.CARRIED
    ):
        check_resolution(resolution)  # the version is still a draft and its date still free
        adopted = BylawVersion.objects.select_for_update().get(pk=resolution.bylaw_version_id)
        adopted.status = BylawVersion.Status.ADOPTED
        adopted.adopted_on = assembly.held_on
        adopted.effective_on = resolution.amendment_effective_on
    resolution.full_clean()
    resolution.save()
    if adopted is not None:
        adopted.adopted_by = resolution
        adopted.full_clean()
        adopted.save()
    record(
        actor=actor,
        action="resolution.closed",
        obj=resolution,
        consortium=assembly.consortium_id,
        payload={
            "assembly_id": assembly.pk,
            "outcome": tally.outcome,
            "bylaws_applied_id": bylaws.pk,
            "regular_members": tally.regular_members,
            "members_present": tally.members_present,
            "quorum_met": tally.quorum_met,
            "for": tally.votes_for,
            "against": tally.votes_against,
            "abstain": tally.votes_abstain,
            "majority_base": tally.majority_base,
            "special_majority": tally.special,
            "adopted_version_id": getattr(adopted, "pk", None),
            "effective_on": iso(adopted.effective_on) if adopted else None,
        },
    )
    return resolution
