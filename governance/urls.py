from django.urls import path
from django.views.i18n import JavaScriptCatalog

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
    path("account/second-factor/app/", views.second_factor_app, name="second_factor_app"),
    path(
        "account/second-factor/recovery-codes/",
        views.second_factor_recovery_codes,
        name="second_factor_recovery_codes",
    ),
    path(
        "account/second-factor/passkeys/<int:passkey_id>/remove/",
        views.passkey_remove,
        name="passkey_remove",
    ),
    path(
        "account/second-factor/passkeys/register/options/",
        views.passkey_register_options,
        name="passkey_register_options",
    ),
    path(
        "account/second-factor/passkeys/register/",
        views.passkey_register,
        name="passkey_register",
    ),
    path(
        "account/second-factor/passkeys/sign-in/options/",
        views.passkey_signin_options,
        name="passkey_signin_options",
    ),
    path(
        "account/second-factor/passkeys/sign-in/",
        views.passkey_signin,
        name="passkey_signin",
    ),
    # The browser script's messages in the person's language (django-otp-webauthn's and ours).
    path(
        "account/passkeys/messages.js",
        JavaScriptCatalog.as_view(packages=["django_otp_webauthn", "governance"]),
        name="passkey_messages",
    ),
]
