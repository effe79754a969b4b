"""Participation pages: the portal's (residents) and the secretariat's."""

from django.urls import path

from . import views

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
]
