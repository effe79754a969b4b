"""Background work of the audit app, run by django-q2."""

from . import services


def seal_pending() -> int:
    """Seal entries left unsealed (a writer that died between its commit and its seal)."""
    return services.seal()


def make_checkpoint() -> int | None:
    """Sign a checkpoint when the chain has grown since the last one; return its sequence."""
    checkpoint = services.checkpoint_create()
    return checkpoint.seq if checkpoint else None
