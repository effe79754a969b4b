from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("Governance")

    def ready(self) -> None:
        from audit import actions

        from . import audit_actions

        actions.declare(audit_actions.ACTIONS, audit_actions.LABELS)
        from .schedules import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self)

        from .reports import register

        register()
