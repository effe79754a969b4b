"""
The platform's OpenID Provider for member services, on django-oauth-toolkit: what the toolkit
is told about this platform (``OAUTH2_PROVIDER`` in settings names these classes).

- Only a member service's OpenID client whose service holds a grant in force is a client at all.
- Redirect URIs match exactly, as registered (no loopback port or query leeway).
- ``sub`` is the resident's pairwise subject at the client's sector (OpenID Connect Core §8.1).
- ID tokens are signed RS256 by the platform's active RSA key (audit's SigningKey, published in
  ``/.well-known/jwks.json`` beside the EdDSA keys and rotated as they are).
- Each authorization and each token issued has its audit entry (ids only).
"""

import json

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from jwcrypto import jwk as jwcrypto_jwk
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes
from oauth2_provider.settings import oauth2_settings

from audit import keys
from audit import selectors as audit_selectors
from audit.services import Actor, record, sign_jwt
from consent import pairwise
from consent import selectors as consent_selectors
from consent import services as consent_services

from . import selectors

OPENID = "openid"
PURPOSE_SCOPE = "purpose:"


def purpose_scope(code: str) -> str:
    """Return the scope naming a purpose: ``purpose:<code>``."""
    return PURPOSE_SCOPE + code


def issuer() -> str:
    """The ``iss`` of ID tokens and the base of the discovery document: the platform's URL."""
    return oauth2_settings.OIDC_ISS_ENDPOINT or settings.PLATFORM_URL


class PurposeScopes(BaseScopes):
    """``openid`` and one scope per purpose; a client may ask for its service's purposes only."""

    def get_all_scopes(self):
        from consent.models import Purpose

        scopes = {OPENID: _("Sign in with your city account")}
        for code, title in Purpose.objects.values_list("code", "title_en"):
            scopes[purpose_scope(code)] = title
        return scopes

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        client = selectors.openid_client_for_application(getattr(application, "pk", None))
        if client is None:
            return [OPENID]
        purposes = selectors.service_purposes_in_force(client.service_id)
        return [OPENID, *(purpose_scope(purpose.code) for purpose in purposes)]

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return [OPENID]


def _openid_client(request):
    """The OpenID client of the oauthlib request's application (cached on the request)."""
    if not hasattr(request, "openid_client"):
        request.openid_client = selectors.openid_client_for_application(
            getattr(request.client, "pk", None)
        )
    return request.openid_client


def _resident(user):
    return consent_selectors.resident_for_user(user)


class PlatformValidator(OAuth2Validator):
    # The claims and the scope each needs; ``purposes`` lists the purpose scopes asked for that
    # the resident agrees to now, and nothing else about the resident is ever a claim.
    oidc_claim_scope = {"sub": OPENID, "purposes": OPENID}

    def _load_application(self, client_id, request):
        application = super()._load_application(client_id, request)
        if application is None:
            return None
        client = selectors.openid_client_for_application(application.pk)
        if not selectors.openid_client_usable(client):
            request.client = None
            return None
        request.openid_client = client
        return application

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        # Exact string comparison (RFC 9700 §4.1.3), no loopback port leeway.
        return redirect_uri in request.client.redirect_uris.split()

    def validate_user(self, username, password, client, request, *args, **kwargs):
        return False  # no password grant

    # --- Claims ------------------------------------------------------------------------------

    def get_oidc_issuer_endpoint(self, request):
        return issuer()

    def get_claim_dict(self, request):
        client = _openid_client(request)
        resident = _resident(request.user)
        if client is None or resident is None:
            return {}
        claims = {"sub": pairwise.subject_for(client.sector_identifier, resident.pseudonymous_id)}
        asked = {
            scope[len(PURPOSE_SCOPE) :]
            for scope in request.scopes or []
            if scope.startswith(PURPOSE_SCOPE)
        }
        if asked:
            claims["purposes"] = [
                purpose.code
                for purpose in selectors.service_purposes_in_force(client.service_id)
                if purpose.code in asked and consent_selectors.consent_allows(purpose, resident)
            ]
        return claims

    def get_discovery_claims(self, request):
        return ["sub", "purposes"]

    def finalize_id_token(self, id_token, token, token_handler, request):
        claims, expiration_time = self.get_id_token_dictionary(token, token_handler, request)
        id_token.update(**claims)
        if "nonce" not in id_token and request.nonce:
            id_token["nonce"] = request.nonce
        signed = sign_jwt(id_token, typ="JWT", algorithm=keys.RS256)
        saved = self._save_id_token(id_token["jti"], request, expiration_time)
        request.access_token = saved
        request.id_token = saved
        return signed

    def _get_key_for_token(self, token):
        """The platform key that signed an ID token (an ``id_token_hint``), by its ``kid``."""
        try:
            header = json.loads(keys.b64url_decode(token.split(".")[0]))
        except (ValueError, IndexError):
            return None
        key = audit_selectors.signing_key_by_kid(str(header.get("kid", "")))
        if key is None or key.algorithm != keys.RS256:
            return None
        return jwcrypto_jwk.JWK(**key.jwk)

    # --- Audit -------------------------------------------------------------------------------

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        client = _openid_client(request)
        resident = _resident(request.user)
        with transaction.atomic():
            super().save_authorization_code(client_id, code, request, *args, **kwargs)
            consent_services.pairwise_subject_issue(
                actor=None, resident=resident, sector=client.sector_identifier
            )
            record(
                actor=Actor.resident(resident.pseudonymous_id),
                action="oidc.authorized",
                obj=client,
                consortium=client.service.consortium_id,
                payload={"client_id": client_id, "scopes": sorted(request.scopes)},
            )

    def _save_bearer_token(self, token, request, *args, **kwargs):
        result = super()._save_bearer_token(token, request, *args, **kwargs)
        client = _openid_client(request)
        if client is not None:
            record(
                actor=Actor.service(client.service_id),
                action="oidc.token_issued",
                obj=client,
                consortium=client.service.consortium_id,
                payload={
                    "client_id": client.application.client_id,
                    "grant_type": request.grant_type,
                    "scopes": sorted(request.scopes or []),
                },
            )
        return result
