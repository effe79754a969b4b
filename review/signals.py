"""
Signals the review app sends for other apps to hear (review imports none of them).

``ticket_status_changed``: sent after the commit that approves, suspends, resumes or closes a
review ticket, with ``ticket``, ``old`` and ``new`` (ReviewTicket.State values). The grants app
connects to it to suspend or revoke the grants the ticket allowed, and to issue one on approval
when the consortium's secretariat asked for that.
"""

from django.dispatch import Signal

ticket_status_changed = Signal()
