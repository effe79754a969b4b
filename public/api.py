"""
The requester's side of a use's indicators: a member service reads the indicators (KPIs) that
follow its approved use and reports their values (outcome reports), with source and evidence.
Services authenticate as for the rest of the API (grants' client credentials).
"""

import re

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import parsers, serializers
from rest_framework.response import Response

from audit.api import ErrorSerializer
from audit.services import Actor
from config.api import APIError
from grants import selectors as grants_selectors
from grants.api import ERRORS, ServiceAPIView, TextField
from review.models import Obligation

from . import services
from .models import Indicator, Measurement

# Codes of the refusals a service can act on.
REFUSALS = {
    "not_approved": 409,
    "computed": 409,
    "already_measured": 409,
    "not_outcome_report": 409,
}


class MeasurementOutput(serializers.Serializer):
    id = serializers.IntegerField()
    measured_on = serializers.DateField()
    value = serializers.DecimalField(max_digits=14, decimal_places=2)
    computed = serializers.BooleanField(help_text="computed by the platform from its records")
    reported_by_requester = serializers.BooleanField(help_text="reported by this use's requester")
    obligation = serializers.IntegerField(
        allow_null=True, help_text="the outcome-report obligation it was filed with"
    )


class IndicatorOutput(serializers.Serializer):
    code = serializers.CharField()
    name_ja = serializers.CharField()
    name_en = serializers.CharField()
    unit = serializers.CharField()
    direction = serializers.ChoiceField(choices=Indicator.Direction.choices)
    source = serializers.ChoiceField(choices=Indicator.Source.choices)
    baseline_value = serializers.DecimalField(max_digits=14, decimal_places=2)
    baseline_on = serializers.DateField()
    target_value = serializers.DecimalField(max_digits=14, decimal_places=2)
    target_on = serializers.DateField()
    measurements = MeasurementOutput(many=True)


def measurement_data(measurement: Measurement) -> dict:
    return {
        "id": measurement.pk,
        "measured_on": measurement.measured_on,
        "value": measurement.value,
        "computed": measurement.computed,
        "reported_by_requester": measurement.reported_by_id is not None,
        "obligation": measurement.obligation_id,
    }


def error_codes(error: ValidationError) -> set:
    if hasattr(error, "error_dict"):
        return {e.code for errors in error.error_dict.values() for e in errors}
    return {e.code for e in error.error_list}


class TicketIndicatorsView(ServiceAPIView):
    """List the indicators that follow the calling service's use, with their values."""

    @extend_schema(
        operation_id="ticket_indicators_list",
        responses={
            200: IndicatorOutput(many=True),
            404: OpenApiResponse(ErrorSerializer, description="not_found"),
            **ERRORS,
        },
        tags=["tickets"],
    )
    def get(self, request, ticket_id: int):
        ticket = grants_selectors.access_service_ticket(request.user, ticket_id)
        indicators = (
            Indicator.objects.filter(ticket=ticket, consortium_id=ticket.consortium_id)
            .prefetch_related("measurements")
            .order_by("code")
        )
        data = [
            {
                **{
                    field: getattr(indicator, field)
                    for field in IndicatorOutput().fields
                    if field != "measurements"
                },
                "measurements": [
                    measurement_data(m)
                    for m in sorted(indicator.measurements.all(), key=lambda m: m.measured_on)
                ],
            }
            for indicator in indicators
        ]
        return Response(IndicatorOutput(data, many=True).data)


# A value as the model keeps it: up to 12 digits before the point and 2 after.
VALUE_PATTERN = r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$"


@extend_schema_field({"type": "string", "pattern": VALUE_PATTERN, "example": "1234.50"})
class ValueField(serializers.DecimalField):
    """A decimal sent as a JSON string (as the answers give it), never a binary float."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=14, decimal_places=2, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.fullmatch(VALUE_PATTERN, data):
            self.fail("invalid")
        return super().to_internal_value(data)


class MeasurementInput(serializers.Serializer):
    measured_on = serializers.DateField(help_text="the day the value holds for (YYYY-MM-DD)")
    value = ValueField(help_text="the value, as a string of digits with up to 2 decimals")
    source = TextField(min_length=1, max_length=200, help_text="where the value comes from")
    evidence = TextField(
        required=False,
        default="",
        allow_blank=True,
        max_length=20000,
        help_text="how it was measured",
    )
    obligation = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="the id of the use's outcome-report obligation this value is filed with",
    )


class MeasurementReportView(ServiceAPIView):
    """
    Report the value of one of the indicators that follow the calling service's approved use
    (an outcome report). One value per indicator and day; computed indicators refuse values.
    """

    parser_classes = [parsers.JSONParser]

    @extend_schema(
        operation_id="indicator_measurement_report",
        request=MeasurementInput,
        responses={
            201: MeasurementOutput,
            404: OpenApiResponse(ErrorSerializer, description="not_found"),
            409: OpenApiResponse(
                ErrorSerializer,
                description="not_approved, computed, already_measured, not_outcome_report",
            ),
            **ERRORS,
        },
        tags=["tickets"],
    )
    def post(self, request, ticket_id: int, code: str):
        ticket = grants_selectors.access_service_ticket(request.user, ticket_id)
        if not isinstance(request.data, dict):
            raise APIError("invalid_request", "Send a JSON object.")
        given = MeasurementInput(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            measurement = services.measurement_report(
                actor=Actor.service(request.user.pk),
                ticket=ticket,
                code=code,
                **given.validated_data,
            )
        except Indicator.DoesNotExist:
            raise APIError("not_found", "No such indicator of this use.", status_code=404) from None
        except Obligation.DoesNotExist:
            raise APIError(
                "not_found", "No such obligation of this use.", status_code=404
            ) from None
        except ValidationError as error:
            code_found = next((c for c in error_codes(error) if c in REFUSALS), None)
            if code_found:
                raise APIError(
                    code_found, " ".join(error.messages), status_code=REFUSALS[code_found]
                ) from None
            raise APIError("invalid_request", " ".join(error.messages)) from None
        return Response(MeasurementOutput(measurement_data(measurement)).data, status=201)
