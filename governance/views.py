"""The staff's own pages: setting the password of an invited account, and the second factor."""

from base64 import b32encode

import segno
from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from . import second_factor as second_factor_module
from . import services
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


@never_cache
@_signed_in
def second_factor(request):
    """
    Confirm this sign-in with a second factor, or set one up the first time: scan the QR code
    (or type the key) into an authenticator app, type the code it shows, keep the recovery codes.
    """
    user, next_page = request.user, _next_page(request)
    context = {"title": _("Second factor"), "next": next_page}
    if user.is_verified():
        if "next" in request.GET or request.method == "POST":
            return HttpResponseRedirect(next_page)
        return render(request, "governance/second_factor/manage.html", context)
    if not second_factor_module.has_authenticator(user):
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
                otp_login(request, device)
                context |= {"title": _("Your recovery codes"), "codes": codes}
                return render(request, "governance/second_factor/recovery_codes.html", context)
        secret = b32encode(device.bin_key).decode()
        context |= {
            "title": _("Set up a second factor"),
            "form": form,
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "qr": segno.make(device.config_url, error="m").svg_inline(
                scale=4, title=_("QR code of the key for your authenticator app")
            ),
        }
        return render(request, "governance/second_factor/enrol.html", context)
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
    return render(request, "governance/second_factor/verify.html", context)


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
