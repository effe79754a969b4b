from django.urls import path, re_path

from . import api, views

app_name = "audit"
urlpatterns = [
    path(
        "api/v1/audit/checkpoints/latest",
        api.CheckpointLatestView.as_view(),
        name="checkpoint-latest",
    ),
    path(
        "api/v1/audit/checkpoints", api.CheckpointHistoryView.as_view(), name="checkpoint-history"
    ),
    path("api/v1/audit/proofs/inclusion", api.InclusionProofView.as_view(), name="proof-inclusion"),
    path(
        "api/v1/audit/proofs/consistency",
        api.ConsistencyProofView.as_view(),
        name="proof-consistency",
    ),
    path("reports/verify", views.report_verify, name="report-verify"),
    # C2SP tlog-tiles below the log's prefix, /audit-log/.
    path("audit-log/checkpoint", views.checkpoint_note, name="log-checkpoint"),
    # This platform as a witness of other logs: the submission prefix is /witness.
    path("witness/add-checkpoint", views.witness_add_checkpoint, name="witness-add-checkpoint"),
    re_path(
        # Loose here; views.tile takes only the exact encoding (tree.parse_tile_address).
        r"^audit-log/tile/(?P<level>[^/]+)/(?P<index>[^.]+)(?:\.p/(?P<width>[^/]+))?$",
        views.tile,
        name="log-tile",
    ),
]
