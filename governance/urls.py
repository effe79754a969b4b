from django.urls import path

from . import views

app_name = "governance"

urlpatterns = [
    path(
        "accounts/invitation/<uidb64>/<token>/",
        views.InvitationAcceptView.as_view(),
        name="invitation",
    ),
    path("accounts/invitation/done/", views.InvitationDoneView.as_view(), name="invitation_done"),
    path("account/second-factor/", views.second_factor, name="second_factor"),
    path(
        "account/second-factor/replace/",
        views.second_factor_replace,
        name="second_factor_replace",
    ),
]
