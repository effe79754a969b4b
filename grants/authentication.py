"""
HTTP Basic authentication of services by client credentials (RFC 6749 §2.3.1, as RFC 7662
asks of introspection clients), with failed attempts limited per client id and per address.
"""

import base64
import binascii
from urllib.parse import unquote

from django.conf import settings
from django.core.cache import cache
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from config.api import APIError

from . import selectors

FAILURE_WINDOW = 300  # seconds


def _failure_limit() -> int:
    return getattr(settings, "GRANTS_AUTH_FAILURE_LIMIT", 10)


def _keys(client_id: str, address: str) -> list[str]:
    keys = [f"grants:authfail:addr:{address}"]
    if client_id:
        keys.append(f"grants:authfail:client:{client_id[:64]}")
    return keys


def _blocked(keys: list[str]) -> bool:
    # One round trip to the cache for both counters.
    return any((count or 0) >= _failure_limit() for count in cache.get_many(keys).values())


def _count_failure(keys: list[str]) -> None:
    for key in keys:
        if cache.add(key, 1, FAILURE_WINDOW):
            continue
        try:
            cache.incr(key)
        except ValueError:  # expired in between
            cache.set(key, 1, FAILURE_WINDOW)


def basic_credentials(header: str) -> tuple[str, str]:
    """Return ``(client id, secret)`` from an HTTP Basic ``Authorization`` header, or blanks."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return "", ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return "", ""
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote(client_id), unquote(secret)


def _refuse_failure(keys: list[str]) -> None:
    """
    Count a failed authentication; raise 429 once the address or the client id has failed too
    often. Only failures are limited: the right secret is always let in, so that whoever
    learns a client id (it is not secret) cannot lock its service out by failing on purpose.
    The secrets are 256 random bits, which no rate of guessing reaches.
    """
    if _blocked(keys):
        raise APIError(
            "rate_limited",
            "Too many failed authentications; try again in a few minutes.",
            429,
        )
    _count_failure(keys)


class ServiceAuthentication(authentication.BaseAuthentication):
    """Authenticate a service; ``request.user`` is its Service, ``request.auth`` the credential."""

    def authenticate_header(self, request) -> str:
        return 'Basic realm="api"'

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        address = request.META.get("REMOTE_ADDR", "")
        client_id, secret = basic_credentials(header)
        keys = _keys(client_id, address)
        if not client_id or not secret:
            if header:
                _refuse_failure(keys)
            raise exceptions.NotAuthenticated(
                "Authenticate with your client id and secret (HTTP Basic)."
            )
        credential = selectors.credential_authenticate(client_id, secret)
        if credential is None:
            _refuse_failure(keys)
            raise exceptions.AuthenticationFailed("Unknown client id or wrong secret.")
        service = credential.service
        service.is_authenticated = True
        return service, credential


class ServiceAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describe client-credential authentication in the OpenAPI schema as HTTP Basic."""

    target_class = "grants.authentication.ServiceAuthentication"
    name = "clientCredentials"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "The service's client id and secret (RFC 6749 §2.3.1).",
        }
