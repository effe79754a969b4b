"""
Signals the review app sends for other apps to hear (review imports none of them), and its
receiver of governance's ``membership_ended``.

``ticket_status_changed``: sent after the commit that approves, suspends, resumes or closes a
review ticket, with ``ticket``, ``old`` and ``new`` (ReviewTicket.State values). The grants app
connects to it to suspend or revoke the grants the ticket allowed, and to issue one on approval
when the consortium's secretariat asked for that.
"""

from django.dispatch import Signal, receiver

from governance.signals import membership_ended

ticket_status_changed = Signal()


@receiver(membership_ended, dispatch_uid="review.close_member_tickets")
def close_member_tickets(sender, membership, reason, **kwargs) -> None:
    """A member that left, was expelled or is suspended has its open requests closed."""
    from . import services

    services.tickets_close_for_member(membership=membership)
