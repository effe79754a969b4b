"""Background work of the audit app, run by django-q2."""

from . import services


def seal_pending() -> int:
    """Seal entries left unsealed (a writer that died between its commit and its seal)."""
    return services.seal()


def make_checkpoint() -> int | None:
    """Sign a checkpoint when the chain has grown since the last one; return its sequence."""
    checkpoint = services.checkpoint_create()
    return checkpoint.seq if checkpoint else None


def build_report(report_id: int) -> str:
    """Build one report's PDF; return its final state."""
    return services.report_build(report_id=report_id).state


def reap_stale_reports() -> int:
    """Mark failed the reports whose worker went silent for good."""
    return services.report_reap_stale()
