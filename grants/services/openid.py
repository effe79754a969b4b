"""
The OpenID Provider's state changes: the secretariat registers a member service's OpenID client
(redirect URIs, sector identifier), changes it, rotates its secret; a resident's sign-in issues
an authorization code and tokens (django-oauth-toolkit stores them; grants.oidc audits them).
"""

import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from oauth2_provider.models import Application

from audit.services import record

from .. import selectors
from ..models import OpenIDClient, Service

MAX_REDIRECT_URIS = 10


def _redirect_uris(uris: list[str]) -> list[str]:
    """Return the redirect URIs checked: absolute, of an allowed scheme, no fragment."""
    allowed = settings.OAUTH2_PROVIDER["ALLOWED_REDIRECT_URI_SCHEMES"]
    cleaned = list(dict.fromkeys(uri.strip() for uri in uris if uri.strip()))
    if not cleaned:
        raise ValidationError({"redirect_uris": _("Give at least one redirect URI.")})
    if len(cleaned) > MAX_REDIRECT_URIS:
        raise ValidationError(
            {"redirect_uris": _("Give at most %(n)d redirect URIs.") % {"n": MAX_REDIRECT_URIS}}
        )
    for uri in cleaned:
        parts = urlsplit(uri)
        if parts.scheme not in allowed or not parts.hostname or parts.fragment or " " in uri:
            raise ValidationError(
                {
                    "redirect_uris": _(
                        "%(uri)s is not a redirect URI this platform accepts: give an absolute "
                        "%(schemes)s URI without a fragment (#)."
                    )
                    % {"uri": uri, "schemes": " or ".join(allowed)}
                }
            )
    return cleaned


def _sector(sector_identifier: str) -> str:
    sector = sector_identifier.strip().lower()
    if not sector or len(sector) > 255 or any(c in sector for c in "/ ?#@"):
        raise ValidationError(
            {
                "sector_identifier": _(
                    "Give the host name the service is known under, such as mobility.example.jp."
                )
            }
        )
    return sector


@transaction.atomic
def openid_client_register(
    *, actor, service: Service, redirect_uris: list[str], sector_identifier: str
) -> tuple[OpenIDClient, str]:
    """
    Register an OpenID client for ``service`` and return it with its client secret, shown only
    now and stored as a hash. Only an active member service with an approved use (a grant in
    force) may have one.
    """
    service = Service.objects.select_for_update().get(pk=service.pk)
    if not service.is_active or not selectors.service_has_approved_use(service.pk):
        raise ValidationError(
            {
                "service": _(
                    "Only an active member service with an approved use of residents' data (a "
                    "grant in force) can have an OpenID client."
                )
            }
        )
    uris = _redirect_uris(redirect_uris)
    sector = _sector(sector_identifier)
    secret = secrets.token_urlsafe(32)  # 256 bits
    application = Application(
        name=service.name[:255],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(uris),
        client_secret=secret,
        hash_client_secret=True,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=False,
    )
    application.save()
    client = OpenIDClient(service=service, application=application, sector_identifier=sector)
    client.full_clean()
    client.save()
    record(
        actor=actor,
        action="oidc.client_registered",
        obj=client,
        consortium=service.consortium_id,
        payload={
            "service": service.pk,
            "client_id": application.client_id,
            "sector_identifier": sector,
            "redirect_uris": len(uris),
        },
    )
    return client, secret


@transaction.atomic
def openid_client_update(
    *, actor, client: OpenIDClient, redirect_uris: list[str], is_active: bool
) -> OpenIDClient:
    """
    Change a client's redirect URIs or whether residents may sign in with it. The sector
    identifier never changes: it would change every identifier the service knows residents by.
    """
    client = (
        OpenIDClient.objects.select_for_update().select_related("application").get(pk=client.pk)
    )
    uris = _redirect_uris(redirect_uris)
    application = client.application
    changed = []
    if application.redirect_uris.split() != uris:
        application.redirect_uris = " ".join(uris)
        application.save(update_fields=["redirect_uris", "updated"])
        changed.append("redirect_uris")
    if client.is_active != is_active:
        if is_active and not selectors.service_has_approved_use(client.service_id):
            raise ValidationError(
                {"is_active": _("The service holds no grant in force: the client stays inactive.")}
            )
        client.is_active = is_active
        client.save(update_fields=["is_active"])
        changed.append("is_active")
    if changed:
        record(
            actor=actor,
            action="oidc.client_updated",
            obj=client,
            consortium=client.service.consortium_id,
            payload={"changed": changed, "is_active": is_active, "redirect_uris": len(uris)},
        )
    return client


@transaction.atomic
def openid_client_secret_rotate(*, actor, client: OpenIDClient) -> str:
    """Give the client a new secret (the old one stops at once) and return it, shown once."""
    client = (
        OpenIDClient.objects.select_for_update().select_related("application").get(pk=client.pk)
    )
    secret = secrets.token_urlsafe(32)
    application = client.application
    application.client_secret = secret
    application.save(update_fields=["client_secret", "updated"])
    record(
        actor=actor,
        action="oidc.client_secret_rotated",
        obj=client,
        consortium=client.service.consortium_id,
        payload={"client_id": application.client_id},
    )
    return secret
