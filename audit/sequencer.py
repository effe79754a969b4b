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


# After a wake-up, how long the sequencer lets further commits arrive before it seals them all
# at once: sealing once per commit took the writers' share of a small machine's CPU and disk
# (one seal transaction per append, each a few round trips), for a few milliseconds less
# between commit and seal.
SETTLE_SECONDS = 0.02


def run(
    *,
    stop: threading.Event,
    poll_seconds: float = 1.0,
    settle_seconds: float = SETTLE_SECONDS,
    sealed: Callable[[int], None] | None = None,
) -> int:
    """
    Seal what is pending, then wait to be woken (or ``poll_seconds``), until ``stop`` is set;
    return how many entries it sealed. ``sealed`` hears each non-empty round's count.

    On PostgreSQL a round starts when a commit's notification arrives (at once when one came
    while the last round was sealing), ``settle_seconds`` later, and takes every notification
    received by then: one seal for all the commits of that moment.
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
                if listener is None:
                    continue  # more may have come meanwhile
            if listener is not None:
                woken = any(True for _ in listener.notifies(timeout=poll_seconds, stop_after=1))
                if woken and settle_seconds > 0:
                    stop.wait(settle_seconds)
                for _ in listener.notifies(timeout=0):  # the commits of the settling time
                    pass
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
