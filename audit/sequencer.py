"""
The sequencer: seals the audit log apart from the writers (``manage.py audit_sequencer``).

With ``AUDIT_SEQUENCER`` on, ``record`` only inserts pending entries, inside each writer's
transaction, and leaves sealing to the sequencer (as Trillian's and Tessera's sequencers
integrate committed entries in batches). On PostgreSQL a commit that inserted pending entries
wakes a sleeping sequencer at once (``NOTIFY audit_pending``, a statement trigger of migrations
``audit 0008`` and ``0013``); one at work looks again by itself (``run``); on SQLite it
polls. Nothing is lost when it dies: entries stay pending, committed, until the next sequencer,
the minute's scheduled seal, or any reader that seals first (verification, export,
checkpoints) takes them; ``audit_verify`` fails when one has
waited longer than ``AUDIT_PENDING_MAX_SECONDS``. Several sequencers may run: the sealing lock
lets one seal at a time.
"""

import logging
import threading
from collections.abc import Callable

from django.db import connection

from . import services
from .models import PendingEntry

logger = logging.getLogger(__name__)
CHANNEL = "audit_pending"


# After a wake-up, and between looks while entries keep coming, how long the sequencer lets
# commits arrive before it seals them all at once (a moment): sealing once per commit took the
# writers' share of a small machine's CPU and disk. The moment starts at SETTLE_SECONDS and
# doubles while each look finds at least BUSY_ENTRIES, up to LONGEST_MOMENT, so that a busy log
# pays a seal's fixed cost (a round trip, the chain's head, the right edge of the tree) once
# per hundreds of entries; it halves again when a look finds fewer. An entry then waits at most
# about LONGEST_MOMENT plus one seal for its place in the chain, far below a second.
SETTLE_SECONDS = 0.02
LONGEST_MOMENT = 0.25
BUSY_ENTRIES = 16
# Held by the sequencer at work (on its listening connection): writers' commits do not notify
# while it is held (migration audit 0013), since the sequencer looks again by itself.
AWAKE_LOCK_ID = 0x61756469747371


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

    On PostgreSQL, while entries keep coming the sequencer holds ``AWAKE_LOCK_ID`` and looks
    again after each moment (``settle_seconds``, longer while busy: ``LONGEST_MOMENT``), and
    writers do not notify; when a look finds nothing it lets
    go of the lock, looks once more (for entries of writers that saw it at work) and sleeps
    until a commit's notification wakes it. An entry whose writer saw it at work and committed
    after that last look waits for the next notification or ``poll_seconds``: never lost.
    """
    total = 0
    listener = _listen() if connection.vendor == "postgresql" else None
    awake = False
    moment = settle_seconds
    try:
        while not stop.is_set():
            try:
                count = _seal() if listener is not None else services.seal()
            except Exception:  # the entries stay pending; the next round takes them
                logger.exception("the audit sequencer failed to seal; it will retry")
                count = 0
            if count:
                total += count
                if sealed:
                    sealed(count)
            if listener is None:
                if not count:
                    stop.wait(poll_seconds)
                continue
            if count:
                awake = awake or _take_awake(listener)
                if awake:
                    if count >= BUSY_ENTRIES:
                        moment = min(moment * 2, max(LONGEST_MOMENT, settle_seconds))
                    else:
                        moment = max(moment / 2, settle_seconds)
                    stop.wait(moment)
                    continue
            elif awake:
                listener.execute("SELECT pg_advisory_unlock(%s)", [AWAKE_LOCK_ID])
                awake = False
                moment = settle_seconds
                continue  # once more: a writer that saw it at work did not notify
            woken = any(True for _ in listener.notifies(timeout=poll_seconds, stop_after=1))
            if woken and settle_seconds > 0:
                stop.wait(settle_seconds)
            for _ in listener.notifies(timeout=0):  # the commits of the settling time
                pass
    finally:
        if listener is not None:
            listener.close()
    return total


def _seal() -> int:
    """
    Seal everything pending (PostgreSQL): one round trip per batch of up to
    ``services.SEAL_BATCH``, each its own transaction, sealed by ``audit_seal`` under its own
    lock (it seals nothing while another sealer holds the sealing lock, which looks again for
    pending entries when it lets go); return how many it sealed.

    Each seal commits without waiting for the disk, as ``services.seal`` does outside a
    caller's transaction (``services._sealing_lock`` says why no entry can be lost so). Inside
    a transaction (tests), it leaves the work to ``services.seal``.
    """
    if connection.in_atomic_block:
        return services.seal()
    total = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT set_config('synchronous_commit', 'off', true), audit_seal(%s, NULL), "
                f"pg_stat_get_dead_tuples('{PendingEntry._meta.db_table}'::regclass)",
                [services.SEAL_BATCH],
            )
            _, sealed, dead_rows = cursor.fetchone()
            total += sealed
            if sealed < services.SEAL_BATCH:
                break
        if dead_rows > services.VACUUM_DEAD_ROWS:
            # The pending table is a queue (services._sealing_lock).
            cursor.execute(f"VACUUM (SKIP_LOCKED) {PendingEntry._meta.db_table}")
    return total


def _take_awake(listener) -> bool:
    """
    Take the awake lock, waiting a moment for writers that are committing; False when another
    sequencer holds it (writers then keep notifying, as they must for that one's sleep).
    """
    import psycopg

    try:
        listener.execute("SET lock_timeout = '200ms'")
        listener.execute("SELECT pg_advisory_lock(%s)", [AWAKE_LOCK_ID])
        return True
    except psycopg.errors.LockNotAvailable:
        return False


def _listen():
    """Return a connection of its own that listens on ``CHANNEL`` (autocommit)."""
    import psycopg

    params = connection.get_connection_params()
    listener = psycopg.connect(autocommit=True, **params)
    listener.execute(f"LISTEN {CHANNEL}")
    return listener
