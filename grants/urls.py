from django.urls import path
from oauth2_provider import views as oauth2_views

from . import api, views

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
    path("api/v1/events/poll", api.EventsPollView.as_view(), name="events_poll"),
    path("api/v1/events/<str:jti>/confirm", api.EventConfirmView.as_view(), name="event_confirm"),
    # The OpenID Provider for member services.
    path(
        ".well-known/openid-configuration",
        views.openid_configuration,
        name="openid_configuration",
    ),
    path("oidc/authorize", views.OpenIDAuthorizationView.as_view(), name="oidc_authorize"),
    path("oidc/token", oauth2_views.TokenView.as_view(), name="oidc_token"),
    path("oidc/userinfo", oauth2_views.UserInfoView.as_view(), name="oidc_userinfo"),
    path("oidc/revoke", oauth2_views.RevokeTokenView.as_view(), name="oidc_revoke"),
]
