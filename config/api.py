"""The API's error format: ``{"error": "<stable_code>", "detail": "<human text>"}``."""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

# DRF's own exception codes mapped to the stable codes this API documents.
CODES = {
    "parse_error": "malformed_request",
    "invalid": "invalid_request",
    "not_authenticated": "unauthenticated",
    "authentication_failed": "unauthenticated",
    "permission_denied": "forbidden",
    "not_found": "not_found",
    "method_not_allowed": "method_not_allowed",
    "not_acceptable": "not_acceptable",
    "unsupported_media_type": "unsupported_media_type",
    "throttled": "rate_limited",
}


class APIError(exceptions.APIException):
    """An API error with a stable code, raised by views for domain refusals."""

    def __init__(self, code: str, detail: str, status_code: int = status.HTTP_400_BAD_REQUEST):
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.error_code = code


def exception_handler(exc, context):
    """Render every API error as JSON with a stable ``error`` code and a ``detail``."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):
        # A form body over DATA_UPLOAD_MAX_MEMORY_SIZE (bodies over MAX_REQUEST_BODY never get
        # here: config.middleware refuses them with the same code).
        exc = APIError(
            "payload_too_large",
            "The request body is too large.",
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        exc = APIError("malformed_request", "The form has too many fields.")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, APIError):
        code = exc.error_code
        detail = str(exc.detail)
    else:
        raw = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        code = CODES.get(raw if isinstance(raw, str) else "invalid", "invalid_request")
        detail = exc.detail if isinstance(exc.detail, str) else None
        if detail is None:
            response.data = {"error": code, "detail": "Invalid input.", "fields": exc.detail}
            return response
    response.data = {"error": code, "detail": str(detail)}
    return response


@csrf_exempt  # a POST to an unknown address is not found, not refused for want of a cookie
def not_found(request, *args, **kwargs):
    """Any address under /api/ that the API does not have: JSON, as every API answer."""
    return JsonResponse({"error": "not_found", "detail": "Not found."}, status=404)
