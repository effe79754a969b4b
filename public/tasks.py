"""Background work of the register, run by the django-q cluster."""

from . import services


def indicators_compute() -> int:
    """Compute every platform indicator for today (scheduled daily)."""
    return services.indicators_compute()
