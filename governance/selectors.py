"""Read queries of the governance app."""

import datetime
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import F as models_F
from django.db.models import Q, QuerySet
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from config.ids import parse_id

from .models import (
    Attendance,
    BylawVersion,
    Consortium,
    EthicsBoard,
    Membership,
    Organization,
    Resolution,
    ReviewAssignment,
    ReviewRound,
    ReviewTicket,
    ReviewVote,
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


def ethics_board_members(board: EthicsBoard, day: datetime.date) -> QuerySet[Role]:
    """Return the ethics-board member roles of ``board`` on ``day`` (with user and expertise)."""
    return roles_on(board.consortium, day, Role.Kind.ETHICS_BOARD_MEMBER).select_related("user")


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
    ours = (
        Q(governance_roles__consortium__in=consortia)
        | Q(represented_memberships__consortium__in=consortia)
        | Q(groups__consortium__in=consortia)
    )
    tied = (
        Q(governance_roles__isnull=False)
        | Q(represented_memberships__isnull=False)
        | Q(groups__consortium__isnull=False)
    )
    # Residents' portal accounts (the consent app's ``resident`` relation) are never offered:
    # their names and e-mail addresses are not the secretariat's to browse.
    return (
        users.filter(
            Q(pk__in=users.filter(ours).values("pk")) | ~Q(pk__in=users.filter(tied).values("pk"))
        )
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

SECRETARIAT, BOARD, REQUESTER = "secretariat", "board", "requester"


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


def ticket_roles(viewer, ticket: ReviewTicket) -> set[str]:
    """
    Return what ``viewer`` is to ``ticket``: "secretariat" of its consortium, "board" member
    of its consortium's ethics board, "requester" (a representative of the requesting
    organisation, or who filed it). Empty for everyone else.
    """
    if not viewer.is_authenticated or not viewer.is_active:
        return set()
    roles = set()
    if consortia_administered_by(viewer).filter(pk=ticket.consortium_id).exists():
        roles.add(SECRETARIAT)
    if ticket.state != ReviewTicket.State.DRAFT and is_ethics_board_member(
        viewer, ticket.consortium, timezone.localdate()
    ):
        roles.add(BOARD)
    if ticket.filed_by_id == viewer.pk or represents(viewer, ticket.requester, ticket.consortium):
        roles.add(REQUESTER)
    if ticket.state == ReviewTicket.State.DRAFT:
        # A draft is the requester's alone until it is submitted.
        roles &= {REQUESTER}
    return roles


def access_ticket(viewer, ticket_id) -> ReviewTicket:
    """
    Return ticket ``ticket_id`` with ``viewer_roles`` set, if ``viewer`` may see it; raise
    ReviewTicket.DoesNotExist otherwise, the same for a missing and a forbidden ticket.
    """
    pk = parse_id(ticket_id)
    if pk is None:
        raise ReviewTicket.DoesNotExist
    ticket = (
        ReviewTicket.objects.select_related("consortium", "requester", "purpose", "filed_by")
        .filter(pk=pk)
        .first()
    )
    if ticket is None:
        raise ReviewTicket.DoesNotExist
    roles = ticket_roles(viewer, ticket)
    if not roles:
        raise ReviewTicket.DoesNotExist
    ticket.viewer_roles = roles
    return ticket


def tickets_visible_to(viewer) -> QuerySet[ReviewTicket]:
    """Return every ticket ``viewer`` may see (the board's queue and the requester's list)."""
    if not viewer.is_authenticated or not viewer.is_active:
        return ReviewTicket.objects.none()
    today = timezone.localdate()
    boards = Role.objects.filter(
        user=viewer, kind=Role.Kind.ETHICS_BOARD_MEMBER, start_on__lte=today
    ).filter(Q(end_on__isnull=True) | Q(end_on__gte=today))
    represented = Q(filed_by=viewer)
    memberships = members_on_any(today).filter(representative=viewer)
    for consortium_id, organization_id in memberships.values_list("consortium", "organization"):
        represented |= Q(consortium_id=consortium_id, requester_id=organization_id)
    role_reps = roles_on_any(today).filter(user=viewer, kind=Role.Kind.REPRESENTATIVE)
    for consortium_id, organization_id in role_reps.values_list("consortium", "organization"):
        if organization_id:
            represented |= Q(consortium_id=consortium_id, requester_id=organization_id)
    staff = Q(consortium__in=consortia_administered_by(viewer)) | Q(
        consortium__in=boards.values("consortium")
    )
    return (
        ReviewTicket.objects.filter(represented | (staff & ~Q(state=ReviewTicket.State.DRAFT)))
        .select_related("consortium", "requester", "purpose")
        .distinct()
    )


def members_on_any(day: datetime.date) -> QuerySet[Membership]:
    return Membership.objects.filter(joined_on__lte=day).filter(
        Q(left_on__isnull=True) | Q(left_on__gte=day)
    )


def roles_on_any(day: datetime.date) -> QuerySet[Role]:
    return Role.objects.filter(start_on__lte=day).filter(
        Q(end_on__isnull=True) | Q(end_on__gte=day)
    )


def ticket_approved(
    ticket_id, *, requester: Organization | None = None, day: datetime.date | None = None
) -> ReviewTicket:
    """
    Return the approved ticket ``ticket_id`` (with consortium, requester, purpose, categories
    and recipients fetched), optionally only if ``requester`` filed it and its term covers
    ``day``; raise ReviewTicket.DoesNotExist otherwise.
    """
    pk = parse_id(ticket_id)
    if pk is None:
        raise ReviewTicket.DoesNotExist
    tickets = ReviewTicket.objects.filter(pk=pk, state=ReviewTicket.State.APPROVED)
    if requester is not None:
        tickets = tickets.filter(requester=requester)
    if day is not None:
        tickets = tickets.filter(valid_from__lte=day, valid_until__gte=day)
    return (
        tickets.select_related("consortium", "requester", "purpose")
        .prefetch_related("categories", "recipients")
        .get()
    )


def ticket_assignment(viewer, ticket: ReviewTicket) -> ReviewAssignment | None:
    """Return ``viewer``'s assignment to ``ticket``, or None."""
    if not viewer.is_authenticated:
        return None
    return (
        ReviewAssignment.objects.select_related("role")
        .filter(ticket=ticket, reviewer=viewer)
        .first()
    )


def may_see_full_ticket(viewer, ticket: ReviewTicket) -> bool:
    """
    Return True if ``viewer`` may read the whole request: the requester and the secretariat
    always; a board member once assigned, not recused, and declared free of conflicts.
    """
    roles = getattr(ticket, "viewer_roles", None) or ticket_roles(viewer, ticket)
    if REQUESTER in roles or SECRETARIAT in roles:
        return True
    assignment = ticket_assignment(viewer, ticket)
    return bool(assignment and assignment.conflict_declared_at and not assignment.is_recused)


def sees_board_side(viewer, ticket: ReviewTicket) -> bool:
    """
    Return True if ``viewer`` may read the board's side of ``ticket`` (board-only comments,
    who voted how): the secretariat, and assigned reviewers who declared no conflict and are
    not recused. Never a requester's representative sitting on the board on their own ticket.
    """
    roles = getattr(ticket, "viewer_roles", None) or ticket_roles(viewer, ticket)
    if SECRETARIAT in roles:
        return True
    if BOARD not in roles or REQUESTER in roles:
        return False
    assignment = ticket_assignment(viewer, ticket)
    return bool(assignment and assignment.conflict_declared_at and not assignment.is_recused)


def sees_decision_votes(viewer, ticket: ReviewTicket) -> bool:
    """Return True if ``viewer`` may see who voted how in the decision record."""
    roles = getattr(ticket, "viewer_roles", None) or ticket_roles(viewer, ticket)
    return SECRETARIAT in roles or (BOARD in roles and REQUESTER not in roles)


def is_decided(ticket: ReviewTicket) -> bool:
    """Return True once the board has decided ``ticket`` (approved or rejected, and after)."""
    return ticket.decided_at is not None and ticket.state in ReviewTicket.DECIDED_STATES


def may_see_decision_letter(viewer, ticket: ReviewTicket) -> bool:
    """
    Return True if ``viewer`` may request and download ``ticket``'s decision letter: it is
    decided, and ``viewer`` reads its whole record on the review pages, the board's side
    included (who voted how, recusals). That is the secretariat of its consortium and the
    reviewers assigned to it who declared no conflict and are not recused; never a board member
    who was recused, is not assigned or speaks for the requester, nor the requester.
    """
    if not is_decided(ticket):
        return False
    return may_see_full_ticket(viewer, ticket) and sees_board_side(viewer, ticket)


def tickets_with_letter_for(viewer) -> QuerySet[ReviewTicket]:
    """Return the decided tickets whose decision letter ``viewer`` may request, newest first."""
    decided = (
        tickets_visible_to(viewer)
        .filter(decided_at__isnull=False, state__in=ReviewTicket.DECIDED_STATES)
        .order_by("-decided_at")
    )
    administered = consortia_administered_by(viewer)
    # The secretariat sees every decided ticket of its consortia; a reviewer only those they
    # were assigned to, each checked as its page would check it.
    allowed = list(decided.filter(consortium__in=administered).values_list("pk", flat=True))
    for ticket in decided.exclude(consortium__in=administered).filter(assignments__reviewer=viewer):
        if may_see_decision_letter(viewer, ticket):
            allowed.append(ticket.pk)
    return decided.filter(pk__in=allowed)


def ticket_snapshot(ticket: ReviewTicket) -> dict:
    """Return the request's fields as plain data (relations as sorted ids), for a round."""
    data = {}
    for name in ReviewTicket.REQUEST_FIELDS:
        if name in ("categories", "recipients"):
            data[name] = sorted(getattr(ticket, name).values_list("pk", flat=True))
        elif name == "purpose":
            data[name] = ticket.purpose_id
        else:
            data[name] = getattr(ticket, name)
    return data


def round_diff(ticket: ReviewTicket, number: int | None = None) -> list[dict]:
    """
    Return what changed in round ``number`` (default: the latest) since the round before:
    [{"field", "label", "before", "after"}], empty for the first round.
    """
    rounds = {r.number: r for r in ReviewRound.objects.filter(ticket=ticket)}
    number = number or ticket.round
    if number not in rounds or number - 1 not in rounds:
        return []
    before, after = rounds[number - 1].request, rounds[number].request
    changes = []
    for name in ReviewTicket.REQUEST_FIELDS:
        if before.get(name) != after.get(name):
            changes.append(
                {
                    "field": name,
                    "label": ReviewTicket._meta.get_field(name).verbose_name,
                    "before": describe_value(name, before.get(name)),
                    "after": describe_value(name, after.get(name)),
                }
            )
    return changes


def describe_value(name: str, value) -> str:
    """Return a frozen request value as text a reviewer reads (names for ids)."""
    field_ = ReviewTicket._meta.get_field(name)
    if value in (None, "", []):
        return "—"
    if name in ("categories", "recipients", "purpose"):
        model = field_.related_model
        ids = value if isinstance(value, list) else [value]
        return "、".join(str(obj) for obj in model.objects.filter(pk__in=ids))
    if name == "pia":
        return "\n".join(
            f"{row['risk']} ({row['likelihood']}/{row['impact']}): {row['mitigation']}"
            for row in value
        )
    if field_.choices:
        return str(dict(field_.choices).get(value, value))
    if isinstance(value, bool):
        return "✓" if value else "—"
    return str(value)


@dataclass
class ReviewTally:
    """The votes of a ticket's current round under the board's rule, and the decision if any."""

    quorum: int
    participants: int
    votes: dict = field(default_factory=dict)
    cast: int = 0
    veto: bool = False
    quorum_possible: bool = True
    decision: str = ""  # a ReviewTicket.State, or "" while the board has not decided
    conditions: list = field(default_factory=list)


def review_tally(ticket: ReviewTicket) -> ReviewTally:
    """
    Count the current round's votes and apply the board's decision rule.

    Participants are the assigned reviewers not recused (automatically or by a declared
    conflict); the board decides only if at least ``quorum`` of them take part, abstentions
    included. A reject by an expert whose veto the board has configured rejects at once.
    Otherwise, once every participant has voted (or one side already holds a majority of all
    participants with at least a quorum of votes cast): approvals (with or without conditions)
    of more than half of the votes cast for or against (abstentions not counted) approve,
    rejects of more than half reject, anything else (a tie, a majority for changes, all
    abstaining) asks the requester for changes.
    """
    board = ticket.consortium.ethics_board
    assignments = ReviewAssignment.objects.filter(ticket=ticket, recusal="").select_related("role")
    participants = {a.pk: a for a in assignments}
    tally = ReviewTally(quorum=board.quorum, participants=len(participants))
    tally.quorum_possible = tally.participants >= board.quorum
    votes = list(
        ReviewVote.objects.filter(
            ticket=ticket, round=ticket.round, assignment__in=participants.keys()
        ).order_by("cast_at", "pk")
    )
    tally.votes = {choice: 0 for choice in ReviewVote.Choice.values}
    for vote in votes:
        tally.votes[vote.choice] += 1
        if vote.choice == ReviewVote.Choice.APPROVE_WITH_CONDITIONS:
            tally.conditions.append(vote.conditions.strip())
        if vote.choice == ReviewVote.Choice.REJECT:
            expertise = participants[vote.assignment_id].role.expertise
            if (board.legal_veto and expertise == Role.Expertise.LEGAL) or (
                board.security_veto and expertise == Role.Expertise.SECURITY
            ):
                tally.veto = True
    tally.cast = len(votes)
    if ticket.state != ReviewTicket.State.IN_REVIEW or not tally.quorum_possible:
        return tally
    if tally.veto:
        tally.decision = ReviewTicket.State.REJECTED
        return tally
    approvals = tally.votes["approve"] + tally.votes["approve_with_conditions"]
    rejects = tally.votes["reject"]
    base = tally.cast - tally.votes["abstain"]
    everyone_voted = tally.cast >= tally.participants
    if tally.cast >= tally.quorum and not everyone_voted:
        # The remaining votes cannot overturn a majority of all participants.
        if approvals * 2 > tally.participants:
            tally.decision = ReviewTicket.State.APPROVED
        elif rejects * 2 > tally.participants:
            tally.decision = ReviewTicket.State.REJECTED
        return tally
    if not everyone_voted:
        return tally
    if base and approvals * 2 > base:
        tally.decision = ReviewTicket.State.APPROVED
    elif base and rejects * 2 > base:
        tally.decision = ReviewTicket.State.REJECTED
    else:
        tally.decision = ReviewTicket.State.CHANGES_REQUESTED
    return tally


def rounds_due_for_reminder(day: datetime.date) -> QuerySet[ReviewRound]:
    """Return the current rounds of tickets in review due in two days, not yet reminded."""
    return ReviewRound.objects.filter(
        ticket__state=ReviewTicket.State.IN_REVIEW,
        ticket__round=models_F("number"),
        due_on__lte=day + datetime.timedelta(days=2),
        due_on__gte=day,
        reminded_at__isnull=True,
    ).select_related("ticket", "ticket__consortium")


def reviewers_yet_to_vote(ticket: ReviewTicket) -> QuerySet[ReviewAssignment]:
    """Return the non-recused assignments of ``ticket`` without a vote in its current round."""
    voted = ReviewVote.objects.filter(ticket=ticket, round=ticket.round).values("assignment")
    return (
        ReviewAssignment.objects.filter(ticket=ticket, recusal="")
        .exclude(pk__in=voted)
        .select_related("reviewer")
    )
