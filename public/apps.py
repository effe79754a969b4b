from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicConfig(AppConfig):
    name = "public"
    verbose_name = _("Public register")

    def ready(self) -> None:
        from audit import actions

        from . import audit_actions

        actions.declare(audit_actions.ACTIONS)
