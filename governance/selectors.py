"""Read queries of the governance app."""

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import get_objects_for_user

from config.ids import parse_id

from .models import (
    Account,
    Attendance,
    BylawVersion,
    Consortium,
    Membership,
    Organization,
    Resolution,
    Role,
    Vote,
)


def consortia_administered_by(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Consortium]:
    """
    Return the consortia whose records ``user`` may see and change in the admin.

    Superusers administer every consortium; a staff user administers the consortia whose
    secretariat group they belong to, and any consortium on which they hold the
    ``administer_consortium`` object permission (django-guardian).
    """
    if not user.is_authenticated or not user.is_active or not user.is_staff:
        return Consortium.objects.none()
    if user.is_superuser:
        return Consortium.objects.all()
    granted = get_objects_for_user(
        user,
        "governance.administer_consortium",
        klass=Consortium,
        accept_global_perms=False,
        with_superuser=False,
    )
    return Consortium.objects.filter(
        Q(secretariat_group__in=user.groups.all()) | Q(pk__in=granted.values("pk"))
    ).distinct()


def require_secretariat(actor, consortium: Consortium, message: str | None = None) -> None:
    """
    Raise PermissionDenied unless ``actor`` is the system (None: the demo data, schedules) or a
    person who administers ``consortium`` (``consortia_administered_by``); a service or resident
    actor never does.
    """
    if actor is None:
        return
    if (
        getattr(actor, "is_authenticated", False)
        and consortia_administered_by(actor).filter(pk=consortium.pk).exists()
    ):
        return
    raise PermissionDenied(message or _("Only the consortium's secretariat may do this."))


def organizations_visible_to(user) -> QuerySet[Organization]:
    """Return the organisations registered by, or members of, the consortia ``user`` administers."""
    if user.is_authenticated and user.is_superuser:
        return Organization.objects.all()
    consortia = consortia_administered_by(user)
    return Organization.objects.filter(
        Q(registered_by__in=consortia) | Q(memberships__consortium__in=consortia)
    ).distinct()


def bylaw_in_force(consortium: Consortium, day: datetime.date) -> BylawVersion | None:
    """Return the adopted bylaw version in force in ``consortium`` on ``day``, or None."""
    return (
        BylawVersion.objects.filter(
            consortium=consortium,
            status=BylawVersion.Status.ADOPTED,
            effective_on__lte=day,
        )
        .order_by("-effective_on")
        .first()
    )


def members_on(consortium: Consortium, day: datetime.date) -> QuerySet[Membership]:
    """Return the memberships of ``consortium`` current on ``day`` (joined, not yet left)."""
    return Membership.objects.filter(consortium=consortium, joined_on__lte=day).filter(
        Q(left_on__isnull=True) | Q(left_on__gte=day)
    )


def members_in_good_standing(consortium: Consortium, day: datetime.date) -> QuerySet[Membership]:
    """Return the members of ``consortium`` on ``day`` that are not suspended (data may flow)."""
    return members_on(consortium, day).filter(
        Q(suspended_on__isnull=True) | Q(suspended_on__gt=day)
    )


def voting_classes(bylaws: BylawVersion) -> list[str]:
    """Return the member classes that may vote under ``bylaws``; observers never vote."""
    classes = [Membership.MemberClass.REGULAR]
    if bylaws.associates_may_vote:
        classes.append(Membership.MemberClass.ASSOCIATE)
    return classes


def roles_on(consortium: Consortium, day: datetime.date, kind: str | None = None) -> QuerySet[Role]:
    """Return the roles held in ``consortium`` on ``day``, optionally of one kind."""
    roles = Role.objects.filter(consortium=consortium, start_on__lte=day).filter(
        Q(end_on__isnull=True) | Q(end_on__gte=day)
    )
    return roles.filter(kind=kind) if kind else roles


def is_ethics_board_member(user, consortium: Consortium, day: datetime.date) -> bool:
    """Return True if ``user`` sits on ``consortium``'s ethics board on ``day``."""
    return (
        user.is_authenticated
        and roles_on(consortium, day, Role.Kind.ETHICS_BOARD_MEMBER).filter(user=user).exists()
    )


@dataclass(frozen=True)
class Tally:
    """The count of a resolution's vote under the bylaws in force, and its outcome."""

    bylaws: BylawVersion
    regular_members: int
    members_present: int
    quorum_met: bool
    votes_for: int
    votes_against: int
    votes_abstain: int
    majority_base: int
    special: bool
    outcome: str


def resolution_tally(resolution: Resolution, bylaws: BylawVersion) -> Tally:
    """
    Count ``resolution``'s votes under ``bylaws`` and compute its outcome.

    Quorum: at least quorum_numerator/quorum_denominator of the regular members current on the
    assembly date are present (in person, or by proxy when the bylaws count proxies).
    Simple majority: more than half of the base in favour (a tie is rejected).
    Special majority (bylaw amendment, dissolution): at least the special fraction of the base.
    The base is the votes cast for and against, or the voting members present, as the bylaws say.
    """
    assembly = resolution.assembly
    members = members_on(assembly.consortium, assembly.held_on)
    present_statuses = [Attendance.Status.PRESENT]
    if bylaws.proxies_counted:
        present_statuses.append(Attendance.Status.PROXY)
    present = Attendance.objects.filter(
        assembly=assembly, status__in=present_statuses, membership__in=members
    )
    regular = members.filter(member_class=Membership.MemberClass.REGULAR).count()
    regular_present = present.filter(
        membership__member_class=Membership.MemberClass.REGULAR
    ).count()
    quorum_met = regular > 0 and (
        regular_present * bylaws.quorum_denominator >= bylaws.quorum_numerator * regular
    )

    votes = Vote.objects.filter(resolution=resolution)
    counts = {choice: 0 for choice in Vote.Choice.values}
    for choice in votes.values_list("choice", flat=True):
        counts[choice] += 1
    if bylaws.majority_basis == BylawVersion.MajorityBasis.PRESENT:
        base = present.filter(membership__member_class__in=voting_classes(bylaws)).count()
    else:
        base = counts[Vote.Choice.FOR] + counts[Vote.Choice.AGAINST]

    special = resolution.kind in Resolution.SPECIAL_KINDS
    in_favour = counts[Vote.Choice.FOR]
    if not quorum_met:
        outcome = Resolution.Outcome.NO_QUORUM
    elif base == 0:
        outcome = Resolution.Outcome.REJECTED
    elif special:
        carried = (
            in_favour * bylaws.special_majority_denominator
            >= bylaws.special_majority_numerator * base
        )
        outcome = Resolution.Outcome.CARRIED if carried else Resolution.Outcome.REJECTED
    else:
        carried = in_favour * 2 > base
        outcome = Resolution.Outcome.CARRIED if carried else Resolution.Outcome.REJECTED
    return Tally(
        bylaws=bylaws,
        regular_members=regular,
        members_present=regular_present,
        quorum_met=quorum_met,
        votes_for=in_favour,
        votes_against=counts[Vote.Choice.AGAINST],
        votes_abstain=counts[Vote.Choice.ABSTAIN],
        majority_base=base,
        special=special,
        outcome=outcome,
    )


def people_visible_to(user):
    """
    Return the users ``user`` may pick as a representative or role holder: the people of the
    consortia they administer, and people not yet tied to any consortium; never another
    consortium's people, never superusers.
    """
    users = get_user_model().objects.all()
    if user.is_authenticated and user.is_superuser:
        return users.exclude(resident__isnull=False)
    consortia = consortia_administered_by(user)

    def ties(within=None):
        """Whether a user is tied to a consortium (one of ``within``, when given)."""
        scope = {} if within is None else {"consortium__in": within}
        secretariat = {} if within is None else {"pk__in": within}
        return (
            Exists(Role.objects.filter(user=OuterRef("pk"), **scope))
            | Exists(Membership.objects.filter(representative=OuterRef("pk"), **scope))
            | Exists(
                Consortium.objects.filter(secretariat_group__user=OuterRef("pk"), **secretariat)
            )
            | Exists(Account.objects.filter(user=OuterRef("pk"), **scope))
        )

    # Residents' portal accounts (the consent app's ``resident`` relation) are never offered:
    # their names and e-mail addresses are not the secretariat's to browse. (EXISTS, not NOT
    # IN over a join: PostgreSQL runs the latter once per user.)
    return (
        users.filter(ties(consortia) | ~ties())
        .exclude(is_superuser=True)
        .exclude(resident__isnull=False)
    )


def access_bylaw_version(viewer, version_id) -> BylawVersion:
    """
    Return bylaw version ``version_id`` if ``viewer`` administers its consortium; raise
    BylawVersion.DoesNotExist otherwise, the same for a missing and a forbidden version.
    """
    pk = parse_id(version_id)
    if pk is None:
        raise BylawVersion.DoesNotExist
    return BylawVersion.objects.select_related("consortium").get(
        pk=pk, consortium__in=consortia_administered_by(viewer)
    )


# --- The ethics review ----------------------------------------------------------------------


def represents(user, organization: Organization, consortium: Consortium, day=None) -> bool:
    """
    Return True if ``user`` speaks for ``organization`` in ``consortium`` on ``day``: the
    representative of its current membership, or a representative role held for it.
    """
    if not user.is_authenticated:
        return False
    day = day or timezone.localdate()
    if members_on(consortium, day).filter(organization=organization, representative=user).exists():
        return True
    return (
        roles_on(consortium, day, Role.Kind.REPRESENTATIVE)
        .filter(user=user, organization=organization)
        .exists()
    )


def organizations_represented_by(user, consortium: Consortium, day=None) -> QuerySet[Organization]:
    """Return the current member organisations of ``consortium`` that ``user`` speaks for."""
    if not user.is_authenticated:
        return Organization.objects.none()
    day = day or timezone.localdate()
    by_membership = members_on(consortium, day).filter(representative=user)
    by_role = roles_on(consortium, day, Role.Kind.REPRESENTATIVE).filter(user=user)
    current = members_on(consortium, day).values("organization")
    return Organization.objects.filter(
        Q(pk__in=by_membership.values("organization"))
        | (Q(pk__in=by_role.values("organization")) & Q(pk__in=current))
    ).distinct()


def members_on_any(day: datetime.date) -> QuerySet[Membership]:
    return Membership.objects.filter(joined_on__lte=day).filter(
        Q(left_on__isnull=True) | Q(left_on__gte=day)
    )


def roles_on_any(day: datetime.date) -> QuerySet[Role]:
    return Role.objects.filter(start_on__lte=day).filter(
        Q(end_on__isnull=True) | Q(end_on__gte=day)
    )


# --- The public register ------------------------------------------------------------------------


def consortia_public() -> QuerySet[Consortium]:
    """Return the consortia the public register shows: all but those still in preparation."""
    return Consortium.objects.exclude(status=Consortium.Status.PREPARING).order_by("name_ja")


def bylaws_adopted(consortium: Consortium) -> QuerySet[BylawVersion]:
    """Return ``consortium``'s adopted bylaw versions, newest first; drafts never."""
    return BylawVersion.objects.filter(
        consortium=consortium, status=BylawVersion.Status.ADOPTED
    ).order_by("-effective_on", "-number")


def memberships_all(consortium: Consortium) -> QuerySet[Membership]:
    """Return every membership of ``consortium``, past and present, with its organisation."""
    return (
        Membership.objects.filter(consortium=consortium)
        .select_related("organization")
        .order_by("left_on", "organization__name_ja", "joined_on")
    )


def resolutions_closed(consortium: Consortium) -> QuerySet[Resolution]:
    """Return ``consortium``'s resolutions whose vote has closed, newest assembly first."""
    return (
        Resolution.objects.filter(assembly__consortium=consortium, status=Resolution.Status.CLOSED)
        .select_related("assembly")
        .order_by("-assembly__held_on", "number")
    )
