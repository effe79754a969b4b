from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _


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
