"""
The pages of people who take part with a confirmed e-mail address (no portal account), where
their consortium's policy allows it: phone first, no JavaScript needed.

After the link in the mail is opened, this browser remembers the participant in its session
(one participant per consortium): a person who clicked a link in a mail expects to be "in" on
that device, to come back to the consultation, to comment on the consortium's other
consultations and to read their own comments without a new mail each time; and a session,
unlike a link that keeps working, is not handed on by forwarding the mail or by the browser's
history on a shared computer (the mailed link works once). Another device asks for its own link.

Any consultation of a consortium that does not allow it answers 404, as a missing one does; so
does another consortium's consultation reached with this consortium's confirmation.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from config.clients import client_address
from config.throttle import over_limit

from . import selectors, services
from .forms import CommentEditForm, EmailCommentForm, EmailLinkForm, add_service_errors
from .models import EmailParticipant
from .tokens import LinkExpired, LinkInvalid, LinkUsed, read_link_token

# The session's participants: {consortium id (str): participant id}.
SESSION_KEY = "participation.email_participants"


def _held(request) -> dict[int, EmailParticipant]:
    """Return the confirmed participants this browser holds, by consortium id."""
    held = request.session.get(SESSION_KEY) or {}
    found = selectors.email_participants_by_ids(held.values())
    return {p.consortium_id: p for p in found if held.get(str(p.consortium_id)) == p.pk}


def _language() -> str:
    return get_language() or "ja"


@never_cache
@require_http_methods(["GET", "POST"])
def email_start(request, consultation_id: int):
    """A consultation for people without an account: its documents, and the link request."""
    found = selectors.access_consultation_for_email(consultation_id)
    participant = _held(request).get(found.consortium_id)
    form = EmailLinkForm(request.POST or None)
    # Per address, the service sends at most one mail while its last link is fresh and unused;
    # per connection, as many requests as a password reset allows (many addresses from one
    # client would otherwise each get their mail).
    if (
        request.method == "POST"
        and form.is_valid()
        and over_limit(
            f"participation:email-link:client:{client_address(request)}",
            limit=settings.PASSWORD_RESET_LIMIT_PER_CLIENT,
            window=settings.PASSWORD_RESET_WINDOW,
        )
    ):
        form.add_error(
            None, _("Too many requests from your connection. Please try again in an hour.")
        )
        return render(
            request,
            "participation/email/start.html",
            {"consultation": found, "phase": found.phase(), "form": form, "participant": None},
            status=429,
        )
    if request.method == "POST" and form.is_valid():
        try:
            services.email_participant_request(
                consultation=found,
                email=form.cleaned_data["email"],
                language=_language(),
                site_url=request.build_absolute_uri("/"),
            )
        except PermissionDenied as error:
            raise Http404("no such consultation") from error
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            # The same page whether a mail went out or a recent link is still unused.
            return render(request, "participation/email/sent.html", {"consultation": found})
    return render(
        request,
        "participation/email/start.html",
        {
            "consultation": found,
            "phase": found.phase(),
            "form": form,
            "participant": participant,
            "result": selectors.result_rows(found),
        },
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def email_confirm(request, token: str):
    """
    The link of the mail: a page with one button, so that a mail scanner that opens links
    confirms nothing; the POST confirms the address and remembers the participant here.
    """
    now = timezone.now()
    state, consultation = "ready", None
    try:
        link = read_link_token(token, now=now)
    except LinkExpired:
        state = "expired"
        link = read_link_token(token, now=now, max_age=10**12)  # to name the consultation
    except LinkInvalid as error:
        raise Http404("no such link") from error
    # A consortium that no longer allows it answers as a missing consultation.
    consultation = selectors.access_consultation_for_email(link.consultation_id)
    if state == "ready" and request.method == "POST":
        try:
            participant, consultation = services.email_participant_confirm(token=token, now=now)
        except LinkExpired:
            state = "expired"
        except LinkUsed:
            state = "used"
        except LinkInvalid as error:
            raise Http404("no such link") from error
        else:
            request.session.cycle_key()  # a new session id for the newly confirmed participant
            held = dict(request.session.get(SESSION_KEY) or {})
            held[str(participant.consortium_id)] = participant.pk
            request.session[SESSION_KEY] = held
            messages.success(
                request, _("Your e-mail address is confirmed. You can now write your comment.")
            )
            return redirect(
                reverse("participation:email_comment", args=[consultation.pk]) + "#messages"
            )
    elif state == "ready" and not selectors.email_link_unused(link):
        state = "used"
    return render(
        request,
        "participation/email/confirm.html",
        {"state": state, "consultation": consultation},
        status={"ready": 200, "expired": 410, "used": 410}[state],
    )


@never_cache
@require_http_methods(["GET", "POST"])
def email_comment(request, consultation_id: int):
    """The comment form of a participant whose address is confirmed on this device."""
    found = selectors.access_consultation_for_email(consultation_id)
    held = _held(request)
    participant = held.get(found.consortium_id)
    if participant is None and held:
        # Confirmed for another consortium only: that confirmation gives nothing here.
        raise Http404("no such consultation")
    if participant is None and request.method == "GET":
        return redirect("participation:email_start", consultation_id=found.pk)
    form = EmailCommentForm(request.POST or None, consultation=found)
    if request.method == "POST" and form.is_valid():
        try:
            if participant is None:
                raise services.email_unconfirmed()
            services.email_comment_submit(
                actor=services.email_actor(participant),
                consultation=found,
                participant=participant,
                text=form.cleaned_data["text"],
                question=form.cleaned_data.get("question"),
                notice_section=form.cleaned_data.get("notice_section", ""),
                language=_language()[:2],  # Easy Japanese is Japanese
            )
        except PermissionDenied as error:
            raise Http404("no such consultation") from error
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _(
                    "Thank you: your comment was sent. You will find it below, and the answer "
                    "will come by mail when the result is published."
                ),
            )
            return redirect(reverse("participation:email_my_comments") + "#messages")
    return render(
        request,
        "participation/email/comment.html",
        {
            "consultation": found,
            "phase": found.phase(),
            "form": form,
            "participant": participant,
            "mine": selectors.comments_of_email_participants([participant]).filter(
                consultation=found
            )
            if participant
            else [],
        },
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@require_http_methods(["GET"])
def email_my_comments(request):
    """The participant's own comments: their state, the reason if hidden, and the answers."""
    held = _held(request)
    return render(
        request,
        "participation/email/my_comments.html",
        {
            "comments": selectors.comments_of_email_participants(held.values()),
            "held": bool(held),
            "participants": sorted(held.values(), key=lambda p: p.consortium_id),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def email_comment_edit(request, comment_id: int):
    held = _held(request)
    comment = selectors.access_own_email_comment(held.values(), comment_id)
    participant = held[comment.consultation.consortium_id]
    form = CommentEditForm(request.POST or None, initial={"text": comment.text})
    if request.method == "POST" and form.is_valid():
        try:
            services.email_comment_edit(
                actor=services.email_actor(participant),
                comment=comment,
                participant=participant,
                text=form.cleaned_data["text"],
            )
        except PermissionDenied as error:
            raise Http404("no such comment") from error
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your comment was changed."))
            return redirect(reverse("participation:email_my_comments") + "#messages")
    return render(
        request,
        "participation/email/comment_edit.html",
        {"comment": comment, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def email_erase(request, participant_id: int):
    """
    Erase the participant's own address, after a page that says what it means (APPI Art. 22);
    only while this browser holds them: anyone else's, or a missing one, answers 404.
    """
    held = _held(request)
    participant = next((p for p in held.values() if p.pk == participant_id), None)
    if participant is None:
        raise Http404("no such participant")
    if request.method == "POST":
        services.email_participant_erase(
            actor=services.email_actor(participant), participant=participant
        )
        remembered = dict(request.session.get(SESSION_KEY) or {})
        remembered.pop(str(participant.consortium_id), None)
        request.session[SESSION_KEY] = remembered
        request.session.cycle_key()
        messages.success(
            request,
            _(
                "Your e-mail address was erased. Your comments stay published without it, and "
                "no mail will be sent to you."
            ),
        )
        return redirect(reverse("participation:email_my_comments") + "#messages")
    return render(
        request,
        "participation/email/erase.html",
        {
            "participant": participant,
            "comments": selectors.comments_of_email_participants([participant]).count(),
        },
    )


@require_POST
def email_forget(request):
    """Forget the confirmed addresses on this device (a shared computer)."""
    request.session.pop(SESSION_KEY, None)
    messages.success(request, _("This device no longer remembers your e-mail address."))
    return redirect(reverse("participation:email_my_comments") + "#messages")
