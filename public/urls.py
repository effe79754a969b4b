"""
The register in Japanese at /register/, in やさしい日本語 (Easy Japanese) at /ja-easy/register/
and in English at /en/register/: the language is in the address, so that a page is the same for
everyone who asks for it and caches can keep it. Each name has a pattern per language; reverse
it with ``lang``.
"""

from django.urls import path

from . import api, ckan, views

app_name = "public"


def _patterns(prefix: str, lang: str) -> list:
    options = {"lang": lang}
    base = f"{prefix}register/"
    return [
        path(base, views.index, options, name="index"),
        path(f"{base}checkpoint/", views.checkpoint, options, name="checkpoint"),
        path(f"{base}<slug:slug>/", views.consortium, options, name="consortium"),
        path(f"{base}<slug:slug>/uses/", views.uses, options, name="uses"),
        path(f"{base}<slug:slug>/uses/<int:ticket_id>/", views.use, options, name="use"),
        path(f"{base}<slug:slug>/members/", views.members, options, name="members"),
        path(f"{base}<slug:slug>/bylaws/", views.bylaws, options, name="bylaws"),
        path(
            f"{base}<slug:slug>/bylaws/<int:number>/",
            views.bylaw_version,
            options,
            name="bylaw-version",
        ),
        path(
            f"{base}<slug:slug>/bylaws/<int:old>/to/<int:new>/",
            views.bylaw_compare,
            options,
            name="bylaw-compare",
        ),
        path(f"{base}<slug:slug>/resolutions/", views.resolutions, options, name="resolutions"),
        path(
            f"{base}<slug:slug>/consultations/",
            views.consultations,
            options,
            name="consultations",
        ),
        path(
            f"{base}<slug:slug>/consultations/<int:consultation_id>/",
            views.consultation,
            options,
            name="consultation",
        ),
        path(f"{base}<slug:slug>/proposals/", views.proposals, options, name="proposals"),
        path(f"{base}<slug:slug>/meetings/", views.meetings, options, name="meetings"),
        path(
            f"{base}<slug:slug>/meetings/<int:meeting_id>/",
            views.meeting,
            options,
            name="meeting",
        ),
        path(f"{base}<slug:slug>/statistics/", views.statistics, options, name="statistics"),
        path(f"{base}<slug:slug>/data/", views.data, options, name="data"),
        path(f"{base}<slug:slug>/scorecard/", views.scorecard, options, name="scorecard"),
    ]


urlpatterns = [
    *_patterns("", "ja"),
    *_patterns("ja-easy/", "ja-easy"),
    *_patterns("en/", "en"),
    # Open data: the same in every language.
    path("register/catalog.jsonld", views.catalogue, name="dcat"),
    path(
        "register/<slug:slug>/data/<slug:key>.<str:fmt>",
        views.download,
        name="download",
    ),
    # A use's indicators, read and reported by its requester (client credentials).
    path(
        "api/v1/tickets/<int:ticket_id>/indicators",
        api.TicketIndicatorsView.as_view(),
        name="ticket_indicators",
    ),
    path(
        "api/v1/tickets/<int:ticket_id>/indicators/<slug:code>/measurements",
        api.MeasurementReportView.as_view(),
        name="measurement_report",
    ),
    # The CKAN Action API's read actions, at both of CKAN's prefixes.
    path("api/3/action/<str:action>", ckan.action, name="ckan-action-3"),
    path("api/action/<str:action>", ckan.action, name="ckan-action"),
]
