"""Public pages of the audit app."""

from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import reports, selectors, services, tree, witnessing
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
            entry = selectors.report_entry_by_sha256(digest)
            result = {
                "sha256": digest,
                "entry": entry,
                "kind": reports.kind_label(entry.data.get("kind", "")) if entry else "",
            }
    else:
        form = ReportCheckForm()
    return render(
        request,
        "audit/report_verify.html",
        {"form": form, "result": result},
        status=200,
    )


# --- The log as C2SP tlog-tiles: the checkpoint, tiles and entry bundles --------------------

# Full tiles and bundles never change; a partial one of width W never changes either (a wider
# one has another address). The checkpoint changes: caches keep it a few seconds at most.
IMMUTABLE = "public, max-age=31536000, immutable"
CHECKPOINT_CACHE = "public, max-age=5"


def _not_found(detail: str) -> JsonResponse:
    return JsonResponse({"error": "not_found", "detail": detail}, status=404)


@require_GET
def checkpoint_note(request):
    """Serve the newest checkpoint note, with every cosignature held (C2SP tlog-tiles)."""
    checkpoint = selectors.checkpoint_latest_merkle()
    if checkpoint is None:
        return _not_found("No checkpoint has been made yet.")
    response = HttpResponse(
        selectors.checkpoint_note_cosigned(checkpoint), content_type="text/plain; charset=utf-8"
    )
    response["Cache-Control"] = CHECKPOINT_CACHE
    return response


@require_GET
def tile(request, level: str, index: str, width: str | None = None):
    """Serve a Merkle tree tile or an entry bundle covered by the newest checkpoint."""
    address = tree.parse_tile_address(level, index, width)
    checkpoint = selectors.checkpoint_latest_merkle() if address else None
    if address is None or checkpoint is None or not tree.tile_covered(address, checkpoint.seq):
        return _not_found("No such tile in the tree of the newest checkpoint.")
    level_number, index_number, width_number = address
    if level_number is None:
        content = tree.entry_bundle(index_number, width_number)
    else:
        content = tree.tile_bytes(level_number, index_number, width_number)
    if content is None:  # the tree lags behind its checkpoint: never, once sealed
        return _not_found("No such tile in the tree of the newest checkpoint.")
    response = HttpResponse(content, content_type="application/octet-stream")
    response["Cache-Control"] = IMMUTABLE
    response["Access-Control-Allow-Origin"] = "*"
    return response


# --- The platform as a witness (C2SP tlog-witness) -------------------------------------------


@csrf_exempt  # a protocol endpoint: the checkpoint's signature is the only authentication
@require_POST
def witness_add_checkpoint(request):
    """
    Cosign another log's checkpoint (tlog-witness ``add-checkpoint``): 200 with the
    cosignature line, or the status the specification gives, with a JSON error (a 409 for an
    old size that is not the last cosigned answers that size, as ``text/x.tlog.size``).
    """
    try:
        line = witnessing.witness_add_checkpoint(body=request.body)
    except witnessing.WitnessRefusal as refusal:
        if refusal.body is not None:
            response = HttpResponse(refusal.body, status=refusal.status)
            response["Content-Type"] = witnessing.SIZE_CONTENT_TYPE
        else:
            response = JsonResponse(
                {"error": refusal.code, "detail": refusal.detail}, status=refusal.status
            )
    else:
        response = HttpResponse(line, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response
