"""
The secretariat's publication decisions in the admin: what the register says of officers and
the board, and which resolutions (with their minutes) it publishes. Every save goes through
the audited services; a clerk sees only the consortia they administer.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from governance.admin import ScopedAdmin, adopt, consortium_filter
from governance.models import Resolution

from . import services
from .models import PublicationSettings, ResolutionPublication


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
