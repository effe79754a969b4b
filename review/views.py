"""
The ethics review pages (not the admin): the board's queue, the ticket page, the requester's
forms, the decision record. Japanese first, no JavaScript.

Views are thin: they find the ticket through ``selectors.access_ticket`` (404 alike for missing
and forbidden), parse the form, call a service, and render or redirect. A refused service call
(ValidationError, PermissionDenied) comes back as a message on the ticket page, nothing saved.
"""

import datetime
import functools

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from audit import actions as audit_actions
from audit import reports as audit_reports
from audit import selectors as audit_selectors
from audit import services as audit_services
from audit import views as audit_views
from audit.models import Report
from governance import selectors as governance_selectors
from governance.models import Consortium, Organization

from . import selectors, services
from .forms import (
    AnswerForm,
    AssignForm,
    AttachmentForm,
    CommentForm,
    ConditionFormSet,
    DeclarationForm,
    EvidenceForm,
    NewTicketForm,
    PiaFormSet,
    PurposeFromTicketForm,
    QueueFilterForm,
    TicketForm,
    VerdictForm,
    VoteForm,
    WaiverForm,
    condition_specs,
    pia_rows,
)
from .models import (
    Obligation,
    ReviewAttachment,
    ReviewComment,
    ReviewTicket,
    ReviewVote,
)
from .reports import (
    LETTER,
    REQUESTER_LETTER,
    DecisionLetterForm,
    RequesterLetterForm,
    may_have_requester_letter,
)

State = ReviewTicket.State


def login_required(view):
    """Send an anonymous visitor to the review sign-in page."""

    @functools.wraps(view)
    @never_cache
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("review:signin"))
        return view(request, *args, **kwargs)

    return wrapper


def ticket_view(view):
    """Find the ticket the viewer may see (404 otherwise) and pass it on."""

    @login_required
    @functools.wraps(view)
    def wrapper(request, ticket_id, *args, **kwargs):
        try:
            ticket = selectors.access_ticket(request.user, ticket_id)
        except ReviewTicket.DoesNotExist:
            raise Http404("no such ticket") from None
        return view(request, ticket, *args, **kwargs)

    return wrapper


def _refused(request, error) -> None:
    if isinstance(error, ValidationError):
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.error(request, str(error) or _("You may not do this."))


def _back(ticket):
    return redirect("review:ticket", ticket_id=ticket.pk)


class SignInView(auth_views.LoginView):
    template_name = "review/signin.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("review:queue")


signin = SignInView.as_view()
signout = auth_views.LogoutView.as_view(next_page=reverse_lazy("review:signin"))


# --- The queue -------------------------------------------------------------------------------


@login_required
def queue(request):
    """The board's queue, the secretariat's list and the requester's tickets, with filters."""
    form = QueueFilterForm(request.GET or None)
    tickets = selectors.tickets_visible_to(request.user).order_by("due_on", "-created_at")
    today = timezone.localdate()
    if form.is_valid():
        data = form.cleaned_data
        if data["state"]:
            tickets = tickets.filter(state=data["state"])
        if data["due"] == "overdue":
            tickets = tickets.filter(state=State.IN_REVIEW, due_on__lt=today)
        elif data["due"] == "week":
            tickets = tickets.filter(
                state__in=[State.SUBMITTED, State.IN_REVIEW],
                due_on__gte=today,
                due_on__lte=today + datetime.timedelta(days=7),
            )
        if data["mine"]:
            tickets = tickets.filter(
                Q(assignments__reviewer=request.user) | Q(filed_by=request.user)
            ).distinct()
    shown = list(tickets[:200])
    steps = selectors.next_steps(request.user, shown)
    rows = [
        {
            "ticket": ticket,
            "overdue": ticket.state in (State.SUBMITTED, State.IN_REVIEW)
            and ticket.due_on is not None
            and ticket.due_on < today,
            "step": steps[ticket.pk],
            "step_label": selectors.NEXT_STEPS.get(steps[ticket.pk], ""),
        }
        for ticket in shown
    ]
    return render(
        request,
        "review/queue.html",
        {"form": form, "rows": rows, "can_file": bool(_filing_choices(request.user))},
    )


# --- Filing and editing ----------------------------------------------------------------------


def _filing_choices(user) -> list[tuple[str, str]]:
    """(consortium:organisation, label) for every member organisation ``user`` speaks for."""
    choices = []
    for consortium in Consortium.objects.filter(ethics_board__isnull=False):
        for organization in governance_selectors.organizations_represented_by(user, consortium):
            choices.append((f"{consortium.pk}:{organization.pk}", f"{consortium} — {organization}"))
    return choices


def _save_request(request, form, formset, *, ticket=None, consortium=None, requester=None):
    data = {name: value for name, value in form.cleaned_data.items()}
    categories = list(data.pop("categories"))
    recipients = list(data.pop("recipients"))
    data["pia"] = pia_rows(formset)
    if ticket is None:
        return services.ticket_create(
            actor=request.user,
            consortium=consortium,
            requester=requester,
            categories=categories,
            recipients=recipients,
            **data,
        )
    return services.ticket_update(
        actor=request.user,
        ticket=ticket,
        categories=categories,
        recipients=recipients,
        **data,
    )


def _apply_errors(error: ValidationError, form) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@login_required
@require_http_methods(["GET", "POST"])
def ticket_new(request):
    """File a request: choose for which member organisation, then fill it in."""
    choices = _filing_choices(request.user)
    if not choices:
        raise Http404("not a representative")
    chooser = NewTicketForm(request.POST or None, choices=choices, prefix="for")
    if len(choices) == 1:
        chooser = NewTicketForm({"for-filing_for": choices[0][0]}, choices=choices, prefix="for")
    chosen = chooser.cleaned_data["filing_for"] if chooser.is_valid() else choices[0][0]
    consortium_id, organization_id = chosen.split(":")
    consortium = Consortium.objects.get(pk=consortium_id)
    requester = Organization.objects.get(pk=organization_id)
    form = TicketForm(request.POST if request.method == "POST" else None, consortium=consortium)
    formset = PiaFormSet(request.POST if request.method == "POST" else None, prefix="pia")
    if request.method == "POST" and chooser.is_valid() and form.is_valid() and formset.is_valid():
        try:
            ticket = _save_request(
                request, form, formset, consortium=consortium, requester=requester
            )
        except ValidationError as error:
            _apply_errors(error, form)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("Your request is saved as a draft."))
            return _back(ticket)
    return render(
        request,
        "review/edit.html",
        {"chooser": chooser, "form": form, "formset": formset, "ticket": None},
    )


@ticket_view
@require_http_methods(["GET", "POST"])
def ticket_edit(request, ticket):
    if selectors.REQUESTER not in ticket.viewer_roles or not ticket.is_editable:
        raise Http404("not editable")
    form = TicketForm(request.POST or None, instance=ticket, consortium=ticket.consortium)
    initial = [dict(row) for row in ticket.pia]
    formset = PiaFormSet(request.POST or None, prefix="pia", initial=initial)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        # The ModelForm has set the fields on ``ticket``; the service validates and saves.
        fresh = ReviewTicket.objects.get(pk=ticket.pk)
        try:
            _save_request(request, form, formset, ticket=fresh)
        except ValidationError as error:
            _apply_errors(error, form)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("Your changes are saved."))
            return _back(ticket)
    return render(
        request,
        "review/edit.html",
        {"form": form, "formset": formset, "ticket": ticket},
    )


@ticket_view
@require_POST
def ticket_submit(request, ticket):
    if selectors.REQUESTER not in ticket.viewer_roles:
        raise Http404("not the requester")
    try:
        if ticket.state == State.CHANGES_REQUESTED:
            services.ticket_resubmit(actor=request.user, ticket=ticket)
            messages.success(request, _("Your revised request is back with the board."))
        else:
            services.ticket_submit(actor=request.user, ticket=ticket)
            messages.success(request, _("Your request is submitted to the board."))
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
    return _back(ticket)


@ticket_view
@require_POST
def attachment_upload(request, ticket):
    if selectors.REQUESTER not in ticket.viewer_roles:
        raise Http404("not the requester")
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(ticket)
    try:
        services.attachment_add(actor=request.user, ticket=ticket, upload=form.cleaned_data["file"])
        messages.success(request, _("The file is attached."))
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
    return _back(ticket)


@ticket_view
def attachment_download(request, ticket, attachment_id):
    """Serve an attachment to those who may read the full request, and nobody else."""
    attachment = ReviewAttachment.objects.filter(ticket=ticket, pk=attachment_id).first()
    if attachment is None:
        raise Http404("no such attachment")
    # A request's files: who reads the full request. Evidence of an obligation: whoever sees
    # the obligation's page (the requester, the board, the secretariat).
    if attachment.evidence_id is None and not selectors.may_see_full_ticket(request.user, ticket):
        raise Http404("not allowed")
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- The ticket page ---------------------------------------------------------------------------


@ticket_view
def ticket_detail(request, ticket):
    return render(request, "review/ticket.html", _ticket_context(request, ticket))


def _ticket_context(
    request, ticket, *, vote_form: VoteForm | None = None, condition_formset=None
) -> dict:
    roles = ticket.viewer_roles
    full = selectors.may_see_full_ticket(request.user, ticket)
    assignment = selectors.ticket_assignment(request.user, ticket)
    is_board_side = selectors.sees_board_side(request.user, ticket)
    comments = ReviewComment.objects.filter(ticket=ticket).select_related("author")
    if not is_board_side:
        # Board-only comments are the board's; the requester sees what is addressed to them.
        comments = comments.filter(visibility=ReviewComment.Visibility.REQUESTER)
    if not full:
        comments = comments.none()
    votes = (
        ReviewVote.objects.filter(ticket=ticket)
        .select_related("assignment__reviewer", "assignment__role")
        .order_by("round", "cast_at")
        if is_board_side
        else ReviewVote.objects.none()
    )
    assignments = ticket.assignments.select_related("reviewer", "role") if is_board_side else []
    can_vote = bool(
        assignment
        and assignment.conflict_declared_at
        and not assignment.is_recused
        and ticket.state == State.IN_REVIEW
        and not ReviewVote.objects.filter(assignment=assignment, round=ticket.round).exists()
    )
    is_secretariat = selectors.SECRETARIAT in roles
    context = {
        "ticket": ticket,
        "roles": roles,
        "full": full,
        "is_requester": selectors.REQUESTER in roles,
        "is_secretariat": is_secretariat,
        "is_board_side": is_board_side,
        "assignment": assignment,
        "needs_declaration": bool(assignment and not assignment.conflict_declared_at),
        "declaration_form": DeclarationForm(),
        "comments": comments,
        "comment_form": CommentForm(),
        "answer_form": AnswerForm(),
        "vote_form": (vote_form or VoteForm()) if can_vote else None,
        "condition_formset": (condition_formset or ConditionFormSet(prefix=CONDITIONS))
        if can_vote
        else None,
        "obligations": ticket.obligations.all() if ticket.decided_at else [],
        "votes": votes,
        "assignments": assignments,
        "assign_form": AssignForm(ticket=ticket) if is_secretariat else None,
        "attachment_form": AttachmentForm(),
        "attachments": ticket.attachments.filter(evidence__isnull=True) if full else [],
        "diff": selectors.round_diff(ticket) if full else [],
        "rounds": ticket.rounds.all(),
        "tally": selectors.review_tally(ticket) if is_board_side else None,
        "overdue": ticket.state in (State.SUBMITTED, State.IN_REVIEW)
        and ticket.due_on
        and ticket.due_on < timezone.localdate(),
        "commentable": ticket.state in (State.SUBMITTED, State.IN_REVIEW, State.CHANGES_REQUESTED),
        "letter": _letter_context(request.user, ticket),
        "notice": _notice_context(request.user, ticket),
        "previous": ticket.previous if ticket.previous_id else None,
        "previous_obligations": ticket.previous.obligations.all() if ticket.previous_id else [],
        "successor_changes": selectors.successor_changes(ticket) if full else [],
        "successors": ticket.successors.order_by("-pk") if ticket.decided_at else [],
        "purpose_form": PurposeFromTicketForm()
        if is_secretariat
        and ticket.state in (State.APPROVED, State.SUSPENDED)
        and ticket.purpose_id is None
        else None,
        "can_renew": selectors.REQUESTER in roles
        and ticket.state in (State.APPROVED, State.SUSPENDED)
        and not ticket.successors.filter(
            state__in=[State.DRAFT, State.SUBMITTED, State.IN_REVIEW, State.CHANGES_REQUESTED]
        ).exists(),
    }
    return context


@ticket_view
@require_POST
def declare(request, ticket):
    form = DeclarationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose whether you have a conflict of interest."))
        return _back(ticket)
    try:
        services.conflict_declare(
            actor=request.user, ticket=ticket, has_conflict=form.cleaned_data["has_conflict"]
        )
        messages.success(request, _("Your declaration is recorded."))
    except PermissionDenied as error:
        raise Http404 from error
    except ValidationError as error:
        _refused(request, error)
    return _back(ticket)


@ticket_view
@require_POST
def comment(request, ticket):
    is_answer = request.POST.get("kind") == ReviewComment.Kind.ANSWER
    form = AnswerForm(request.POST) if is_answer else CommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write the comment."))
        return _back(ticket)
    data = form.cleaned_data
    try:
        services.comment_add(
            actor=request.user,
            ticket=ticket,
            text=data["text"],
            kind=ReviewComment.Kind.ANSWER if is_answer else data["kind"],
            visibility=data.get("visibility", ReviewComment.Visibility.REQUESTER),
        )
        messages.success(request, _("Your comment is posted."))
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
    return _back(ticket)


@ticket_view
@require_POST
def vote(request, ticket):
    """
    Cast the viewer's vote. A refused vote shows the page again with what was typed and the
    error on its field (aria-invalid), nothing recorded.
    """
    form = VoteForm(request.POST)
    # The conditions' rows; a post without them (a script's) gives its conditions as text.
    rows = ConditionFormSet(
        request.POST if f"{CONDITIONS}-TOTAL_FORMS" in request.POST else None, prefix=CONDITIONS
    )
    if form.is_valid() and (not rows.is_bound or rows.is_valid()):
        try:
            services.review_vote_cast(
                actor=request.user,
                ticket=ticket,
                choice=form.cleaned_data["choice"],
                reason=form.cleaned_data["reason"],
                obligations=condition_specs(rows) if rows.is_bound else None,
                conditions=request.POST.get("conditions", "") if not rows.is_bound else "",
            )
        except PermissionDenied as error:
            _refused(request, error)
            return _back(ticket)
        except ValidationError as error:
            conditions_errors = getattr(error, "error_dict", {}).pop("conditions", None)
            if conditions_errors:
                # The conditions' error goes on the first condition, where it is written.
                first = rows.forms[0]
                if not hasattr(first, "cleaned_data"):
                    first.cleaned_data = {}
                first.add_error("text", ValidationError(conditions_errors).messages)
            if getattr(error, "error_dict", None) or not conditions_errors:
                _apply_errors(error, form)
        else:
            messages.success(request, _("Your vote is recorded."))
            return _back(ticket)
    context = _ticket_context(request, ticket, vote_form=form, condition_formset=rows)
    if context["vote_form"] is None:  # no longer the viewer's to cast (e.g. voted meanwhile)
        _refused(request, ValidationError(_("You cannot vote on this ticket now.")))
        return _back(ticket)
    return render(request, "review/ticket.html", context, status=400)


@ticket_view
@require_POST
def assign(request, ticket):
    if selectors.SECRETARIAT not in ticket.viewer_roles:
        raise Http404("not the secretariat")
    form = AssignForm(request.POST, ticket=ticket)
    if not form.is_valid():
        messages.error(request, _("Choose a member of the board."))
        return _back(ticket)
    try:
        assignment = services.reviewer_assign(
            actor=request.user, ticket=ticket, reviewer=form.cleaned_data["reviewer"]
        )
        if assignment.is_recused:
            messages.warning(
                request,
                _("The reviewer is assigned but recused: %(reason)s.")
                % {"reason": assignment.get_recusal_display()},
            )
        else:
            messages.success(request, _("The reviewer is assigned."))
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
    return _back(ticket)


def _secretariat_action(service, done_message):
    @ticket_view
    @require_POST
    def view(request, ticket):
        if selectors.SECRETARIAT not in ticket.viewer_roles and not (
            service is services.ticket_close and selectors.REQUESTER in ticket.viewer_roles
        ):
            raise Http404("not allowed")
        try:
            service(actor=request.user, ticket=ticket)
            messages.success(request, done_message())
        except (ValidationError, PermissionDenied) as error:
            _refused(request, error)
        return _back(ticket)

    return view


start = _secretariat_action(services.ticket_review_start, lambda: _("The review is open."))
suspend = _secretariat_action(services.ticket_suspend, lambda: _("The approval is suspended."))
resume = _secretariat_action(services.ticket_resume, lambda: _("The approval is resumed."))
close = _secretariat_action(services.ticket_close, lambda: _("The ticket is closed."))


@ticket_view
@require_POST
def renew(request, ticket):
    """Start the renewal of an approved ticket (the requester): a draft to complete and submit."""
    if selectors.REQUESTER not in ticket.viewer_roles:
        raise Http404("not the requester")
    try:
        successor = services.ticket_renew(actor=request.user, ticket=ticket)
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
        return _back(ticket)
    messages.success(
        request,
        _("The renewal is a draft: say what changes, then submit it to the board."),
    )
    return redirect("review:ticket_edit", ticket_id=successor.pk)


@ticket_view
@require_POST
def purpose_create(request, ticket):
    """Create the purpose an approved ticket proposed (the secretariat), linked to it."""
    if selectors.SECRETARIAT not in ticket.viewer_roles:
        raise Http404("not the secretariat")
    form = PurposeFromTicketForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(ticket)
    try:
        purpose = services.purpose_create_from_ticket(
            actor=request.user, ticket=ticket, **form.cleaned_data
        )
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
        return _back(ticket)
    messages.success(
        request,
        _("The purpose %(code)s is created as a draft and linked to this approval.")
        % {"code": purpose.code},
    )
    return _back(ticket)


# --- Obligations: the conditions of an approval, followed up ----------------------------------

CONDITIONS = "obligation"


def obligation_view(view):
    """Find the obligation of a decided ticket the viewer may see (404 otherwise)."""

    @ticket_view
    @functools.wraps(view)
    def wrapper(request, ticket, obligation_id, *args, **kwargs):
        obligation = Obligation.objects.filter(ticket=ticket, pk=obligation_id).first()
        if obligation is None:
            raise Http404("no such obligation")
        obligation.ticket = ticket
        return view(request, ticket, obligation, *args, **kwargs)

    return wrapper


def _back_to_obligation(obligation):
    return redirect(
        "review:obligation", ticket_id=obligation.ticket_id, obligation_id=obligation.pk
    )


def _obligation_page(
    request,
    ticket,
    obligation,
    *,
    evidence_form=None,
    verdict_form=None,
    waiver_form=None,
    status=200,
):
    roles = ticket.viewer_roles
    is_requester = selectors.REQUESTER in roles
    is_overseer = not is_requester and bool(roles & {selectors.BOARD, selectors.SECRETARIAT})
    evidence = obligation.evidence.prefetch_related("attachments").order_by("-submitted_at", "-pk")
    return render(
        request,
        "review/obligation.html",
        {
            "ticket": ticket,
            "obligation": obligation,
            "evidence": evidence,
            "evidence_form": (evidence_form or EvidenceForm())
            if is_requester and obligation.is_owed
            else None,
            "verdict_form": (verdict_form or VerdictForm())
            if is_overseer and obligation.state == Obligation.State.SUBMITTED
            else None,
            "waiver_form": (waiver_form or WaiverForm())
            if selectors.SECRETARIAT in roles and obligation.state not in Obligation.FINISHED
            else None,
        },
        status=status,
    )


@obligation_view
def obligation_detail(request, ticket, obligation):
    """The obligation, its evidence and verdicts; the requester's and the board's forms."""
    return _obligation_page(request, ticket, obligation)


@obligation_view
@require_POST
def obligation_evidence(request, ticket, obligation):
    if selectors.REQUESTER not in ticket.viewer_roles:
        raise Http404("not the requester")
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.obligation_evidence_submit(
                actor=request.user,
                obligation=obligation,
                text=form.cleaned_data["text"],
                uploads=form.cleaned_data["files"],
            )
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            _apply_errors(error, form)
        else:
            messages.success(request, _("Your evidence is filed with the board."))
            return _back_to_obligation(obligation)
    return _obligation_page(request, ticket, obligation, evidence_form=form, status=400)


@obligation_view
@require_POST
def obligation_verdict(request, ticket, obligation, verdict):
    roles = ticket.viewer_roles
    if selectors.REQUESTER in roles or not roles & {selectors.BOARD, selectors.SECRETARIAT}:
        raise Http404("not the board")
    form = VerdictForm(request.POST)
    if form.is_valid():
        try:
            if verdict == "accept":
                services.obligation_accept(actor=request.user, obligation=obligation)
                messages.success(request, _("The evidence is accepted."))
            else:
                services.obligation_reject(
                    actor=request.user, obligation=obligation, reason=form.cleaned_data["reason"]
                )
                messages.success(request, _("The evidence is rejected; the requester is told."))
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            _apply_errors(error, form)
        else:
            return _back_to_obligation(obligation)
    return _obligation_page(request, ticket, obligation, verdict_form=form, status=400)


@obligation_view
@require_POST
def obligation_waive(request, ticket, obligation):
    if selectors.SECRETARIAT not in ticket.viewer_roles:
        raise Http404("not the secretariat")
    form = WaiverForm(request.POST)
    if form.is_valid():
        try:
            services.obligation_waive(
                actor=request.user, obligation=obligation, reason=form.cleaned_data["reason"]
            )
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            _apply_errors(error, form)
        else:
            messages.success(request, _("The obligation is waived."))
            return _back_to_obligation(obligation)
    return _obligation_page(request, ticket, obligation, waiver_form=form, status=400)


# --- The decision record -----------------------------------------------------------------------

# The decision record's audit entries in words (the log keeps the codes).
ENTRY_WORDS = {
    "ticket.approved": gettext_lazy("The board approved the request."),
    "ticket.rejected": gettext_lazy("The board rejected the request."),
    "ticket.vote_cast": gettext_lazy("A board member voted."),
    "ticket.suspended": gettext_lazy("The secretariat suspended the approval."),
    "ticket.resumed": gettext_lazy("The secretariat resumed the approval."),
    "ticket.closed": gettext_lazy("The request was closed."),
}


@ticket_view
def decision(request, ticket):
    """Who voted how (or was recused), the conditions, the term, and the audit entries."""
    if ticket.decided_at is None:
        raise Http404("not decided")
    is_board_side = selectors.sees_decision_votes(request.user, ticket)
    # Seal first so that the decision's entries have their sequence numbers.
    audit_services.seal()
    entries = selectors.ticket_entries(ticket).filter(
        action__in=[
            "ticket.approved",
            "ticket.rejected",
            "ticket.vote_cast",
            "ticket.suspended",
            "ticket.resumed",
            "ticket.closed",
        ],
    )
    entries = [
        {
            "seq": entry.seq,
            "time": entry.time,
            "action": entry.action,
            "words": ENTRY_WORDS.get(entry.action) or audit_actions.label(entry.action),
        }
        for entry in entries
    ]
    final_round = ticket.rounds.exclude(outcome="").order_by("-number").first()
    rows = []
    if is_board_side and final_round:
        votes = {
            v.assignment_id: v
            for v in ReviewVote.objects.filter(ticket=ticket, round=final_round.number)
        }
        for assignment in ticket.assignments.select_related("reviewer", "role"):
            rows.append({"assignment": assignment, "vote": votes.get(assignment.pk)})
    return render(
        request,
        "review/decision.html",
        {
            "ticket": ticket,
            "rows": rows,
            "is_board_side": is_board_side,
            "entries": entries,
            "final_round": final_round,
            "letter": _letter_context(request.user, ticket),
        },
    )


# --- The decision letter and the viewer's reports ----------------------------------------------

PENDING = (Report.State.QUEUED, Report.State.RUNNING)
LETTERS_SHOWN = 5
REPORTS_SHOWN = 100


def _letter_form(user, ticket, data=None) -> DecisionLetterForm:
    """The report machinery's own parameter form, for this ticket only: the language is asked."""
    form = DecisionLetterForm(data, user=user, initial={"ticket": ticket.pk})
    form.fields["ticket"].widget = forms.HiddenInput()
    return form


def _letter_context(user, ticket) -> dict | None:
    """The request form and the latest letters of ``ticket``, for those who may have them."""
    if not selectors.may_see_decision_letter(user, ticket):
        return None
    letters = audit_selectors.reports_visible_to(user, kind=LETTER, about={"ticket": ticket.pk})
    return {"form": _letter_form(user, ticket), "reports": list(letters[:LETTERS_SHOWN])}


def _notice_form(user, ticket, data=None) -> RequesterLetterForm:
    form = RequesterLetterForm(data, user=user, initial={"ticket": ticket.pk})
    form.fields["ticket"].widget = forms.HiddenInput()
    return form


def _notice_context(user, ticket) -> dict | None:
    """The requester's decision notices of ``ticket`` and the form to ask for another."""
    if not may_have_requester_letter(user, ticket):
        return None
    notices = audit_selectors.reports_visible_to(
        user, kind=REQUESTER_LETTER, about={"ticket": ticket.pk}
    )
    return {"form": _notice_form(user, ticket), "reports": list(notices[:LETTERS_SHOWN])}


@ticket_view
@require_POST
def letter_request(request, ticket):
    """Queue the decision letter of a decided ticket; its progress shows on the reports page."""
    if not selectors.may_see_decision_letter(request.user, ticket):
        raise Http404("not allowed")
    form = _letter_form(
        request.user, ticket, {"ticket": ticket.pk, "language": request.POST.get("language", "")}
    )
    return _queue_letter(request, ticket, form, LETTER)


@ticket_view
@require_POST
def notice_request(request, ticket):
    """Queue the requester's decision notice again (another language, a fresh copy)."""
    if not may_have_requester_letter(request.user, ticket):
        raise Http404("not allowed")
    form = _notice_form(
        request.user, ticket, {"ticket": ticket.pk, "language": request.POST.get("language", "")}
    )
    return _queue_letter(request, ticket, form, REQUESTER_LETTER)


def _queue_letter(request, ticket, form, kind):
    if not form.is_valid():
        messages.error(request, _("Choose the language of the letter."))
        return _back(ticket)
    parameters, consortium_id = form.parameters()
    language = form.cleaned_data["language"]
    # A second click while the first letter is still being made queues nothing more.
    pending = (
        audit_selectors.reports_visible_to(request.user, kind=kind, about=parameters)
        .filter(language=language, state__in=PENDING)
        .first()
    )
    if pending is not None:
        messages.info(
            request,
            _("This letter is already being prepared (report no. %(id)d).") % {"id": pending.pk},
        )
        return redirect("review:reports")
    try:
        report = audit_services.report_request(
            actor=request.user,
            kind=kind,
            parameters=parameters,
            consortium_id=consortium_id,
            language=language,
        )
    except PermissionDenied as error:
        raise Http404 from error
    messages.success(
        request,
        _("The decision letter is queued (report no. %(id)d). This page shows its progress.")
        % {"id": report.pk},
    )
    return redirect("review:reports")


@login_required
def report_list(request):
    """The reports the viewer may see: their state, progress, reason for failure, download."""
    reports = list(
        audit_selectors.reports_visible_to(request.user).select_related("requested_by")[
            :REPORTS_SHOWN
        ]
    )
    ticket_ids = {
        report.parameters.get("ticket")
        for report in reports
        if report.kind in (LETTER, REQUESTER_LETTER) and isinstance(report.parameters, dict)
    }
    tickets = {
        ticket.pk: ticket
        for ticket in selectors.tickets_visible_to(request.user).filter(
            pk__in=[pk for pk in ticket_ids if isinstance(pk, int)]
        )
    }
    rows = []
    for report in reports:
        try:
            label = audit_reports.get(report.kind).label
        except audit_reports.ReportError:
            label = report.kind
        rows.append(
            {
                "report": report,
                "label": label,
                "ticket": tickets.get(report.parameters.get("ticket"))
                if report.kind in (LETTER, REQUESTER_LETTER)
                else None,
            }
        )
    return render(
        request,
        "review/reports.html",
        {
            "rows": rows,
            "refresh": any(report.state in PENDING for report in reports),
            "more": len(reports) == REPORTS_SHOWN,
        },
    )


@login_required
def report_download(request, report_id):
    """Serve a finished report to someone who may see it (its kind's rules); 404 otherwise."""
    return audit_views.report_file_response(request.user, report_id)
