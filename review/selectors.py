"""Read queries of the data-ethics review."""

import datetime
from dataclasses import dataclass, field

from django.db.models import F as models_F
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from audit import selectors as audit_selectors
from audit.models import Entry
from config.ids import parse_id
from governance import selectors as governance_selectors
from governance.models import Organization, Role

from .models import EthicsBoard, ReviewAssignment, ReviewRound, ReviewTicket, ReviewVote


def ethics_board_members(board: EthicsBoard, day: datetime.date) -> QuerySet[Role]:
    """Return the ethics-board member roles of ``board`` on ``day`` (with user and expertise)."""
    return governance_selectors.roles_on(
        board.consortium, day, Role.Kind.ETHICS_BOARD_MEMBER
    ).select_related("user")


SECRETARIAT, BOARD, REQUESTER = "secretariat", "board", "requester"


def ticket_roles(viewer, ticket: ReviewTicket) -> set[str]:
    """
    Return what ``viewer`` is to ``ticket``: "secretariat" of its consortium, "board" member
    of its consortium's ethics board, "requester" (a representative of the requesting
    organisation, or who filed it). Empty for everyone else.
    """
    if not viewer.is_authenticated or not viewer.is_active:
        return set()
    roles = set()
    if (
        governance_selectors.consortia_administered_by(viewer)
        .filter(pk=ticket.consortium_id)
        .exists()
    ):
        roles.add(SECRETARIAT)
    if ticket.state != ReviewTicket.State.DRAFT and governance_selectors.is_ethics_board_member(
        viewer, ticket.consortium, timezone.localdate()
    ):
        roles.add(BOARD)
    if ticket.filed_by_id == viewer.pk or governance_selectors.represents(
        viewer, ticket.requester, ticket.consortium
    ):
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
    memberships = governance_selectors.members_on_any(today).filter(representative=viewer)
    for consortium_id, organization_id in memberships.values_list("consortium", "organization"):
        represented |= Q(consortium_id=consortium_id, requester_id=organization_id)
    role_reps = governance_selectors.roles_on_any(today).filter(
        user=viewer, kind=Role.Kind.REPRESENTATIVE
    )
    for consortium_id, organization_id in role_reps.values_list("consortium", "organization"):
        if organization_id:
            represented |= Q(consortium_id=consortium_id, requester_id=organization_id)
    staff = Q(consortium__in=governance_selectors.consortia_administered_by(viewer)) | Q(
        consortium__in=boards.values("consortium")
    )
    return (
        ReviewTicket.objects.filter(represented | (staff & ~Q(state=ReviewTicket.State.DRAFT)))
        .select_related("consortium", "requester", "purpose")
        .distinct()
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
    administered = governance_selectors.consortia_administered_by(viewer)
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


def successor_changes(ticket: ReviewTicket) -> list[dict]:
    """
    Return what a renewal or amendment changes from the approval it continues (the previous
    ticket's request as approved): [{"field", "label", "before", "after"}].
    """
    if ticket.previous_id is None:
        return []
    previous = ticket.previous
    approved_round = previous.rounds.exclude(outcome="").order_by("-number").first()
    before = approved_round.request if approved_round else ticket_snapshot(previous)
    after = ticket_snapshot(ticket)
    return [
        {
            "field": name,
            "label": ReviewTicket._meta.get_field(name).verbose_name,
            "before": describe_value(name, before.get(name)),
            "after": describe_value(name, after.get(name)),
        }
        for name in ReviewTicket.REQUEST_FIELDS
        if before.get(name) != after.get(name)
    ]


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
    # The approving votes' conditions as obligation specifications, each text once.
    obligations: list = field(default_factory=list)


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
            specs = vote.obligations or [{"text": vote.conditions.strip()}]
            known = {spec.get("text") for spec in tally.obligations}
            tally.obligations += [spec for spec in specs if spec.get("text") not in known]
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


# Entries written before the review had an app of its own name the ticket by its former label.
TICKET_OBJECT_TYPES = ("governance.reviewticket", ReviewTicket._meta.label_lower)


def ticket_entries(ticket: ReviewTicket) -> QuerySet[Entry]:
    """Return the sealed audit entries about ``ticket``, oldest first."""
    entries = Entry.objects.none()
    for object_type in TICKET_OBJECT_TYPES:
        entries |= audit_selectors.entries_for_object(object_type=object_type, object_id=ticket.pk)
    return entries.order_by("seq")


# --- What each viewer must do next (the queue) -------------------------------------------------

NEXT_STEPS = {
    "declare": pgettext_lazy("next step", "Declare your conflicts of interest"),
    "vote": pgettext_lazy("next step", "Cast your vote"),
    "voted": pgettext_lazy("next step", "You voted: waiting for the other members"),
    "recused": pgettext_lazy("next step", "Recused: nothing to do"),
    "read": pgettext_lazy("next step", "Declared: the review opens soon"),
    "complete": pgettext_lazy("next step", "Complete and submit your request"),
    "revise": pgettext_lazy("next step", "Revise the request and resubmit it"),
    "await_board": pgettext_lazy("next step", "Waiting for the board"),
    "open_review": pgettext_lazy("next step", "Assign reviewers and open the review"),
}


def next_steps(viewer, tickets) -> dict[int, str]:
    """
    Return {ticket id: step code} of what ``viewer`` must do next on each of ``tickets`` (a
    key of NEXT_STEPS), "" where nothing is theirs to do. As a reviewer first (declare, vote,
    wait), then as the requester, then as the secretariat.
    """
    tickets = list(tickets)
    ids = [ticket.pk for ticket in tickets]
    assignments = {
        a.ticket_id: a for a in ReviewAssignment.objects.filter(ticket_id__in=ids, reviewer=viewer)
    }
    voted = set(
        ReviewVote.objects.filter(assignment__in=assignments.values()).values_list(
            "ticket_id", "round"
        )
    )
    today = timezone.localdate()
    represented = set(
        governance_selectors.members_on_any(today)
        .filter(representative=viewer)
        .values_list("consortium_id", "organization_id")
    ) | set(
        governance_selectors.roles_on_any(today)
        .filter(user=viewer, kind=Role.Kind.REPRESENTATIVE, organization__isnull=False)
        .values_list("consortium_id", "organization_id")
    )
    administered = set(
        governance_selectors.consortia_administered_by(viewer).values_list("pk", flat=True)
    )
    State = ReviewTicket.State
    steps = {}
    for ticket in tickets:
        assignment = assignments.get(ticket.pk)
        step = ""
        if assignment and ticket.state in (State.SUBMITTED, State.IN_REVIEW):
            if assignment.is_recused:
                step = "recused"
            elif assignment.conflict_declared_at is None:
                step = "declare"
            elif ticket.state == State.SUBMITTED:
                step = "read"
            elif (ticket.pk, ticket.round) in voted:
                step = "voted"
            else:
                step = "vote"
        elif ticket.filed_by_id == viewer.pk or (
            (ticket.consortium_id, ticket.requester_id) in represented
        ):
            step = {
                State.DRAFT: "complete",
                State.CHANGES_REQUESTED: "revise",
                State.SUBMITTED: "await_board",
                State.IN_REVIEW: "await_board",
            }.get(ticket.state, "")
        elif ticket.consortium_id in administered and ticket.state == State.SUBMITTED:
            step = "open_review"
        steps[ticket.pk] = step
    return steps


# --- The public register ------------------------------------------------------------------------

DECISION_ACTIONS = ("ticket.approved", "ticket.rejected")


def tickets_decided(consortium) -> QuerySet[ReviewTicket]:
    """
    Return ``consortium``'s tickets the board has decided (approved or rejected, and what came
    after: suspended, closed), newest decision first: what the public register lists. Drafts,
    tickets in review and tickets closed before any decision are never among them.
    """
    return (
        ReviewTicket.objects.filter(
            consortium=consortium,
            decided_at__isnull=False,
            state__in=ReviewTicket.DECIDED_STATES,
        )
        .select_related("consortium", "requester", "purpose")
        .order_by("-decided_at", "-pk")
    )


def decided_vote_counts(ticket_ids) -> dict[int, dict[str, int]]:
    """
    Return {ticket id: {choice: count}} of the votes of each ticket's deciding round, counting
    only reviewers who took part (not recused): the board's tally, never who voted how.
    """
    counts: dict[int, dict[str, int]] = {}
    rows = (
        ReviewVote.objects.filter(
            ticket_id__in=list(ticket_ids),
            round=models_F("ticket__round"),
            assignment__recusal="",
        )
        .values_list("ticket_id", "choice")
        .order_by()
    )
    for ticket_id, choice in rows:
        tally = counts.setdefault(ticket_id, {c: 0 for c in ReviewVote.Choice.values})
        tally[choice] += 1
    return counts


def decision_entries(ticket_ids) -> dict[int, Entry]:
    """Return {ticket id: the sealed audit entry recording the board's decision on it}."""
    entries = Entry.objects.filter(
        object_type__in=TICKET_OBJECT_TYPES,
        object_id__in=[str(pk) for pk in ticket_ids],
        action__in=DECISION_ACTIONS,
    ).order_by("seq")
    return {int(entry.object_id): entry for entry in entries}


def decision_lead_days(consortium) -> list[float]:
    """
    Return, per decided ticket of ``consortium``, the days from its first submission to the
    board's decision (the KPI "time to decision").
    """
    first_rounds = ReviewRound.objects.filter(
        ticket__in=tickets_decided(consortium), number=1
    ).values_list("submitted_at", "ticket__decided_at")
    return [
        (decided - submitted).total_seconds() / 86400
        for submitted, decided in first_rounds
        if decided is not None
    ]


def obligations_for_tickets(ticket_ids) -> dict[int, list]:
    """Return {ticket id: its obligations, by due date} (the conditions' follow-up)."""
    from .models import Obligation

    found: dict[int, list] = {}
    rows = Obligation.objects.filter(ticket_id__in=list(ticket_ids)).order_by(
        "ticket_id", "due_on", "pk"
    )
    for obligation in rows:
        found.setdefault(obligation.ticket_id, []).append(obligation)
    return found


def ticket_deletion_confirmation_days(ticket_id: int | None) -> int | None:
    """
    Return the days the board gave, in the approval of ticket ``ticket_id``, for a service that
    received residents' data to confirm what it did with it (None: no such approval).
    """
    if ticket_id is None:
        return None
    return (
        ReviewTicket.objects.filter(pk=ticket_id)
        .values_list("deletion_confirmation_days", flat=True)
        .first()
    )


def obligations_met_on_time(consortium, since: datetime.date, until: datetime.date) -> tuple:
    """
    Return (due, met on time) over the due dates of ``consortium``'s obligations that fell in
    ``since``..``until``: each due date answered by accepted evidence counts once, met on time
    when that evidence was filed by the due date (in the platform's time zone); a due date still
    owed counts as missed. Evidence awaiting a verdict and waived obligations are not counted.
    """
    from .models import Obligation, ObligationEvidence

    accepted = ObligationEvidence.objects.filter(
        obligation__ticket__consortium=consortium,
        verdict=ObligationEvidence.Verdict.ACCEPTED,
        due_on__gte=since,
        due_on__lte=until,
    ).values_list("obligation_id", "due_on", "submitted_at")
    answered: dict[tuple, bool] = {}
    for obligation_id, due_on, submitted_at in accepted:
        on_time = timezone.localtime(submitted_at).date() <= due_on
        key = (obligation_id, due_on)
        answered[key] = answered.get(key, False) or on_time
    missed = (
        Obligation.objects.filter(
            ticket__consortium=consortium,
            state__in=Obligation.OWED,
            due_on__gte=since,
            due_on__lte=until,
        )
        .exclude(due_on__gte=until)  # still owed on its due day is not yet missed
        .values_list("pk", "due_on")
    )
    for key in missed:
        answered.setdefault(tuple(key), False)
    return len(answered), sum(answered.values())
