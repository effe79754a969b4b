"""
The data-ethics board's decision letter (審査結果通知書) as a report.

Registered with the audit app's report machinery from ``ReviewConfig.ready``; built by its
django-q2 task. The secretariat of the ticket's consortium and the board members who may read the
ticket's whole record (``selectors.may_see_decision_letter``) may request and download it. The
kind keeps the name it was first registered under (``governance.decision_letter``): reports
already made carry it.
"""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit import reports
from governance import selectors as governance_selectors
from governance.models import Role
from governance.people import person_name
from governance.reports import localized

from . import selectors
from .models import Obligation, ReviewAssignment, ReviewTicket, ReviewVote


def _fetch(model, report, key):
    """Return the report's object, of the consortium the report was requested for."""
    try:
        return model.objects.select_related("consortium").get(
            pk=report.parameters[key], consortium_id=report.consortium_id
        )
    except (model.DoesNotExist, KeyError, TypeError, ValueError):
        raise reports.ReportError(_("The record this report is about no longer exists.")) from None


LETTER = "governance.decision_letter"
DECIDED_STATES = ("approved", "rejected", "suspended", "closed")


class DecisionLetterForm(reports.ReportParametersForm):
    ticket = forms.ModelChoiceField(label=gettext_lazy("review ticket"), queryset=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
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
    from .models import Role

    today = timezone.localdate()
    seats = governance_selectors.roles_on_any(today).filter(
        user=user, kind=Role.Kind.ETHICS_BOARD_MEMBER
    )
    return set(
        governance_selectors.consortia_administered_by(user).values_list("pk", flat=True)
    ) | set(seats.values_list("consortium_id", flat=True))


def letter_access(user, parameters: dict, consortium_id: int | None) -> bool:
    """
    Return True if ``user`` may see the record the letter is about: the ticket, decided, in
    that consortium, read in full with the board's side on the review pages.
    """
    if not isinstance(parameters, dict):
        return False
    try:
        ticket = selectors.access_ticket(user, parameters.get("ticket"))
    except ReviewTicket.DoesNotExist:
        return False
    return ticket.consortium_id == consortium_id and selectors.may_see_decision_letter(user, ticket)


def build_decision_letter(report, *, progress, workdir):
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
        for entry in selectors.ticket_entries(ticket)
    ]
    chair = governance_selectors.roles_on(
        ticket.consortium, ticket.decided_at.date(), Role.Kind.CHAIR
    ).first()
    obligations = obligation_rows(ticket.obligations.all())
    return reports.Document(
        template="review/reports/decision_letter.html",
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
            "obligations": obligations,
            "entries": entries,
            "chair": person_name(chair.user) if chair and chair.user else "",
        },
    )


def obligation_rows(obligations) -> list[dict]:
    """The obligations as the letters and the list show them (words, never codes)."""
    return [
        {
            "ticket": obligation.ticket_id,
            "owner": localized(obligation.owner, "name") if hasattr(obligation, "owner") else "",
            "kind": obligation.get_kind_display(),
            "text": obligation.text,
            "critical": obligation.critical,
            "due_on": obligation.due_on,
            "recurrence": obligation.get_recurrence_display() if obligation.recurrence else "",
            "repeats_left": obligation.repeats_left,
            "state": obligation.get_state_display(),
        }
        for obligation in obligations
    ]


# --- A consortium's obligations and their states --------------------------------------------

OBLIGATIONS = "review.obligations"


class ObligationsForm(reports.ReportParametersForm):
    consortium = forms.ModelChoiceField(label=gettext_lazy("consortium"), queryset=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from governance.models import Consortium

        allowed = letter_consortia_for(self.user) if self.user is not None else reports.ALL
        consortia = Consortium.objects.all()
        if allowed is not reports.ALL:
            consortia = consortia.filter(pk__in=allowed)
        self.fields["consortium"].queryset = consortia

    def parameters(self):
        consortium = self.cleaned_data["consortium"]
        return {"consortium": consortium.pk}, consortium.pk


def build_obligations(report, *, progress, workdir):
    from governance.models import Consortium

    consortium = Consortium.objects.filter(pk=report.consortium_id).first()
    if consortium is None:
        raise reports.ReportError(_("The record this report is about no longer exists."))
    obligations = (
        Obligation.objects.filter(ticket__consortium=consortium)
        .select_related("ticket", "owner")
        .order_by("ticket_id", "due_on", "pk")
    )
    rows = obligation_rows(obligations)
    progress(50)
    states = {}
    for obligation in obligations:
        label = obligation.get_state_display()
        states[label] = states.get(label, 0) + 1
    return reports.Document(
        template="review/reports/obligations.html",
        title=_("Obligations of the data ethics board's approvals"),
        context={
            "consortium": localized(consortium, "name"),
            "rows": rows,
            "states": sorted(states.items()),
            "day": timezone.localdate(),
        },
    )


# --- The requester's decision notice (申請者宛の審査結果通知書) ------------------------------

# Its own kind: the board's letter names each member's vote and the audit entries, which are the
# board's; the requester's notice says what was decided, on which conditions, for which term.
REQUESTER_LETTER = "review.requester_letter"


def document_number(ticket: ReviewTicket) -> str:
    """Return the notice's number: the decision's year, the ticket and the deciding round."""
    year = timezone.localtime(ticket.decided_at).year
    return f"DEB-{year}-{ticket.pk:05d}-{ticket.round}"


def may_have_requester_letter(user, ticket: ReviewTicket) -> bool:
    """The requester's representatives (and who filed it) and the secretariat, once decided."""
    roles = getattr(ticket, "viewer_roles", None) or selectors.ticket_roles(user, ticket)
    return selectors.is_decided(ticket) and bool(
        roles & {selectors.REQUESTER, selectors.SECRETARIAT}
    )


def requester_letter_consortia_for(user):
    if user.is_superuser:
        return reports.ALL
    return set(selectors.tickets_visible_to(user).values_list("consortium_id", flat=True)) | set(
        governance_selectors.consortia_administered_by(user).values_list("pk", flat=True)
    )


def requester_letter_access(user, parameters: dict, consortium_id: int | None) -> bool:
    if not isinstance(parameters, dict):
        return False
    try:
        ticket = selectors.access_ticket(user, parameters.get("ticket"))
    except ReviewTicket.DoesNotExist:
        return False
    return ticket.consortium_id == consortium_id and may_have_requester_letter(user, ticket)


class RequesterLetterForm(reports.ReportParametersForm):
    ticket = forms.ModelChoiceField(label=gettext_lazy("review ticket"), queryset=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        tickets = ReviewTicket.objects.filter(
            decided_at__isnull=False, state__in=DECIDED_STATES
        ).order_by("-decided_at")
        if self.user is not None and not self.user.is_superuser:
            tickets = selectors.tickets_visible_to(self.user).filter(
                decided_at__isnull=False, state__in=DECIDED_STATES
            )
            allowed = [t.pk for t in tickets if may_have_requester_letter(self.user, t)]
            tickets = tickets.filter(pk__in=allowed).order_by("-decided_at")
        self.fields["ticket"].queryset = tickets.select_related("consortium")

    def parameters(self):
        ticket = self.cleaned_data["ticket"]
        return {"ticket": ticket.pk}, ticket.consortium_id


def build_requester_letter(report, *, progress, workdir):
    ticket = _fetch(ReviewTicket, report, "ticket")
    if ticket.decided_at is None or ticket.state not in DECIDED_STATES:
        raise reports.ReportError(_("This request has not been decided yet."))
    decided_on = timezone.localtime(ticket.decided_at).date()
    approved = ticket.valid_from is not None
    representative = (
        governance_selectors.members_on(ticket.consortium, decided_on)
        .filter(organization=ticket.requester, representative__isnull=False)
        .select_related("representative")
        .first()
    )
    chair = governance_selectors.roles_on(ticket.consortium, decided_on, Role.Kind.CHAIR).first()
    progress(50)
    return reports.Document(
        template="review/reports/requester_letter.html",
        title=_("Notice of the data ethics board's decision"),
        context={
            "consortium": localized(ticket.consortium, "name"),
            "board": localized(ticket.consortium.ethics_board, "name")
            if hasattr(ticket.consortium, "ethics_board")
            else "",
            "ticket": ticket,
            "number": document_number(ticket),
            "issued_on": decided_on,
            "addressee": localized(ticket.requester, "name"),
            "representative": person_name(representative.representative) if representative else "",
            "purpose": localized(ticket.purpose, "title")
            if ticket.purpose_id
            else ticket.proposed_purpose_title,
            "categories": [localized(c, "name") for c in ticket.categories.all()],
            "recipients": [localized(o, "name") for o in ticket.recipients.all()],
            # What the board decided, in words: approved (whatever happened after), or rejected.
            "decision": ReviewTicket.State.APPROVED.label
            if approved
            else ReviewTicket.State.REJECTED.label,
            "approved": approved,
            "with_conditions": bool(ticket.conditions.strip()),
            "obligations": obligation_rows(ticket.obligations.all()),
            "legal_basis": ticket.get_legal_basis_display() if ticket.legal_basis else "",
            "anonymisation": ticket.get_anonymisation_display() if ticket.anonymisation else "",
            "chair": person_name(chair.user) if chair and chair.user else "",
        },
    )


def register() -> None:
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
    reports.register(
        reports.ReportKind(
            kind=OBLIGATIONS,
            label=gettext_lazy("Obligations of the data ethics board's approvals"),
            consortia_for=letter_consortia_for,
            form_class=ObligationsForm,
            build=build_obligations,
        )
    )
    reports.register(
        reports.ReportKind(
            kind=REQUESTER_LETTER,
            label=gettext_lazy("Notice of the data ethics board's decision to the requester"),
            consortia_for=requester_letter_consortia_for,
            form_class=RequesterLetterForm,
            build=build_requester_letter,
            can_access=requester_letter_access,
        )
    )
