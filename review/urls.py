from django.urls import path

from . import views

app_name = "review"
urlpatterns = [
    path("review/signin/", views.signin, name="signin"),
    path("review/signout/", views.signout, name="signout"),
    path("review/", views.queue, name="queue"),
    path("review/new/", views.ticket_new, name="ticket_new"),
    path("review/reports/", views.report_list, name="reports"),
    path(
        "review/reports/<int:report_id>/download/",
        views.report_download,
        name="report_download",
    ),
    path("review/<int:ticket_id>/", views.ticket_detail, name="ticket"),
    path("review/<int:ticket_id>/edit/", views.ticket_edit, name="ticket_edit"),
    path("review/<int:ticket_id>/submit/", views.ticket_submit, name="ticket_submit"),
    path("review/<int:ticket_id>/attachments/", views.attachment_upload, name="attachment_upload"),
    path(
        "review/<int:ticket_id>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment",
    ),
    path("review/<int:ticket_id>/declare/", views.declare, name="declare"),
    path("review/<int:ticket_id>/comment/", views.comment, name="comment"),
    path("review/<int:ticket_id>/vote/", views.vote, name="vote"),
    path("review/<int:ticket_id>/assign/", views.assign, name="assign"),
    path("review/<int:ticket_id>/start/", views.start, name="start"),
    path("review/<int:ticket_id>/suspend/", views.suspend, name="suspend"),
    path("review/<int:ticket_id>/resume/", views.resume, name="resume"),
    path("review/<int:ticket_id>/close/", views.close, name="close"),
    path("review/<int:ticket_id>/decision/", views.decision, name="decision"),
    path("review/<int:ticket_id>/letter/", views.letter_request, name="letter_request"),
    path("review/<int:ticket_id>/notice/", views.notice_request, name="notice_request"),
    path("review/<int:ticket_id>/renew/", views.renew, name="renew"),
    path("review/<int:ticket_id>/purpose/", views.purpose_create, name="purpose_create"),
    path(
        "review/<int:ticket_id>/obligations/<int:obligation_id>/",
        views.obligation_detail,
        name="obligation",
    ),
    path(
        "review/<int:ticket_id>/obligations/<int:obligation_id>/evidence/",
        views.obligation_evidence,
        name="obligation_evidence",
    ),
    path(
        "review/<int:ticket_id>/obligations/<int:obligation_id>/accept/",
        views.obligation_verdict,
        {"verdict": "accept"},
        name="obligation_accept",
    ),
    path(
        "review/<int:ticket_id>/obligations/<int:obligation_id>/reject/",
        views.obligation_verdict,
        {"verdict": "reject"},
        name="obligation_reject",
    ),
    path(
        "review/<int:ticket_id>/obligations/<int:obligation_id>/waive/",
        views.obligation_waive,
        name="obligation_waive",
    ),
]
