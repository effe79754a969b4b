"""
A person's second factor: passkeys (WebAuthn), an authenticator app (TOTP, RFC 6238), and
single-use recovery codes for when the device is lost.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from .. import passkeys, selectors
from ..models import Account
from ._common import ActorLike, record

RECOVERY_CODES = 10
AUTHENTICATOR = "authenticator"
RECOVERY = "recovery codes"


def _log(user: AbstractBaseUser, action: str, **payload) -> None:
    # A person's own security settings belong to no consortium; ids only.
    record(actor=user, action=action, consortium=None, payload={"user_id": user.pk, **payload})


@transaction.atomic
def second_factor_enrol_start(*, user: AbstractBaseUser) -> TOTPDevice:
    """Return the authenticator this person is setting up (a new secret the first time)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=False)
        _log(user, "second_factor.enrolment_started")
    return device


@transaction.atomic
def second_factor_enrol_confirm(*, user: AbstractBaseUser, token: str) -> tuple[TOTPDevice, list]:
    """
    Confirm the authenticator being set up with a code it shows, and return it with a fresh set
    of recovery codes (shown once; each signs in once when the phone is lost).
    """
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None or not device.verify_token(_digits(token)):
        raise ValidationError(
            {"token": _("That code is not right. Type the 6 digits the app shows now.")}
        )
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    _log(user, "second_factor.enrolled", recovery_codes=RECOVERY_CODES)
    return device, codes


def _new_recovery_codes(user: AbstractBaseUser) -> list[str]:
    # A fresh set replaces any earlier one (its unused codes stop working).
    StaticDevice.objects.filter(user=user).delete()
    recovery = StaticDevice.objects.create(user=user, name=RECOVERY, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=code) for code in codes)
    return codes


@transaction.atomic
def second_factor_passkey_add(
    *, user: AbstractBaseUser, state: dict | None, response: dict
) -> tuple[WebAuthnCredential, list[str]]:
    """
    Register the passkey the browser created for ``user`` (``state`` is the ceremony's, taken
    from the session), and return it with the recovery codes made for it when the person had
    none yet (shown once; empty otherwise), or raise ``passkeys.PasskeyError``.
    """
    credential = passkeys.register(user=user, state=state, response=response)
    has_codes = StaticDevice.objects.filter(user=user, confirmed=True).exists()
    codes = [] if has_codes else _new_recovery_codes(user)
    _log(user, "second_factor.passkey_added", passkey_id=credential.pk, recovery_codes=len(codes))
    return credential, codes


@transaction.atomic
def second_factor_passkey_verify(
    *, user: AbstractBaseUser, state: dict | None, response: dict
) -> WebAuthnCredential:
    """
    Return ``user``'s passkey that signed the ceremony's challenge, or raise
    ``passkeys.PasskeyError`` (another person's passkey is refused as an unknown one).
    """
    # As with an app's code, each use is not logged: only the changes to the factors are.
    return passkeys.authenticate(user=user, state=state, response=response)


@transaction.atomic
def second_factor_passkey_remove(*, user: AbstractBaseUser, passkey_id: int) -> None:
    """
    Forget one of ``user``'s passkeys (a lost or replaced device); another person's passkey
    raises ``WebAuthnCredential.DoesNotExist``, as a missing one does.
    """
    credential = WebAuthnCredential.objects.select_for_update().get(user=user, pk=passkey_id)
    credential.delete()
    _log(user, "second_factor.passkey_removed", passkey_id=passkey_id)


@transaction.atomic
def second_factor_reset(*, actor: ActorLike, account: Account) -> None:
    """
    Forget every second factor of ``account``'s person (passkeys, authenticator app, recovery
    codes), when they lost them all: the consortium's secretariat does it after checking who
    asks. Their sessions stop counting as confirmed, and their next sign-in sets up a new one.
    """
    account = Account.objects.select_related("consortium").get(pk=account.pk)
    selectors.require_secretariat(actor, account.consortium)
    if account.user_id == getattr(actor, "pk", None):
        raise ValidationError(
            _("Reset your own second factor from your second factor's page, or ask a colleague.")
        )
    credentials = WebAuthnCredential.objects.filter(user_id=account.user_id)
    passkeys_removed = credentials.count()
    credentials.delete()
    TOTPDevice.objects.filter(user_id=account.user_id).delete()
    StaticDevice.objects.filter(user_id=account.user_id).delete()
    record(
        actor=actor,
        action="second_factor.reset",
        obj=account,
        consortium=account.consortium,
        payload={"user_id": account.user_id, "passkeys": passkeys_removed},
    )


@transaction.atomic
def second_factor_verify(*, user: AbstractBaseUser, token: str):
    """
    Return the device that accepts ``token`` (an authenticator's code, or a recovery code, which
    is used up), or raise ValidationError.
    """
    # Six digits are the app's code; anything else is tried as a recovery code. Each device
    # slows down guessing after a failure (django-otp's throttling), so a code is tried on one.
    digits = _digits(token)
    if len(digits) == 6 and len(token.strip()) <= 8:
        devices, candidate = TOTPDevice.objects.filter(user=user, confirmed=True), digits
    else:
        devices = StaticDevice.objects.filter(user=user, confirmed=True)
        candidate = "".join(token.split()).lower()
    device = next((d for d in devices.select_for_update() if d.verify_token(candidate)), None)
    if device is None:
        raise ValidationError({"token": _("That code is not right. Try the code shown now.")})
    if isinstance(device, StaticDevice):
        _log(user, "second_factor.recovery_code_used", remaining=device.token_set.count())
    return device


@transaction.atomic
def second_factor_remove(*, user: AbstractBaseUser) -> None:
    """
    Forget this person's authenticator and recovery codes (to set up a new phone); their
    passkeys stay.
    """
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    _log(user, "second_factor.removed")


def _digits(token: str) -> str:
    # Codes as people type them: full-width digits, spaces or a hyphen in the middle.
    return "".join(ch for ch in token.translate(_FULL_WIDTH) if ch.isdigit())


_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
