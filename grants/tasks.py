"""
Tasks of the grants app: pushing grant status changes to the services' webhooks, sending
withdrawal notices to the services that received a resident's data (Security Event Tokens,
pushed), and storing the expiry of grants whose time has passed (``expire_grants``, on a
schedule).

The body of each push is a JWS (``application/jwt``, typ ``grant-event+jwt``) signed by the
platform's key, so that a service verifies it against the JWKS before believing it. A failed
push is tried again with exponential backoff (1, 2, 4, 8... minutes) up to ``MAX_ATTEMPTS``.
"""

import logging
import urllib.error
import urllib.request
from datetime import timedelta

from django.utils import timezone

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(minutes=1)
TIMEOUT = 10  # seconds


def queue(func: str, *args) -> None:
    """
    Queue a task after the change that needs it committed. If the broker is down the change
    stands (the person who made it is not told it failed): the task is left to
    ``sweep_undelivered``, which does again, a few minutes later, what was not done.
    """
    from django_q.tasks import async_task

    try:
        async_task(func, *args)
    except Exception:  # noqa: BLE001 - any broker failure; the sweep makes up for it
        logger.warning("task %s not queued (broker unavailable); the sweep will do it", func)


def enqueue_delivery(event_id: int, attempt: int = 1) -> None:
    """Queue the push of ``event_id``; run from ``transaction.on_commit``."""
    queue("grants.tasks.deliver", event_id, attempt)


def schedule_retry(event_id: int, attempt: int) -> None:
    from django_q.models import Schedule

    delay = BACKOFF_BASE * (2 ** (attempt - 2))
    Schedule.objects.create(
        func="grants.tasks.deliver",
        args=f"{event_id},{attempt}",
        schedule_type=Schedule.ONCE,
        next_run=timezone.now() + delay,
        repeats=1,
        name=f"grants webhook {event_id} attempt {attempt}",
    )


def post(url: str, body: bytes) -> int:
    """POST ``body`` as application/jwt; return the HTTP status (raise on network errors)."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/jwt", "User-Agent": "smartcity-grants-webhook"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def deliver(event_id: int, attempt: int = 1) -> bool:
    """Push one event to its service's webhook; on failure schedule the next attempt."""
    from . import services

    delivered = services.webhook_deliver(event_id=event_id, attempt=attempt, post=post)
    if not delivered and attempt < MAX_ATTEMPTS:
        schedule_retry(event_id, attempt + 1)
    return delivered


def expire_grants() -> int:
    """Store ``expired`` on the grants whose expiry has passed (every few minutes)."""
    from . import services

    return services.grants_expire()


# --- Withdrawal notices (RFC 8935 push of Security Event Tokens) ----------------------------------


def enqueue_withdrawal_notices(resident_id: str, purpose_id: int, record_id=None) -> None:
    """Queue the notices of a withdrawal to its recipients; run after the withdrawal commits."""
    queue("grants.tasks.notify_withdrawal", resident_id, purpose_id, record_id)


def notify_withdrawal(resident_id: str, purpose_id: int, record_id: int | None = None) -> int:
    """
    Send the notices (Security Event Tokens) of the withdrawal ``record_id`` (by default the
    latest) to its recipients; return how many were sent (none if they already were).
    """
    from . import services

    return len(
        services.withdrawal_notify(
            resident_id=resident_id, purpose_id=purpose_id, withdrawal_id=record_id
        )
    )


def notify_purpose_closed(purpose_id: int) -> int:
    """
    Tell every service that received residents' data under a closed purpose, one notice per
    resident and service (reason ``purpose_closed``): queue one task per chunk of
    ``GRANTS_FAN_OUT_CHUNK`` residents, so that the task cluster's workers share them; return
    how many chunks were queued.
    """
    from django.conf import settings

    from . import services

    residents, total = services.purpose_closed_plan(purpose_id)
    size = settings.GRANTS_FAN_OUT_CHUNK
    chunks = [residents[start : start + size] for start in range(0, len(residents), size)]
    logger.info(
        "purpose %s closed: %d notices to make for %d residents in %d chunks",
        purpose_id,
        total,
        len(residents),
        len(chunks),
    )
    for chunk in chunks:
        queue("grants.tasks.notify_purpose_closed_chunk", purpose_id, chunk)
    return len(chunks)


def notify_purpose_closed_chunk(purpose_id: int, resident_ids: list[str]) -> int:
    """Make one chunk of a closed purpose's notices; return how many (none if already made)."""
    from . import services

    return services.purpose_closed_notify_chunk(purpose_id=purpose_id, resident_ids=resident_ids)


def notify_grant_ended(grant_id: int) -> int:
    """
    Tell the service of an ended (revoked or expired) grant, once per resident whose data was
    released under it, that it may hold the data no more (reason ``grant_ended``), in batches;
    return how many notices were sent (none if they already were).
    """
    from . import services

    return services.grant_ended_notify(grant_id=grant_id)


def follow_overdue_confirmations() -> int:
    """
    Daily: give the tickets whose recipients left deletions unconfirmed past their period an
    overdue obligation (see ``services.overdue_confirmations_follow``).
    """
    from . import services

    return services.overdue_confirmations_follow()


def enqueue_event_push(notice_id: int, attempt: int = 1) -> None:
    """Queue the push of a withdrawal notice; run from ``transaction.on_commit``."""
    queue("grants.tasks.push_event", notice_id, attempt)


def sweep_undelivered() -> dict[str, int]:
    """
    On a schedule: make the withdrawal notices and pushes whose tasks were lost (see
    ``services.undelivered_sweep``).
    """
    from . import services

    return services.undelivered_sweep()


_pushes = None


def _push_pool():
    """
    The process's connections to the services' events URLs, kept open between pushes
    (urllib3's pool: one per receiver, ``GRANTS_PUSH_CONCURRENCY`` connections at most each).
    Made on first use, so that each task-cluster worker, a forked process, has its own.
    """
    global _pushes
    if _pushes is None:
        import urllib3
        from django.conf import settings

        _pushes = urllib3.PoolManager(
            num_pools=64,
            maxsize=settings.GRANTS_PUSH_CONCURRENCY,
            block=True,
            retries=False,
            timeout=urllib3.Timeout(total=TIMEOUT),
        )
    return _pushes


def post_security_event(url: str, body: bytes) -> int:
    """
    POST a SET as RFC 8935 asks (``application/secevent+jwt``) over a kept connection; return
    the HTTP status (raise on network errors). Redirects are not followed.
    """
    response = _push_pool().request(
        "POST",
        url,
        body=body,
        headers={
            "Content-Type": "application/secevent+jwt",
            "Accept": "application/json",
            "User-Agent": "smartcity-security-events",
        },
        redirect=False,
    )
    return response.status


def enqueue_events_push(service_id: int, notice_ids: list[int], attempt: int = 1) -> None:
    """Queue the push of a chunk's notices to one service; run from ``transaction.on_commit``."""
    queue("grants.tasks.push_events", service_id, notice_ids, attempt)


def push_events(service_id: int, notice_ids: list[int], attempt: int = 1) -> int:
    """
    Push a chunk's notices to one service (``services.withdrawal_push_many``); those not
    delivered are tried again later, together, with backoff as the webhooks. Return how many
    were delivered.
    """
    from django_q.models import Schedule

    from . import services

    failed = services.withdrawal_push_many(
        service_id=service_id, notice_ids=notice_ids, post=post_security_event
    )
    if failed and attempt < MAX_ATTEMPTS:
        Schedule.objects.create(
            func="grants.tasks.push_events",
            args=f"{service_id},{failed!r},{attempt + 1}",
            schedule_type=Schedule.ONCE,
            next_run=timezone.now() + BACKOFF_BASE * (2 ** (attempt - 1)),
            repeats=1,
            name=f"security events to service {service_id} attempt {attempt + 1}",
        )
    return len(notice_ids) - len(failed)


def push_event(notice_id: int, attempt: int = 1) -> bool:
    """Push one withdrawal notice; on failure try again later with backoff, as the webhooks."""
    from django_q.models import Schedule

    from . import services

    delivered = services.withdrawal_push(
        notice_id=notice_id, attempt=attempt, post=post_security_event
    )
    if not delivered and attempt < MAX_ATTEMPTS:
        Schedule.objects.create(
            func="grants.tasks.push_event",
            args=f"{notice_id},{attempt + 1}",
            schedule_type=Schedule.ONCE,
            next_run=timezone.now() + BACKOFF_BASE * (2 ** (attempt - 1)),
            repeats=1,
            name=f"security event {notice_id} attempt {attempt + 1}",
        )
    return delivered
