from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from audit import views as audit_views
from consent import views as consent_views

from . import api, views

admin.site.site_header = _("Smart-city data platform: secretariat")
admin.site.site_title = _("Secretariat")
admin.site.index_title = _("Consortium administration")

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", consent_views.set_language, name="set_language"),
    # The data-ethics review's admin pages before the review had an app of its own.
    re_path(
        r"^admin/governance/(?P<model>ethicsboard|reviewticket)/(?P<rest>.*)$",
        RedirectView.as_view(url="/admin/review/%(model)s/%(rest)s", query_string=True),
    ),
    path("admin/", admin.site.urls),
    path(".well-known/jwks.json", audit_views.jwks, name="jwks"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", include("audit.urls")),
    path("", include("governance.urls")),
    path("", include("review.urls")),
    path("", include("consent.urls")),
    path("", include("grants.urls")),
    path("", include("participation.urls")),
    path("", include("public.urls")),
    re_path(r"^api/", api.not_found),  # last: what no route above takes
]

handler400 = "config.views.bad_request"
handler500 = "config.views.server_error"
