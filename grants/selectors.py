"""Read queries of the grants app: credentials, grants as a service sees them, token checks."""

import hmac
from dataclasses import dataclass

import jwt
from django.db.models import OuterRef, Subquery
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


# Public keys by kid, kept for the life of the process: a kid names one key pair for good, so its
# algorithm and public key never change. Whether the key is still usable (it exists and is not
# revoked) is asked of the database on every verification, in the same query as the grant.
_VERIFIERS: dict[str, tuple[str, object]] = {}


def _verifier(kid: str) -> tuple[str, object] | None:
    """Return ``(algorithm, public key)`` of the signing key ``kid``, None if there is none."""
    verifier = _VERIFIERS.get(kid)
    if verifier is None:
        key = SigningKey.objects.filter(kid=kid).only("algorithm", "public_jwk").first()
        if key is None:
            return None  # not remembered: the key may be made later
        verifier = (key.algorithm, keys.public_key_from_jwk(key.public_jwk))
        _VERIFIERS[kid] = verifier
    return verifier


def _key_usable(kid: str) -> bool:
    return SigningKey.objects.filter(kid=kid).exclude(status=SigningKey.Status.REVOKED).exists()


def token_verify(token: str, *, caller: Service, at=None) -> TokenVerdict:
    """
    Verify a grant token as RFC 7662 introspection does for ``caller``; the verdict names why
    an inactive token is inactive (for logs and tests; the API answers only ``active``).

    The algorithm comes from the key named by ``kid``, never from the token's header, so that
    ``alg: none`` and algorithm confusion are refused. A revoked key verifies nothing from the
    moment its revocation commits: its status is read with the grant, in one query.
    """
    at = at or timezone.now()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return TokenVerdict(False, "malformed")
    kid = header.get("kid")
    verifier = _verifier(kid) if isinstance(kid, str) and kid else None
    if verifier is None:
        return TokenVerdict(False, "unknown_kid")
    algorithm, public_key = verifier

    def refused(reason: str) -> TokenVerdict:
        # A revoked key's tokens are refused as unknown, whatever else is wrong with them.
        return TokenVerdict(False, reason if _key_usable(kid) else "unknown_kid")

    if header.get("alg") != algorithm:
        return refused("wrong_alg")
    try:
        claims = jwt.decode(
            token,
            key=public_key,
            algorithms=[algorithm],
            options={
                "verify_aud": False,
                "verify_exp": False,
                "verify_nbf": False,
                "require": ["exp", "nbf", "iat", "jti", "sub", "iss"],
            },
        )
    except jwt.InvalidSignatureError:
        return refused("bad_signature")
    except jwt.PyJWTError:
        return refused("malformed")
    key_status = SigningKey.objects.filter(kid=OuterRef("kid")).values("status")[:1]
    grant = (
        Grant.objects.annotate(key_status=Subquery(key_status))
        .filter(jti=claims.get("jti"))
        .first()
    )
    if grant is None or grant.kid != kid:
        return refused("unknown_grant")
    if grant.key_status in (None, SigningKey.Status.REVOKED):
        return TokenVerdict(False, "unknown_kid")
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
