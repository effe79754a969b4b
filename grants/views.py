"""
Pages and endpoints of the OpenID Provider: discovery, and the authorization page a resident
sees when a member service asks them to sign in. The token, userinfo and revocation endpoints
are django-oauth-toolkit's own views (grants.urls).
"""

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_GET
from oauth2_provider.views import AuthorizationView

from audit import keys
from consent import selectors as consent_selectors

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
    page and back) sees which service asks, and signs in to it or not.
    """

    template_name = "grants/oidc/authorize.html"
    login_url = reverse_lazy("consent:signin")

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and consent_selectors.resident_for_user(user) is None:
            # A staff account is no city account: services never see staff through the OP.
            return render(request, "grants/oidc/not_resident.html", status=403)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        application = context.get("application")
        if application is not None:
            context["openid_client"] = selectors.openid_client_for_application(application.pk)
        return context
