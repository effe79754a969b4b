from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PublicConfig(AppConfig):
    name = "public"
    verbose_name = _("Public register")

    def ready(self) -> None:
        from audit import actions

        from . import audit_actions, reports
        from .schedules import ensure_schedules

        actions.declare(audit_actions.ACTIONS, audit_actions.LABELS)
        reports.register()
        post_migrate.connect(ensure_schedules, sender=self)
