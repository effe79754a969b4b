from django.urls import path

from . import views

app_name = "consent"
urlpatterns = [
    path("portal/", views.portal, name="portal"),
    path("portal/signup/", views.signup, name="signup"),
    path("portal/signup/<str:token>/", views.signup_confirm, name="signup_confirm"),
    path("portal/signin/", views.signin, name="signin"),
    path("portal/signout/", views.signout, name="signout"),
    path("portal/password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "portal/password-reset/sent/",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "portal/password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "portal/password-reset/complete/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("portal/purposes/<int:purpose_id>/", views.purpose_detail, name="purpose"),
    path("portal/purposes/<int:purpose_id>/notices/<int:version>/", views.notice, name="notice"),
    path("portal/purposes/<int:purpose_id>/agree/", views.give, name="give"),
    path("portal/purposes/<int:purpose_id>/decline/", views.withdraw, name="withdraw"),
    path("portal/purposes/<int:purpose_id>/confirm/", views.confirm, name="confirm"),
    path("portal/withdraw-all/", views.withdraw_all, name="withdraw_all"),
    path("portal/for/<int:representation_id>/", views.represented, name="represented"),
    path(
        "portal/for/<int:representation_id>/purposes/<int:purpose_id>/agree/",
        views.give_for,
        name="give_for",
    ),
    path(
        "portal/for/<int:representation_id>/purposes/<int:purpose_id>/decline/",
        views.withdraw_for,
        name="withdraw_for",
    ),
    path(
        "portal/representatives/request/",
        views.representation_request,
        name="representation_request",
    ),
    path("portal/history/", views.history, name="history"),
    path("portal/receipts/<uuid:receipt_id>/", views.receipt, name="receipt"),
    path("portal/decisions/<uuid:receipt_id>/", views.receipt_page, name="receipt_page"),
    path("portal/decisions/<uuid:receipt_id>/receipt.pdf", views.receipt_pdf, name="receipt_pdf"),
    path("portal/accesses/", views.accesses, name="accesses"),
    path("portal/export/", views.export, name="export"),
    path("portal/account/", views.account, name="account"),
    path("portal/account/delete/", views.delete_account, name="delete_account"),
    path(
        "portal/account/passkeys/options/",
        views.passkey_register_options,
        name="passkey_register_options",
    ),
    path("portal/account/passkeys/", views.passkey_register, name="passkey_register"),
    path(
        "portal/account/passkeys/<int:passkey_id>/remove/",
        views.passkey_remove,
        name="passkey_remove",
    ),
    path("portal/passkey/options/", views.passkey_signin_options, name="passkey_signin_options"),
    path("portal/passkey/", views.passkey_signin, name="passkey_signin"),
]
