from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = _("Data-ethics review")

    def ready(self) -> None:
        from audit import actions

        from . import audit_actions

        actions.declare(audit_actions.ACTIONS, audit_actions.LABELS)
        from . import signals  # noqa: F401  (connects the receivers)
        from .schedules import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self)

        from .reports import register

        register()

        # A purpose opens, and its notice changes, only under an approval in force that covers
        # it (consent imports no later app: it asks through this registry).
        from consent import approvals as consent_approvals

        from .approvals import covering_approval

        consent_approvals.register(covering_approval)
