"""
The board's approval a notice is published under (審査承認).

A purpose opens for consent, and a new notice version is published, only under a decision of
the data-ethics board in force that covers the notice's terms: its data categories, recipients
(third-party provision), retention, legal basis and processing. The review app owns the
decisions; consent imports no later app, so review registers the function that finds the
decision (``register``) in its ``AppConfig.ready()``, and consent asks it through ``require``.

The function takes the purpose and the terms about to be published (``notices.purpose_terms``)
and returns the ``Approval`` that covers them, or raises ``ValidationError`` saying which
approval is missing or which term goes beyond it (``{field: [message]}`` for the purpose's
fields), in the active language.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Approval:
    """A decision in force: the review ticket's number and the day the board decided it."""

    ticket_id: int
    decided_on: datetime.date
    valid_until: datetime.date


_finder: Callable | None = None


def register(finder: Callable) -> None:
    """Use ``finder(purpose, terms)`` to find the approval covering a notice's terms."""
    global _finder
    _finder = finder


def require(purpose, terms: dict) -> Approval | None:
    """
    Return the approval in force that covers ``terms`` of ``purpose``, or raise
    ValidationError saying what is missing; None when no app decides approvals.
    """
    if _finder is None:
        return None
    return _finder(purpose, terms)
