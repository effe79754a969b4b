import base64
import binascii
import re
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

NUL = "\x00"
# The exception's text, which config.views.bad_request recognises to explain the refusal.
NUL_REFUSED = "NUL character in the request"


class RequestBodyLimitMiddleware:
    """Refuse a request whose declared body exceeds ``MAX_REQUEST_BODY`` before reading it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BODY:
            detail = _("The request is larger than the %(limit)d MB this site accepts.") % {
                "limit": settings.MAX_REQUEST_BODY // (1024 * 1024)
            }
            if request.path.startswith("/api/"):
                return JsonResponse({"error": "payload_too_large", "detail": detail}, status=413)
            return HttpResponse(detail, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


# A JSON string escape of NUL that is not itself an escaped backslash followed by "u0000".
JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _basic_user_has_nul(header: str) -> bool:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False  # not Basic credentials at all: authentication refuses them
    # RFC 6749 §2.3.1: the client id and secret are form-urlencoded inside.
    return b"\x00" in decoded or b"\x00" in unquote_to_bytes(decoded)


def _body_has_nul(request: HttpRequest) -> bool:
    content_type = request.content_type
    if content_type == "multipart/form-data":
        # Files may hold any byte; only the fields are text. Django parses them here rather
        # than in the CSRF check, with the same errors (400, 413 under /api/).
        fields = request.POST.lists()
        if any(NUL in key or any(NUL in value for value in values) for key, values in fields):
            return True
        files = request.FILES.lists()
        return any(
            NUL in key or any(NUL in (upload.name or "") for upload in uploads)
            for key, uploads in files
        )
    if content_type not in ("application/x-www-form-urlencoded", "application/json"):
        return False
    try:
        body = request.body
    except RequestDataTooBig:
        return False  # refused as too large where the body is read
    if content_type == "application/json":
        # A raw NUL is not JSON at all (the parser refuses it); only the escape gives a string one.
        return b"\\u0000" in body and JSON_NUL.search(body) is not None
    return b"\x00" in body or b"\x00" in unquote_to_bytes(body)


def request_has_nul(request: HttpRequest) -> bool:
    """Return True if a NUL character is anywhere in what a view may read as text."""
    if NUL in request.path_info:
        return True
    query = request.META.get("QUERY_STRING", "")
    if "%00" in query or NUL in query:
        return True
    for name, value in request.META.items():
        if name.startswith("HTTP_") and NUL in value:
            return True
    if _basic_user_has_nul(request.META.get("HTTP_AUTHORIZATION", "")):
        return True
    if any(NUL in key or NUL in value for key, value in request.COOKIES.items()):
        return True
    return request.method not in ("GET", "HEAD", "OPTIONS") and _body_has_nul(request)


class RefuseNulMiddleware:
    """
    Refuse with 400 a request with a NUL character in its path, query, headers, Basic
    credentials, cookies, form fields or JSON strings, before any view runs.

    PostgreSQL refuses NUL in text (a query with one fails with a 500), SQLite stores it, and no
    name, id, token or text of this platform holds one: refusing it here gives every page and
    endpoint, in the API, the admin and the portal, the same answer on both databases. The
    answer itself is ``config.views.bad_request``'s (JSON under /api/).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request_has_nul(request):
            raise BadRequest(NUL_REFUSED)
        return self.get_response(request)
