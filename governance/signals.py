"""
Signals the governance app sends for other apps to hear (governance imports none of them).

``membership_ended``: sent inside the transaction that cuts off a member's data flows (its
membership ended, or it was suspended), with ``membership`` and ``reason`` ("left", "expelled" or
"suspended"). The review app closes the member's open requests; the grants app deactivates its
services and revokes their grants (reason ``member_left``). A receiver that fails undoes the
whole cut-off.
"""

from django.dispatch import Signal

membership_ended = Signal()
