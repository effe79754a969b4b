"""
The sequencer: seals the audit log apart from the writers (``manage.py audit_sequencer``).

With ``AUDIT_SEQUENCER`` on, ``record`` only inserts pending entries, inside each writer's
transaction, and leaves sealing to the sequencer (as Trillian's and Tessera's sequencers
integrate committed entries in batches). On PostgreSQL each commit that inserted pending
entries wakes the sequencer at once (``NOTIFY audit_pending``, a statement trigger from
migration ``audit 0008``); on SQLite it polls. Nothing is lost when it dies: entries stay
pending, committed, until the next sequencer, the minute's scheduled seal, or any reader that
seals first (verification, export, checkpoints) takes them; ``audit_verify`` fails when one has
waited longer than ``AUDIT_PENDING_MAX_SECONDS``. Several sequencers may run: the sealing lock
lets one seal at a time.
"""

import logging
import threading
from collections.abc import Callable

from django.db import connection

from . import services

logger = logging.getLogger(__name__)
CHANNEL = "audit_pending"


def run(
    *,
    stop: threading.Event,
    poll_seconds: float = 1.0,
    sealed: Callable[[int], None] | None = None,
) -> int:
    """
    Seal what is pending, then wait to be woken (or ``poll_seconds``), until ``stop`` is set;
    return how many entries it sealed. ``sealed`` hears each non-empty round's count.
    """
    total = 0
    listener = _listen() if connection.vendor == "postgresql" else None
    try:
        while not stop.is_set():
            try:
                count = services.seal()
            except Exception:  # the entries stay pending; the next round takes them
                logger.exception("the audit sequencer failed to seal; it will retry")
                count = 0
            if count:
                total += count
                if sealed:
                    sealed(count)
                continue  # more may have come meanwhile
            if listener is not None:
                for _ in listener.notifies(timeout=poll_seconds, stop_after=1):
                    break
            else:
                stop.wait(poll_seconds)
    finally:
        if listener is not None:
            listener.close()
    return total


def _listen():
    """Return a connection of its own that listens on ``CHANNEL`` (autocommit)."""
    import psycopg

    params = connection.get_connection_params()
    listener = psycopg.connect(autocommit=True, **params)
    listener.execute(f"LISTEN {CHANNEL}")
    return listener
