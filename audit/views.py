"""Public pages of the audit app."""

from django.http import JsonResponse
from django.views.decorators.http import require_GET

from . import selectors


@require_GET
def jwks(request):
    """Serve the platform's public keys as a JWK Set (RFC 7517)."""
    response = JsonResponse(selectors.jwks())
    response["Content-Type"] = "application/jwk-set+json"
    # Verifiers cache the set; a new key is announced before it signs anything that matters
    # for long, and a revoked key's grants are revoked (and introspection says so) at once.
    response["Cache-Control"] = "public, max-age=300"
    return response
