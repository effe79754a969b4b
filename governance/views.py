"""The staff's own pages: setting the password of an invited account, and the second factor."""

from base64 import b32encode
from functools import wraps

import segno
from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from . import passkeys, services
from . import second_factor as second_factor_module
from .models import Account


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    """
    Django's one-time password link (a token bound to the password hash, valid for
    ``PASSWORD_RESET_TIMEOUT``), for invited accounts only: a resident's or an administrator's
    account gets the same "expired or used" page as a bad link.
    """

    template_name = "governance/invitation.html"
    success_url = reverse_lazy("governance:invitation_done")
    title = _("Choose your password")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        if user is None:
            return None
        account = Account.objects.filter(user=user, deactivated_at__isnull=True).first()
        return user if account else None

    def form_valid(self, form):
        try:
            services.account_activate(user=form.user, password=form.cleaned_data["new_password1"])
        except PermissionDenied:
            return self.render_to_response(self.get_context_data(form=form, validlink=False))
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())


class InvitationDoneView(auth_views.PasswordResetCompleteView):
    template_name = "governance/invitation_done.html"
    title = _("Your password is set")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "login_url": reverse("admin:login")}


# --- The second factor ------------------------------------------------------------------------

# Recovery codes made with a first passkey, kept until the page that shows them once.
RECOVERY_CODES_SESSION_KEY = "second_factor_recovery_codes"


class CodeForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text=_(
            "The 6 digits your authenticator app shows now, or one of your recovery codes."
        ),
    )


def _next_page(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index") if request.user.is_staff else reverse("review:queue")


def _signed_in(view):
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, *args, **kwargs)

    return wrapper


def _register_config(request) -> dict:
    return passkeys.browser_config(
        request,
        begin=reverse("governance:passkey_register_options"),
        complete=reverse("governance:passkey_register"),
    )


def _enrol_app(request, context: dict):
    """Set up an authenticator app: its QR code, then its first code; the recovery codes after."""
    user = request.user
    device = services.second_factor_enrol_start(user=user)
    form = CodeForm(request.POST or None)
    form.fields["token"].help_text = _("The 6 digits the app shows after you added the key.")
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.second_factor_enrol_confirm(
                user=user, token=form.cleaned_data["token"]
            )
        except ValidationError as error:
            form.add_error("token", error.error_dict["token"])
        else:
            if not user.is_verified():
                otp_login(request, device)
            context |= {"title": _("Your recovery codes"), "codes": codes}
            return render(request, "governance/second_factor/recovery_codes.html", context)
    secret = b32encode(device.bin_key).decode()
    context |= {
        "form": form,
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "qr": segno.make(device.config_url, error="m").svg_inline(
            scale=4, title=_("QR code of the key for your authenticator app")
        ),
    }
    return render(request, "governance/second_factor/enrol.html", context)


@never_cache
@_signed_in
def second_factor(request):
    """
    Confirm this sign-in with a second factor (a passkey, an app's code, a recovery code), or set
    one up the first time: a passkey, or an authenticator app (scan the QR code or type the key,
    type the code it shows) with recovery codes kept apart.
    """
    user, next_page = request.user, _next_page(request)
    context = {"title": _("Second factor"), "next": next_page}
    if user.is_verified():
        if "next" in request.GET or request.method == "POST":
            return HttpResponseRedirect(next_page)
        context |= {
            "passkeys": passkeys.passkeys_of(user),
            "has_authenticator": second_factor_module.has_authenticator(user),
            "passkey_config": _register_config(request),
        }
        return render(request, "governance/second_factor/manage.html", context)
    if not second_factor_module.has_second_factor(user):
        context |= {
            "title": _("Set up a second factor"),
            "passkey_config": _register_config(request),
        }
        return _enrol_app(request, context)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.second_factor_verify(user=user, token=form.cleaned_data["token"])
        except ValidationError as error:
            form.add_error("token", error.error_dict["token"])
        else:
            otp_login(request, device)
            return HttpResponseRedirect(next_page)
    context |= {"form": form}
    if passkeys.has_passkey(user):
        context["passkey_config"] = passkeys.browser_config(
            request,
            begin=reverse("governance:passkey_signin_options"),
            complete=reverse("governance:passkey_signin"),
        )
    return render(request, "governance/second_factor/verify.html", context)


@never_cache
@_signed_in
def second_factor_app(request):
    """Add an authenticator app beside passkeys: only from a session already confirmed."""
    if not request.user.is_verified() or second_factor_module.has_authenticator(request.user):
        return HttpResponseRedirect(reverse("governance:second_factor"))
    context = {
        "title": _("Set up an authenticator app"),
        "next": reverse("governance:second_factor"),
    }
    return _enrol_app(request, context)


@never_cache
@_signed_in
def second_factor_recovery_codes(request):
    """Show, once, the recovery codes made when a person's first factor was a passkey."""
    codes = request.session.pop(RECOVERY_CODES_SESSION_KEY, None)
    if not codes or not request.user.is_verified():
        return HttpResponseRedirect(reverse("governance:second_factor"))
    context = {
        "title": _("Your recovery codes"),
        "codes": codes,
        "next": _next_page(request),
        "passkey_first": True,
    }
    return render(request, "governance/second_factor/recovery_codes.html", context)


@never_cache
@require_POST
@_signed_in
def passkey_remove(request, passkey_id: int):
    """Forget one of one's own passkeys (a lost or replaced device); another's is not found."""
    if not request.user.is_verified():
        return HttpResponseRedirect(reverse("governance:second_factor"))
    try:
        services.second_factor_passkey_remove(user=request.user, passkey_id=passkey_id)
    except ObjectDoesNotExist:
        raise Http404 from None
    return HttpResponseRedirect(reverse("governance:second_factor"))


# --- Passkeys: the JSON endpoints the browser's script calls ------------------------------------


def _ceremony(view):
    """A passkey endpoint of a person signed in with their password (POST, JSON answers)."""

    @passkeys.ceremony
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            raise passkeys.PasskeyError(
                "not_authenticated", _("Sign in with your password first."), status=403
            )
        return view(request, *args, **kwargs)

    return wrapper


def _may_add_passkey(user) -> None:
    # A person with a second factor proves it before adding another (else a stolen password
    # would add the thief's passkey); a person with none adds their first.
    if not user.is_verified() and second_factor_module.has_second_factor(user):
        raise passkeys.PasskeyError(
            "not_verified",
            _("Confirm this sign-in with your second factor before you add a passkey."),
            status=403,
        )


@_ceremony
def passkey_register_options(request):
    _may_add_passkey(request.user)
    options, state = passkeys.registration_options(user=request.user)
    request.session[passkeys.REGISTRATION] = state
    return JsonResponse(options)


@_ceremony
def passkey_register(request):
    _may_add_passkey(request.user)
    state = passkeys.take_state(request, passkeys.REGISTRATION)
    response = passkeys.parse(request.body)
    credential, codes = services.second_factor_passkey_add(
        user=request.user, state=state, response=response
    )
    if not request.user.is_verified():
        otp_login(request, credential)
    target = reverse("governance:second_factor")
    if codes:
        request.session[RECOVERY_CODES_SESSION_KEY] = codes
        target = reverse("governance:second_factor_recovery_codes")
    return JsonResponse({"id": credential.pk, "redirect_url": target})


@_ceremony
def passkey_signin_options(request):
    options, state = passkeys.authentication_options(user=request.user)
    request.session[passkeys.AUTHENTICATION] = state
    return JsonResponse(options)


@_ceremony
def passkey_signin(request):
    state = passkeys.take_state(request, passkeys.AUTHENTICATION)
    response = passkeys.parse(request.body)
    credential = services.second_factor_passkey_verify(
        user=request.user, state=state, response=response
    )
    otp_login(request, credential)
    return JsonResponse({"id": credential.pk, "redirect_url": _next_page(request)})


@never_cache
@require_POST
@_signed_in
def second_factor_replace(request):
    """Set up a new phone: only from a session that proved the second factor already."""
    if not request.user.is_verified():
        return HttpResponseRedirect(reverse("governance:second_factor"))
    # The session's device no longer exists: it is no longer verified, and the next page sets
    # up the new phone.
    services.second_factor_remove(user=request.user)
    return HttpResponseRedirect(reverse("governance:second_factor"))
