"""
Signals the consent app sends for other apps to hear (consent imports none of them).

``purpose_closed``: sent after the commit that closes a consent purpose, with ``purpose``
(the closed ``Purpose``). The grants app connects to it to revoke the grants for the purpose.

``consent_withdrawn``: sent after the commit that withdraws a resident's consent to a purpose
they had agreed to, with ``resident_id``, ``purpose_id`` and ``record_id`` (the withdrawal's
consent record). The grants app connects to it to
notify every service that received the resident's data under that purpose.
"""

from django.dispatch import Signal

purpose_closed = Signal()
consent_withdrawn = Signal()
