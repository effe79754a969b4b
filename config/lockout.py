"""
Sign-in lock-out: django-axes counts failures per user name and address; this handler also
counts them per address across user names, so that one password tried against many accounts
from one address is stopped too (``LOGIN_ADDRESS_FAILURE_LIMIT``).
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum

from .clients import client_address


class AddressLockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler, with a limit of failures per address as well."""

    def address_failures(self, request) -> int:
        address = getattr(request, "axes_ip_address", None) or client_address(request)
        attempts = AccessAttempt.objects.filter(ip_address=address)
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0

    def get_failures(self, request, credentials=None) -> int:
        # Compared with AXES_FAILURE_LIMIT by django-axes, both before authenticating and after
        # a failure: an address over its own limit counts as at the limit. A success resets
        # only its own user name's failures, never the other names' tried from the address.
        failures = super().get_failures(request, credentials)
        if self.address_failures(request) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(failures, settings.AXES_FAILURE_LIMIT)
        return failures
