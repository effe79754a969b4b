"""
Checks other apps add to opening a purpose (``services.purpose_publish``), which consent runs
without importing them: each is a callable ``check(purpose)`` that raises ``ValidationError``
with a message saying what to do when the purpose may not open yet. An app registers its
checks in its ``AppConfig.ready()`` (participation: a published consultation result).
"""

from collections.abc import Callable

from django.core.exceptions import ValidationError

_checks: dict[str, Callable] = {}


def register(name: str, check: Callable) -> None:
    """Run ``check(purpose)`` before every purpose opens; ``name`` keeps it registered once."""
    _checks[name] = check


def check_all(purpose) -> None:
    """Raise one ValidationError with every registered check's refusal of opening ``purpose``."""
    messages: list[str] = []
    for check in _checks.values():
        try:
            check(purpose)
        except ValidationError as error:
            messages.extend(error.messages)
    if messages:
        raise ValidationError(messages)
