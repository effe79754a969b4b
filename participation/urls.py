"""Participation pages: the portal's (residents) and the secretariat's."""

from django.urls import path

from . import email_views, views

app_name = "participation"

urlpatterns: list = [
    path("portal/consultations/", views.consultations, name="consultations"),
    path(
        "portal/consultations/<int:consultation_id>/",
        views.consultation,
        name="consultation",
    ),
    path("portal/my-comments/", views.my_comments, name="my_comments"),
    path("portal/my-comments/<int:comment_id>/edit/", views.comment_edit, name="comment_edit"),
    path("portal/proposals/", views.proposals, name="proposals"),
    path("portal/proposals/new/", views.proposal_new, name="proposal_new"),
    path("portal/proposals/<int:proposal_id>/", views.proposal, name="proposal"),
    path("portal/my-proposals/", views.my_proposals, name="my_proposals"),
    path("portal/meetings/", views.meetings, name="meetings"),
    path("portal/meetings/<int:meeting_id>/", views.meeting, name="meeting"),
    # Taking part with a confirmed e-mail address, where the consortium allows it.
    path(
        "participate/consultations/<int:consultation_id>/",
        email_views.email_start,
        name="email_start",
    ),
    path(
        "participate/consultations/<int:consultation_id>/comment/",
        email_views.email_comment,
        name="email_comment",
    ),
    path("participate/confirm/<str:token>/", email_views.email_confirm, name="email_confirm"),
    path("participate/my-comments/", email_views.email_my_comments, name="email_my_comments"),
    path(
        "participate/my-comments/<int:comment_id>/edit/",
        email_views.email_comment_edit,
        name="email_comment_edit",
    ),
    path("participate/forget/", email_views.email_forget, name="email_forget"),
    path("participate/erase/<int:participant_id>/", email_views.email_erase, name="email_erase"),
]
