"""
Who must confirm a sign-in with a second factor, and the middleware that holds the staff pages
(the admin and the review pages) until the session has: django-otp's ``request.user.is_verified``
says whether it has (a passkey, an authenticator app's code, RFC 6238, or a single-use
recovery code).
"""

from django.conf import settings
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import selectors
from .models import Consortium

# The pages of the people who hold power: the secretariat's admin and the board's review pages.
GUARDED_PREFIXES = ("/admin/", "/review/")


def required_for(user) -> bool:
    """
    Return True if ``user`` must confirm each sign-in with a second factor: every platform
    administrator, and everyone who works for a consortium that requires it (its secretariat,
    and the holders of a current role: chair, board members, representatives).
    """
    if not settings.STAFF_SECOND_FACTOR or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    current_roles = selectors.roles_on_any(timezone.localdate()).filter(user=user)
    return (
        Consortium.objects.filter(require_second_factor=True)
        .filter(
            Q(secretariat_group__in=user.groups.all())
            | Q(pk__in=current_roles.values("consortium_id"))
        )
        .exists()
    )


def has_authenticator(user) -> bool:
    """Return True if ``user`` has set up an authenticator app."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def has_second_factor(user) -> bool:
    """Return True if ``user`` has any second factor: a passkey, an app, recovery codes."""
    return user_has_device(user, confirmed=True)


def _exempt(path: str) -> bool:
    # Signing in and out, and the second factor's own pages, come before the second factor.
    exempt = (
        reverse("admin:login"),
        reverse("admin:logout"),
        reverse("review:signin"),
        reverse("review:signout"),
    )
    return path.startswith(exempt) or path.startswith("/account/second-factor/")


class SecondFactorMiddleware:
    """Send a signed-in person who must use a second factor to confirm it before a staff page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        user = getattr(request, "user", None)
        if (
            user is not None
            and path.startswith(GUARDED_PREFIXES)
            and not _exempt(path)
            and user.is_authenticated
            and not user.is_verified()
            and required_for(user)
        ):
            target = reverse("governance:second_factor")
            return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
