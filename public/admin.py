"""
The secretariat's publication decisions in the admin: what the register says of officers and
the board, and which resolutions (with their minutes) it publishes. Every save goes through
the audited services; a clerk sees only the consortia they administer.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from consent.models import Purpose
from governance.admin import ScopedAdmin, administered, adopt, consortium_filter
from governance.models import GeneralAssembly, Resolution
from review.models import ReviewTicket

from . import services
from .models import (
    Indicator,
    Measurement,
    PdcaReview,
    PublicationSettings,
    ResolutionPublication,
)


@admin.register(PublicationSettings)
class PublicationSettingsAdmin(ScopedAdmin):
    list_display = ["consortium", "publish_officers", "board_disclosure", "updated_at"]
    list_select_related = ["consortium"]
    fields = ["consortium", "publish_officers", "board_disclosure"]

    def get_readonly_fields(self, request, obj=None):
        return ["consortium"] if obj else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        consortium = self.current(obj).consortium if change else data["consortium"]
        adopt(
            obj,
            services.publication_settings_set(
                actor=request.user,
                consortium=consortium,
                publish_officers=data["publish_officers"],
                board_disclosure=data["board_disclosure"],
            ),
        )


class ResolutionPublicationForm(forms.ModelForm):
    class Meta:
        model = ResolutionPublication
        fields = ["resolution", "minutes_ja", "minutes_en"]


@admin.register(ResolutionPublication)
class ResolutionPublicationAdmin(ScopedAdmin):
    form = ResolutionPublicationForm
    consortium_lookup = "resolution__assembly__consortium"
    list_display = ["resolution", "published_at", "withdrawn_at"]
    list_select_related = ["resolution__assembly"]
    list_filter = [consortium_filter("resolution__assembly__consortium")]
    actions = ["withdraw"]

    def get_readonly_fields(self, request, obj=None):
        return ["resolution"] if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "resolution":
            # Only a closed vote can be published.
            field.queryset = field.queryset.filter(status=Resolution.Status.CLOSED)
        return field

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        resolution = self.current(obj).resolution if change else data["resolution"]
        adopt(
            obj,
            services.resolution_publish(
                actor=request.user,
                resolution=resolution,
                minutes_ja=data["minutes_ja"],
                minutes_en=data["minutes_en"],
            ),
        )

    @admin.action(description=_("Withdraw from the public register"))
    def withdraw(self, request, queryset):
        self.run_action(
            request,
            queryset.filter(withdrawn_at__isnull=True),
            lambda publication: services.resolution_unpublish(
                actor=request.user, publication=publication
            ),
            _("Withdrawn: %(count)d."),
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj):
        raise PermissionDenied


# --- KPIs and PDCA -----------------------------------------------------------------------------


@admin.register(Indicator)
class IndicatorAdmin(ScopedAdmin):
    list_display = ["code", "name_ja", "consortium", "source", "is_public", "target_value"]
    list_select_related = ["consortium"]
    list_filter = [consortium_filter("consortium"), "source", "is_public"]
    search_fields = ["code", "name_ja", "name_en"]
    fields = [
        "consortium",
        "code",
        "name_ja",
        "name_en",
        "definition_ja",
        "definition_en",
        "unit",
        "direction",
        "source",
        "purpose",
        "baseline_value",
        "baseline_on",
        "target_value",
        "target_on",
        "owner",
        "plan",
        "ticket",
        "is_public",
    ]

    def get_readonly_fields(self, request, obj=None):
        return ["consortium", "code"] if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if request.user.is_superuser or field is None:
            return field
        consortia = administered(request)
        model = db_field.related_model
        if model is Purpose:
            field.queryset = Purpose.objects.filter(consortium__in=consortia)
        elif model is ReviewTicket:
            field.queryset = ReviewTicket.objects.filter(
                consortium__in=consortia, decided_at__isnull=False
            )
        return field

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            allowed = services.INDICATOR_FIELDS - {"code"}
            adopt(
                obj,
                services.indicator_update(
                    actor=request.user,
                    indicator=self.current(obj),
                    **{name: data[name] for name in form.changed_data if name in allowed},
                ),
            )
        else:
            fields = {name: data[name] for name in self.fields if name != "consortium"}
            adopt(
                obj,
                services.indicator_define(
                    actor=request.user, consortium=data["consortium"], **fields
                ),
            )


class MeasurementForm(forms.ModelForm):
    class Meta:
        model = Measurement
        fields = ["indicator", "measured_on", "value", "source", "evidence"]


@admin.register(Measurement)
class MeasurementAdmin(ScopedAdmin):
    form = MeasurementForm
    consortium_lookup = "indicator__consortium"
    list_display = ["indicator", "measured_on", "value", "computed", "source"]
    list_select_related = ["indicator"]
    list_filter = [consortium_filter("indicator__consortium"), "computed"]

    def has_change_permission(self, request, obj=None) -> bool:
        # A value is recorded once; a wrong one is corrected by recording the day again.
        return obj is None and super().has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "indicator":
            queryset = Indicator.objects.filter(source=Indicator.Source.ENTERED)
            if not request.user.is_superuser:
                queryset = queryset.filter(consortium__in=administered(request))
            field.queryset = queryset
        return field

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        adopt(
            obj,
            services.measurement_record(
                actor=request.user,
                indicator=data["indicator"],
                measured_on=data["measured_on"],
                value=data["value"],
                source=data["source"],
                evidence=data["evidence"],
            ),
        )


class PdcaReviewForm(forms.ModelForm):
    assembly = forms.ModelChoiceField(
        label=_("put on the agenda of"),
        queryset=GeneralAssembly.objects.none(),
        required=False,
        help_text=_("A general assembly where this review is proposed as a resolution."),
    )

    class Meta:
        model = PdcaReview
        fields = [
            "indicator",
            "period_start",
            "period_end",
            "plan",
            "done",
            "assessment",
            "causes",
            "actions",
            "decision",
        ]


@admin.register(PdcaReview)
class PdcaReviewAdmin(ScopedAdmin):
    form = PdcaReviewForm
    consortium_lookup = "indicator__consortium"
    list_display = ["indicator", "period_start", "period_end", "decision", "resolution"]
    list_select_related = ["indicator", "resolution"]
    list_filter = [consortium_filter("indicator__consortium"), "decision"]
    readonly_fields = ["resolution"]

    def get_fields(self, request, obj=None):
        fields = [*PdcaReviewForm.Meta.fields, "resolution"]
        return fields if obj is None or obj.resolution_id else [*fields, "assembly"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["resolution"]
        return [*PdcaReviewForm.Meta.fields, "resolution"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "assembly" in form.base_fields:
            queryset = GeneralAssembly.objects.order_by("-held_on")
            if not request.user.is_superuser:
                queryset = queryset.filter(consortium__in=administered(request))
            form.base_fields["assembly"].queryset = queryset
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "indicator" and not request.user.is_superuser:
            field.queryset = Indicator.objects.filter(consortium__in=administered(request))
        return field

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        review = (
            self.current(obj)
            if change
            else services.pdca_review_record(
                actor=request.user,
                indicator=data["indicator"],
                decision=data["decision"],
                **{name: data[name] for name in services.PDCA_FIELDS},
            )
        )
        if data.get("assembly"):
            review = services.pdca_review_to_assembly(
                actor=request.user, review=review, assembly=data["assembly"]
            )
        adopt(obj, review)
