"""
The audit app's public API, no sign-in: checkpoints and their history, and RFC 6962 inclusion
and consistency proofs against the newest checkpoint.
"""

import base64

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import APIError
from config.ids import ID_MAX, parse_id

from . import merkle, selectors, tree
from .models import Checkpoint

# Proofs about sizes a checkpoint covers never change; checkpoints appear every few minutes.
PROOF_CACHE = "public, max-age=86400"
CHECKPOINT_CACHE = "public, max-age=60"
HISTORY_PAGE = 1000


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


class CheckpointSerializer(serializers.Serializer):
    seq = serializers.IntegerField(
        help_text="Tree size: the number of entries covered (the sequence number of the newest)."
    )
    hash = serializers.CharField(help_text="Hex SHA-256 chain hash of the newest entry covered.")
    root = serializers.CharField(
        allow_null=True,
        help_text="Base64 RFC 6962 Merkle root of the entries covered, as in the note's third "
        "line; null for a checkpoint of the earlier format (chain hash only).",
    )
    time = serializers.DateTimeField()
    kid = serializers.CharField(help_text="Key id (RFC 7638 thumbprint) in the JWKS.")
    note = serializers.CharField(
        help_text="The signed note: C2SP tlog-checkpoint (origin, size, root), or the earlier "
        "four-line format when root is null."
    )


def checkpoint_data(checkpoint: Checkpoint) -> dict:
    return CheckpointSerializer(
        {
            "seq": checkpoint.seq,
            "hash": checkpoint.hash,
            "root": b64(bytes.fromhex(checkpoint.root)) if checkpoint.root else None,
            "time": checkpoint.time,
            "kid": checkpoint.key.kid,
            "note": checkpoint.note,
        }
    ).data


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="A stable, machine-readable code.")
    detail = serializers.CharField(help_text="A human explanation.")


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="invalid_parameter, invalid_range"),
    404: OpenApiResponse(ErrorSerializer, description="no_checkpoint, beyond_checkpoint"),
}


class PublicAPIView(APIView):
    authentication_classes: list = []
    permission_classes: list = []


def size_parameter(request, name: str, *, minimum: int = 0) -> int:
    """Return the query parameter ``name`` as a whole number >= ``minimum``; else a 400."""
    given = request.query_params.getlist(name)
    value = parse_id(given[0]) if len(given) == 1 and len(given[0]) <= 19 else None
    if value is None or value < minimum:
        raise APIError(
            "invalid_parameter",
            f"{name} must be given once, as a whole number of at least {minimum}.",
        )
    return value


def covered(size: int, name: str, newest: int | None) -> None:
    """Refuse (404) a size beyond the newest checkpoint's (``newest``, None when none)."""
    if newest is None:
        raise APIError("no_checkpoint", "No checkpoint has been made yet.", 404)
    if size > newest:
        raise APIError(
            "beyond_checkpoint",
            f"{name} is beyond the newest checkpoint; fetch /audit-log/checkpoint again.",
            404,
        )


def size_parameter_schema(
    name: str, description: str, *, minimum: int = 1, required: bool = True
) -> OpenApiParameter:
    """The OpenAPI description of a tree size or leaf index read by ``size_parameter``."""
    return OpenApiParameter(
        name,
        {"type": "integer", "minimum": minimum, "maximum": ID_MAX},
        required=required,
        description=description,
    )


class CheckpointLatestView(PublicAPIView):
    """The newest signed checkpoint of the audit log; public, no authentication."""

    @extend_schema(
        operation_id="audit_checkpoint_latest",
        responses={200: CheckpointSerializer, 404: OpenApiResponse(ErrorSerializer)},
        tags=["audit"],
    )
    def get(self, request):
        checkpoint = selectors.checkpoint_latest()
        if checkpoint is None:
            raise APIError("no_checkpoint", "No checkpoint has been made yet.", 404)
        response = Response(checkpoint_data(checkpoint))
        response["Cache-Control"] = CHECKPOINT_CACHE
        return response


class CheckpointHistorySerializer(serializers.Serializer):
    checkpoints = CheckpointSerializer(many=True, help_text="Oldest first.")
    next = serializers.IntegerField(
        allow_null=True,
        help_text=f"At most {HISTORY_PAGE} checkpoints a page: pass as ?since= for the next "
        "page; null on the last page.",
    )


class CheckpointHistoryView(PublicAPIView):
    """Every signed checkpoint covering ``since`` entries or more, oldest first."""

    @extend_schema(
        operation_id="audit_checkpoint_history",
        parameters=[
            size_parameter_schema(
                "since",
                "tree size; 0 (the default) for the whole history",
                minimum=0,
                required=False,
            )
        ],
        responses={200: CheckpointHistorySerializer, **ERRORS},
        tags=["audit"],
    )
    def get(self, request):
        since = size_parameter(request, "since") if "since" in request.query_params else 0
        newest = selectors.checkpoint_latest()
        if newest is None:
            raise APIError("no_checkpoint", "No checkpoint has been made yet.", 404)
        if since > newest.seq:
            raise APIError(
                "beyond_checkpoint", "since is beyond the newest checkpoint's size.", 404
            )
        page = list(selectors.checkpoints_since(since)[: HISTORY_PAGE + 1])
        following = page[HISTORY_PAGE].seq if len(page) > HISTORY_PAGE else None
        if following is not None and following == page[0].seq:
            following = None  # more than a page at one size: never, in practice
        page = page[:HISTORY_PAGE]
        if following is not None:
            page = [cp for cp in page if cp.seq < following]
        response = Response(
            {"checkpoints": [checkpoint_data(cp) for cp in page], "next": following}
        )
        response["Cache-Control"] = CHECKPOINT_CACHE
        return response


class InclusionProofSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Leaf index: the entry's sequence number - 1.")
    size = serializers.IntegerField(help_text="Tree size the proof is against.")
    leaf_hash = serializers.CharField(help_text="Base64 SHA-256(0x00 || entry's leaf data).")
    proof = serializers.ListField(
        child=serializers.CharField(), help_text="RFC 6962 audit path, base64, leaf first."
    )


class InclusionProofView(PublicAPIView):
    """The RFC 6962 inclusion proof (audit path) of one entry in the tree of ``size`` entries."""

    @extend_schema(
        operation_id="audit_inclusion_proof",
        parameters=[
            size_parameter_schema("index", "leaf index (sequence number - 1)", minimum=0),
            size_parameter_schema("size", "tree size, at most the newest checkpoint's"),
        ],
        responses={200: InclusionProofSerializer, **ERRORS},
        tags=["audit"],
    )
    def get(self, request):
        index = size_parameter(request, "index")
        size = size_parameter(request, "size", minimum=1)
        if index >= size:
            raise APIError("invalid_range", "index must be smaller than size.")
        newest, reader = tree.proof_reader(size, index)
        covered(size, "size", newest)
        leaf, proof = reader.node(0, index), merkle.inclusion_proof(index, size, reader.node)
        response = Response(
            {"index": index, "size": size, "leaf_hash": b64(leaf), "proof": [b64(p) for p in proof]}
        )
        response["Cache-Control"] = PROOF_CACHE
        return response


class ConsistencyProofSerializer(serializers.Serializer):
    # "from" is a Python keyword: the field is named in the schema by its source.
    from_ = serializers.IntegerField(help_text="The smaller tree size.")
    to = serializers.IntegerField(help_text="The larger tree size.")
    proof = serializers.ListField(
        child=serializers.CharField(), help_text="RFC 6962 consistency proof, base64."
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class ConsistencyProofView(PublicAPIView):
    """The RFC 6962 consistency proof between the trees of ``from`` and ``to`` entries."""

    @extend_schema(
        operation_id="audit_consistency_proof",
        parameters=[
            size_parameter_schema("from", "tree size"),
            size_parameter_schema(
                "to", "tree size, at least from, at most the newest checkpoint's"
            ),
        ],
        responses={200: ConsistencyProofSerializer, **ERRORS},
        tags=["audit"],
    )
    def get(self, request):
        first = size_parameter(request, "from", minimum=1)
        second = size_parameter(request, "to", minimum=1)
        if first > second:
            raise APIError("invalid_range", "from must not be larger than to.")
        newest, reader = tree.proof_reader(second, first - 1)
        covered(second, "to", newest)
        proof = merkle.consistency_proof(first, second, reader.node)
        response = Response({"from": first, "to": second, "proof": [b64(p) for p in proof]})
        response["Cache-Control"] = PROOF_CACHE
        return response
