"""
The portal's identity layer: who a resident is, and how they prove it.

Today: an email address and a password, on Django's user model (with django-axes counting
failed sign-ins), or a passkey the resident added (WebAuthn, without the password). The
portal's views call only these functions, so the city's OpenID Connect provider can replace
this module: ``sign_in`` becomes the redirect to the provider and its callback, ``sign_up`` the
linking of a first-time subject to a new resident, and password reset moves to the provider.
"""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from config.throttle import over_limit
from governance import passkeys

from . import services
from .models import Resident

BACKEND = "django.contrib.auth.backends.ModelBackend"
# How long the link of a sign-up mail stays valid, as a password reset link does.
SIGNUP_TIMEOUT = settings.PASSWORD_RESET_TIMEOUT


def normalise_email(email: str) -> str:
    return get_user_model().objects.normalize_email(email.strip()).lower()


def email_taken(email: str) -> bool:
    return get_user_model().objects.filter(username__iexact=normalise_email(email)).exists()


def _pending_key(token: str) -> str:
    return "consent:signup:" + hashlib.sha256(token.encode()).hexdigest()


def sign_up_request(
    request: HttpRequest, *, email: str, password: str, consortium, language: str, full_name: str
) -> None:
    """
    Start a sign-up by mail, with the same answer whether or not the address has an account:
    a new address gets a link that creates the account (until then nothing is stored but the
    request, in the cache, with the password hashed); an address with an account gets a
    reminder to sign in or reset the password instead. So the sign-up page tells nobody which
    addresses are registered, and an account is made only by whoever reads the address's mail.
    """
    email = normalise_email(email)
    digest = hashlib.sha256(email.encode()).hexdigest()
    window = settings.PASSWORD_RESET_WINDOW
    if over_limit(
        f"consent:signup:email:{digest}",
        limit=settings.PASSWORD_RESET_LIMIT_PER_EMAIL,
        window=window,
    ):
        return  # no more mail to this address for now; the same answer
    base = request.build_absolute_uri("/").rstrip("/")
    with translation.override(language):
        if email_taken(email):
            template, link = (
                "consent/registration/signup_taken_email.txt",
                reverse("consent:signin"),
            )
        else:
            token = secrets.token_urlsafe(32)
            pending = {
                "email": email,
                "password": make_password(password),
                "consortium": consortium.pk,
                "language": language,
                "full_name": full_name,
            }
            cache.set(_pending_key(token), pending, SIGNUP_TIMEOUT)
            template = "consent/registration/signup_email.txt"
            link = reverse("consent:signup_confirm", kwargs={"token": token})
        body = render_to_string(
            template, {"link": base + link, "reset": base + reverse("consent:password_reset")}
        )
        subject = render_to_string("consent/registration/signup_subject.txt").strip()
    send_mail(subject, body, None, [email])


def sign_up_pending(token: str) -> dict | None:
    """Return the sign-up that ``token`` confirms, or None (unknown, used or expired)."""
    return cache.get(_pending_key(token))


@transaction.atomic
def sign_up_confirm(request: HttpRequest, *, token: str) -> Resident | None:
    """
    Create the account and the resident of the sign-up ``token`` confirms, and sign them in;
    None when the link is unknown, used or expired, or the address got an account meanwhile.
    """
    pending = cache.get(_pending_key(token))
    if pending is None or email_taken(pending["email"]):
        return None
    from governance.models import Consortium

    consortium = Consortium.objects.filter(pk=pending["consortium"]).first()
    if consortium is None:
        return None
    resident = sign_up(
        request,
        email=pending["email"],
        password=None,
        password_hash=pending["password"],
        consortium=consortium,
        language=pending["language"],
        full_name=pending["full_name"],
    )
    cache.delete(_pending_key(token))
    return resident


@transaction.atomic
def sign_up(
    request: HttpRequest,
    *,
    email: str,
    password: str | None,
    consortium,
    language: str,
    full_name: str,
    password_hash: str = "",
) -> Resident:
    """Create the account and the resident, and sign them in."""
    email = normalise_email(email)
    user = get_user_model().objects.create_user(username=email, email=email, password=password)
    if password_hash:
        user.password = password_hash
        user.save(update_fields=["password"])
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


@transaction.atomic
def sign_in_with_passkey(request: HttpRequest, *, state: dict | None, response: dict):
    """
    Sign in the resident whose passkey signed the ceremony's challenge (with the person verified
    on the device: fingerprint, face or PIN), and return the user; raise
    ``governance.passkeys.PasskeyError`` otherwise. Only residents' passkeys sign in here.
    """
    credential = passkeys.authenticate(user=None, state=state, response=response)
    user = credential.user
    if Resident.objects.filter(user=user).first() is None:
        raise passkeys.unknown_passkey()
    login(request, user, backend=BACKEND)
    return user


def sign_out(request: HttpRequest) -> None:
    logout(request)


def check_password(user, password: str) -> bool:
    """Return True if ``password`` is the user's (asked again before deleting the account)."""
    return user.check_password(password)
