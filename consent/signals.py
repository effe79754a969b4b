"""
Signals the consent app sends for other apps to hear (consent imports none of them).

``purpose_closed``: sent after the commit that closes a consent purpose, with ``purpose``
(the closed ``Purpose``). The grants app connects to it to revoke the grants for the purpose.
"""

from django.dispatch import Signal

purpose_closed = Signal()
