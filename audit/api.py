"""The audit app's public API: the newest signed checkpoint."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import APIError

from . import selectors


class CheckpointSerializer(serializers.Serializer):
    seq = serializers.IntegerField(help_text="Sequence number of the newest entry covered.")
    hash = serializers.CharField(help_text="Hex SHA-256 hash of that entry.")
    time = serializers.DateTimeField()
    kid = serializers.CharField(help_text="Key id (RFC 7638 thumbprint) in the JWKS.")
    note = serializers.CharField(help_text="The signed note (C2SP tlog-checkpoint style).")


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="A stable, machine-readable code.")
    detail = serializers.CharField(help_text="A human explanation.")


class CheckpointLatestView(APIView):
    """The newest signed checkpoint of the audit log; public, no authentication."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        operation_id="audit_checkpoint_latest",
        responses={200: CheckpointSerializer, 404: OpenApiResponse(ErrorSerializer)},
        tags=["audit"],
    )
    def get(self, request):
        checkpoint = selectors.checkpoint_latest()
        if checkpoint is None:
            raise APIError("no_checkpoint", "No checkpoint has been made yet.", 404)
        data = CheckpointSerializer(
            {
                "seq": checkpoint.seq,
                "hash": checkpoint.hash,
                "time": checkpoint.time,
                "kid": checkpoint.key.kid,
                "note": checkpoint.note,
            }
        ).data
        response = Response(data)
        response["Cache-Control"] = "public, max-age=60"
        return response
