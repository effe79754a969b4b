"""
The portal's consultation pages: phone first, no JavaScript needed, in the portal's languages.

Views are thin: they find the signed-in resident (consent's ``resident_required``), reach only
what the resident may see through the ``access_*`` selectors (404 for anything else), call a
service, and render or redirect.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audit.services import Actor
from consent.views import resident_required

from . import selectors, services
from .forms import CommentEditForm, CommentForm, ProposalForm, add_service_errors


def _actor(request) -> Actor:
    return Actor.resident(request.resident.pseudonymous_id)


@require_GET
@resident_required
def consultations(request):
    """The consultations of the resident's consortia: open ones first, then the others."""
    now = timezone.now()
    found = list(selectors.consultations_for_resident(request.resident))
    open_now = [c for c in found if c.is_open(now)]
    others = [c for c in found if c not in open_now]
    return render(
        request,
        "participation/portal/consultations.html",
        {"open": open_now, "others": others, "now": now},
    )


@require_http_methods(["GET", "POST"])
@resident_required
def consultation(request, consultation_id: int):
    """One consultation: its documents and questions, the comment form, and the result."""
    found = selectors.access_consultation_for_resident(request.resident, consultation_id)
    form = CommentForm(request.POST or None, consultation=found)
    if request.method == "POST" and form.is_valid():
        try:
            services.comment_submit(
                actor=_actor(request),
                consultation=found,
                resident=request.resident,
                text=form.cleaned_data["text"],
                question=form.cleaned_data.get("question"),
                notice_section=form.cleaned_data.get("notice_section", ""),
                age_band=form.cleaned_data["age_band"],
                language=(get_language() or "ja")[:2],  # Easy Japanese is Japanese
            )
        except (ValidationError, PermissionDenied) as error:
            if isinstance(error, PermissionDenied):
                raise Http404("may not take part") from error
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _(
                    "Thank you: your comment was sent. You will find it, and later its answer, "
                    "under “My comments”."
                ),
            )
            return redirect(reverse("participation:my_comments") + "#messages")
    return render(
        request,
        "participation/portal/consultation.html",
        {
            "consultation": found,
            "phase": found.phase(),
            "form": form,
            "mine": selectors.comments_of_resident(request.resident).filter(consultation=found),
            "result": selectors.result_rows(found),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_GET
@resident_required
def my_comments(request):
    """The resident's own comments: their state, the reason if hidden, and the answers."""
    return render(
        request,
        "participation/portal/my_comments.html",
        {"comments": selectors.comments_of_resident(request.resident), "now": timezone.now()},
    )


@require_http_methods(["GET", "POST"])
@resident_required
def comment_edit(request, comment_id: int):
    comment = selectors.access_own_comment(request.resident, comment_id)
    form = CommentEditForm(request.POST or None, initial={"text": comment.text})
    if request.method == "POST" and form.is_valid():
        try:
            services.comment_edit(
                actor=_actor(request),
                comment=comment,
                resident=request.resident,
                text=form.cleaned_data["text"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your comment was changed."))
            return redirect(reverse("participation:my_comments") + "#messages")
    return render(
        request,
        "participation/portal/comment_edit.html",
        {"comment": comment, "form": form},
        status=400 if request.method == "POST" else 200,
    )


# --- Proposals ---------------------------------------------------------------------------------


@require_GET
@resident_required
def proposals(request):
    """The proposals of the resident's consortia, with their supports and answers."""
    return render(
        request,
        "participation/portal/proposals.html",
        {"proposals": selectors.proposals_for_resident(request.resident)},
    )


@require_http_methods(["GET", "POST"])
@resident_required
def proposal_new(request):
    """Propose an idea to the resident's consortium."""
    form = ProposalForm(request.POST or None, resident=request.resident)
    if not form.consortia:
        raise Http404("a resident of no consortium")
    if request.method == "POST" and form.is_valid():
        try:
            proposal = services.proposal_submit(
                actor=_actor(request),
                consortium=form.cleaned_data.get("consortium") or form.consortia[0],
                author=request.resident,
                kind=form.cleaned_data["kind"],
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                language=(get_language() or "ja")[:2],
            )
        except PermissionDenied as error:
            raise Http404("may not propose") from error
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Thank you: your proposal is published."))
            return redirect(reverse("participation:proposal", args=[proposal.pk]) + "#messages")
    return render(
        request,
        "participation/portal/proposal_new.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@resident_required
def proposal(request, proposal_id: int):
    """One proposal: its text, supports and answer; a button to support it or withdraw."""
    found = selectors.access_proposal_for_resident(request.resident, proposal_id)
    if request.method == "POST":
        call = (
            services.support_withdraw
            if request.POST.get("action") == "withdraw"
            else services.support_add
        )
        try:
            call(actor=_actor(request), proposal=found, resident=request.resident)
        except PermissionDenied as error:
            raise Http404("may not support") from error
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Your support was withdrawn.")
                if call is services.support_withdraw
                else _("Thank you for your support."),
            )
        return redirect(reverse("participation:proposal", args=[found.pk]) + "#messages")
    return render(
        request,
        "participation/portal/proposal.html",
        {
            "proposal": found,
            "mine": found.author_id == request.resident.pk,
            "supported": selectors.supports(request.resident, found),
        },
    )


@require_GET
@resident_required
def my_proposals(request):
    """The resident's own proposals: their state, the reason if hidden, and the answers."""
    return render(
        request,
        "participation/portal/my_proposals.html",
        {"proposals": selectors.proposals_of_resident(request.resident)},
    )


# --- Meetings ----------------------------------------------------------------------------------


@require_GET
@resident_required
def meetings(request):
    """The meetings of the resident's consortia: coming ones first, then past ones."""
    now = timezone.now()
    found = list(selectors.meetings_for_resident(request.resident))
    return render(
        request,
        "participation/portal/meetings.html",
        {
            "coming": sorted(
                (m for m in found if not m.has_started(now)), key=lambda m: m.starts_at
            ),
            "past": [m for m in found if m.has_started(now)],
            "registered": selectors.registered_meeting_ids(request.resident),
        },
    )


@require_http_methods(["GET", "POST"])
@resident_required
def meeting(request, meeting_id: int):
    """One meeting: agenda, time, place or link, places left; register or cancel; the minutes."""
    found = selectors.access_meeting_for_resident(request.resident, meeting_id)
    if request.method == "POST":
        cancel = request.POST.get("action") == "cancel"
        call = services.meeting_cancel_registration if cancel else services.meeting_register
        try:
            call(actor=_actor(request), meeting=found, resident=request.resident)
        except PermissionDenied as error:
            raise Http404("may not register") from error
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Your registration is cancelled.")
                if cancel
                else _("You are registered. Come at the time shown below."),
            )
        return redirect(reverse("participation:meeting", args=[found.pk]) + "#messages")
    return render(
        request,
        "participation/portal/meeting.html",
        {
            "meeting": found,
            "registered": found.pk in selectors.registered_meeting_ids(request.resident),
            "started": found.has_started(),
            "places_left": max(found.capacity - found.registered_count, 0),
        },
    )
