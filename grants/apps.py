from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class GrantsConfig(AppConfig):
    name = "grants"
    verbose_name = _("Grants")

    def ready(self) -> None:
        from audit import actions

        from . import audit_actions

        actions.declare(audit_actions.ACTIONS, audit_actions.LABELS)
        from . import signals  # noqa: F401  (connects the receivers)
        from .schedules import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self)
        from .reports import register

        register()
