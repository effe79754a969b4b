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
    re_path(
        r"^audit-log/tile/(?P<level>[0-9]+|entries)/(?P<index>(?:x[0-9]{3}/)*[0-9]{3})"
        r"(?:\.p/(?P<width>[0-9]+))?$",
        views.tile,
        name="log-tile",
    ),
]
