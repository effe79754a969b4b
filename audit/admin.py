"""The audit log in the admin: read-only for everyone, superusers included."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Checkpoint, Entry, PendingEntry, SigningKey


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = [
        "seq",
        "time",
        "action",
        "actor_type",
        "actor_id",
        "object_type",
        "object_id",
        "consortium_id",
    ]
    list_filter = ["action", "actor_type"]
    search_fields = ["action", "object_type", "object_id", "actor_id", "hash"]
    date_hierarchy = "time"
    show_full_result_count = False  # counting a million rows on every page is not worth it
    fields = [
        "seq",
        "time",
        "actor_type",
        "actor_id",
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

    list_display = ["id", "time", "action", "actor_type", "object_type", "object_id"]
    fields = [
        "time",
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
    list_display = ["seq", "time", "hash", "key"]
    fields = ["seq", "hash", "time", "key", "note"]
    readonly_fields = fields


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ["kid", "algorithm", "status", "created_at", "retired_at", "revoked_at"]
    list_filter = ["algorithm", "status"]
    fields = [
        "kid",
        "algorithm",
        "status",
        "public_jwk",
        "created_at",
        "retired_at",
        "revoked_at",
        "publish_until",
    ]
    readonly_fields = fields

    @admin.display(description=_("public key (JWK)"))
    def public_jwk(self, obj):
        return obj.jwk
