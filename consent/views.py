"""
Pages of the resident portal: phone first, Japanese first, no JavaScript needed.

Views are thin: they find the signed-in resident, parse the form, call a service or a
selector, and render or redirect. A resident reaches only their own records: every lookup goes
through an ``access_*`` selector that answers 404 for anything else.
"""

import functools
import hashlib
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.services import Actor
from config.clients import client_address
from config.throttle import over_limit
from governance import passkeys

from . import identity, receipts, selectors, services
from .forms import (
    AccountForm,
    DeleteAccountForm,
    RepresentationRequestForm,
    SignInForm,
    SignUpForm,
)
from .models import Purpose


def resident_required(view):
    """Send an anonymous visitor to sign in; answer 404 to an account that is no resident."""

    @functools.wraps(view)
    @never_cache
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("consent:signin"))
        resident = selectors.resident_for_user(request.user)
        if resident is None:
            raise Http404("not a resident")
        request.resident = resident
        return view(request, *args, **kwargs)

    return wrapper


def _actor(request) -> Actor:
    return Actor.resident(request.resident.pseudonymous_id)


def _use_language(response, language: str):
    translation.activate(language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        secure=settings.LANGUAGE_COOKIE_SECURE,
    )
    return response


# --- Signing up, in and out ------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def signup(request):
    if selectors.resident_for_user(request.user):
        return redirect("consent:portal")
    form = SignUpForm(
        request.POST or None, initial={"language": translation.get_language() or "ja"}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        identity.sign_up_request(
            request,
            email=data["email"],
            password=data["password"],
            consortium=data["consortium"],
            language=data["language"],
            full_name=data["full_name"],
        )
        # The same page whether or not the address has an account: the mail says which.
        return render(request, "consent/portal/signup_sent.html", {"email": data["email"]})
    return render(request, "consent/portal/signup.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def signup_confirm(request, token: str):
    """
    The link of the sign-up mail: a page with one button, so that a mail scanner that opens
    links creates nothing; the POST creates the account and signs in.
    """
    pending = identity.sign_up_pending(token)
    if request.method == "POST" and pending is not None:
        resident = identity.sign_up_confirm(request, token=token)
        if resident is not None:
            response = redirect("consent:portal")
            _use_language(response, resident.language)
            messages.success(
                request,
                _(
                    "Your account is ready. Nothing has been agreed: read each purpose and "
                    "decide for yourself."
                ),
            )
            return response
        pending = None
    status = 200 if pending is not None else 404
    return render(
        request, "consent/portal/signup_confirm.html", {"pending": pending}, status=status
    )


def set_language(request):
    """
    The language switch in every page's header: Django's, and for a signed-in resident also
    the language saved on their account, so that the next sign-in and the receipts keep it.
    """
    response = i18n.set_language(request)
    language = request.POST.get("language") if request.method == "POST" else None
    if (
        language in dict(settings.LANGUAGES)
        and check_for_language(language)
        and request.user.is_authenticated
    ):
        resident = selectors.resident_for_user(request.user)
        if resident is not None and resident.language != language:
            request.resident = resident
            services.resident_set_language(
                actor=_actor(request), resident=resident, language=language
            )
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def signin(request):
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = identity.sign_in(
            request, email=form.cleaned_data["email"], password=form.cleaned_data["password"]
        )
        if user is not None:
            resident = selectors.resident_for_user(user)
            response = redirect(next_url or reverse("consent:portal"))
            if resident:
                _use_language(response, resident.language)
            return response
        form.add_error(
            None, _("The email address or the password is not right. Check them and try again.")
        )
    context = {
        "form": form,
        "next": next_url,
        "passkey_config": passkeys.browser_config(
            request,
            begin=reverse("consent:passkey_signin_options"),
            complete=reverse("consent:passkey_signin"),
        ),
    }
    return render(request, "consent/portal/signin.html", context)


@passkeys.ceremony
def passkey_signin_options(request):
    """The options of a sign-in with a passkey alone (the device offers the resident's own)."""
    options, state = passkeys.authentication_options(user=None)
    request.session[passkeys.AUTHENTICATION] = state
    return JsonResponse(options)


@passkeys.ceremony
def passkey_signin(request):
    """Sign in with the passkey's answer; the answer says where to go next."""
    state = passkeys.take_state(request, passkeys.AUTHENTICATION)
    user = identity.sign_in_with_passkey(
        request, state=state, response=passkeys.parse(request.body)
    )
    next_url = request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    response = JsonResponse({"id": user.pk, "redirect_url": next_url or reverse("consent:portal")})
    resident = selectors.resident_for_user(user)
    _use_language(response, resident.language)
    return response


def _resident_ceremony(view):
    """A passkey endpoint of the signed-in resident (POST, JSON answers)."""

    @passkeys.ceremony
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        resident = (
            selectors.resident_for_user(request.user) if request.user.is_authenticated else None
        )
        if resident is None:
            raise passkeys.PasskeyError(
                "not_authenticated", _("Sign in to the resident portal first."), status=403
            )
        request.resident = resident
        return view(request, *args, **kwargs)

    return wrapper


@_resident_ceremony
def passkey_register_options(request):
    options, state = passkeys.registration_options(user=request.user)
    request.session[passkeys.REGISTRATION] = state
    return JsonResponse(options)


@_resident_ceremony
def passkey_register(request):
    state = passkeys.take_state(request, passkeys.REGISTRATION)
    credential = services.resident_passkey_add(
        actor=_actor(request),
        resident=request.resident,
        state=state,
        response=passkeys.parse(request.body),
    )
    messages.success(request, _("Your passkey is added: you can sign in with it next time."))
    return JsonResponse({"id": credential.pk, "redirect_url": reverse("consent:account")})


@require_POST
@resident_required
def passkey_remove(request, passkey_id: int):
    try:
        services.resident_passkey_remove(
            actor=_actor(request), resident=request.resident, passkey_id=passkey_id
        )
    except ObjectDoesNotExist:
        raise Http404("no such passkey") from None
    messages.success(request, _("The passkey is removed."))
    return redirect("consent:account")


@require_POST
def signout(request):
    identity.sign_out(request)
    messages.info(request, _("You have signed out."))
    return redirect("consent:signin")


class PasswordResetView(auth_views.PasswordResetView):
    """
    Django's password reset, throttled: per client address (beyond the limit the form says so,
    429), and per email address (beyond the limit no more mail is sent, and the answer is the
    same as when one is, so that it tells nothing about the account or the throttle).
    """

    template_name = "consent/portal/password_reset.html"
    email_template_name = "consent/registration/password_reset_email.txt"
    subject_template_name = "consent/registration/password_reset_subject.txt"
    success_url = reverse_lazy("consent:password_reset_done")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "label_suffix": ""}

    def form_valid(self, form):
        window = settings.PASSWORD_RESET_WINDOW
        client = f"consent:reset:client:{client_address(self.request)}"
        if over_limit(client, limit=settings.PASSWORD_RESET_LIMIT_PER_CLIENT, window=window):
            form.add_error(
                None,
                _("Too many requests from your connection. Please try again in an hour."),
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        email = identity.normalise_email(form.cleaned_data["email"])
        digest = hashlib.sha256(email.encode()).hexdigest()  # no address in the cache's keys
        account = f"consent:reset:email:{digest}"
        if over_limit(account, limit=settings.PASSWORD_RESET_LIMIT_PER_EMAIL, window=window):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "consent/portal/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "consent/portal/password_reset_confirm.html"
    success_url = reverse_lazy("consent:password_reset_complete")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "label_suffix": ""}


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "consent/portal/password_reset_complete.html"


# --- Deciding --------------------------------------------------------------------------------


@require_GET
@resident_required
def portal(request):
    """
    The dashboard: every purpose open in the resident's consortia and their decision; those
    waiting for one first, in full, then those decided, one line each (a phone's screen).
    """
    states = selectors.dashboard(request.resident)
    decided = [state for state in states if state.state in ("agreed", "declined")]
    open_states = [state for state in states if state not in decided]
    return render(
        request,
        "consent/portal/dashboard.html",
        {
            "open": open_states,
            "decided": decided,
            "to_confirm": selectors.decisions_to_confirm(request.resident),
            "represented": selectors.representations_held(request.resident),
            "requests": selectors.representation_requests(request.resident),
        },
    )


@require_GET
@resident_required
def purpose_detail(request, purpose_id: int):
    purpose = selectors.access_purpose(request.resident, purpose_id)
    state = next(
        (s for s in selectors.dashboard(request.resident) if s.purpose.pk == purpose.pk), None
    )
    history = selectors.history_with_kinds(
        request.resident, selectors.consent_history(request.resident).filter(purpose=purpose)
    )
    return render(
        request,
        "consent/portal/purpose.html",
        {"purpose": purpose, "state": state, "history": history},
    )


@require_GET
def notice(request, purpose_id: int, version: int):
    """A notice version's full text: public, as a published notice (公表) is."""
    found = (
        Purpose.objects.filter(
            pk=purpose_id, status__in=[Purpose.Status.OPEN, Purpose.Status.CLOSED]
        )
        .select_related("consortium")
        .first()
    )
    if found is None:
        raise Http404("no such purpose")
    notice = found.notices.filter(version=version).first()
    if notice is None:
        raise Http404("no such notice")
    return render(request, "consent/portal/notice.html", {"purpose": found, "notice": notice})


def _decide(request, purpose_id: int, service, done_message: str):
    purpose = selectors.access_purpose(request.resident, purpose_id)
    try:
        service(actor=_actor(request), resident=request.resident, purpose=purpose)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("consent:portal")
    messages.success(request, done_message % {"purpose": purpose.title()})
    # The confirmation is at the top of the page (the message list, a live region): the
    # fragment takes the eye, the scroll position and the screen reader's reading point there,
    # with or without JavaScript.
    return redirect(reverse("consent:portal") + "#messages")


@require_POST
@resident_required
def give(request, purpose_id: int):
    return _decide(
        request,
        purpose_id,
        services.consent_give,
        _("You agreed to “%(purpose)s”. Your receipt is in your history."),
    )


@require_POST
@resident_required
def withdraw(request, purpose_id: int):
    return _decide(
        request,
        purpose_id,
        services.consent_withdraw,
        _("You did not agree to “%(purpose)s”. Its data about you will not be used."),
    )


@require_http_methods(["GET", "POST"])
@resident_required
def withdraw_all(request):
    if request.method == "POST":
        withdrawn = services.consent_withdraw_all(actor=_actor(request), resident=request.resident)
        messages.success(
            request,
            _("You withdrew every consent (%(count)d). No purpose may use your data now.")
            % {"count": len(withdrawn)},
        )
        return redirect("consent:portal")
    agreed = [
        s
        for s in selectors.dashboard(request.resident)
        if s.latest and s.latest.decision == "given"
    ]
    return render(request, "consent/portal/withdraw_all.html", {"agreed": agreed})


@require_POST
@resident_required
def confirm(request, purpose_id: int):
    """The resident confirms, as their own, a decision a representative made for them."""
    purpose = selectors.access_purpose(request.resident, purpose_id)
    try:
        services.consent_confirm(actor=_actor(request), resident=request.resident, purpose=purpose)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(reverse("consent:portal") + "#messages")
    messages.success(
        request,
        _("You confirmed the decision on “%(purpose)s” as your own.")
        % {"purpose": purpose.title()},
    )
    return redirect(reverse("consent:portal") + "#messages")


# --- Deciding for someone else (a representative) ---------------------------------------------


def _person_name(representation) -> str:
    profile = getattr(representation.represented, "profile", None)
    return (profile.full_name if profile else "") or representation.represented_id


@require_GET
@resident_required
def represented(request, representation_id: int):
    """The purposes of a person the resident represents, with the decisions made for them."""
    representation = selectors.access_representation(request.resident, representation_id)
    person = representation.represented
    states = selectors.dashboard(person)
    history = selectors.history_with_kinds(person, selectors.consent_history(person))
    return render(
        request,
        "consent/portal/represented.html",
        {
            "representation": representation,
            "person_name": _person_name(representation),
            "states": states,
            "history": history,
        },
    )


def _decide_for(request, representation_id: int, purpose_id: int, *, agree: bool):
    representation = selectors.access_representation(request.resident, representation_id)
    purpose = selectors.access_purpose(representation.represented, purpose_id)
    back = reverse("consent:represented", args=[representation.pk]) + "#messages"
    name = _person_name(representation)
    try:
        services.consent_decide_for(
            actor=_actor(request), representation=representation, purpose=purpose, agree=agree
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    if agree:
        done = _("You agreed to “%(purpose)s” for %(name)s. The receipt is in their history.")
    else:
        done = _("You did not agree to “%(purpose)s” for %(name)s. Their data will not be used.")
    messages.success(request, done % {"purpose": purpose.title(), "name": name})
    return redirect(back)


@require_POST
@resident_required
def give_for(request, representation_id: int, purpose_id: int):
    return _decide_for(request, representation_id, purpose_id, agree=True)


@require_POST
@resident_required
def withdraw_for(request, representation_id: int, purpose_id: int):
    return _decide_for(request, representation_id, purpose_id, agree=False)


@require_http_methods(["GET", "POST"])
@resident_required
def representation_request(request):
    """Ask to decide for someone else; the secretariat checks the document and approves."""
    form = RepresentationRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        consortium = request.resident.consortia.order_by("pk").first()
        try:
            services.representation_request(
                actor=_actor(request),
                representative=request.resident,
                consortium=consortium,
                requested_name=data["requested_name"],
                relationship=data["relationship"],
                evidence_kind=data["evidence_kind"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _(
                    "Your request is sent. Bring the document to the secretariat's counter: "
                    "once it is checked, the person appears on this page."
                ),
            )
            return redirect(reverse("consent:portal") + "#messages")
    return render(request, "consent/portal/representation_request.html", {"form": form})


# --- Seeing what was decided and used --------------------------------------------------------


@require_GET
@resident_required
def history(request):
    records = selectors.history_with_kinds(
        request.resident, selectors.consent_history(request.resident)
    )
    return render(request, "consent/portal/history.html", {"records": records})


@require_GET
@resident_required
def receipt_page(request, receipt_id):
    """One decision's receipt in words, with its PDF and its signed file beside it."""
    view = selectors.receipt_view(request.resident, receipt_id)
    return render(request, "consent/portal/receipt.html", {"view": view})


@require_GET
@resident_required
def receipt_pdf(request, receipt_id):
    """One decision's receipt as a PDF to print or show, in the resident's language."""
    view = selectors.receipt_view(request.resident, receipt_id)
    response = HttpResponse(receipts.receipt_pdf(view), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="consent-receipt-{view.record.receipt_id}.pdf"'
    )
    return response


@require_GET
@resident_required
def receipt(request, receipt_id):
    """Download the signed receipt of one of the resident's own decisions."""
    record = selectors.access_consent_record(request.resident, receipt_id)
    document = {
        "receipt": receipts.receipt_claims(record),
        "jws": receipts.receipt_jws(record),
        "verify_with": settings.PLATFORM_URL + reverse("jwks"),
    }
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="consent-receipt-{record.receipt_id}.json"'
    )
    return response


@require_GET
@resident_required
def accesses(request):
    return render(
        request,
        "consent/portal/accesses.html",
        {
            "accesses": selectors.data_accesses(request.resident),
            "notices": selectors.recipient_notices_for(request.resident),
        },
    )


@require_GET
@resident_required
def export(request):
    """Download everything the platform holds about the resident (APPI art. 33)."""
    data = selectors.resident_export(request.resident)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="my-data-{request.resident.pseudonymous_id}.json"'
    )
    return response


# --- The account -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@resident_required
def account(request):
    form = AccountForm(request.POST or None, initial={"language": request.resident.language})
    if request.method == "POST" and form.is_valid():
        language = form.cleaned_data["language"]
        services.resident_set_language(
            actor=_actor(request), resident=request.resident, language=language
        )
        response = redirect("consent:account")
        _use_language(response, language)
        messages.success(request, _("Your language is saved."))
        return response
    context = {
        "form": form,
        "profile": getattr(request.resident, "profile", None),
        "passkeys": passkeys.passkeys_of(request.user),
        "passkey_config": passkeys.browser_config(
            request,
            begin=reverse("consent:passkey_register_options"),
            complete=reverse("consent:passkey_register"),
        ),
    }
    return render(request, "consent/portal/account.html", context)


@require_http_methods(["GET", "POST"])
@resident_required
def delete_account(request):
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.resident_erase(actor=_actor(request), resident=request.resident)
        identity.sign_out(request)
        messages.success(
            request,
            _(
                "Your account and personal details are deleted and every consent is withdrawn. "
                "Thank you for taking part."
            ),
        )
        return redirect("landing")
    return render(request, "consent/portal/delete_account.html", {"form": form})
