"""Read queries of the grants app: credentials, grants as a service sees them, token checks."""

import binascii
import hmac
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import jwt
from django.db import connection
from django.http import Http404
from django.utils import timezone

from audit import keys
from audit import selectors as audit_selectors
from config.db import fetch_one_prepared

from .models import (
    Grant,
    GrantEvent,
    OpenIDClient,
    Service,
    ServiceCredential,
    hash_secret,
    service_subject,
)


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


def ticket_service(ticket) -> Service | None:
    """
    The service a review ticket names, active or not: its requester's service registered under
    the ticket's service name (the tickets API files requests that way; names are unique within
    a consortium), or None.
    """
    return Service.objects.filter(
        consortium_id=ticket.consortium_id,
        organization_id=ticket.requester_id,
        name=ticket.service_name,
    ).first()


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
    claims: dict | None = None


# Public keys by kid, kept for the life of the process: a kid names one key pair for good, so its
# algorithm and public key never change. Whether the key is still usable (it exists and is not
# revoked) is asked of the database on every verification, in the same query as the grant.
_VERIFIERS: dict[str, tuple[str, object]] = {}


def _verifier(kid: str) -> tuple[str, object] | None:
    """Return ``(algorithm, public key)`` of the signing key ``kid``, None if there is none."""
    verifier = _VERIFIERS.get(kid)
    if verifier is None:
        verifier = audit_selectors.signing_key_verifier(kid)
        if verifier is None:
            return None  # not remembered: the key may be made later
        _VERIFIERS[kid] = verifier
    return verifier


REQUIRED_CLAIMS = ["exp", "nbf", "iat", "jti", "sub", "iss"]


def _unverified_header(token: str) -> dict | None:
    """
    Return a compact JWS's header, only to choose the key: jwt.decode checks the whole token
    again. (PyJWT's get_unverified_header decodes and checks every segment, payload included,
    which doubled the cost of an introspection.)
    """
    segment = token.partition(".")[0]
    if not segment or len(segment) > 1024:
        return None
    try:
        header = json.loads(keys.b64url_decode(segment))
    except (ValueError, binascii.Error, RecursionError):
        return None
    return header if isinstance(header, dict) else None


# Tokens whose signature verified, with their claims, most recently used last. A token's
# signature and claims never change and neither does its kid's public key, so a token verified
# once need not be verified again: services introspect the same long-lived grant many times.
# Everything that can change (the grant's status, the key's revocation, the clock) is still
# checked on every call. Only well-signed tokens are kept, at most VERIFIED_TOKENS of them.
VERIFIED_TOKENS = 4096
_VERIFIED: OrderedDict[str, tuple[str, dict]] = OrderedDict()
_VERIFIED_LOCK = threading.Lock()


# A compact JWS as the platform writes it (RFC 7515 §7.1): three base64url segments, without
# padding (RFC 7515 §2) and with the unused bits of each segment's last character zero, the only
# spelling of each segment's bytes. PyJWT also takes "=" appended and other last characters.
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", re.ASCII)
# The last character of a segment of length 2 or 3 modulo 4 carries 4 or 2 unused bits.
CANONICAL_LAST = {2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}


def is_compact_jws(token: str) -> bool:
    """Return True if ``token`` is a compact JWS in the one spelling of its bytes."""
    if not COMPACT_JWS.fullmatch(token):
        return False
    for segment in token.split("."):
        remainder = len(segment) % 4
        if remainder == 1 or (remainder and segment[-1] not in CANONICAL_LAST[remainder]):
            return False
    return True


def _token_claims(token: str) -> tuple[str | None, dict | None, str]:
    """
    Return ``(kid, claims, "")`` for a well-signed token, else ``(kid, None, reason)``; the
    claims are shared, never to be changed.
    """
    if not is_compact_jws(token):
        return None, None, "malformed"
    with _VERIFIED_LOCK:
        known = _VERIFIED.get(token)
        if known is not None:
            _VERIFIED.move_to_end(token)
    if known is not None:
        return known[0], known[1], ""
    kid, claims, refusal = _token_signature_check(token)
    if claims is not None:
        with _VERIFIED_LOCK:
            _VERIFIED[token] = (kid, claims)
            if len(_VERIFIED) > VERIFIED_TOKENS:
                _VERIFIED.popitem(last=False)
    return kid, claims, refusal


def _token_signature_check(token: str) -> tuple[str | None, dict | None, str]:
    """
    Check a token's header and signature, without the database once its key is known.
    Return ``(kid, claims, "")`` for a well-signed token, else ``(kid, None, reason)``.

    The algorithm comes from the key named by ``kid``, never from the token's header, so that
    ``alg: none`` and algorithm confusion are refused.
    """
    header = _unverified_header(token)
    if header is None:
        return None, None, "malformed"
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > 64:
        return None, None, "unknown_kid"
    verifier = _verifier(kid)
    if verifier is None:
        return None, None, "unknown_kid"
    algorithm, public_key = verifier
    if header.get("alg") != algorithm:
        return kid, None, "wrong_alg"
    try:
        claims = jwt.decode(
            token,
            key=public_key,
            algorithms=[algorithm],
            options={
                "verify_aud": False,
                "verify_exp": False,
                "verify_nbf": False,
                "require": REQUIRED_CLAIMS,
            },
        )
    except jwt.InvalidSignatureError:
        return kid, None, "bad_signature"
    except jwt.PyJWTError:
        return kid, None, "malformed"
    if not isinstance(claims["jti"], str) or not isinstance(claims["sub"], str):
        return kid, None, "malformed"
    return kid, claims, ""


def _grant_columns() -> str:
    """
    The columns of the grant and key half of the token queries, after the caller's five; their
    parameters are the moment, the kid and the token.
    """
    return (
        "g.kid, g.status, g.expires_at > %s, "
        f"{audit_selectors.signing_key_status_sql()}, "
        # One string for one grant: another valid signature of the same claims (ECDSA's
        # (r, n - s)) is not the grant, so that a deny-list keyed on the string holds.
        "g.token = %s"
    )


def _judge(kid, claims, refusal: str, row, *, subject: str, organization_id, at) -> TokenVerdict:
    """Give the verdict on a token from its checked claims and its grant row."""
    grant_kid, grant_status, grant_unexpired, key_status, issued = row
    key_usable = (
        key_status is not None and key_status != audit_selectors.signing_key_revoked_status()
    )
    if refusal or grant_kid != kid:
        # A revoked key's tokens are refused as unknown, whatever else is wrong with them.
        return TokenVerdict(False, (refusal or "unknown_grant") if key_usable else "unknown_kid")
    if not key_usable:
        return TokenVerdict(False, "unknown_kid")
    if not issued:
        return TokenVerdict(False, "not_issued")
    now = at.timestamp()
    if not isinstance(claims["exp"], int | float) or not isinstance(claims["nbf"], int | float):
        return TokenVerdict(False, "malformed")
    if now >= claims["exp"] or not grant_unexpired:
        return TokenVerdict(False, "expired")
    if now < claims["nbf"]:
        return TokenVerdict(False, "not_yet_valid")
    if grant_status != Grant.Status.ACTIVE:
        return TokenVerdict(False, grant_status)
    audience = claims.get("aud") or []
    if isinstance(audience, str):
        audience = [audience]
    caller_is_holder = f"organization:{organization_id}" in audience
    if claims["sub"] != subject and not caller_is_holder:
        return TokenVerdict(False, "wrong_audience")
    return TokenVerdict(True, "active", claims)


def token_verify(token: str, *, caller: Service, at=None) -> TokenVerdict:
    """
    Verify a grant token as RFC 7662 introspection does for ``caller``; the verdict names why
    an inactive token is inactive (for logs and tests; the API answers only ``active``).
    A revoked key verifies nothing from the moment its revocation commits: its status is read
    with the grant, in one query.
    """
    at = at or timezone.now()
    kid, claims, refusal = _token_claims(token)
    if kid is None:
        return TokenVerdict(False, refusal)
    sql = (
        f"SELECT {_grant_columns()} FROM (SELECT 1 AS one) AS one "
        f"LEFT JOIN {Grant._meta.db_table} g ON g.jti = %s"
    )
    moment = connection.ops.adapt_datetimefield_value(at)
    with connection.cursor() as cursor:
        cursor.execute(sql, [moment, kid, token, claims["jti"] if claims else None])
        row = cursor.fetchone()
    return _judge(
        kid,
        claims,
        refusal,
        row,
        subject=caller.subject,
        organization_id=caller.organization_id,
        at=at,
    )


@dataclass(frozen=True)
class Introspection:
    """An introspection's caller and verdict; ``service_id`` is None when authentication failed."""

    service_id: int | None
    verdict: TokenVerdict | None = None


def token_introspect(client_id: str, secret: str, token: str, *, at=None) -> Introspection:
    """
    Authenticate the service ``client_id`` by ``secret`` and verify ``token`` for it, with one
    query: the credential, its service, the grant named by the token and its key's status.
    This is the API's hottest path (``POST /api/v1/introspect``).
    """
    at = at or timezone.now()
    kid, claims, refusal = _token_claims(token)
    sql = (
        "SELECT c.secret_sha256, "
        "c.revoked_at IS NULL AND (c.expires_at IS NULL OR c.expires_at > %s), "
        f"s.id, s.is_active, s.organization_id, {_grant_columns()} "
        f"FROM {ServiceCredential._meta.db_table} c "
        f"JOIN {Service._meta.db_table} s ON s.id = c.service_id "
        f"LEFT JOIN {Grant._meta.db_table} g ON g.jti = %s "
        "WHERE c.client_id = %s"
    )
    moment = connection.ops.adapt_datetimefield_value(at)
    jti = claims["jti"] if claims else None
    row = fetch_one_prepared(sql, [moment, moment, kid, token, jti, client_id])
    # Compare even when the client id is unknown, so that timing tells nothing.
    matches = hmac.compare_digest(row[0] if row else "0" * 64, hash_secret(secret))
    if row is None or not matches or not row[1] or not row[3]:
        return Introspection(None)
    if kid is None:
        return Introspection(row[2], TokenVerdict(False, refusal))
    verdict = _judge(
        kid,
        claims,
        refusal,
        row[5:],
        subject=service_subject(row[2]),
        organization_id=row[4],
        at=at,
    )
    return Introspection(row[2], verdict)


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
    from review.models import ReviewTicket

    ticket = ReviewTicket.objects.filter(
        pk=ticket_id,
        consortium_id=service.consortium_id,
        requester_id=service.organization_id,
        service_name=service.name,
    ).first()
    if ticket is None:
        raise Http404("no such ticket")
    return ticket


LIVE_STATUSES = (Grant.Status.ACTIVE, Grant.Status.SUSPENDED)


def grants_expiring(*, now=None):
    """Return the active or suspended grants whose expiry has passed at ``now``."""
    return Grant.objects.filter(status__in=LIVE_STATUSES, expires_at__lte=now or timezone.now())


def grants_for_tickets(ticket_ids) -> dict[int, list[Grant]]:
    """Return {ticket id: its grants, oldest first} (the public register's "grants issued")."""
    grants: dict[int, list[Grant]] = {}
    rows = (
        Grant.objects.filter(ticket_id__in=list(ticket_ids))
        .select_related("service")
        .order_by("issued_at", "pk")
    )
    for grant in rows:
        grants.setdefault(grant.ticket_id, []).append(grant)
    return grants


# --- OpenID Connect ----------------------------------------------------------------------------


def grants_in_force(service_id: int, *, at=None):
    """Return the service's grants that let data flow at ``at``: its approved uses in force."""
    at = at or timezone.now()
    return Grant.objects.filter(
        service_id=service_id,
        status=Grant.Status.ACTIVE,
        not_before__lte=at,
        expires_at__gt=at,
    )


def service_has_approved_use(service_id: int, *, at=None) -> bool:
    """Return True if the service holds a grant in force (an approved use of residents' data)."""
    return grants_in_force(service_id, at=at).exists()


def service_purposes_in_force(service_id: int, *, at=None) -> list:
    """Return the purposes the service may use now under its grants in force, by code."""
    from consent.models import Purpose

    ids = grants_in_force(service_id, at=at).values("purpose_id")
    return list(Purpose.objects.filter(pk__in=ids).order_by("code"))


def openid_client_for_application(application_id) -> OpenIDClient | None:
    """Return the OpenID client (with its service) of an OAuth application, if it has one."""
    return (
        OpenIDClient.objects.select_related("service", "application")
        .filter(application_id=application_id)
        .first()
    )


def openid_client_usable(client: OpenIDClient | None, *, at=None) -> bool:
    """
    Return True if residents may sign in to the client's service now: the client and its
    service are active and the service holds a grant in force.
    """
    return (
        client is not None
        and client.is_active
        and client.service.is_active
        and service_has_approved_use(client.service_id, at=at)
    )


def service_sectors(service_id: int) -> list[str]:
    """Return the sector identifiers of the service's OpenID clients (its residents' ids)."""
    return list(
        OpenIDClient.objects.filter(service_id=service_id)
        .order_by("sector_identifier")
        .values_list("sector_identifier", flat=True)
        .distinct()
    )
