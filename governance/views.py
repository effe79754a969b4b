"""The page where a person the secretariat invited sets their own password."""

from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _

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
