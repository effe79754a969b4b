from django.urls import path

from . import api, views

app_name = "audit"
urlpatterns = [
    path(
        "api/v1/audit/checkpoints/latest",
        api.CheckpointLatestView.as_view(),
        name="checkpoint-latest",
    ),
    path("reports/verify", views.report_verify, name="report-verify"),
]
