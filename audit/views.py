"""Public pages of the audit app."""

from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from . import selectors, services
from .forms import ReportCheckForm
from .models import Report


def report_file_response(user, report_id) -> FileResponse:
    """
    Serve a finished report's PDF to ``user`` if they may see it (the kind's consortia and
    record check); raise Http404 alike for a missing, unfinished or forbidden report.

    The one download of every page that lists reports (the admin, the review pages).
    """
    try:
        report = selectors.access_report(user, report_id)
    except Report.DoesNotExist:
        raise Http404("no such report") from None
    if report.state != Report.State.DONE or not report.file_path:
        raise Http404("not finished")
    path = services.report_file(report)
    if not path.is_file():
        raise Http404("no file")
    response = FileResponse(
        path.open("rb"),  # FileResponse closes it when the response is closed
        as_attachment=True,
        filename=f"report-{report.pk}-{report.kind}.pdf",
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


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
