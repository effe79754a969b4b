"""A person's second factor: an authenticator app (TOTP, RFC 6238) and single-use recovery codes."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ._common import record

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
    StaticDevice.objects.filter(user=user).delete()
    recovery = StaticDevice.objects.create(user=user, name=RECOVERY, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=code) for code in codes)
    _log(user, "second_factor.enrolled", recovery_codes=RECOVERY_CODES)
    return device, codes


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
    """Forget this person's authenticator and recovery codes (to set up a new phone)."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    _log(user, "second_factor.removed")


def _digits(token: str) -> str:
    # Codes as people type them: full-width digits, spaces or a hyphen in the middle.
    return "".join(ch for ch in token.translate(_FULL_WIDTH) if ch.isdigit())


_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
