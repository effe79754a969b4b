"""
Passkeys (WebAuthn Level 3), through django-otp-webauthn on Duo's py_webauthn: the options the
browser's ``navigator.credentials`` calls need, and the checks of what the browser answers.

A passkey is a django-otp device, so a session it confirmed ``is_verified()`` as one an app's
code confirmed. Each ceremony's state (its challenge) is kept in the session by the view that
started it and is taken out before it is checked, so an answer is accepted once. These functions
change nothing but the passkey itself: the services that call them write the audit entry.
"""

import json
from functools import wraps

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import get_token
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django_otp_webauthn import exceptions
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.utils import rewrite_exceptions
from webauthn.helpers import parse_registration_credential_json
from webauthn.helpers.exceptions import WebAuthnException

# The session keys of a ceremony's state (one of each kind at a time).
REGISTRATION = "passkey_registration"
AUTHENTICATION = "passkey_authentication"
# The largest answer a browser sends (a credential id is at most 1023 bytes, the attestation
# a few kilobytes); anything longer is refused before it is parsed.
MAX_RESPONSE_BYTES = 64 * 1024


class PasskeyError(Exception):
    """A refused ceremony: ``code`` for the JSON error, ``detail`` for a person, ``status``."""

    def __init__(self, code: str, detail, status: int = 400):
        super().__init__(code)
        self.code, self.detail, self.status = code, detail, status


def unknown_passkey() -> PasskeyError:
    """The one refusal for a passkey that does not exist and for another person's."""
    return PasskeyError(
        "unknown_passkey",
        _("This passkey is not registered for this account. Use another one, or a code."),
    )


def _no_ceremony() -> PasskeyError:
    return PasskeyError(
        "invalid_state", _("Start again: this step was not started, or was already used.")
    )


def refusal(error: PasskeyError) -> JsonResponse:
    """The JSON answer to a refused ceremony, as the API answers errors."""
    return JsonResponse({"error": error.code, "detail": str(error.detail)}, status=error.status)


def ceremony(view):
    """
    Make ``view`` a ceremony's JSON endpoint: POST only, never cached, a PasskeyError answered
    as ``{"error": code, "detail": ...}`` with its 4xx status.
    """

    @never_cache
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "POST":
            response = refusal(PasskeyError("method_not_allowed", "Use POST.", status=405))
            response["Allow"] = "POST"
            return response
        try:
            return view(request, *args, **kwargs)
        except PasskeyError as error:
            return refusal(error)

    return wrapper


def browser_config(request: HttpRequest, *, begin: str, complete: str) -> dict:
    """
    Return the settings django-otp-webauthn's browser script reads from the page
    (``otp_webauthn_config``): the ceremony's two endpoints and the CSRF token.
    """
    return {
        "autocompleteLoginFieldSelector": None,
        "nextFieldSelector": "input[name='next']",
        "csrfToken": get_token(request),
        "beginRegistrationUrl": begin,
        "completeRegistrationUrl": complete,
        "beginAuthenticationUrl": begin,
        "completeAuthenticationUrl": complete,
    }


def take_state(request: HttpRequest, key: str) -> dict | None:
    """Take a ceremony's state out of the session, saved at once so it is never used twice."""
    state = request.session.pop(key, None)
    request.session.save()
    return state


def _helper() -> WebAuthnHelper:
    # The relying party comes from settings (OTP_WEBAUTHN_RP_ID), not from the request.
    return WebAuthnHelper(request=None)


def parse(body: bytes) -> dict:
    """Return the browser's answer (a JSON object), or raise PasskeyError."""
    if len(body) > MAX_RESPONSE_BYTES:
        raise PasskeyError("malformed_request", _("The passkey's answer is too long."))
    try:
        data = json.loads(body or b"null")
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict):
        raise PasskeyError("malformed_request", _("Send the passkey's answer as a JSON object."))
    return data


def _checked(call):
    """Run one of the helper's checks, turning every refusal into a PasskeyError."""
    try:
        with rewrite_exceptions():
            return call()
    except (exceptions.CredentialNotFound, exceptions.CredentialUserMismatch):
        raise unknown_passkey() from None
    except (exceptions.OTPWebAuthnApiError, WebAuthnException, ValueError, TypeError, KeyError):
        # The library's and py_webauthn's refusals (challenge, origin, RP ID, signature, counter,
        # CBOR) and answers whose fields have the wrong types: one code, as nothing else helps.
        raise PasskeyError(
            "invalid_response", _("The passkey's answer could not be verified. Try again.")
        ) from None


def registration_options(*, user: AbstractBaseUser) -> tuple[dict, dict]:
    """Return the options for ``navigator.credentials.create()`` and the state to keep."""
    return _helper().register_begin(user=user)


@transaction.atomic
def register(*, user: AbstractBaseUser, state: dict | None, response: dict) -> WebAuthnCredential:
    """Check the browser's answer to ``registration_options`` and store the new passkey."""
    if not state:
        raise _no_ceremony()
    raw_id = _checked(lambda: parse_registration_credential_json(response).raw_id)
    known = WebAuthnCredential.get_credential_id_sha256(raw_id)
    if WebAuthnCredential.objects.filter(credential_id_sha256=known).exists():
        raise PasskeyError("passkey_known", _("This passkey is registered already."), status=409)
    try:
        with transaction.atomic():
            credential = _checked(
                lambda: _helper().register_complete(user=user, state=state, data=response)
            )
    except IntegrityError:  # registered meanwhile by a concurrent request
        raise PasskeyError(
            "passkey_known", _("This passkey is registered already."), status=409
        ) from None
    return credential


def authentication_options(*, user: AbstractBaseUser | None) -> tuple[dict, dict]:
    """
    Return the options for ``navigator.credentials.get()`` and the state to keep: for a second
    factor, ``user``'s passkeys (the password proved who it is); for a sign-in with a passkey
    alone, none (the device offers its own) and the person must be verified on the device.
    """
    return _helper().authenticate_begin(user=user, require_user_verification=user is None)


@transaction.atomic
def authenticate(
    *, user: AbstractBaseUser | None, state: dict | None, response: dict
) -> WebAuthnCredential:
    """
    Check the browser's answer to ``authentication_options`` and return the passkey it used
    (its signature counter moved on), or raise PasskeyError. With ``user``, only their passkeys
    are accepted; without, any active account's.
    """
    if not state:
        raise _no_ceremony()
    credential = _checked(
        lambda: _helper().authenticate_complete(user=user, state=state, data=response)
    )
    if not credential.confirmed or not credential.user.is_active:
        raise unknown_passkey()
    return credential


def passkeys_of(user: AbstractBaseUser):
    """Return ``user``'s passkeys, the most recently used first."""
    return WebAuthnCredential.objects.filter(user=user).order_by("-last_used_at", "-created_at")


def has_passkey(user: AbstractBaseUser) -> bool:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
