from django.urls import path

from . import api

app_name = "grants"
urlpatterns = [
    path("api/v1/introspect", api.IntrospectView.as_view(), name="introspect"),
    path("api/v1/grants/<str:jti>/check", api.GrantCheckView.as_view(), name="check"),
    path("api/v1/tickets", api.TicketCreateView.as_view(), name="ticket_create"),
    path("api/v1/tickets/<int:ticket_id>", api.TicketDetailView.as_view(), name="ticket"),
    path(
        "api/v1/tickets/<int:ticket_id>/obligations/<int:obligation_id>/evidence",
        api.ObligationEvidenceView.as_view(),
        name="obligation_evidence",
    ),
    path("api/v1/revocations", api.RevocationsView.as_view(), name="revocations"),
]
