"""Background work of the governance app, run by django-q2."""

from . import services


def cut_off_ended_memberships() -> int:
    """Cut off the members whose leaving or suspension day has come (leaves dated ahead)."""
    return services.memberships_cut_off()
