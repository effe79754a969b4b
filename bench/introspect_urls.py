"""The platform's URLs plus ``/bench/bare``: a Django view that does nothing (the baseline)."""

from django.http import JsonResponse
from django.urls import path

from config.urls import urlpatterns as platform_urlpatterns


def bare(request):
    return JsonResponse({"active": False})


urlpatterns = [path("bench/bare", bare), *platform_urlpatterns]
