"""Background work of the audit app, run by django-q2."""

from django.conf import settings

from . import selectors, services, witnessing
from .models import Checkpoint


def seal_pending() -> int:
    """Seal entries left unsealed (a writer that died between its commit and its seal)."""
    return services.seal()


def make_checkpoint() -> int | None:
    """
    Sign a checkpoint when the chain has grown since the last one; return its sequence. Also
    submit the newest checkpoint again to the witnesses that have not cosigned it yet (their
    retries: a new checkpoint is submitted by its own task, queued when it commits).
    """
    checkpoint = services.checkpoint_create()
    if checkpoint is None and settings.AUDIT_WITNESSES:
        newest = selectors.checkpoint_latest_merkle()
        if newest is not None:
            witnessing.checkpoint_witness(newest)
    return checkpoint.seq if checkpoint else None


def witness_checkpoint(checkpoint_id: int) -> dict[str, str]:
    """Submit one checkpoint to the configured witnesses; return each one's outcome."""
    checkpoint = Checkpoint.objects.filter(pk=checkpoint_id).first()
    return witnessing.checkpoint_witness(checkpoint) if checkpoint else {}


def build_report(report_id: int) -> str:
    """Build one report's PDF; return its final state."""
    return services.report_build(report_id=report_id).state


def reap_stale_reports() -> int:
    """Mark failed the reports whose worker went silent for good."""
    return services.report_reap_stale()
