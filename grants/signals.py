"""Receivers of other apps' signals (connected in GrantsConfig.ready)."""

from django.dispatch import receiver

from governance.signals import ticket_status_changed


@receiver(ticket_status_changed, dispatch_uid="grants.follow_ticket")
def follow_ticket(sender, ticket, old, new, **kwargs) -> None:
    """A suspended ticket suspends its grants, a resumed one reinstates them, closure revokes."""
    from . import services

    services.grants_follow_ticket(ticket=ticket, old=old, new=new)
