"""
The governance app's reports: general assembly minutes (議事録) and the bylaws as a document.

Registered with the audit app's report machinery from ``GovernanceConfig.ready``; built by its
django-q2 task. Only clerks of the consortium (``consortia_administered_by``) may request or
download the minutes and the bylaws; the decision letter, also the board members who may read
the ticket's whole record (``selectors.may_see_decision_letter``).
"""

from django import forms
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from audit import reports

from . import selectors
from .models import Attendance, BylawVersion, GeneralAssembly, Resolution, Role, Vote
from .people import person_name

MINUTES = "governance.minutes"
BYLAWS = "governance.bylaws"


def consortia_for(user):
    if user.is_superuser:
        return reports.ALL
    return list(selectors.consortia_administered_by(user).values_list("pk", flat=True))


def localized(obj, field: str) -> str:
    """Return ``obj.<field>_en`` in an English report when it is filled, else the Japanese."""
    if (get_language() or "ja").startswith("en"):
        english = getattr(obj, f"{field}_en", "")
        if english:
            return english
    return getattr(obj, f"{field}_ja")


def _scoped(queryset, user, consortium_field: str = "consortium"):
    # A command runs as the system (user None) and sees every consortium.
    if user is None or user.is_superuser:
        return queryset
    return queryset.filter(**{f"{consortium_field}__in": selectors.consortia_administered_by(user)})


class MinutesForm(reports.ReportParametersForm):
    assembly = forms.ModelChoiceField(
        label=gettext_lazy("general assembly"), queryset=GeneralAssembly.objects.none()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assembly"].queryset = _scoped(
            GeneralAssembly.objects.select_related("consortium").order_by("-held_on"), self.user
        )

    def parameters(self):
        assembly = self.cleaned_data["assembly"]
        return {"assembly": assembly.pk}, assembly.consortium_id


class BylawsForm(reports.ReportParametersForm):
    version = forms.ModelChoiceField(
        label=gettext_lazy("bylaw version"), queryset=BylawVersion.objects.none()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = _scoped(
            BylawVersion.objects.select_related("consortium").order_by("consortium", "-number"),
            self.user,
        )

    def parameters(self):
        version = self.cleaned_data["version"]
        return {"version": version.pk}, version.consortium_id


def _fetch(model, report, key):
    """Return the report's object, of the consortium the report was requested for."""
    try:
        return model.objects.select_related("consortium").get(
            pk=report.parameters[key], consortium_id=report.consortium_id
        )
    except (model.DoesNotExist, KeyError, TypeError, ValueError):
        raise reports.ReportError(_("The record this report is about no longer exists.")) from None


def _bylaws_summary(version: BylawVersion | None) -> dict | None:
    if version is None:
        return None
    return {
        "title": localized(version, "title"),
        "number": version.number,
        "effective_on": version.effective_on,
        "adopted_on": version.adopted_on,
        "quorum": f"{version.quorum_numerator}/{version.quorum_denominator}",
        "special": f"{version.special_majority_numerator}/{version.special_majority_denominator}",
        "proxies_counted": version.proxies_counted,
        "majority_basis": version.get_majority_basis_display(),
        "associates_may_vote": version.associates_may_vote,
    }


def build_minutes(report, *, progress, workdir):
    assembly = _fetch(GeneralAssembly, report, "assembly")
    consortium = assembly.consortium
    in_force = selectors.bylaw_in_force(consortium, assembly.held_on)
    attendances = list(
        Attendance.objects.filter(assembly=assembly)
        .select_related("membership__organization")
        .order_by("membership__organization__name_ja")
    )
    counts = {status: 0 for status in Attendance.Status.values}
    for attendance in attendances:
        counts[attendance.status] += 1
    progress(30)
    items = []
    resolutions = list(
        Resolution.objects.filter(assembly=assembly)
        .select_related("bylaws_applied", "bylaw_version")
        .order_by("number")
    )
    for resolution in resolutions:
        votes = list(
            Vote.objects.filter(resolution=resolution)
            .select_related("membership__organization")
            .order_by("membership__organization__name_ja")
        )
        if resolution.is_open:
            # Not closed yet: the count so far, marked provisional, never a recorded outcome.
            tally = selectors.resolution_tally(resolution, in_force) if in_force else None
            figures = {
                "for": tally.votes_for if tally else 0,
                "against": tally.votes_against if tally else 0,
                "abstain": tally.votes_abstain if tally else 0,
                "regular_members": tally.regular_members if tally else None,
                "members_present": tally.members_present if tally else None,
                "outcome": tally.outcome if tally else "",
            }
        else:
            figures = {
                "for": resolution.votes_for,
                "against": resolution.votes_against,
                "abstain": resolution.votes_abstain,
                "regular_members": resolution.regular_members,
                "members_present": resolution.members_present,
                "outcome": resolution.outcome,
            }
        items.append(
            {
                "number": resolution.number,
                "title": localized(resolution, "title"),
                "kind": resolution.get_kind_display(),
                "text": resolution.text,
                "open": resolution.is_open,
                "outcome_label": Resolution.Outcome(figures["outcome"]).label
                if figures["outcome"]
                else "",
                "special": resolution.kind in Resolution.SPECIAL_KINDS,
                "figures": figures,
                "amendment": localized(resolution.bylaw_version, "title")
                if resolution.bylaw_version
                else "",
                "amendment_effective_on": resolution.amendment_effective_on,
                "votes": [
                    {
                        "member": localized(vote.membership.organization, "name"),
                        "choice": vote.get_choice_display(),
                    }
                    for vote in votes
                ],
            }
        )
    progress(70)
    chair = selectors.roles_on(consortium, assembly.held_on, Role.Kind.CHAIR).first()
    return reports.Document(
        template="governance/reports/minutes.html",
        title=_("Minutes of the general assembly"),
        context={
            "consortium": localized(consortium, "name"),
            "assembly": {
                "title": localized(assembly, "title"),
                "held_on": assembly.held_on,
                "place": assembly.place,
                "online": assembly.online,
                "agenda": assembly.agenda,
                "kind": assembly.get_kind_display(),
            },
            "attendances": [
                {
                    "member": localized(a.membership.organization, "name"),
                    "class": a.membership.get_member_class_display(),
                    "status": a.get_status_display(),
                    "proxy_holder": a.proxy_holder,
                }
                for a in attendances
            ],
            "present": counts[Attendance.Status.PRESENT],
            "proxy": counts[Attendance.Status.PROXY],
            "absent": counts[Attendance.Status.ABSENT],
            "bylaws": _bylaws_summary(in_force),
            "resolutions": items,
            "chair": person_name(chair.user) if chair and chair.user else "",
        },
    )


def build_bylaws(report, *, progress, workdir):
    version = _fetch(BylawVersion, report, "version")
    articles = [
        {
            "number": article.number,
            "title": localized(article, "title"),
            "text": localized(article, "text"),
        }
        for article in version.articles.order_by("number")
    ]
    progress(60)
    return reports.Document(
        template="governance/reports/bylaws.html",
        title=localized(version, "title"),
        context={
            "consortium": localized(version.consortium, "name"),
            "version": _bylaws_summary(version),
            "status": version.get_status_display(),
            "draft": version.status == BylawVersion.Status.DRAFT,
            "articles": articles,
        },
    )


def register() -> None:
    reports.register(
        reports.ReportKind(
            kind=MINUTES,
            label=gettext_lazy("Minutes of a general assembly"),
            consortia_for=consortia_for,
            form_class=MinutesForm,
            build=build_minutes,
        )
    )
    reports.register(
        reports.ReportKind(
            kind=BYLAWS,
            label=gettext_lazy("Bylaws (any version)"),
            consortia_for=consortia_for,
            form_class=BylawsForm,
            build=build_bylaws,
        )
    )
    register_decision_letter()


# --- The ethics board's decision letter (審査結果通知書) ---------------------------------------

LETTER = "governance.decision_letter"
DECIDED_STATES = ("approved", "rejected", "suspended", "closed")


class DecisionLetterForm(reports.ReportParametersForm):
    ticket = forms.ModelChoiceField(label=gettext_lazy("review ticket"), queryset=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import ReviewTicket

        if self.user is None or self.user.is_superuser:
            tickets = ReviewTicket.objects.filter(
                decided_at__isnull=False, state__in=DECIDED_STATES
            ).order_by("-decided_at")
        else:
            tickets = selectors.tickets_with_letter_for(self.user)
        self.fields["ticket"].queryset = tickets.select_related("consortium")

    def parameters(self):
        ticket = self.cleaned_data["ticket"]
        return {"ticket": ticket.pk}, ticket.consortium_id


def letter_consortia_for(user):
    """The secretariat's consortia and those on whose ethics board ``user`` sits today."""
    if user.is_superuser:
        return reports.ALL
    from django.utils import timezone

    from .models import Role

    today = timezone.localdate()
    seats = selectors.roles_on_any(today).filter(user=user, kind=Role.Kind.ETHICS_BOARD_MEMBER)
    return set(selectors.consortia_administered_by(user).values_list("pk", flat=True)) | set(
        seats.values_list("consortium_id", flat=True)
    )


def letter_access(user, parameters: dict, consortium_id: int | None) -> bool:
    """
    Return True if ``user`` may see the record the letter is about: the ticket, decided, in
    that consortium, read in full with the board's side on the review pages.
    """
    from .models import ReviewTicket

    if not isinstance(parameters, dict):
        return False
    try:
        ticket = selectors.access_ticket(user, parameters.get("ticket"))
    except ReviewTicket.DoesNotExist:
        return False
    return ticket.consortium_id == consortium_id and selectors.may_see_decision_letter(user, ticket)


def build_decision_letter(report, *, progress, workdir):
    from audit import selectors as audit_selectors

    from .models import ReviewAssignment, ReviewTicket, ReviewVote

    ticket = _fetch(ReviewTicket, report, "ticket")
    if ticket.decided_at is None or ticket.state not in DECIDED_STATES:
        raise reports.ReportError(_("This request has not been decided yet."))
    # The votes of the deciding round; a recused member is named as recused, never counted.
    votes = {
        vote.assignment_id: vote
        for vote in ReviewVote.objects.filter(ticket=ticket, round=ticket.round)
    }
    members = []
    for assignment in (
        ReviewAssignment.objects.filter(ticket=ticket)
        .select_related("reviewer", "role")
        .order_by("role__expertise", "reviewer__username")
    ):
        vote = votes.get(assignment.pk)
        members.append(
            {
                "name": person_name(assignment.reviewer),
                "expertise": assignment.role.get_expertise_display(),
                "recused": bool(assignment.recusal),
                "recusal": assignment.get_recusal_display() if assignment.recusal else "",
                "vote": vote.get_choice_display() if vote else _("no vote"),
                "conditions": vote.conditions if vote else "",
            }
        )
    progress(50)
    entries = [
        {"seq": entry.seq, "action": entry.action, "time": entry.time}
        for entry in audit_selectors.entries_for_object(
            object_type=ReviewTicket._meta.label_lower, object_id=ticket.pk
        )
    ]
    chair = selectors.roles_on(ticket.consortium, ticket.decided_at.date(), Role.Kind.CHAIR).first()
    return reports.Document(
        template="governance/reports/decision_letter.html",
        title=_("Decision of the data ethics board"),
        context={
            "consortium": localized(ticket.consortium, "name"),
            "ticket": ticket,
            "requester": localized(ticket.requester, "name") if ticket.requester_id else "",
            "purpose": localized(ticket.purpose, "title")
            if ticket.purpose_id
            else ticket.proposed_purpose_title,
            "categories": [localized(c, "name") for c in ticket.categories.all()],
            "recipients": [localized(o, "name") for o in ticket.recipients.all()],
            "state": ticket.get_state_display(),
            "legal_basis": ticket.get_legal_basis_display() if ticket.legal_basis else "",
            "anonymisation": ticket.get_anonymisation_display() if ticket.anonymisation else "",
            "members": members,
            "entries": entries,
            "chair": person_name(chair.user) if chair and chair.user else "",
        },
    )


def register_decision_letter() -> None:
    reports.register(
        reports.ReportKind(
            kind=LETTER,
            label=gettext_lazy("Decision letter of the data ethics board"),
            consortia_for=letter_consortia_for,
            form_class=DecisionLetterForm,
            build=build_decision_letter,
            can_access=letter_access,
        )
    )
