"""
The services' API: token introspection (RFC 7662), the per-resident consent check, and the
feed of revocations. One view per operation; services authenticate with client credentials.
"""

import functools
import json

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.api import ErrorSerializer
from audit.services import Actor
from config.api import APIError
from config.ids import ID_MAX, parse_id
from review.models import PIA_LEVELS, ReviewTicket

from . import selectors, services
from .authentication import ServiceAuthentication, basic_credentials

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="malformed_request, invalid_request"),
    401: OpenApiResponse(ErrorSerializer, description="unauthenticated"),
    429: OpenApiResponse(ErrorSerializer, description="rate_limited"),
}


class ServiceAPIView(APIView):
    authentication_classes = [ServiceAuthentication]
    permission_classes = [IsAuthenticated]


# --- POST /api/v1/introspect -----------------------------------------------------------------


TOKEN_MAX_LENGTH = 8192

# Text that is more than white space: a character outside the set that Python's str.strip
# removes (which the fields and the model apply), spelled out because the \s of other regular
# expression engines differs (ECMAScript's takes U+FEFF, Unicode's leaves out U+001C-U+001F).
NOT_BLANK = (
    r"[^\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)


class IntrospectInput(serializers.Serializer):
    """The form IntrospectView reads (checked by hand there); documents the request."""

    token = serializers.CharField(
        min_length=1,
        max_length=TOKEN_MAX_LENGTH,
        trim_whitespace=False,
        help_text="The grant exactly as issued: any other string is inactive.",
    )
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


INTROSPECTION_FIELDS = (
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


def introspection_answer(verdict: selectors.TokenVerdict) -> dict:
    """Return the RFC 7662 answer for a verdict (the claims are already of the output's types)."""
    if not verdict.active:
        # RFC 7662 §2.2: an inactive token gets nothing but "active": false.
        return {"active": False}
    claims = verdict.claims
    return {
        "active": True,
        "scope": " ".join(claims.get("data_categories", [])),
        "client_id": claims["sub"],
        "token_type": "grant+jwt",
        **{name: claims[name] for name in INTROSPECTION_FIELDS if name in claims},
    }


def _token_from_form(form) -> str:
    # Taken as sent, white space included: only the exact string issued is the grant.
    token = form.get("token")
    return token if isinstance(token, str) else ""


def introspect_directly(request) -> HttpResponse | None:
    """
    Answer the common introspection (an authenticated service posting a form with a token) with
    one query and without DRF's request cycle, the API's hottest path; return None to leave
    everything else (errors, other methods and media types) to IntrospectView, which gives the
    same answers (tests/grants/test_api.py runs both).
    """
    if request.method != "POST" or request.content_type != "application/x-www-form-urlencoded":
        return None
    client_id, secret = basic_credentials(request.META.get("HTTP_AUTHORIZATION", ""))
    if not client_id or not secret:
        return None
    try:
        token = _token_from_form(request.POST)
    except Exception:  # noqa: BLE001 - a bad body is IntrospectView's to refuse
        return None
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    found = selectors.token_introspect(client_id, secret, token)
    if found.service_id is None:
        return None  # IntrospectView counts the failure and answers 401
    body = json.dumps(
        introspection_answer(found.verdict), ensure_ascii=False, separators=(",", ":")
    )
    return HttpResponse(
        body, content_type="application/json", headers={"Cache-Control": "no-store"}
    )


class IntrospectView(ServiceAPIView):
    """RFC 7662 token introspection of a grant, for its service or a data holder it names."""

    parser_classes = [parsers.FormParser, parsers.MultiPartParser]

    @classmethod
    def as_view(cls, **initkwargs):
        """Route through ``introspect_directly`` first; the schema still describes this view."""
        drf_view = super().as_view(**initkwargs)

        def view(request, *args, **kwargs):
            return introspect_directly(request) or drf_view(request, *args, **kwargs)

        return functools.update_wrapper(view, drf_view)

    @extend_schema(
        operation_id="grant_introspect",
        request={"application/x-www-form-urlencoded": IntrospectInput},
        responses={200: IntrospectOutput, **ERRORS},
        tags=["grants"],
    )
    def post(self, request):
        # The input is checked by hand, as IntrospectInput would: this is a hot path.
        token = _token_from_form(request.data)
        if not token:
            raise serializers.ValidationError({"token": ["This field is required."]})
        if len(token) > TOKEN_MAX_LENGTH:
            raise serializers.ValidationError(
                {"token": [f"Ensure this field has no more than {TOKEN_MAX_LENGTH} characters."]}
            )
        verdict = selectors.token_verify(token, caller=request.user)
        return Response(introspection_answer(verdict), headers={"Cache-Control": "no-store"})


# --- POST /api/v1/grants/<jti>/check ---------------------------------------------------------


class TextField(serializers.CharField):
    """A JSON string, never a number or a boolean coerced to one (ids are opaque strings)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.trim_whitespace and self.min_length:
            # Trimmed, white space alone is empty: the schema says so with a pattern.
            self.validators.append(RegexValidator(NOT_BLANK))

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# The longest resident id a service may send: its pairwise subjects (43 characters), or, for an
# integration that predates the OpenID Provider, a pseudonymous id (24).
RESIDENT_ID_MAX_LENGTH = 64


class CheckInput(serializers.Serializer):
    residents = serializers.ListField(
        child=TextField(min_length=1, max_length=RESIDENT_ID_MAX_LENGTH, trim_whitespace=False),
        allow_empty=False,
        min_length=1,
        max_length=services.MAX_CHECK,
        help_text=(
            f"The residents as this service knows them: the pairwise ids (`sub`) its OpenID "
            f"client received, at most {services.MAX_CHECK:,}."
        ),
    )


class CheckOutput(serializers.Serializer):
    jti = serializers.CharField()
    grant_active = serializers.BooleanField()
    results = serializers.DictField(
        child=serializers.BooleanField(),
        help_text="For each resident: true if their data may flow now under this grant.",
    )
    allowed = serializers.IntegerField()
    unknown = serializers.ListField(
        child=serializers.CharField(),
        help_text="The ids sent that name no resident to this service (false in results).",
    )
    batch_sha256 = serializers.CharField(allow_null=True)


class GrantCheckView(ServiceAPIView):
    """Whether data may flow now, under one of the caller's grants, for each resident."""

    parser_classes = [parsers.JSONParser]

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
        # Checked by hand rather than by a ListField of 10,000 CharFields, which alone took
        # longer than the consent check (bench/grants_check.py).
        if not isinstance(residents, list) or not residents:
            raise APIError("invalid_request", 'Send {"residents": [resident ids, ...]}.')
        if len(residents) > services.MAX_CHECK:
            raise APIError(
                "too_many_residents",
                f"Send at most {services.MAX_CHECK:,} residents per call.",
            )
        if not all(
            type(rid) is str and 0 < len(rid) <= RESIDENT_ID_MAX_LENGTH for rid in residents
        ):
            raise APIError(
                "invalid_request",
                f"Every resident must be an id this service knows them by: a string of at most "
                f"{RESIDENT_ID_MAX_LENGTH} characters.",
            )
        answer = services.grant_check_residents(
            service=request.user, grant=grant, resident_ids=residents
        )
        results = answer["results"]
        return Response(
            {
                "jti": grant.jti,
                "grant_active": answer["grant_active"],
                "results": results,
                "allowed": sum(results.values()),
                "unknown": answer["unknown"],
                "batch_sha256": answer["batch"],
            }
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
    """Status changes (suspended, reinstated, revoked, expired) of the caller's grants."""

    @extend_schema(
        operation_id="grant_revocations",
        parameters=[
            OpenApiParameter(
                "since",
                {"type": "integer", "minimum": 0, "maximum": ID_MAX},
                required=False,
                description="cursor, 0 first",
            )
        ],
        responses={200: RevocationsOutput, **ERRORS},
        tags=["grants"],
    )
    def get(self, request):
        given = request.query_params.getlist("since") or ["0"]
        since = parse_id(given[0]) if len(given) == 1 else None
        if since is None:
            raise APIError("invalid_request", "since must be a cursor from a previous answer.")
        events = selectors.revocations_since(request.user, since)
        next_cursor = events[-1].id if events else since
        return Response(RevocationsOutput({"items": events, "next": next_cursor}).data)


# --- POST /api/v1/tickets, GET /api/v1/tickets/<id> -------------------------------------------


class PiaRow(serializers.Serializer):
    risk = TextField(min_length=1, max_length=500)
    # One choice set, named PiaLevelEnum in the schema (SPECTACULAR_SETTINGS).
    likelihood = serializers.ChoiceField(choices=PIA_LEVELS)
    impact = serializers.ChoiceField(choices=PIA_LEVELS)
    mitigation = TextField(min_length=1, max_length=1000)


class StrictBooleanField(serializers.BooleanField):
    """true or false, never "yes" or 1."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class TicketInput(serializers.Serializer):
    title = TextField(min_length=1, max_length=200)
    purpose = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=ID_MAX
    )
    proposed_purpose_title = TextField(max_length=200, required=False, allow_blank=True, default="")
    proposed_purpose_explanation = TextField(required=False, allow_blank=True, default="")
    categories = serializers.ListField(
        child=serializers.SlugField(max_length=64), max_length=100, help_text="category codes"
    )
    recipients = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX),
        required=False,
        default=list,
        max_length=100,
        help_text="organisation ids",
    )
    third_party_provision = StrictBooleanField(required=False, default=False)
    legal_basis = serializers.ChoiceField(
        choices=ReviewTicket.LegalBasis.values,
        required=False,
        default=ReviewTicket.LegalBasis.CONSENT.value,
    )
    retention_days = serializers.IntegerField(min_value=1, max_value=36500)
    deletion_method = TextField(min_length=1, max_length=2000)
    security_measures = TextField(min_length=1, max_length=4000)
    anonymisation = serializers.ChoiceField(choices=ReviewTicket.Anonymisation.values)
    anonymisation_details = TextField(max_length=2000, required=False, allow_blank=True, default="")
    cross_border_transfer = StrictBooleanField(required=False, default=False)
    cross_border_details = TextField(max_length=2000, required=False, allow_blank=True, default="")
    # A list field rather than PiaRow(many=True): the same validation, and the schema then
    # says that at least one row is needed (drf-spectacular gives no minItems for the latter).
    pia = serializers.ListField(child=PiaRow(), min_length=1, max_length=100)
    submit = StrictBooleanField(
        required=False, default=True, help_text="submit to the board now (else a draft)"
    )


def ticket_input_conditions(result, generator, request, public):
    """
    State in the schema what ReviewTicket.clean requires across fields, so that the schema and
    the server agree: exactly one of an existing purpose and a proposed one; the details of a
    cross-border transfer when there is one; how the data are processed unless they are used
    as they are (anonymisation ``none``).
    """
    schema = result.get("components", {}).get("schemas", {}).get("TicketInput")
    if schema is None:
        return result
    proposed = {"required": ["proposed_purpose_title"]}
    proposed["properties"] = {"proposed_purpose_title": {"type": "string", "pattern": NOT_BLANK}}
    schema["allOf"] = [
        {
            "oneOf": [
                {"required": ["purpose"], "properties": {"purpose": {"type": "integer"}}},
                proposed,
            ]
        },
        {
            "anyOf": [
                {"properties": {"cross_border_transfer": {"enum": [False]}}},
                {
                    "required": ["cross_border_details"],
                    "properties": {"cross_border_details": {"pattern": NOT_BLANK}},
                },
            ]
        },
        {
            "anyOf": [
                {"properties": {"anonymisation": {"enum": [ReviewTicket.Anonymisation.NONE]}}},
                {
                    "required": ["anonymisation_details"],
                    "properties": {"anonymisation_details": {"pattern": NOT_BLANK}},
                },
            ]
        },
    ]
    return result


class ObligationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    text = serializers.CharField()
    critical = serializers.BooleanField()
    due_on = serializers.DateField(allow_null=True)
    recurrence = serializers.CharField(help_text='"" (once) or "yearly"')
    repeats_left = serializers.IntegerField()
    state = serializers.CharField(
        help_text="open, submitted, accepted, rejected, overdue or waived"
    )


class TicketOutput(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField()
    title = serializers.CharField()
    service_name = serializers.CharField()
    purpose = serializers.IntegerField(allow_null=True)
    conditions = serializers.ListField(child=serializers.CharField())
    obligations = ObligationOutput(many=True, help_text="the conditions as obligations")
    valid_from = serializers.DateField(allow_null=True)
    valid_until = serializers.DateField(allow_null=True)
    grants = serializers.ListField(child=serializers.CharField(), help_text="jti of its grants")


def ticket_output(ticket, service) -> dict:
    return TicketOutput(
        {
            "id": ticket.pk,
            "state": ticket.state,
            "title": ticket.title,
            "service_name": ticket.service_name,
            "purpose": ticket.purpose_id,
            "conditions": [line for line in ticket.conditions.splitlines() if line.strip()],
            "obligations": list(ticket.obligations.all()),
            "valid_from": ticket.valid_from,
            "valid_until": ticket.valid_until,
            "grants": list(
                service.grants.filter(ticket_id=ticket.pk).values_list("jti", flat=True)
            ),
        }
    ).data


class TicketCreateView(ServiceAPIView):
    """File a review request for the calling service, and submit it to the ethics board."""

    parser_classes = [parsers.JSONParser]

    @extend_schema(
        operation_id="ticket_create",
        request=TicketInput,
        responses={201: TicketOutput, **ERRORS},
        tags=["tickets"],
    )
    def post(self, request):
        if not isinstance(request.data, dict):
            raise APIError("invalid_request", "Send a JSON object.")
        given = TicketInput(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            ticket = services.ticket_file(service=request.user, **given.validated_data)
        except services.InvalidReference as error:
            raise APIError("unknown_reference", str(error)) from None
        except ValidationError as error:
            raise APIError("invalid_request", " ".join(error.messages)) from None
        return Response(ticket_output(ticket, request.user), status=201)


class TicketDetailView(ServiceAPIView):
    """One of the calling service's review requests: its state, conditions, term and grants."""

    @extend_schema(
        operation_id="ticket_get",
        responses={
            200: TicketOutput,
            404: OpenApiResponse(ErrorSerializer, description="not_found"),
            **ERRORS,
        },
        tags=["tickets"],
    )
    def get(self, request, ticket_id: int):
        ticket = selectors.access_service_ticket(request.user, ticket_id)
        return Response(ticket_output(ticket, request.user))


# --- POST /api/v1/tickets/<id>/obligations/<id>/evidence ----------------------------------------


class EvidenceInput(serializers.Serializer):
    text = TextField(min_length=1, max_length=20000, help_text="how the condition is met")


class EvidenceUploadInput(EvidenceInput):
    """The same evidence as multipart/form-data, with the files the review pages take."""

    files = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text="PDF, PNG or JPEG files (up to five, each within the upload size limit); "
        "repeat the field for each file",
    )


class EvidenceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    obligation = ObligationOutput()
    attachments = serializers.ListField(
        child=serializers.DictField(), help_text="the files kept: id, name, type, size, sha256"
    )


class ObligationEvidenceView(ServiceAPIView):
    """
    File evidence that one of the calling service's ticket's obligations is met: a text as
    JSON, or a text and files as multipart/form-data (field ``text``, field ``files`` once per
    file; the review pages' limits: up to five PDF, PNG or JPEG files, each within the upload
    size limit, the type read from the content). The board accepts or rejects it.
    """

    parser_classes = [parsers.JSONParser, parsers.MultiPartParser]

    @extend_schema(
        operation_id="obligation_evidence_submit",
        request={
            "application/json": EvidenceInput,
            "multipart/form-data": EvidenceUploadInput,
        },
        responses={
            201: EvidenceOutput,
            404: OpenApiResponse(ErrorSerializer, description="not_found"),
            409: OpenApiResponse(ErrorSerializer, description="not_owed"),
            **ERRORS,
        },
        tags=["tickets"],
    )
    def post(self, request, ticket_id: int, obligation_id: int):
        ticket = selectors.access_service_ticket(request.user, ticket_id)
        obligation = ticket.obligations.filter(pk=obligation_id).first()
        if obligation is None:
            raise APIError("not_found", "No such obligation of this ticket.", status_code=404)
        if not isinstance(request.data, dict):
            raise APIError("invalid_request", "Send a JSON object.")
        uploads = request.FILES.getlist("files") if request.FILES else []
        given = EvidenceInput(data={"text": request.data.get("text")})
        given.is_valid(raise_exception=True)
        try:
            evidence = services.obligation_evidence_file(
                service=request.user,
                obligation=obligation,
                text=given.validated_data["text"],
                uploads=uploads,
            )
        except ValidationError as error:
            # A refusal of a field (a file's type or size) carries no code of its own.
            refused_as = getattr(error, "code", None)
            code = "not_owed" if refused_as == "not_owed" else "invalid_request"
            raise APIError(
                code, " ".join(error.messages), status_code=409 if code == "not_owed" else 400
            ) from None
        obligation.refresh_from_db()
        attachments = [
            {
                "id": attachment.pk,
                "name": attachment.original_name,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "sha256": attachment.sha256,
            }
            for attachment in evidence.attachments.order_by("pk")
        ]
        return Response(
            EvidenceOutput(
                {"id": evidence.pk, "obligation": obligation, "attachments": attachments}
            ).data,
            status=201,
        )


# --- Withdrawal notices: POST /api/v1/events/poll, POST /api/v1/events/<jti>/confirm -------------


class PollInput(serializers.Serializer):
    """RFC 8936 §2.4 poll request (the members this platform reads)."""

    # Any string: an id that names none of the caller's events is ignored (RFC 8936 §2.4).
    ack = serializers.ListField(
        child=serializers.CharField(max_length=64, allow_blank=True, trim_whitespace=False),
        required=False,
        max_length=services.events.MAX_POLL,
    )
    maxEvents = serializers.IntegerField(  # noqa: N815 - the RFC's member name
        required=False, min_value=0, max_value=services.events.MAX_POLL
    )
    returnImmediately = serializers.BooleanField(required=False)  # noqa: N815


class PollOutput(serializers.Serializer):
    sets = serializers.DictField(
        child=serializers.CharField(), help_text="jti -> Security Event Token (RFC 8417)"
    )
    moreAvailable = serializers.BooleanField()  # noqa: N815


class EventsPollView(ServiceAPIView):
    """
    RFC 8936 poll delivery of the caller's withdrawal notices: acknowledge the events named in
    ``ack``, receive up to ``maxEvents`` (default 100) not yet acknowledged.
    """

    parser_classes = [parsers.JSONParser]

    @extend_schema(
        operation_id="events_poll",
        request=PollInput,
        responses={200: PollOutput, **ERRORS},
        tags=["events"],
    )
    def post(self, request):
        if not isinstance(request.data, dict):
            raise APIError("invalid_request", "Send a JSON object (RFC 8936 §2.4).")
        given = PollInput(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        sets, more = services.withdrawal_poll(
            service=request.user,
            acks=list(dict.fromkeys(data.get("ack", []))),
            max_events=data.get("maxEvents", 100),
        )
        return Response(
            {"sets": sets, "moreAvailable": more}, headers={"Cache-Control": "no-store"}
        )


class ConfirmInput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["deleted", "anonymised", "retained"])
    retained_until = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="With outcome retained: the date until which the law obliges you to keep it.",
    )


class ConfirmOutput(serializers.Serializer):
    jti = serializers.CharField()
    outcome = serializers.CharField()
    retained_until = serializers.DateField(allow_null=True)
    confirmed_at = serializers.DateTimeField()


class EventConfirmView(ServiceAPIView):
    """Confirm what the caller did with the data a withdrawal notice is about."""

    parser_classes = [parsers.JSONParser]

    @extend_schema(
        operation_id="event_confirm",
        request=ConfirmInput,
        responses={
            200: ConfirmOutput,
            404: OpenApiResponse(ErrorSerializer, description="not_found"),
            **ERRORS,
        },
        tags=["events"],
    )
    def post(self, request, jti: str):
        from consent.models import RecipientNotice
        from consent.services import recipient_notice_confirm

        if not isinstance(request.data, dict):
            raise APIError("invalid_request", "Send a JSON object.")
        given = ConfirmInput(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            notice = recipient_notice_confirm(
                actor=Actor.service(request.user.pk),
                service_id=request.user.pk,
                jti=jti,
                outcome=given.validated_data["outcome"],
                retained_until=given.validated_data.get("retained_until"),
            )
        except RecipientNotice.DoesNotExist:
            raise APIError("not_found", "No such event for this service.", 404) from None
        except ValidationError as error:
            raise APIError("invalid_request", " ".join(error.messages)) from None
        return Response(
            ConfirmOutput(
                {
                    "jti": notice.jti,
                    "outcome": notice.outcome,
                    "retained_until": notice.retained_until,
                    "confirmed_at": notice.confirmed_at,
                }
            ).data
        )
