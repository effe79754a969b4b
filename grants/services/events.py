"""
Withdrawals delivered to recipients: when a resident withdraws consent to a purpose, each member
service that received the resident's data under it gets a Security Event Token (RFC 8417, typ
``secevent+jwt``) naming the resident by that service's pairwise id, pushed to its events URL
(RFC 8935, retried with backoff) or fetched by polling (RFC 8936). The service acknowledges it
and later confirms what it did with the data (deleted, anonymised, or kept under a legal
obligation until a date); the resident sees each step in the portal.
"""

import datetime
import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from audit.services import Actor, sign_jwt, sign_jwt_many
from consent import selectors as consent_selectors
from consent import services as consent_services
from consent.models import Purpose, RecipientNotice, Resident

from .. import selectors
from ..models import Grant, Service

logger = logging.getLogger(__name__)

SET_TYP = "secevent+jwt"
# How long a recipient has to confirm what it did with the data, unless the board set a period.
CONFIRMATION_DAYS_DEFAULT = 30


def consent_withdrawn_event_uri() -> str:
    """The event type URI of a withdrawal of consent (RFC 8417 §2.2: a URI of the platform's)."""
    return f"{settings.PLATFORM_URL}/secevent/consent-withdrawn"


def _subject(service: Service, resident_id: str) -> str:
    """The id ``service`` knows the resident by: its pairwise subject (or, before it has an
    OpenID client, the pseudonymous id it was given)."""
    sectors = selectors.service_sectors(service.pk)
    if not sectors:
        return resident_id
    resident = Resident.objects.get(pk=resident_id)
    return consent_services.pairwise_subject_issue(
        actor=None, resident=resident, sector=sectors[0]
    ).subject


def _security_event_token(**kwargs) -> str:
    return sign_jwt(_security_event_claims(**kwargs), typ=SET_TYP)


def _security_event_claims(
    *,
    service: Service,
    purpose: Purpose,
    subject: str,
    reason: str,
    jti: str,
    at,
    due_at,
    grant: Grant | None = None,
) -> dict:
    claims = {
        "iss": settings.PLATFORM_URL,
        "iat": int(at.timestamp()),
        "jti": jti,
        "aud": service.subject,
        # RFC 9493 subject identifier: opaque, the service's own id for the resident.
        "sub_id": {"format": "opaque", "id": subject},
        "events": {
            consent_withdrawn_event_uri(): {
                "purpose": purpose.code,
                "reason": reason,
                "withdrawn_at": int(at.timestamp()),
                "confirm_by": int(due_at.timestamp()),
            }
        },
    }
    if grant is not None:
        # The grant that ended, and when: the service's permission to hold the data ended then.
        event = claims["events"][consent_withdrawn_event_uri()]
        event["grant"] = grant.jti
        event["withdrawn_at"] = int(grant.status_changed_at.timestamp())
    return claims


@transaction.atomic
def withdrawal_notify(
    *,
    resident_id: str,
    purpose_id: int,
    reason: str = RecipientNotice.Reason.WITHDRAWN,
    at=None,
    withdrawal_id: int | None = None,
) -> list[RecipientNotice]:
    """
    Send a notice of the withdrawal ``withdrawal_id`` (the consent record; by default the
    resident's latest withdrawal from the purpose) to every service that received the
    resident's data under the purpose (one per service, whatever the number of its grants);
    push each one that has an events URL once the transaction commits.
    """
    at = (at or timezone.now()).replace(microsecond=0)
    purpose = Purpose.objects.get(pk=purpose_id)
    # One notice per service and withdrawal, however many times this runs (the task, and the
    # sweep for a task that was lost): the resident's row serialises the runs.
    Resident.objects.select_for_update().filter(pk=resident_id).exists()
    if reason == RecipientNotice.Reason.WITHDRAWN and withdrawal_id is None:
        withdrawal_id = consent_selectors.latest_withdrawal_id(resident_id, purpose_id)
    told = _services_told(
        resident_id=resident_id, purpose_id=purpose_id, reason=reason, withdrawal_id=withdrawal_id
    )
    jtis = consent_selectors.data_recipient_grants(resident_id, purpose_id)
    # Each service's latest grant among those: its ticket gives the period to confirm in.
    recipients: dict[int, Grant] = {}
    for grant in Grant.objects.filter(jti__in=jtis).select_related("service").order_by("pk"):
        if grant.service_id not in told:
            recipients[grant.service_id] = grant
    notices = []
    for grant in recipients.values():
        service = grant.service
        due_at = at + datetime.timedelta(days=confirmation_days(grant))
        jti = str(uuid.uuid4())
        subject = _subject(service, resident_id)
        notice = consent_services.recipient_notice_create(
            resident_id=resident_id,
            purpose=purpose,
            organization_id=service.organization_id,
            service_id=service.pk,
            service_name=service.name,
            subject=subject,
            reason=reason,
            jti=jti,
            token=_security_event_token(
                service=service,
                purpose=purpose,
                subject=subject,
                reason=reason,
                jti=jti,
                at=at,
                due_at=due_at,
            ),
            at=at,
            due_at=due_at,
            withdrawal_id=withdrawal_id,
            grant_jti=grant.jti,
        )
        notices.append(notice)
        if service.events_url:
            from .. import tasks

            notice_id = notice.pk
            transaction.on_commit(lambda notice_id=notice_id: tasks.enqueue_event_push(notice_id))
    return notices


def _services_told(
    *, resident_id: str, purpose_id: int, reason: str, withdrawal_id: int | None
) -> set[int]:
    """
    Return the services already sent a notice of the withdrawal (or, for a closed purpose, of
    its closing).
    """
    notices = RecipientNotice.objects.filter(
        resident_id=resident_id, purpose_id=purpose_id, reason=reason
    )
    if reason == RecipientNotice.Reason.WITHDRAWN:
        notices = notices.filter(withdrawal_id=withdrawal_id)
    return set(notices.values_list("service_id", flat=True))


# Residents told of a grant's end per transaction.
GRANT_ENDED_BATCH = 500
ENDED_STATUSES = (Grant.Status.REVOKED, Grant.Status.EXPIRED)


def grant_end_tells_residents(grant: Grant) -> bool:
    """
    Whether the end of ``grant`` is told to its service per resident: a revoked or expired
    grant, except one revoked because its purpose closed (the purpose's closing is told to the
    same services, per resident, with the reason ``purpose_closed``).
    """
    return grant.status in ENDED_STATUSES and grant.status_reason != Grant.Reason.PURPOSE_CLOSED


def grant_ended_notify(
    *, grant_id: int, at=None, batch_size: int = GRANT_ENDED_BATCH, progress=None
) -> int:
    """
    Tell the service of the ended grant ``grant_id``, once per resident whose data was released
    under it, that it may hold the data no more (reason ``grant_ended``), pushing each notice
    once its batch commits; return how many notices were sent. One transaction per batch of
    ``batch_size`` residents; residents already told are skipped, so a second run (or a run
    after a crash half-way) sends only what is missing. ``progress(n)`` hears each batch.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    grant = Grant.objects.select_related("service", "purpose").get(pk=grant_id)
    if not grant_end_tells_residents(grant):
        return 0
    told = consent_selectors.residents_told_of_grant_end(grant.jti)
    pending = [
        r for r in consent_selectors.residents_with_data_released_under(grant.jti) if r not in told
    ]
    sent = 0
    for start in range(0, len(pending), batch_size):
        batch = pending[start : start + batch_size]
        sent += _grant_ended_batch(grant=grant, resident_ids=batch, at=at)
        logger.info(
            "grant %s ended: %d of %d residents told", grant.jti, start + len(batch), len(pending)
        )
        if progress is not None:
            progress(len(batch))
    return sent


@transaction.atomic
def _grant_ended_batch(*, grant: Grant, resident_ids: list[str], at=None) -> int:
    at = (at or timezone.now()).replace(microsecond=0)
    # Serialise with a concurrent run of the same grant: whoever comes second sees the notices.
    Grant.objects.select_for_update().filter(pk=grant.pk).exists()
    told = set(
        RecipientNotice.objects.filter(
            grant_jti=grant.jti,
            reason=RecipientNotice.Reason.GRANT_ENDED,
            resident_id__in=resident_ids,
        ).values_list("resident_id", flat=True)
    )
    notices = _fan_out_chunk(
        purpose=grant.purpose,
        reason=RecipientNotice.Reason.GRANT_ENDED,
        pairs=[(resident_id, grant) for resident_id in resident_ids if resident_id not in told],
        at=at,
        ended_grant=grant,
    )
    return len(notices)


# --- Fan-out in chunks: a purpose closed, a grant ended ------------------------------------------


def _fan_out_chunk(
    *, purpose: Purpose, reason: str, pairs: list[tuple[str, Grant]], at, ended_grant=None
) -> list[RecipientNotice]:
    """
    Make the notices of one chunk of a fan-out, one per (resident, grant) in ``pairs`` (the
    grant names the service told and, by its ticket, the period to confirm in): the services'
    pairwise ids looked up (or issued) for the chunk at once, every token signed with the key
    decrypted once, the notices stored in one statement with one audit entry, and once the
    chunk commits one push task per service that has an events URL. The caller's transaction.
    """
    from .. import tasks

    if not pairs:
        return []
    residents_of: dict[int, list[str]] = {}
    for resident_id, grant in pairs:
        residents_of.setdefault(grant.service_id, []).append(resident_id)
    subjects: dict[int, dict[str, str]] = {}
    for service_id, resident_ids in residents_of.items():
        sectors = selectors.service_sectors(service_id)
        subjects[service_id] = (
            consent_services.pairwise_subjects_issue_many(
                resident_ids=resident_ids, sector=sectors[0]
            )
            if sectors
            else {resident_id: resident_id for resident_id in resident_ids}
        )
    days: dict[int, int] = {}
    notices, claims = [], []
    for resident_id, grant in pairs:
        service = grant.service
        if grant.pk not in days:
            days[grant.pk] = confirmation_days(grant)
        due_at = at + datetime.timedelta(days=days[grant.pk])
        jti = str(uuid.uuid4())
        subject = subjects[service.pk][resident_id]
        claims.append(
            _security_event_claims(
                service=service,
                purpose=purpose,
                subject=subject,
                reason=reason,
                jti=jti,
                at=at,
                due_at=due_at,
                grant=ended_grant,
            )
        )
        notices.append(
            {
                "resident_id": resident_id,
                "organization_id": service.organization_id,
                "service_id": service.pk,
                "service_name": service.name,
                "subject": subject,
                "jti": jti,
                "due_at": due_at,
            }
        )
    for notice, token in zip(notices, sign_jwt_many(claims, typ=SET_TYP), strict=True):
        notice["token"] = token
    created = consent_services.recipient_notices_create_many(
        purpose=purpose,
        reason=reason,
        notices=notices,
        at=at,
        grant_jti=ended_grant.jti if ended_grant is not None else "",
    )
    pushed = {grant.service_id for _, grant in pairs if grant.service.events_url}
    for service_id in sorted(pushed):
        ids = [notice.pk for notice in created if notice.service_id == service_id]
        transaction.on_commit(
            lambda service_id=service_id, ids=ids: tasks.enqueue_events_push(service_id, ids)
        )
    return created


def purpose_closed_plan(purpose_id: int) -> tuple[list[str], int]:
    """
    Return the residents whose data was released for the closed purpose (sorted) and how many
    notices its closing makes in all: one per resident and service that received their data.
    """
    released = consent_selectors.data_recipient_grants_many(purpose_id)
    service_of = dict(
        Grant.objects.filter(
            jti__in={jti for jtis in released.values() for jti in jtis}
        ).values_list("jti", "service_id")
    )
    total = sum(
        len({service_of[jti] for jti in jtis if jti in service_of}) for jtis in released.values()
    )
    return sorted(released), total


@transaction.atomic
def purpose_closed_notify_chunk(*, purpose_id: int, resident_ids: list[str], at=None) -> int:
    """
    Tell every service that received the data of ``resident_ids`` under the closed purpose,
    one notice per resident and service (reason ``purpose_closed``; the service's latest grant
    that released the data gives the period to confirm in), in one transaction; return how
    many notices were made. What was told already is left out, so a chunk run again (retried,
    or after a run that stopped) makes nothing twice; two runs at once of the same chunk make
    the second fail whole on the unique notice per resident, service and closed purpose.
    """
    at = (at or timezone.now()).replace(microsecond=0)
    purpose = Purpose.objects.get(pk=purpose_id)
    reason = RecipientNotice.Reason.PURPOSE_CLOSED
    released = consent_selectors.data_recipient_grants_many(purpose_id, resident_ids)
    grants = {
        grant.jti: grant
        for grant in Grant.objects.filter(
            jti__in={jti for jtis in released.values() for jti in jtis}
        ).select_related("service")
    }
    told = consent_selectors.recipient_notices_told(purpose_id, reason, resident_ids)
    pairs = []
    for resident_id in sorted(released):
        latest: dict[int, Grant] = {}
        for grant in sorted(
            (grants[jti] for jti in released[resident_id] if jti in grants),
            key=lambda grant: grant.pk,
        ):
            latest[grant.service_id] = grant
        pairs += [
            (resident_id, grant)
            for service_id, grant in sorted(latest.items())
            if (resident_id, service_id) not in told
        ]
    return len(_fan_out_chunk(purpose=purpose, reason=reason, pairs=pairs, at=at))


def purpose_closed_notify(
    *, purpose_id: int, chunk_size: int | None = None, at=None, progress=None
) -> int:
    """
    Tell every recipient of the closed purpose, chunk after chunk in this process (the task
    cluster runs the chunks as tasks of their own: ``tasks.notify_purpose_closed``); return how
    many notices were made. ``progress(n)`` hears the notices each chunk made.
    """
    chunk_size = chunk_size or settings.GRANTS_FAN_OUT_CHUNK
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    residents, _ = purpose_closed_plan(purpose_id)
    made = 0
    for start in range(0, len(residents), chunk_size):
        count = purpose_closed_notify_chunk(
            purpose_id=purpose_id, resident_ids=residents[start : start + chunk_size], at=at
        )
        made += count
        if progress is not None:
            progress(count)
    return made


def confirmation_days(grant: Grant | None) -> int:
    """
    The days a recipient has to confirm what it did with the data: the period the board set on
    the ticket ``grant`` was issued under, or ``CONFIRMATION_DAYS_DEFAULT``.
    """
    from review import selectors as review_selectors

    days = review_selectors.ticket_deletion_confirmation_days(grant.ticket_id if grant else None)
    return days or CONFIRMATION_DAYS_DEFAULT


def overdue_confirmations_follow(*, now=None) -> int:
    """
    Give each ticket whose grants' recipients left notices unconfirmed past their due date an
    overdue obligation (review's ``deletion_confirmations_overdue``: once, until it is met);
    return how many obligations were opened. Daily.
    """
    from review import services as review_services

    now = now or timezone.now()
    tickets: dict[int, list] = {}
    rows = consent_selectors.recipient_notices_overdue_by_grant(now)
    ticket_of = dict(
        Grant.objects.filter(jti__in=[row[0] for row in rows], ticket_id__isnull=False).values_list(
            "jti", "ticket_id"
        )
    )
    for jti, count, first, last in rows:
        if jti not in ticket_of:
            continue
        seen = tickets.setdefault(ticket_of[jti], [0, first, last])
        seen[0] += count
        seen[1], seen[2] = min(seen[1], first), max(seen[2], last)
    opened = 0
    for ticket_id, (count, first, last) in sorted(tickets.items()):
        if review_services.deletion_confirmations_overdue(
            ticket_id=ticket_id, count=count, first_due=first, last_due=last
        ):
            opened += 1
    return opened


def undelivered_sweep(*, now=None) -> dict[str, int]:
    """
    Do again what a lost task left undone (a task is lost when the broker is down at the moment
    it is queued, after the change that needs it committed): the notices of recent withdrawals
    that were never made, the notices of recently closed purposes that are missing, and the
    pushes of notices and grant events never attempted. Only what is older than
    ``GRANTS_SWEEP_GRACE_SECONDS`` (the task may still be on its way) and younger
    than ``GRANTS_SWEEP_DAYS``. Return how many of each were done again.
    """
    from .. import tasks
    from ..models import GrantEvent

    now = now or timezone.now()
    until = now - datetime.timedelta(seconds=settings.GRANTS_SWEEP_GRACE_SECONDS)
    since = now - datetime.timedelta(days=settings.GRANTS_SWEEP_DAYS)
    done = {"withdrawals": 0, "pushes": 0, "webhooks": 0, "grants_ended": 0, "purposes_closed": 0}
    for resident_id, purpose_id, record_id in consent_selectors.withdrawals_without_notices(
        since, until
    ):
        if withdrawal_notify(
            resident_id=resident_id, purpose_id=purpose_id, withdrawal_id=record_id
        ):
            done["withdrawals"] += 1
    # Grants that ended (revoked or expired) with residents not yet told.
    ended = (
        GrantEvent.objects.filter(at__gte=since, at__lt=until, status__in=ENDED_STATUSES)
        .values_list("grant_id", flat=True)
        .distinct()
    )
    for grant_id in ended:
        if grant_ended_notify(grant_id=grant_id):
            done["grants_ended"] += 1
    # Purposes closed with recipients not yet told (the fan-out's task lost, or some chunk of it):
    # the fan-out again, which makes only what is missing.
    # A purpose found fully told is marked in the cache for the sweep's window, so that its
    # plan (a read of every resident whose data it released) is not made again each minute; a
    # lost mark only costs that read once more.
    for purpose_id in consent_selectors.purposes_closed_between(since, until):
        told_key = f"grants:purpose-closed-told:{purpose_id}"
        if cache.get(told_key):
            continue
        _, total = purpose_closed_plan(purpose_id)
        made = consent_selectors.recipient_notices_progress(
            purpose_id=purpose_id, reason=RecipientNotice.Reason.PURPOSE_CLOSED
        )["produced"]
        if made < total:
            tasks.queue("grants.tasks.notify_purpose_closed", purpose_id)
            done["purposes_closed"] += 1
        else:
            cache.set(told_key, True, timeout=settings.GRANTS_SWEEP_DAYS * 86400)
    # Notices to services with an events URL, never pushed nor fetched.
    owed = RecipientNotice.objects.filter(
        created_at__gte=since,
        created_at__lt=until,
        push_attempts=0,
        delivered_at__isnull=True,
        acknowledged_at__isnull=True,
        service_id__in=Service.objects.exclude(events_url="").values("pk"),
    ).values_list("service_id", "pk")
    owed_by_service: dict[int, list[int]] = {}
    for service_id, notice_id in owed.order_by("service_id", "pk"):
        owed_by_service.setdefault(service_id, []).append(notice_id)
    for service_id, notice_ids in owed_by_service.items():
        for start in range(0, len(notice_ids), settings.GRANTS_FAN_OUT_CHUNK):
            tasks.enqueue_events_push(
                service_id, notice_ids[start : start + settings.GRANTS_FAN_OUT_CHUNK]
            )
        done["pushes"] += len(notice_ids)
    # Grant status changes for services with a webhook, never attempted.
    events = GrantEvent.objects.filter(
        at__gte=since, at__lt=until, deliveries__isnull=True, grant__service__webhook_url__gt=""
    ).values_list("pk", flat=True)
    for event_id in events:
        tasks.enqueue_delivery(event_id)
        done["webhooks"] += 1
    return done


def withdrawal_push(*, notice_id: int, attempt: int, post) -> bool:
    """
    Push one notice to its service's events URL (RFC 8935: ``application/secevent+jwt``; 202
    means received and validated); return whether it was delivered.
    """
    notice = RecipientNotice.objects.get(pk=notice_id)
    service = Service.objects.get(pk=notice.service_id)
    if notice.acknowledged_at is not None or not service.events_url:
        return True
    try:
        status = post(service.events_url, notice.token.encode())
    except Exception:  # noqa: BLE001 - a network failure is a failed attempt, retried
        status = None
    delivered = status in (200, 202)
    consent_services.recipient_notice_push_attempted(
        notice_id=notice.pk, delivered=delivered, at=timezone.now()
    )
    return delivered


def withdrawal_push_many(
    *, service_id: int, notice_ids: list[int], post, concurrency: int | None = None
) -> list[int]:
    """
    Push many notices to one service's events URL (RFC 8935: one SET per POST), at most
    ``concurrency`` at once (``GRANTS_PUSH_CONCURRENCY``) over connections kept open (``post``
    reuses them), and store every attempt at once; return the ids of the notices not delivered.
    Notices already acknowledged (by a poll, or an earlier push) are not pushed again.
    """
    from concurrent.futures import ThreadPoolExecutor

    service = Service.objects.get(pk=service_id)
    if not service.events_url:
        return []
    pending = list(
        RecipientNotice.objects.filter(
            pk__in=notice_ids, service_id=service_id, acknowledged_at__isnull=True
        ).values_list("pk", "token")
    )
    if not pending:
        return []

    def send(item: tuple[int, str]) -> tuple[int, bool]:
        try:
            status = post(service.events_url, item[1].encode())
        except Exception:  # noqa: BLE001 - a network failure is a failed attempt, retried
            status = None
        return item[0], status in (200, 202)

    workers = max(1, min(concurrency or settings.GRANTS_PUSH_CONCURRENCY, len(pending)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(send, pending))
    delivered = [pk for pk, ok in results if ok]
    failed = [pk for pk, ok in results if not ok]
    consent_services.recipient_notices_push_attempted(
        delivered=delivered, failed=failed, at=timezone.now()
    )
    return failed


MAX_POLL = 1000


def withdrawal_poll(*, service: Service, acks: list[str], max_events: int) -> tuple[dict, bool]:
    """
    RFC 8936 poll: acknowledge ``acks`` (the caller's own events only), then return up to
    ``max_events`` unacknowledged events as ``{jti: SET}`` and whether more are waiting.
    """
    now = timezone.now()
    with transaction.atomic():
        if acks:
            consent_services.recipient_notices_delivered(
                actor=Actor.service(service.pk),
                service_id=service.pk,
                jtis=acks,
                at=now,
                acknowledged=True,
            )
        pending = consent_selectors.recipient_notices_unacknowledged(
            service.pk, limit=max_events + 1
        )
        more = len(pending) > max_events
        pending = pending[:max_events]
        fresh = [notice.jti for notice in pending if notice.delivered_at is None]
        if fresh:
            consent_services.recipient_notices_delivered(
                actor=Actor.service(service.pk),
                service_id=service.pk,
                jtis=fresh,
                at=now,
                acknowledged=False,
            )
    return {notice.jti: notice.token for notice in pending}, more
