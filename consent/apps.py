from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Consent")

    def ready(self) -> None:
        from audit import actions

        from . import audit_actions

        actions.declare(audit_actions.ACTIONS, audit_actions.LABELS)
        from django.db.models.signals import post_migrate

        from .reports import register
        from .schedules import ensure_schedules

        register()
        post_migrate.connect(ensure_schedules, sender=self)
