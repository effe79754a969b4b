from django.urls import path

from . import api

app_name = "audit"
urlpatterns = [
    path(
        "api/v1/audit/checkpoints/latest",
        api.CheckpointLatestView.as_view(),
        name="checkpoint-latest",
    ),
]
