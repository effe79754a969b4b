"""Pages of the resident portal."""

from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def portal(request):
    return render(request, "consent/portal_placeholder.html")
