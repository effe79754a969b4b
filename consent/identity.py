"""
The portal's identity layer: who a resident is, and how they prove it.

Today: an email address and a password, on Django's user model (with django-axes counting
failed sign-ins). The portal's views call only these functions, so the city's OpenID Connect
provider can replace this module: ``sign_in`` becomes the redirect to the provider and its
callback, ``sign_up`` the linking of a first-time subject to a new resident, and password reset
moves to the provider.
"""

from django.contrib.auth import authenticate, get_user_model, login, logout
from django.db import transaction
from django.http import HttpRequest

from . import services
from .models import Resident

BACKEND = "django.contrib.auth.backends.ModelBackend"


def normalise_email(email: str) -> str:
    return get_user_model().objects.normalize_email(email.strip()).lower()


def email_taken(email: str) -> bool:
    return get_user_model().objects.filter(username__iexact=normalise_email(email)).exists()


@transaction.atomic
def sign_up(
    request: HttpRequest, *, email: str, password: str, consortium, language: str, full_name: str
) -> Resident:
    """Create the account and the resident, and sign them in."""
    email = normalise_email(email)
    user = get_user_model().objects.create_user(username=email, email=email, password=password)
    resident = services.resident_register(
        actor=None,
        consortia=[consortium],
        user=user,
        language=language,
        full_name=full_name,
        contact_email=email,
    )
    login(request, user, backend=BACKEND)
    return resident


def sign_in(request: HttpRequest, *, email: str, password: str):
    """Return the signed-in user, or None when the email and password do not match."""
    # django-axes needs the request to count failures per address.
    user = authenticate(request, username=normalise_email(email), password=password)
    if user is None:
        return None
    login(request, user)
    return user


def sign_out(request: HttpRequest) -> None:
    logout(request)


def check_password(user, password: str) -> bool:
    """Return True if ``password`` is the user's (asked again before deleting the account)."""
    return user.check_password(password)
