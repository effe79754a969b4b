"""Public pages of the audit app."""

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from . import selectors, services
from .forms import ReportCheckForm


@require_GET
def jwks(request):
    """Serve the platform's public keys as a JWK Set (RFC 7517)."""
    response = JsonResponse(selectors.jwks())
    response["Content-Type"] = "application/jwk-set+json"
    # Verifiers cache the set; a new key is announced before it signs anything that matters
    # for long, and a revoked key's grants are revoked (and introspection says so) at once.
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_http_methods(["GET", "POST"])
def report_verify(request):
    """Tell anyone whether a PDF (or a SHA-256) is a report this platform produced."""
    result = None
    if request.method == "POST":
        form = ReportCheckForm(request.POST, request.FILES)
        if form.is_valid():
            services.seal()  # a report made a moment ago is found too
            digest = form.digest()
            result = {"sha256": digest, "entry": selectors.report_entry_by_sha256(digest)}
    else:
        form = ReportCheckForm()
    return render(
        request,
        "audit/report_verify.html",
        {"form": form, "result": result},
        status=200,
    )
