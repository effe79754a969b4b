"""Reads of the consent app: the consent check, the portal's views of a resident's records."""

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.selectors import entries_for_object, object_ids_with_action
from config.db import server_side_cursor
from governance.selectors import consortia_administered_by

from .models import (
    ConsentRecord,
    ConsentState,
    DataAccess,
    DataAccessBatch,
    Notice,
    PairwiseSubject,
    Purpose,
    RecipientNotice,
    Representation,
    Resident,
)

# SQLite limits the number of parameters of one statement.
SQLITE_CHUNK = 500


def _effective(purpose: Purpose, decision: str, notice_id: int, expires_at, at) -> bool:
    # Opt-in: only a consent given under the notice in force, not expired, on an open purpose.
    return (
        decision == ConsentRecord.Decision.GIVEN
        and notice_id == purpose.current_notice_id
        and (expires_at is None or expires_at > at)
    )


def consent_allows(purpose: Purpose, resident: Resident | str, *, at=None) -> bool:
    """Return True if ``purpose`` may use ``resident``'s data now (or at ``at``)."""
    if purpose.status != Purpose.Status.OPEN:
        return False
    resident_id = getattr(resident, "pk", resident)
    latest = (
        ConsentState.objects.filter(purpose_id=purpose.pk, resident_id=resident_id)
        .values_list("decision", "notice_id", "expires_at")
        .first()
    )
    if latest is None:
        return False
    return _effective(purpose, *latest, at or timezone.now())


def consent_allows_many(
    purpose: Purpose, pseudonymous_ids: Iterable[str], *, at=None
) -> dict[str, bool]:
    """
    Return, for each pseudonymous id, whether ``purpose`` may use that resident's data now.
    Unknown ids are False. One query on PostgreSQL, whatever the number of residents.
    """
    ids = list(dict.fromkeys(str(pid) for pid in pseudonymous_ids))
    answer = dict.fromkeys(ids, False)
    if not ids or purpose.status != Purpose.Status.OPEN or purpose.current_notice_id is None:
        return answer
    for resident_id in _consenting(purpose, ids, at or timezone.now()):
        answer[resident_id] = True
    return answer


def _consenting(purpose: Purpose, ids: list[str], at) -> list[str]:
    """
    Return those of ``ids`` whose current state is a consent given under the purpose's current
    notice and not expired at ``at`` (``_effective``, decided by the database).
    """
    if connection.vendor == "postgresql":
        # An index-only scan of consent_state_unique, one entry per resident, returning only
        # the ids allowed. The ids travel bound on the server as one comma-separated text,
        # which PostgreSQL splits: adapting a list of 10,000 strings into an array parameter
        # took a third of the call. No pseudonymous id contains a comma, so an "id" that does
        # is unknown and left out.
        with server_side_cursor() as cursor:
            cursor.execute(
                f"SELECT resident_id FROM {ConsentState._meta.db_table} "
                "WHERE purpose_id = %s AND resident_id = ANY(string_to_array(%s, ',')) "
                "AND decision = %s AND notice_id = %s AND (expires_at IS NULL OR expires_at > %s)",
                [
                    purpose.pk,
                    ",".join(pid for pid in ids if "," not in pid),
                    ConsentRecord.Decision.GIVEN,
                    purpose.current_notice_id,
                    at,
                ],
            )
            return [row[0] for row in cursor.fetchall()]
    allowed = []
    for start in range(0, len(ids), SQLITE_CHUNK):
        allowed.extend(
            ConsentState.objects.filter(
                Q(expires_at__isnull=True) | Q(expires_at__gt=at),
                purpose_id=purpose.pk,
                resident_id__in=ids[start : start + SQLITE_CHUNK],
                decision=ConsentRecord.Decision.GIVEN,
                notice_id=purpose.current_notice_id,
            ).values_list("resident_id", flat=True)
        )
    return allowed


# --- The resident portal ---------------------------------------------------------------------


def resident_for_user(user) -> Resident | None:
    """Return the resident whose account ``user`` is, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Resident.objects.filter(user=user, erased_at__isnull=True).first()


def purposes_for_resident(resident: Resident) -> QuerySet[Purpose]:
    """Return the purposes open for consent in the resident's consortia."""
    return (
        Purpose.objects.filter(consortium__in=resident.consortia.all(), status=Purpose.Status.OPEN)
        .select_related("consortium", "controller", "current_notice")
        .prefetch_related("categories", "recipients")
        .order_by("consortium__name_ja", "code")
    )


def access_purpose(resident: Resident, purpose_id) -> Purpose:
    """Return a purpose of the resident's consortia (open or closed, not draft), else 404."""
    purpose = (
        Purpose.objects.filter(
            pk=purpose_id,
            consortium__in=resident.consortia.all(),
            status__in=[Purpose.Status.OPEN, Purpose.Status.CLOSED],
        )
        .select_related("consortium", "controller", "current_notice")
        .first()
    )
    if purpose is None:
        raise Http404("no such purpose")
    return purpose


def access_notice(resident: Resident, purpose_id, version) -> Notice:
    """Return a notice version of a purpose the resident may see, else 404."""
    purpose = access_purpose(resident, purpose_id)
    notice = purpose.notices.filter(version=version).first()
    if notice is None:
        raise Http404("no such notice")
    return notice


def access_consent_record(resident: Resident, receipt_id) -> ConsentRecord:
    """
    Return one of the resident's own records, one they made as a representative, or one of
    a person they represent now, by receipt id; 404 for any other.
    """
    represented = [r.represented_id for r in representations_held(resident)]
    record = (
        ConsentRecord.objects.filter(
            Q(resident=resident) | Q(acted_by=resident) | Q(resident__in=represented)
        )
        .filter(receipt_id=receipt_id)
        .select_related("resident", "purpose", "notice", "acted_by")
        .first()
    )
    if record is None:
        raise Http404("no such record")
    return record


@dataclass
class PurposeState:
    """A purpose as the resident's dashboard shows it."""

    purpose: Purpose
    latest: ConsentRecord | None
    allowed: bool

    @property
    def state(self) -> str:
        """One of: agreed, declined, ask_again (a new notice or an expiry), undecided."""
        if self.latest is None:
            return "undecided"
        if self.allowed:
            return "agreed"
        if self.latest.decision == ConsentRecord.Decision.WITHDRAWN:
            return "declined"
        return "ask_again"

    @property
    def label(self) -> str:
        return {
            "agreed": _("agreed"),
            "declined": _("did not agree or withdrew"),
            "ask_again": _("to be asked again"),
            "undecided": _("not decided"),
        }[self.state]

    @property
    def sensitive(self) -> bool:
        return any(category.sensitive for category in self.purpose.categories.all())


def dashboard(resident: Resident, *, at=None) -> list[PurposeState]:
    """Return every purpose open in the resident's consortia with the resident's decision."""
    at = at or timezone.now()
    purposes = list(purposes_for_resident(resident))
    latest_ids = (
        ConsentRecord.objects.filter(resident=resident, purpose__in=purposes)
        .values("purpose_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    latest = {r.purpose_id: r for r in ConsentRecord.objects.filter(pk__in=list(latest_ids))}
    states = []
    for purpose in purposes:
        record = latest.get(purpose.pk)
        allowed = record is not None and _effective(
            purpose, record.decision, record.notice_id, record.expires_at, at
        )
        states.append(PurposeState(purpose=purpose, latest=record, allowed=allowed))
    return states


def consent_history(resident: Resident) -> QuerySet[ConsentRecord]:
    """Return every decision of the resident, newest first."""
    return (
        ConsentRecord.objects.filter(resident=resident)
        .select_related("purpose", "notice", "purpose__consortium")
        .order_by("-id")
    )


def decision_kinds(resident: Resident) -> dict[int, str]:
    """
    Return, for each of the resident's records (by id), what the resident did: "agreed",
    "declined" (said no to a purpose they had not agreed to) or "withdrew" (took back a
    consent they had given). The record alone cannot tell the last two apart.
    """
    kinds: dict[int, str] = {}
    last: dict[int, str] = {}
    rows = (
        ConsentRecord.objects.filter(resident=resident)
        .order_by("id")
        .values_list("id", "purpose_id", "decision")
    )
    for record_id, purpose_id, decision in rows:
        if decision == ConsentRecord.Decision.GIVEN:
            kinds[record_id] = "agreed"
        elif last.get(purpose_id) == ConsentRecord.Decision.GIVEN:
            kinds[record_id] = "withdrew"
        else:
            kinds[record_id] = "declined"
        last[purpose_id] = decision
    return kinds


def history_with_kinds(resident: Resident, records) -> list[ConsentRecord]:
    """Return ``records`` (the resident's) as a list, each with its ``kind`` (decision_kinds)."""
    records = list(records)
    if records:
        kinds = decision_kinds(resident)
        for record in records:
            record.kind = kinds.get(record.pk, "declined")
    return records


def data_accesses(resident: Resident, *, limit: int = 200) -> list:
    """
    Return the newest recorded uses of the resident's data by member services (at most
    ``limit``), newest first, with their purpose and organisation.
    """
    copied = list(
        DataAccess.objects.filter(resident=resident)
        .select_related("purpose", "organization")
        .order_by("-accessed_at", "-id")[:limit]
    )
    pending = _pending_accesses(resident)
    if not pending:
        return copied
    return sorted(pending + copied, key=lambda access: access.accessed_at, reverse=True)[:limit]


def _pending_accesses(resident: Resident) -> list[DataAccess]:
    """Return the resident's accesses in batches not yet copied to the access table (unsaved)."""
    batches = DataAccessBatch.objects.filter(expanded_at__isnull=True).select_related(
        "purpose", "organization"
    )
    pid = resident.pseudonymous_id
    # The database narrows by substring; the lines decide (SQLite's LIKE ignores case).
    batches = batches.filter(resident_ids__contains=pid)
    return [batch.access_of(pid) for batch in batches if pid in batch.ids()]


def resident_export(resident: Resident) -> dict:
    """Return everything the platform holds about the resident, as plain data (APPI art. 33)."""
    profile = getattr(resident, "profile", None)
    user = resident.user
    return {
        "pseudonymous_id": resident.pseudonymous_id,
        "registered_at": resident.registered_at.isoformat(),
        "language": resident.language,
        "account": {"email": user.email, "date_joined": user.date_joined.isoformat()}
        if user
        else None,
        "personal_details": {
            "name": profile.full_name,
            "email": profile.contact_email,
            "telephone": profile.phone,
        }
        if profile
        else None,
        "consortia": [
            {"slug": c.slug, "name_ja": c.name_ja, "name_en": c.name_en}
            for c in resident.consortia.order_by("pk")
        ],
        "decisions": [
            {
                "receipt_id": str(r.receipt_id),
                "purpose_id": r.purpose_id,
                "purpose": {"ja": r.purpose.title_ja, "en": r.purpose.title_en},
                "notice_version": r.notice.version,
                "notice_sha256": r.notice.sha256,
                "decision": r.decision,
                "decided_at": r.decided_at.isoformat(),
                "method": r.method,
                "paper_reference": r.paper_reference or None,
                "expires_at": r.expires_at.isoformat() if r.expires_at else None,
                "acted_by": r.acted_by_id,
                "relationship": r.relationship or None,
            }
            for r in consent_history(resident).order_by("id")
        ],
        "data_accesses": [
            {
                "accessed_at": a.accessed_at.isoformat(),
                "service": a.service_name,
                "organization": {"ja": a.organization.name_ja, "en": a.organization.name_en},
                "purpose_id": a.purpose_id,
                "purpose": {"ja": a.purpose.title_ja, "en": a.purpose.title_en},
                "grant_jti": a.grant_jti,
                "batch_sha256": a.batch_sha256,
            }
            for a in [
                *DataAccess.objects.filter(resident=resident)
                .select_related("purpose", "organization")
                .order_by("accessed_at", "id"),
                *sorted(_pending_accesses(resident), key=lambda access: access.accessed_at),
            ]
        ],
        "representations": [
            {
                "id": r.pk,
                "role": "representative" if r.representative_id == resident.pk else "represented",
                "representative": r.representative_id,
                "represented": r.represented_id,
                "relationship": r.relationship,
                "state": r.state,
                "valid_from": r.valid_from.isoformat(),
                "valid_until": r.valid_until.isoformat() if r.valid_until else None,
                "comes_of_age_on": r.comes_of_age_on.isoformat() if r.comes_of_age_on else None,
                "end_reason": r.end_reason or None,
            }
            for r in Representation.objects.filter(
                Q(representative=resident) | Q(represented=resident)
            ).order_by("pk")
        ],
        "withdrawal_notices": [
            {
                "service": n.service_name,
                "organization": {"ja": n.organization.name_ja, "en": n.organization.name_en},
                "purpose_id": n.purpose_id,
                "reason": n.reason,
                "event_id": n.jti,
                "notified_at": n.delivered_at.isoformat() if n.delivered_at else None,
                "acknowledged_at": n.acknowledged_at.isoformat() if n.acknowledged_at else None,
                "confirmed_at": n.confirmed_at.isoformat() if n.confirmed_at else None,
                "outcome": n.outcome or None,
                "retained_until": n.retained_until.isoformat() if n.retained_until else None,
                "due_at": n.due_at.isoformat(),
                "overdue": n.is_overdue(),
            }
            for n in reversed(recipient_notices_for(resident))
        ],
    }


# --- Representatives ---------------------------------------------------------------------------


def representations_held(resident: Resident, *, today=None) -> list[Representation]:
    """Return the representations in force under which ``resident`` decides for someone."""
    today = today or timezone.localdate()
    found = (
        Representation.objects.filter(
            representative=resident,
            state=Representation.State.ACTIVE,
            represented__erased_at__isnull=True,
        )
        .select_related("represented__profile")
        .order_by("pk")
    )
    return [representation for representation in found if representation.is_in_force(today)]


def representation_requests(resident: Resident) -> QuerySet[Representation]:
    """Return the resident's online requests still waiting for the secretariat."""
    return Representation.objects.filter(
        representative=resident, state=Representation.State.REQUESTED
    ).order_by("-requested_at")


def access_representation(resident: Resident, representation_id, *, today=None) -> Representation:
    """
    Return a representation in force that ``resident`` holds; 404 for any other (another
    resident's, an ended or expired one, one that does not exist).
    """
    for representation in representations_held(resident, today=today):
        if str(representation.pk) == str(representation_id):
            return representation
    raise Http404("no such representation")


def decisions_to_confirm(resident: Resident, *, at=None) -> list[PurposeState]:
    """
    Return the purposes whose decision in force a representative made for the resident under
    a representation no longer in force: the resident is asked to confirm or change each.
    """
    today = timezone.localdate(at) if at else timezone.localdate()
    states = [
        state
        for state in dashboard(resident, at=at)
        if state.latest is not None and state.latest.acted_by_id is not None
    ]
    if not states:
        return []
    representations = Representation.objects.in_bulk(
        [state.latest.representation_id for state in states]
    )
    return [
        state
        for state in states
        if not representations[state.latest.representation_id].is_in_force(today)
    ]


# --- The secretariat -------------------------------------------------------------------------


def secretariat_consortium_ids(user) -> list[int] | None:
    """
    Return the ids of the consortia whose consent records ``user`` administers (governance's
    rule: their secretariat, or an object permission); None for a superuser (every one).
    """
    if user.is_active and user.is_superuser:
        return None
    return list(consortia_administered_by(user).values_list("pk", flat=True))


@dataclass
class PurposeCounts:
    opted_in: int
    opted_out: int
    ask_again: int


def purpose_counts(purpose: Purpose, *, at=None) -> PurposeCounts:
    """Count residents by their current decision on ``purpose``."""
    at = at or timezone.now()
    latest_ids = (
        ConsentRecord.objects.filter(purpose=purpose)
        .values("resident_id")
        .annotate(last=Max("id"))
        .values("last")
    )
    counts = PurposeCounts(0, 0, 0)
    rows = ConsentRecord.objects.filter(pk__in=latest_ids).values_list(
        "decision", "notice_id", "expires_at"
    )
    for decision, notice_id, expires_at in rows.iterator(chunk_size=10_000):
        if decision == ConsentRecord.Decision.WITHDRAWN:
            counts.opted_out += 1
        elif purpose.status == Purpose.Status.OPEN and _effective(
            purpose, decision, notice_id, expires_at, at
        ):
            counts.opted_in += 1
        else:
            counts.ask_again += 1
    return counts


@dataclass
class ReceiptView:
    """What a receipt page and its PDF say about one decision, in the resident's words."""

    record: ConsentRecord
    kind: str  # agreed, declined, withdrew (decision_kinds)
    terms: dict
    consortium: object
    log_seq: int | None  # the decision's entry in the public audit log, once sealed


def receipt_view(resident: Resident, receipt_id) -> ReceiptView:
    """Return the readable receipt of one of the resident's own decisions; 404 for any other."""
    record = access_consent_record(resident, receipt_id)
    resident = record.resident  # the kind of decision is the represented person's
    entry = (
        entries_for_object(object_type=record._meta.label_lower, object_id=str(record.pk))
        .values_list("seq", flat=True)
        .first()
    )
    return ReceiptView(
        record=record,
        kind=decision_kinds(resident).get(record.pk, "declined"),
        terms=record.notice.terms,
        consortium=record.purpose.consortium,
        log_seq=entry,
    )


# --- The public register ------------------------------------------------------------------------

JAPAN = zoneinfo.ZoneInfo("Asia/Tokyo")


def purposes_published(consortium) -> QuerySet[Purpose]:
    """Return ``consortium``'s purposes residents have been asked about (open or closed)."""
    return Purpose.objects.filter(
        consortium=consortium, status__in=[Purpose.Status.OPEN, Purpose.Status.CLOSED]
    ).order_by("code")


def access_counts_by_month(consortium) -> list[dict]:
    """
    Return the residents whose data were released to each service of ``consortium``, per
    purpose and month (Japan time), summed over the grants API's batches:
    [{"organization_id", "service_name", "purpose_id", "month" (date), "residents"}].
    """
    rows = (
        DataAccessBatch.objects.filter(purpose__consortium=consortium)
        .annotate(month=TruncMonth("accessed_at", tzinfo=JAPAN))
        .values("organization_id", "service_name", "purpose_id", "month")
        .annotate(residents=Sum("residents"))
        .order_by("month", "service_name", "purpose_id")
    )
    return [
        {**row, "month": row["month"].date() if hasattr(row["month"], "date") else row["month"]}
        for row in rows
    ]


# --- Pairwise subject identifiers -----------------------------------------------------------------


def residents_by_pairwise_subject(sector: str, subjects: Iterable[str]) -> dict[str, str]:
    """
    Return ``{subject: pseudonymous id}`` for the subjects that ``sector`` knows residents by;
    a subject issued for another sector, or never issued, is left out.
    """
    subjects = list(dict.fromkeys(subjects))
    found: dict[str, str] = {}
    for start in range(0, len(subjects), SQLITE_CHUNK):
        rows = PairwiseSubject.objects.filter(
            sector=sector, subject__in=subjects[start : start + SQLITE_CHUNK]
        ).values_list("subject", "resident_id")
        found.update(rows)
    return found


def pairwise_subjects_of(sector: str, pseudonymous_ids: Iterable[str]) -> dict[str, str]:
    """Return ``{pseudonymous id: subject}`` at ``sector`` for those residents that have one."""
    ids = list(dict.fromkeys(pseudonymous_ids))
    found: dict[str, str] = {}
    for start in range(0, len(ids), SQLITE_CHUNK):
        rows = PairwiseSubject.objects.filter(
            sector=sector, resident_id__in=ids[start : start + SQLITE_CHUNK]
        ).values_list("resident_id", "subject")
        found.update(rows)
    return found


def data_recipient_grants(resident_id: str, purpose_id: int) -> list[str]:
    """
    Return the ids (jti) of the grants under which the resident's data was released for the
    purpose: from the access table and from the batches not yet copied into it.
    """
    jtis = set(
        DataAccess.objects.filter(resident_id=resident_id, purpose_id=purpose_id)
        .values_list("grant_jti", flat=True)
        .distinct()
    )
    pending = DataAccessBatch.objects.filter(
        purpose_id=purpose_id, expanded_at__isnull=True, resident_ids__contains=resident_id
    ).values_list("grant_jti", "resident_ids")
    for jti, lines in pending:
        if resident_id in lines.split("\n"):
            jtis.add(jti)
    return sorted(jtis)


def data_recipient_grants_many(purpose_id: int, resident_ids=None) -> dict[str, set[str]]:
    """
    Return ``{pseudonymous id: ids (jti) of the grants under which the resident's data was
    released for the purpose}`` for ``resident_ids`` (every such resident when None), from the
    access table and from the batches not yet copied into it: ``data_recipient_grants`` for
    many residents in one query.
    """
    wanted = None if resident_ids is None else set(resident_ids)
    accesses = DataAccess.objects.filter(purpose_id=purpose_id)
    if wanted is not None:
        accesses = accesses.filter(resident_id__in=wanted)
    found: dict[str, set[str]] = {}
    for resident_id, jti in accesses.values_list("resident_id", "grant_jti").distinct():
        found.setdefault(resident_id, set()).add(jti)
    pending = DataAccessBatch.objects.filter(purpose_id=purpose_id, expanded_at__isnull=True)
    for jti, lines in pending.values_list("grant_jti", "resident_ids"):
        for resident_id in lines.split("\n"):
            if resident_id and (wanted is None or resident_id in wanted):
                found.setdefault(resident_id, set()).add(jti)
    return found


def recipient_notices_told(
    purpose_id: int, reason: str, resident_ids: list[str]
) -> set[tuple[str, int]]:
    """Return the (resident, service id) pairs already sent a notice of ``reason`` for the
    purpose, among ``resident_ids``."""
    return set(
        RecipientNotice.objects.filter(
            purpose_id=purpose_id, reason=reason, resident_id__in=resident_ids
        ).values_list("resident_id", "service_id")
    )


def purposes_closed_between(since, until) -> list[int]:
    """Return the purposes closed in [since, until) (by their audit entries), oldest first."""
    return [
        int(pk) for pk in object_ids_with_action(action="purpose.closed", since=since, until=until)
    ]


def recipient_notices_progress(*, purpose_id: int, reason: str, grant_jti: str = "") -> dict:
    """
    Return how far a fan-out has come: the notices made (``produced``), received by their
    services (``delivered``), acknowledged and confirmed, of the purpose's closing
    (``reason`` ``purpose_closed``) or of a grant's end (``grant_jti``).
    """
    from django.db.models import Count

    notices = RecipientNotice.objects.filter(purpose_id=purpose_id, reason=reason)
    if grant_jti:
        notices = notices.filter(grant_jti=grant_jti)
    return notices.aggregate(
        produced=Count("pk"),
        delivered=Count("delivered_at"),
        acknowledged=Count("acknowledged_at"),
        confirmed=Count("confirmed_at"),
    )


def purpose_recipients_count(purpose_id: int) -> int:
    """
    Return how many (resident, service) pairs received data under the purpose: the notices its
    closing makes in all (a service named by its organisation and name, as the accesses are).
    """
    accesses = DataAccess.objects.filter(purpose_id=purpose_id)
    pending = DataAccessBatch.objects.filter(purpose_id=purpose_id, expanded_at__isnull=True)
    fields = ("resident_id", "organization_id", "service_name")
    if not pending.exists():
        return accesses.values(*fields).distinct().count()
    pairs = set(accesses.values_list(*fields).distinct())
    for organization_id, service_name, lines in pending.values_list(
        "organization_id", "service_name", "resident_ids"
    ):
        pairs.update((line, organization_id, service_name) for line in lines.split("\n") if line)
    return len(pairs)


def recipient_notices_progress_text(progress: dict, total: int) -> str:
    """The secretariat's one line on a fan-out's progress (the admin's purpose and grant)."""
    from django.utils.translation import gettext

    return gettext(
        "%(produced)s of %(total)s notices made; %(delivered)s delivered, %(acknowledged)s "
        "acknowledged, %(confirmed)s confirmed by the services."
    ) % {key: f"{value:,}" for key, value in {**progress, "total": total}.items()}


def recipient_notices_for(resident: Resident) -> list[RecipientNotice]:
    """Return the notices of the resident's withdrawals to the services that had their data."""
    return list(
        RecipientNotice.objects.filter(resident=resident)
        .select_related("purpose", "organization")
        .order_by("-created_at")
    )


def recipient_notices_unacknowledged(service_id: int, *, limit: int) -> list[RecipientNotice]:
    """Return the service's notices it has not acknowledged yet, oldest first (RFC 8936 poll)."""
    return list(
        RecipientNotice.objects.filter(service_id=service_id, acknowledged_at__isnull=True)
        .order_by("id")
        .only("id", "jti", "token", "delivered_at")[:limit]
    )


def withdrawals_without_notices(since, until) -> list[tuple[str, int, int]]:
    """
    Return (resident id, purpose id, record id) of the withdrawals decided in [since, until)
    that ended a consent and that no recipient notice names, oldest first: what the grants app
    checks for the notices of a task that was lost.
    """
    told = RecipientNotice.objects.filter(withdrawal_id=OuterRef("pk"))
    previous = (
        ConsentRecord.objects.filter(
            resident_id=OuterRef("resident_id"),
            purpose_id=OuterRef("purpose_id"),
            pk__lt=OuterRef("pk"),
        )
        .order_by("-pk")
        .values("decision")[:1]
    )
    rows = (
        ConsentRecord.objects.filter(
            decision=ConsentRecord.Decision.WITHDRAWN, decided_at__gte=since, decided_at__lt=until
        )
        .exclude(Exists(told))
        .annotate(previous=Subquery(previous))
        .filter(previous=ConsentRecord.Decision.GIVEN)  # only ending a consent tells anyone
        .order_by("decided_at", "pk")
        .values_list("resident_id", "purpose_id", "pk")
    )
    return list(rows)


def latest_withdrawal_id(resident_id: str, purpose_id: int) -> int | None:
    """Return the consent record of the resident's latest withdrawal from the purpose."""
    return (
        ConsentRecord.objects.filter(
            resident_id=resident_id,
            purpose_id=purpose_id,
            decision=ConsentRecord.Decision.WITHDRAWN,
        )
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )


def residents_with_data_released_under(grant_jti: str) -> list[str]:
    """
    Return the pseudonymous ids of the residents whose data was released under the grant
    ``grant_jti``: from the access table and from the batches not yet copied into it.
    """
    ids = set(
        DataAccess.objects.filter(grant_jti=grant_jti)
        .values_list("resident_id", flat=True)
        .distinct()
    )
    pending = DataAccessBatch.objects.filter(grant_jti=grant_jti, expanded_at__isnull=True)
    for lines in pending.values_list("resident_ids", flat=True):
        ids.update(line for line in lines.split("\n") if line)
    return sorted(ids)


def residents_told_of_grant_end(grant_jti: str) -> set[str]:
    """Return the residents for whom the end of the grant ``grant_jti`` was already told."""
    return set(
        RecipientNotice.objects.filter(
            grant_jti=grant_jti, reason=RecipientNotice.Reason.GRANT_ENDED
        ).values_list("resident_id", flat=True)
    )


def residents_with_data_released(purpose_id: int) -> list[str]:
    """Return the pseudonymous ids of the residents whose data was released for the purpose."""
    ids = set(
        DataAccess.objects.filter(purpose_id=purpose_id)
        .values_list("resident_id", flat=True)
        .distinct()
    )
    pending = DataAccessBatch.objects.filter(purpose_id=purpose_id, expanded_at__isnull=True)
    for lines in pending.values_list("resident_ids", flat=True):
        ids.update(line for line in lines.split("\n") if line)
    return sorted(ids)


def recipient_notices_overdue_by_grant(now) -> list[tuple[str, int, object, object]]:
    """
    Return, per grant (jti), the notices to recipients not confirmed by their due date at
    ``now``: (grant jti, how many, the first due date, the last due date).
    """
    from django.db.models import Count, Max, Min

    rows = (
        RecipientNotice.objects.filter(confirmed_at__isnull=True, due_at__lt=now)
        .exclude(grant_jti="")
        .values("grant_jti")
        .annotate(count=Count("pk"), first=Min("due_at"), last=Max("due_at"))
        .order_by("grant_jti")
    )
    return [(row["grant_jti"], row["count"], row["first"], row["last"]) for row in rows]
