"""Receivers of other apps' signals (connected in GrantsConfig.ready)."""

from django.dispatch import receiver

from consent.signals import consent_withdrawn, purpose_closed
from governance.signals import membership_ended
from review.signals import ticket_status_changed


@receiver(ticket_status_changed, dispatch_uid="grants.follow_ticket")
def follow_ticket(sender, ticket, old, new, **kwargs) -> None:
    """
    A suspended ticket suspends its grants, a resumed one reinstates them, closure revokes; an
    approval gets its grant from the consortium's issuance rule, if the secretariat set one.
    """
    from review.models import ReviewTicket

    from . import services

    services.grants_follow_ticket(ticket=ticket, old=old, new=new)
    if new == ReviewTicket.State.APPROVED and old == ReviewTicket.State.IN_REVIEW:
        services.grant_auto_issue(ticket=ticket)


@receiver(membership_ended, dispatch_uid="grants.follow_membership")
def follow_membership(sender, membership, reason, **kwargs) -> None:
    """A member that left, was expelled or is suspended has its services and grants cut off."""
    from . import services

    services.services_cut_off(membership=membership)


@receiver(purpose_closed, dispatch_uid="grants.follow_purpose")
def follow_purpose(sender, purpose, **kwargs) -> None:
    """
    A closed consent purpose revokes every grant still active or suspended for it, and every
    service that received residents' data under it hears of it per resident (in a task).
    """
    from . import services, tasks

    services.grants_follow_purpose_closed(purpose=purpose)
    tasks.queue("grants.tasks.notify_purpose_closed", purpose.pk)


@receiver(consent_withdrawn, dispatch_uid="grants.notify_recipients")
def notify_recipients(sender, resident_id, purpose_id, record_id=None, **kwargs) -> None:
    """
    A withdrawal reaches every service that received the resident's data under it: in a task,
    so that the resident's request never waits on (or fails with) the recipients' notices.
    """
    from . import tasks

    tasks.enqueue_withdrawal_notices(resident_id, purpose_id, record_id)
