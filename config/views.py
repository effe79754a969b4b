"""Site-wide pages: the landing page and the health check."""

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


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
