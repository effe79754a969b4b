"""
Pages and endpoints of the OpenID Provider: discovery, and the authorization page a resident
sees when a member service asks them to sign in. The token, userinfo and revocation endpoints
are django-oauth-toolkit's own views (grants.urls).
"""

from urllib.parse import urlsplit

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_GET
from oauth2_provider.models import Application
from oauth2_provider.views import AuthorizationView

from audit import keys
from audit.services import Actor
from consent import selectors as consent_selectors
from consent import services as consent_services

from . import oidc, selectors


def _url(name: str) -> str:
    return oidc.issuer() + reverse(name)


@require_GET
def openid_configuration(request):
    """OpenID Connect Discovery 1.0 §3: the provider's metadata."""
    scopes = oidc.PurposeScopes().get_all_scopes()
    metadata = {
        "issuer": oidc.issuer(),
        "authorization_endpoint": _url("grants:oidc_authorize"),
        "token_endpoint": _url("grants:oidc_token"),
        "userinfo_endpoint": _url("grants:oidc_userinfo"),
        "revocation_endpoint": _url("grants:oidc_revoke"),
        "jwks_uri": _url("jwks"),
        "scopes_supported": list(scopes),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": [keys.RS256],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash"],
        "authorization_response_iss_parameter_supported": True,
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "ui_locales_supported": ["ja", "en"],
    }
    response = JsonResponse(metadata)
    response["Cache-Control"] = "public, max-age=300"
    return response


class OpenIDAuthorizationView(AuthorizationView):
    """
    The authorization endpoint: a resident signed in to the portal (else sent to its sign-in
    page and back) sees which service asks and, for each purpose the service may use under
    its approved uses, the notice's summary and a choice (nothing pre-ticked); then signs in
    to the service or not. Saying no to a purpose does not stop the sign-in.
    """

    template_name = "grants/oidc/authorize.html"
    login_url = reverse_lazy("consent:signin")

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated:
            request.resident = consent_selectors.resident_for_user(user)
            if request.resident is None:
                # A staff account is no city account: services never see staff through it.
                return render(request, "grants/oidc/not_resident.html", status=403)
        return super().dispatch(request, *args, **kwargs)

    def purpose_states(self, client) -> list:
        """The resident's decisions on the purposes the client's service may use now."""
        if client is None:
            return []
        ids = {purpose.pk for purpose in selectors.service_purposes_in_force(client.service_id)}
        return [
            state
            for state in consent_selectors.dashboard(self.request.resident)
            if state.purpose.pk in ids
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        application = context.get("application")
        if application is not None:
            client = selectors.openid_client_for_application(application.pk)
            context["openid_client"] = client
            context["purpose_states"] = self.purpose_states(client)
            context["choices"] = {
                key: value for key, value in self.request.POST.items() if key.startswith("purpose-")
            }
        return context

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        uri = context.get("redirect_uri") or getattr(self, "oauth2_data", {}).get("redirect_uri")
        if uri and not context.get("error"):
            # The form's answer redirects to the client's (registered, exactly matched)
            # redirect URI; browsers hold that redirect to the page's form-action.
            parts = urlsplit(uri)
            response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}
        return response

    def form_valid(self, form):
        if form.cleaned_data.get("allow"):
            client = selectors.openid_client_for_application(
                getattr(
                    Application.objects.filter(client_id=form.cleaned_data["client_id"]).first(),
                    "pk",
                    None,
                )
            )
            self.record_choices(client)
        return super().form_valid(form)

    def record_choices(self, client) -> None:
        """Record each purpose the resident chose on (an empty choice decides nothing)."""
        resident = self.request.resident
        actor = Actor.resident(resident.pseudonymous_id)
        for state in self.purpose_states(client):
            choice = self.request.POST.get(f"purpose-{state.purpose.pk}", "")
            if choice not in (AGREE, DECLINE):
                continue
            consent_services.consent_decide_at_sign_in(
                actor=actor, resident=resident, purpose=state.purpose, agree=choice == AGREE
            )


AGREE, DECLINE = "agree", "decline"
