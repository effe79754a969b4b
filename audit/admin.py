"""The audit log in the admin: read-only for everyone, superusers included."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import actions, reports, services, views
from .forms import WitnessedLogForm
from .models import (
    Checkpoint,
    Cosignature,
    Entry,
    PendingEntry,
    Report,
    SigningKey,
    SigningKeyEvent,
    WitnessedCheckpoint,
    WitnessedLog,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ActionFilter(admin.SimpleListFilter):
    """The declared actions by what they mean, in the reader's language."""

    title = _("what happened")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return sorted(
            ((action, str(actions.label(action))) for action in actions.declared()),
            key=lambda choice: choice[1],
        )

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(action=self.value())
        return queryset


@admin.display(description=_("what happened"), ordering="action")
def action_label(entry) -> str:
    return str(actions.label(entry.action))


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = [
        "seq",
        "time",
        action_label,
        "actor_type",
        "actor_id",
        "object_type",
        "object_id",
        "consortium_id",
    ]
    list_filter = [ActionFilter, "actor_type"]
    search_fields = ["action", "object_type", "object_id", "actor_id", "hash"]
    date_hierarchy = "time"
    show_full_result_count = False  # counting a million rows on every page is not worth it
    fields = [
        "seq",
        "time",
        "written_at",
        "actor_type",
        "actor_id",
        action_label,
        "action",
        "object_type",
        "object_id",
        "consortium_id",
        "payload",
        "prev_hash",
        "hash",
    ]
    readonly_fields = fields


@admin.register(PendingEntry)
class PendingEntryAdmin(ReadOnlyAdmin):
    """Entries committed moments ago and not yet sealed; normally empty."""

    list_display = ["id", "written_at", action_label, "actor_type", "object_type", "object_id"]
    fields = [
        "written_at",
        "actor_type",
        "actor_id",
        "action",
        "object_type",
        "object_id",
        "consortium_id",
        "payload",
    ]
    readonly_fields = fields


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["seq", "time", "root", "key"]
    fields = ["seq", "hash", "root", "time", "key", "note"]
    readonly_fields = fields


class SigningKeyStatusFilter(admin.SimpleListFilter):
    """A key's status, as its events say."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return SigningKey.Status.choices

    def queryset(self, request, queryset):
        if self.value() in SigningKey.Status.values:
            return queryset.filter(status=self.value())
        return queryset


class SigningKeyEventInline(admin.TabularInline):
    """What happened to the key after its creation, oldest first; append-only."""

    model = SigningKeyEvent
    fields = ["kind", "at", "until", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = [
        "kid",
        "algorithm",
        "status_label",
        "created_at",
        "retired_at_display",
        "revoked_at_display",
    ]
    list_filter = ["algorithm", SigningKeyStatusFilter]
    fields = [
        "kid",
        "algorithm",
        "generation",
        "status_label",
        "public_jwk",
        "created_at",
        "retired_at_display",
        "revoked_at_display",
        "publish_until_display",
    ]
    readonly_fields = fields
    inlines = [SigningKeyEventInline]

    @admin.display(description=_("public key (JWK)"))
    def public_jwk(self, obj):
        return obj.jwk

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, obj):
        return SigningKey.Status(obj.status).label

    @admin.display(description=_("retired at"), ordering="retired_at")
    def retired_at_display(self, obj):
        return obj.retired_at

    @admin.display(description=_("revoked at"), ordering="revoked_at")
    def revoked_at_display(self, obj):
        return obj.revoked_at

    @admin.display(description=_("published until"))
    def publish_until_display(self, obj):
        return obj.publish_until


@admin.register(Cosignature)
class CosignatureAdmin(ReadOnlyAdmin):
    """Witnesses' cosignatures of the platform's checkpoints, as received; append-only."""

    list_display = ["checkpoint", "witness", "key_id", "timestamp", "received_at"]
    list_filter = ["witness"]
    fields = ["checkpoint", "witness", "key_id", "timestamp", "line", "received_at"]
    readonly_fields = fields


@admin.register(WitnessedLog)
class WitnessedLogAdmin(admin.ModelAdmin):
    """
    証人として見守るログ: the logs this platform cosigns as a witness (origin and the log's
    verifier key). Saved through ``services.witnessed_log_save``; never deleted, only made
    inactive, so the checkpoints cosigned for it stay.
    """

    form = WitnessedLogForm
    list_display = ["origin", "active", "last_size", "created_at"]
    fields = ["origin", "verifier_key", "active"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("last size cosigned"))
    def last_size(self, obj):
        last = obj.checkpoints.order_by("-id").first()
        return last.size if last else "-"

    def save_model(self, request, obj, form, change):
        saved = services.witnessed_log_save(
            actor=request.user,
            log=WitnessedLog.objects.get(pk=obj.pk) if change else None,
            origin=form.cleaned_data["origin"],
            verifier_key=form.cleaned_data["verifier_key"],
            active=form.cleaned_data["active"],
        )
        obj.pk = saved.pk


@admin.register(WitnessedCheckpoint)
class WitnessedCheckpointAdmin(ReadOnlyAdmin):
    """The checkpoints of witnessed logs that this platform cosigned; append-only."""

    list_display = ["log", "size", "root", "cosigned_at"]
    list_filter = ["log"]
    fields = ["log", "size", "root", "note", "cosignature", "cosigned_at"]
    readonly_fields = fields


def _may_use_reports(request) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff) and any(
        kind.consortia_for(user) is reports.ALL or list(kind.consortia_for(user))
        for kind in reports.kinds()
    )


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """
    報告書: the reports a clerk may see (each kind's access rule), their state and progress, a
    request form, and the download of finished files. Nothing here is edited by hand.
    """

    change_list_template = "admin/audit/report/change_list.html"
    list_display = [
        "id",
        "kind_label",
        "covers",
        "consortium_name",
        "language_name",
        "state_and_progress",
        "requested_by",
        "requested_at",
        "download",
    ]
    list_filter = ["state"]
    fields = [
        "kind",
        "parameters",
        "language",
        "consortium_id",
        "requested_by",
        "requested_at",
        "state",
        "progress",
        "failure_reason",
        "attempts",
        "finished_at",
        "size",
        "sha256",
        "after_seq",
        "audit_seq",
        "download",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return reports.visible(request.user, super().get_queryset(request)).select_related(
            "requested_by"
        )

    def has_module_permission(self, request) -> bool:
        return _may_use_reports(request)

    def has_view_permission(self, request, obj=None) -> bool:
        if obj is not None:
            return reports.can_access(
                request.user, obj.kind, obj.consortium_id, parameters=obj.parameters
            )
        return _may_use_reports(request)

    def has_add_permission(self, request) -> bool:
        return False  # requested through the request form, which queues the task

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("kind"))
    def kind_label(self, obj):
        try:
            return reports.get(obj.kind).label
        except reports.ReportError:
            return obj.kind

    @admin.display(description=_("covers"))
    def covers(self, obj):
        return reports.describe(obj.kind, obj.parameters) or "-"

    @admin.display(description=_("consortium"))
    def consortium_name(self, obj):
        if obj.consortium_id is None:
            return _("platform (no consortium)")
        return reports.consortium_names([obj.consortium_id])[obj.consortium_id]

    @admin.display(description=_("language"))
    def language_name(self, obj):
        return dict(settings.LANGUAGES).get(obj.language, obj.language)

    @admin.display(description=_("state"))
    def state_and_progress(self, obj):
        if obj.state == Report.State.RUNNING:
            return f"{obj.get_state_display()} ({obj.progress}%)"
        if obj.state == Report.State.FAILED:
            return f"{obj.get_state_display()}: {obj.failure_reason}"
        return obj.get_state_display()

    @admin.display(description=_("file"))
    def download(self, obj):
        if obj.state != Report.State.DONE:
            return "-"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:audit_report_download", args=[obj.pk]),
            _("Download PDF"),
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "refresh": self.get_queryset(request)
            .filter(state__in=[Report.State.QUEUED, Report.State.RUNNING])
            .exists(),
            "may_request": _may_use_reports(request),
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path(
                "request/",
                self.admin_site.admin_view(self.request_view),
                name="audit_report_request",
            ),
            path(
                "<int:report_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="audit_report_download",
            ),
            *super().get_urls(),
        ]

    def request_view(self, request):
        """Choose a kind, fill in its parameters, queue the report."""
        if not _may_use_reports(request):
            raise Http404
        user = request.user
        available = [
            kind
            for kind in reports.kinds()
            if kind.consortia_for(user) is reports.ALL or list(kind.consortia_for(user))
        ]
        chosen = request.POST.get("kind") or request.GET.get("kind")
        kind = next((k for k in available if k.kind == chosen), None)
        form = None
        if kind:
            if request.method == "POST":
                form = kind.form_class(request.POST, user=user)
                if form.is_valid():
                    parameters, consortium_id = form.parameters()
                    try:
                        report = services.report_request(
                            actor=user,
                            kind=kind.kind,
                            parameters=parameters,
                            consortium_id=consortium_id,
                            language=form.cleaned_data["language"],
                        )
                    except PermissionDenied:
                        raise Http404 from None
                    self.message_user(
                        request,
                        _("Report no. %(id)d is queued; this list shows its progress.")
                        % {"id": report.pk},
                        messages.SUCCESS,
                    )
                    return redirect("admin:audit_report_changelist")
            else:
                form = kind.form_class(user=user)
        elif chosen:
            raise Http404
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Request a report"),
            "kinds": available,
            "kind": kind,
            "form": form,
        }
        return TemplateResponse(request, "admin/audit/report/request.html", context)

    def download_view(self, request, report_id: int):
        """Serve a finished report's PDF to someone allowed to see it; 404 for anyone else."""
        return views.report_file_response(request.user, report_id)
