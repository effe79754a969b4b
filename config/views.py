"""Site-wide pages: the landing page, the health check and the error pages."""

import sys

from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET

from .middleware import NUL_REFUSED


@require_GET
def landing(request):
    return render(request, "landing.html")


def broker_status() -> str:
    from django_q.brokers import get_broker

    try:
        return "ok" if get_broker().ping() else "down"
    except Exception:  # any failure to reach the broker is "down", never a 500
        return "down"


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception:
        return "down"


@never_cache
@require_GET
def healthz(request):
    """Answer JSON with the database's and the task broker's status; 503 when one is down."""
    checks = {"database": database_status(), "broker": broker_status()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503
    )


def _api_error(code: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status)


@requires_csrf_token
def bad_request(request, exception=None):
    """
    The 400 of every request Django refuses before a view answers (a bad ``Host``, a NUL
    character, a form Django cannot parse): JSON with a stable code under /api/, as every API
    answer, else a page that says what was wrong.
    """
    nul = str(exception) == NUL_REFUSED
    if request.path.startswith("/api/"):
        if isinstance(exception, DisallowedHost):
            return _api_error("bad_host", "This host name is not served here.", 400)
        if isinstance(exception, RequestDataTooBig):
            return _api_error("payload_too_large", "The request body is too large.", 413)
        if nul:
            return _api_error(
                "malformed_request", "The request holds a NUL character, which no field takes.", 400
            )
        return _api_error("malformed_request", "The request could not be read.", 400)
    detail = (
        _("The request holds a NUL character, which no field or address takes.")
        if nul
        else _("The request could not be read.")
    )
    return render(request, "400.html", {"detail": detail}, status=400)


def unavailable(exception: BaseException | None) -> bool:
    """
    Return True if ``exception`` says a backing service is down or restarting rather than that
    the code is wrong: the database refusing or dropping the connection, or the broker and cache
    (Redis) not answering. Those answer 503 with ``Retry-After``: the request may be sent again.
    """
    from django.db import InterfaceError, OperationalError

    if isinstance(exception, (OperationalError, InterfaceError)):
        return True
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # pragma: no cover - redis is a dependency
        return False
    return isinstance(exception, (RedisConnectionError, RedisTimeoutError))


RETRY_AFTER_SECONDS = 5


def service_unavailable(request):
    """
    The 503 of a request that met the database or the broker down (a restart, a failover, a
    dropped connection): JSON ``service_unavailable`` under /api/, else a page; ``Retry-After``
    says when to try again. The failed transaction was rolled back; what committed before the
    failure (a service's work whose follow-up task could not be queued) stays.
    """
    if request.path.startswith("/api/"):
        response = _api_error(
            "service_unavailable",
            "The service is briefly unavailable; try again in a few seconds.",
            503,
        )
    else:
        # Rendered without the request: its context processors would ask the database.
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request):
    """
    The 500: JSON under /api/ (``server_error``), else Django's page; a 503 instead when the
    database or the broker is unavailable (``unavailable``).
    """
    if unavailable(sys.exc_info()[1]):
        return service_unavailable(request)
    if request.path.startswith("/api/"):
        return _api_error("server_error", "Something went wrong on our side; try again.", 500)
    return defaults.server_error(request)
