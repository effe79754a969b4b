"""
The services' API: token introspection (RFC 7662), the per-resident consent check, and the
feed of revocations. One view per operation; services authenticate with client credentials.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.api import ErrorSerializer
from config.api import APIError
from consent.models import PSEUDONYMOUS_ID_LENGTH

from . import selectors, services
from .authentication import ServiceAuthentication

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="malformed_request, invalid_request"),
    401: OpenApiResponse(ErrorSerializer, description="unauthenticated"),
    429: OpenApiResponse(ErrorSerializer, description="rate_limited"),
}


class ServiceAPIView(APIView):
    authentication_classes = [ServiceAuthentication]
    permission_classes = [IsAuthenticated]


# --- POST /api/v1/introspect -----------------------------------------------------------------


class IntrospectInput(serializers.Serializer):
    token = serializers.CharField(max_length=8192, trim_whitespace=True)
    token_type_hint = serializers.CharField(required=False, allow_blank=True)


class IntrospectOutput(serializers.Serializer):
    active = serializers.BooleanField()
    scope = serializers.CharField(required=False, help_text="The data categories, space-separated.")
    client_id = serializers.CharField(required=False)
    sub = serializers.CharField(required=False)
    aud = serializers.ListField(child=serializers.CharField(), required=False)
    iss = serializers.CharField(required=False)
    exp = serializers.IntegerField(required=False)
    iat = serializers.IntegerField(required=False)
    nbf = serializers.IntegerField(required=False)
    jti = serializers.CharField(required=False)
    token_type = serializers.CharField(required=False)
    purpose = serializers.IntegerField(required=False)
    purpose_code = serializers.CharField(required=False)
    data_categories = serializers.ListField(child=serializers.CharField(), required=False)
    ticket = serializers.IntegerField(required=False, allow_null=True)
    conditions = serializers.ListField(required=False)


class IntrospectView(ServiceAPIView):
    """RFC 7662 token introspection of a grant, for its service or a data holder it names."""

    parser_classes = [parsers.FormParser, parsers.MultiPartParser]

    @extend_schema(
        operation_id="grant_introspect",
        request={"application/x-www-form-urlencoded": IntrospectInput},
        responses={200: IntrospectOutput, **ERRORS},
        tags=["grants"],
    )
    def post(self, request):
        given = IntrospectInput(data=request.data)
        given.is_valid(raise_exception=True)
        verdict = selectors.token_verify(given.validated_data["token"], caller=request.user)
        if not verdict.active:
            # RFC 7662 §2.2: an inactive token gets nothing but "active": false.
            return Response({"active": False}, headers={"Cache-Control": "no-store"})
        claims = verdict.claims
        answer = {
            "active": True,
            "scope": " ".join(claims.get("data_categories", [])),
            "client_id": claims["sub"],
            "token_type": "grant+jwt",
            **{
                name: claims[name]
                for name in (
                    "sub",
                    "aud",
                    "iss",
                    "exp",
                    "iat",
                    "nbf",
                    "jti",
                    "purpose",
                    "purpose_code",
                    "data_categories",
                    "ticket",
                    "conditions",
                )
                if name in claims
            },
        }
        return Response(IntrospectOutput(answer).data, headers={"Cache-Control": "no-store"})


# --- POST /api/v1/grants/<jti>/check ---------------------------------------------------------


class PseudonymousIdField(serializers.CharField):
    """A string, never a number coerced to one: ids are opaque strings."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CheckInput(serializers.Serializer):
    residents = serializers.ListField(
        child=PseudonymousIdField(max_length=PSEUDONYMOUS_ID_LENGTH, trim_whitespace=False),
        allow_empty=False,
        max_length=services.MAX_CHECK,
        help_text=f"Pseudonymous ids, at most {services.MAX_CHECK:,}.",
    )


class CheckOutput(serializers.Serializer):
    jti = serializers.CharField()
    grant_active = serializers.BooleanField()
    results = serializers.DictField(
        child=serializers.BooleanField(),
        help_text="For each resident: true if their data may flow now under this grant.",
    )
    allowed = serializers.IntegerField()
    batch_sha256 = serializers.CharField(allow_null=True)


class GrantCheckView(ServiceAPIView):
    """Whether data may flow now, under one of the caller's grants, for each resident."""

    @extend_schema(
        operation_id="grant_check",
        request=CheckInput,
        responses={
            200: CheckOutput,
            404: OpenApiResponse(ErrorSerializer, description="not_found"),
            **ERRORS,
        },
        tags=["grants"],
    )
    def post(self, request, jti: str):
        grant = selectors.access_grant(request.user, jti)
        if not isinstance(request.data, dict):
            raise APIError("invalid_request", 'Send a JSON object {"residents": [...]}.')
        residents = request.data.get("residents")
        if isinstance(residents, list) and len(residents) > services.MAX_CHECK:
            raise APIError(
                "too_many_residents",
                f"Send at most {services.MAX_CHECK:,} residents per call.",
            )
        given = CheckInput(data=request.data)
        given.is_valid(raise_exception=True)
        answer = services.grant_check(
            service=request.user,
            grant=grant,
            pseudonymous_ids=given.validated_data["residents"],
        )
        return Response(
            CheckOutput(
                {
                    "jti": grant.jti,
                    "grant_active": answer["grant_active"],
                    "results": answer["results"],
                    "allowed": sum(answer["results"].values()),
                    "batch_sha256": answer["batch"],
                }
            ).data
        )


# --- GET /api/v1/revocations -----------------------------------------------------------------


class RevocationItem(serializers.Serializer):
    cursor = serializers.IntegerField(source="id")
    jti = serializers.CharField(source="grant.jti")
    status = serializers.CharField()
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class RevocationsOutput(serializers.Serializer):
    items = RevocationItem(many=True)
    next = serializers.IntegerField(help_text="Pass as ?since= to get what follows.")


class RevocationsView(ServiceAPIView):
    """Status changes (suspended, reinstated, revoked) of the caller's grants after a cursor."""

    @extend_schema(
        operation_id="grant_revocations",
        parameters=[OpenApiParameter("since", int, required=False, description="cursor, 0 first")],
        responses={200: RevocationsOutput, **ERRORS},
        tags=["grants"],
    )
    def get(self, request):
        since = request.query_params.get("since", "0") or "0"
        if not since.isdigit() or len(since) > 18:
            raise APIError("invalid_request", "since must be a cursor from a previous answer.")
        events = selectors.revocations_since(request.user, int(since))
        next_cursor = events[-1].id if events else int(since)
        return Response(RevocationsOutput({"items": events, "next": next_cursor}).data)
