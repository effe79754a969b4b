from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ParticipationConfig(AppConfig):
    """市民参加: consultations (意見募集), proposals, open meetings and the answers to each."""

    name = "participation"
    verbose_name = _("Citizen participation")

    def ready(self) -> None:
        from audit import actions

        from . import audit_actions

        actions.declare(audit_actions.ACTIONS, audit_actions.LABELS)

        from .schedules import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self)

        from consent import publication_checks

        from .services import check_purpose_may_open

        publication_checks.register("participation.consultation", check_purpose_may_open)

        from consent import portal_links

        portal_links.register("participation:consultations", _("Consultations"))
        portal_links.register("participation:my_comments", _("My comments"))
        portal_links.register("participation:proposals", _("Proposals"))
        portal_links.register("participation:my_proposals", _("My proposals"))
        portal_links.register("participation:meetings", _("Meetings"))

        from governance import demo

        from .demo import seed

        demo.register_part(seed)
