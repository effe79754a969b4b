from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from . import actions, audit_actions

        actions.declare(audit_actions.ACTIONS, audit_actions.LABELS)
        from .report_kinds import register
        from .schedules import ensure_schedules

        register()

        post_migrate.connect(ensure_schedules, sender=self)
        # As the owner, after every migration (audit.roles): what the runtime role may do.
        from .roles import grant_runtime

        post_migrate.connect(grant_runtime, sender=self)
