"""Read queries of the grants app: credentials, grants as a service sees them, token checks."""

import hmac
from dataclasses import dataclass

import jwt
from django.http import Http404
from django.utils import timezone

from audit import keys
from audit.models import SigningKey

from .models import Grant, GrantEvent, Service, ServiceCredential, hash_secret


def credential_authenticate(client_id: str, secret: str) -> ServiceCredential | None:
    """Return the valid credential for ``client_id`` whose secret is ``secret``, else None."""
    credential = (
        ServiceCredential.objects.select_related("service", "service__organization")
        .filter(client_id=client_id)
        .first()
    )
    # Compare even when the client id is unknown, so that timing tells nothing.
    expected = credential.secret_sha256 if credential else "0" * 64
    matches = hmac.compare_digest(expected, hash_secret(secret))
    if credential is None or not matches or not credential.is_valid():
        return None
    if not credential.service.is_active:
        return None
    return credential


def access_grant(service: Service, jti: str) -> Grant:
    """Return ``service``'s grant ``jti``; Http404 for another service's and a missing one."""
    grant = Grant.objects.select_related("purpose", "consortium").filter(jti=jti).first()
    if grant is None or grant.service_id != service.pk:
        raise Http404("no such grant")
    return grant


@dataclass(frozen=True)
class TokenVerdict:
    active: bool
    reason: str
    grant: Grant | None = None
    claims: dict | None = None


def _public_key(kid: str):
    key = SigningKey.objects.filter(kid=kid).first()
    if key is None or key.status == SigningKey.Status.REVOKED:
        return None
    return key


def token_verify(token: str, *, caller: Service, at=None) -> TokenVerdict:
    """
    Verify a grant token as RFC 7662 introspection does for ``caller``; the verdict names why
    an inactive token is inactive (for logs and tests; the API answers only ``active``).

    The algorithm comes from the key named by ``kid``, never from the token's header, so that
    ``alg: none`` and algorithm confusion are refused.
    """
    at = at or timezone.now()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return TokenVerdict(False, "malformed")
    kid = header.get("kid")
    key = _public_key(kid) if isinstance(kid, str) else None
    if key is None:
        return TokenVerdict(False, "unknown_kid")
    if header.get("alg") != key.algorithm:
        return TokenVerdict(False, "wrong_alg")
    try:
        claims = jwt.decode(
            token,
            key=keys.public_key_from_jwk(key.public_jwk),
            algorithms=[key.algorithm],
            options={
                "verify_aud": False,
                "verify_exp": False,
                "verify_nbf": False,
                "require": ["exp", "nbf", "iat", "jti", "sub", "iss"],
            },
        )
    except jwt.InvalidSignatureError:
        return TokenVerdict(False, "bad_signature")
    except jwt.PyJWTError:
        return TokenVerdict(False, "malformed")
    grant = (
        Grant.objects.select_related("service", "consortium", "purpose")
        .filter(jti=claims.get("jti"))
        .first()
    )
    if grant is None or grant.kid != kid:
        return TokenVerdict(False, "unknown_grant")
    now = at.timestamp()
    if now >= claims["exp"] or grant.expires_at <= at:
        return TokenVerdict(False, "expired", grant)
    if now < claims["nbf"]:
        return TokenVerdict(False, "not_yet_valid", grant)
    if grant.status != Grant.Status.ACTIVE:
        return TokenVerdict(False, grant.status, grant)
    audience = claims.get("aud") or []
    if isinstance(audience, str):
        audience = [audience]
    caller_is_holder = f"organization:{caller.organization_id}" in audience
    if claims["sub"] != caller.subject and not caller_is_holder:
        return TokenVerdict(False, "wrong_audience", grant)
    return TokenVerdict(True, "active", grant, claims)


def revocations_since(service: Service, since: int, *, limit: int = 500) -> list[GrantEvent]:
    """Return the status changes of ``service``'s grants after the cursor ``since``."""
    return list(
        GrantEvent.objects.filter(grant__service=service, id__gt=since)
        .select_related("grant")
        .order_by("id")[:limit]
    )


def access_service_ticket(service: Service, ticket_id: int):
    """
    Return the review ticket ``ticket_id`` that ``service`` filed (its organisation, its name, its
    consortium); Http404 for another's and for a missing one alike.
    """
    from governance.models import ReviewTicket

    ticket = ReviewTicket.objects.filter(
        pk=ticket_id,
        consortium_id=service.consortium_id,
        requester_id=service.organization_id,
        service_name=service.name,
    ).first()
    if ticket is None:
        raise Http404("no such ticket")
    return ticket
