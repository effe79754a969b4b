"""The accounts of a consortium's people: invited by the secretariat, deactivated when they go."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from .. import selectors
from ..models import Account, Consortium
from ._common import ActorLike, record


def invitation_path(user: AbstractBaseUser) -> str:
    """Return the path of the page where ``user`` sets their password (a one-time link)."""
    return reverse(
        "governance:invitation",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )


def _send_invitation(account: Account, base_url: str) -> None:
    """Mail the person their link, after the commit (the link works once the account exists)."""
    user, consortium = account.user, account.consortium
    if not user.email:
        return
    link = base_url.rstrip("/") + invitation_path(user)
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600

    def send():
        with translation.override(settings.LANGUAGE_CODE):
            context = {"user": user, "consortium": consortium, "link": link, "hours": hours}
            send_mail(
                subject=_("%(consortium)s: your account on the smart-city data platform")
                % {"consortium": consortium.name_ja},
                message=render_to_string("governance/invitation_email.txt", context),
                from_email=None,
                recipient_list=[user.email],
            )

    transaction.on_commit(send)


@transaction.atomic
def account_invite(
    *,
    actor: ActorLike,
    consortium: Consortium,
    username: str,
    last_name: str,
    first_name: str,
    email: str,
    staff: bool = False,
    base_url: str,
) -> Account:
    """
    Open an account for one of ``consortium``'s people and mail them a link to set their own
    password (nobody else ever knows it). ``staff`` lets them into the secretariat's admin, where
    they see only what the roles and groups given to them allow.
    """
    selectors.require_secretariat(actor, consortium)
    if not email:
        raise ValidationError({"email": _("Give the address the invitation is sent to.")})
    user = get_user_model()(
        username=username,
        last_name=last_name,
        first_name=first_name,
        email=email,
        is_staff=staff,
        is_active=True,
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    account = Account(
        user=user,
        consortium=consortium,
        invited_by=actor if getattr(actor, "is_authenticated", False) else None,
        invited_at=timezone.now(),
    )
    account.full_clean()
    account.save()
    # Ids only: the name and the address stay in the account, never in the log.
    record(
        actor=actor,
        action="account.invited",
        obj=account,
        consortium=consortium,
        payload={"user_id": user.pk, "staff": staff},
    )
    _send_invitation(account, base_url)
    return account


@transaction.atomic
def account_invitation_resend(*, actor: ActorLike, account: Account, base_url: str) -> Account:
    """Mail the invitation again to a person who has not set a password yet."""
    account = (
        Account.objects.select_for_update().select_related("user", "consortium").get(pk=account.pk)
    )
    selectors.require_secretariat(actor, account.consortium)
    if account.state != Account.State.INVITED:
        raise ValidationError(
            _("Only a person who has not set a password yet can be invited again.")
        )
    record(
        actor=actor,
        action="account.invitation_resent",
        obj=account,
        consortium=account.consortium,
        payload={"user_id": account.user_id},
    )
    _send_invitation(account, base_url)
    return account


@transaction.atomic
def account_activate(*, user: AbstractBaseUser, password: str) -> Account:
    """The invited person sets their password through their link: the account is in use."""
    account = (
        Account.objects.select_for_update().select_related("user", "consortium").get(user=user)
    )
    if account.state == Account.State.DEACTIVATED:
        raise PermissionDenied(_("This account has been deactivated."))
    account.user.set_password(password)
    account.user.save(update_fields=["password"])
    first = account.activated_at is None
    if first:
        account.activated_at = timezone.now()
        account.save(update_fields=["activated_at"])
    record(
        actor=account.user,
        action="account.activated" if first else "account.password_set",
        obj=account,
        consortium=account.consortium,
        payload={"user_id": account.user_id},
    )
    return account


@transaction.atomic
def account_deactivate(*, actor: ActorLike, account: Account) -> Account:
    """
    Close a person's account: they can no longer sign in, and the sessions they hold stop
    working at their next request (Django refuses an inactive user's session).
    """
    account = (
        Account.objects.select_for_update().select_related("user", "consortium").get(pk=account.pk)
    )
    selectors.require_secretariat(actor, account.consortium)
    if account.user_id == getattr(actor, "pk", None):
        raise ValidationError(_("You cannot deactivate your own account."))
    if account.state == Account.State.DEACTIVATED:
        return account
    account.deactivated_at = timezone.now()
    account.save(update_fields=["deactivated_at"])
    account.user.is_active = False
    account.user.save(update_fields=["is_active"])
    record(
        actor=actor,
        action="account.deactivated",
        obj=account,
        consortium=account.consortium,
        payload={"user_id": account.user_id},
    )
    return account
