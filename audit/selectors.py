"""Reads of the audit app: the chain's rows, public keys, checkpoints."""

import contextlib
import datetime
import hashlib
import json
import queue
import re
import threading
from collections.abc import Iterator
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from config.ids import parse_id

from . import chain, keys, notes, reports
from .models import (
    Checkpoint,
    Entry,
    PendingEntry,
    Report,
    SigningKey,
    SigningKeyEvent,
    TreeTile,
)

READ_CHUNK = 20_000


class ChainRow(NamedTuple):
    seq: int
    time: str  # canonical form
    actor_type: str
    actor_id: str
    action: str
    object_type: str
    object_id: str
    consortium_id: int | None
    payload: str  # canonical JSON text
    prev_hash: str
    hash: str

    def text(self) -> str:
        """Return the canonical text that this entry's hash covers."""
        return chain.entry_text(
            seq=self.seq,
            time=self.time,
            actor_type=self.actor_type,
            actor_id=self.actor_id,
            action=self.action,
            object_type=self.object_type,
            object_id=self.object_id,
            consortium_id=self.consortium_id,
            payload=self.payload,
            prev_hash=self.prev_hash,
        )


def time_sql() -> str:
    """Return SQL giving the canonical time text (``chain.format_time``) of column ``time``."""
    if connection.vendor == "postgresql":
        return """to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
    if connection.vendor == "sqlite":
        # Django stores 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC.
        return (
            "substr(time, 1, 10) || 'T' || substr(time, 12, 8) || '.' || "
            "CASE WHEN length(time) > 19 THEN substr(time, 21, 6) ELSE '000000' END || 'Z'"
        )
    raise NotImplementedError(f"the audit chain does not support {connection.vendor}")


# PostgreSQL's ISO text of a UTC timestamp: fraction digits only as many as needed.
ISO_TIME_SQL = "(time AT TIME ZONE 'UTC')::text"
ISO_TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?")


def canonical_time(iso: str) -> str | None:
    """
    Return the canonical time text of ``iso`` (ISO_TIME_SQL's text of a year from 1 to 9999),
    what ``time_sql`` gives for the same time; None for any other text.
    """
    if not ISO_TIME_RE.fullmatch(iso):
        return None
    return f"{iso[:10]}T{iso[11:19]}.{iso[20:]:0<6}Z"


def chain_rows_sql(*, bounded: bool, iso_time: bool = False) -> str:
    """
    Return the query of the sealed entries (ChainRow's fields) from a first sequence number
    (its one parameter), or between two (``bounded``), in sequence order.

    With ``iso_time`` on PostgreSQL the time is ISO_TIME_SQL's text, which costs the server a
    third of ``time_sql``'s; ``canonical_time`` (or the C walk) turns it into the canonical one.
    """
    time = ISO_TIME_SQL if iso_time and connection.vendor == "postgresql" else time_sql()
    return (
        f"SELECT seq, {time}, actor_type, actor_id, action, object_type, object_id, "
        f"consortium_id, payload, prev_hash, hash FROM {Entry._meta.db_table} "
        "WHERE seq >= %s" + (" AND seq <= %s" if bounded else "") + " ORDER BY seq"
    )


def chain_rows(*, start_seq: int = 1, end_seq: int | None = None) -> Iterator[ChainRow]:
    """
    Yield sealed entries in sequence order as plain tuples, with constant memory.

    One raw query: a server-side cursor on PostgreSQL, so that a walk over millions of entries
    is bound by reading and hashing, not by the ORM.
    """
    query = chain_rows_sql(bounded=end_seq is not None)
    params = [start_seq] + ([end_seq] if end_seq is not None else [])
    with transaction.atomic():
        connection.ensure_connection()
        if connection.vendor == "postgresql":
            cursor = connection.connection.cursor(name="audit_chain_rows")
        else:
            cursor = connection.cursor()
        with cursor:
            cursor.execute(query, params)
            while rows := cursor.fetchmany(READ_CHUNK):
                for row in rows:
                    yield ChainRow._make(row)


def chain_row_batches(
    *, start_seq: int = 1, end_seq: int | None = None, iso_time: bool = False
) -> Iterator[list[tuple]]:
    """
    Yield sealed entries from ``start_seq`` (to ``end_seq``) in sequence order, in lists of
    plain tuples (ChainRow's fields; the time as ``chain_rows_sql`` gives it with ``iso_time``).

    On PostgreSQL a thread reads the next batch from the server-side cursor while the caller
    works on this one: the server's reading and formatting overlaps the caller's hashing.
    """
    query = chain_rows_sql(bounded=end_seq is not None, iso_time=iso_time)
    params = [start_seq] + ([end_seq] if end_seq is not None else [])
    with transaction.atomic():
        connection.ensure_connection()
        if connection.vendor != "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(query, params)
                while rows := cursor.fetchmany(READ_CHUNK):
                    yield rows
            return
        # The raw connection: the reading thread uses nothing of Django's, and this thread
        # touches the connection only once the reader has finished.
        with connection.connection.cursor(name="audit_chain_batches") as cursor:
            cursor.execute(query, params)
            yield from overlapped_batches(cursor)


def overlapped_batches(cursor) -> Iterator[list[tuple]]:
    """
    Yield the rows of ``cursor`` (a psycopg server-side cursor, executed) in lists, read by a
    thread of their own one batch ahead of the caller.
    """
    batches: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set():
                rows = cursor.fetchmany(READ_CHUNK)
                batches.put(rows)
                if not rows:
                    return
        except BaseException as exc:  # handed to the consuming thread
            batches.put(exc)

    reader = threading.Thread(target=read, name="audit-chain-reader", daemon=True)
    reader.start()
    try:
        while True:
            rows = batches.get()
            if isinstance(rows, BaseException):
                raise rows
            if not rows:
                break
            yield rows
    finally:
        stop.set()
        while reader.is_alive():  # unblock a reader waiting to put
            with contextlib.suppress(queue.Empty):
                batches.get(timeout=0.1)
        reader.join()


def tree_tile_digests(*, level: int) -> Iterator[tuple[int, bytes]]:
    """
    Yield (index, SHA-256 of its hashes) of the stored tiles of one level, in index order; on
    PostgreSQL hashed by the server, which then sends 32 bytes a tile instead of up to 8 KiB.
    """
    if connection.vendor != "postgresql":
        for index, hashes in tree_tiles(level=level):
            yield index, hashlib.sha256(bytes(hashes)).digest()
        return
    with connection.cursor() as cursor:
        # Named with its schema: no function of the same name elsewhere on a search path (which
        # a role may set for itself) stands in for it.
        cursor.execute(
            f"SELECT index, pg_catalog.sha256(hashes) FROM {TreeTile._meta.db_table} "
            "WHERE level = %s ORDER BY index",
            [level],
        )
        for index, digest in cursor.fetchall():
            yield index, bytes(digest)


def tree_tile(*, level: int, index: int) -> bytes | None:
    """Return the hashes of the stored tile ``level``/``index``, None when there is none."""
    hashes = (
        TreeTile.objects.filter(level=level, index=index).values_list("hashes", flat=True).first()
    )
    return None if hashes is None else bytes(hashes)


def tree_tiles(*, level: int) -> Iterator[tuple[int, bytes]]:
    """Yield (index, hashes) of the stored tiles of one level, in index order."""
    yield from (
        TreeTile.objects.filter(level=level).order_by("index").values_list("index", "hashes")
    ).iterator(chunk_size=256)


def chain_head() -> Entry | None:
    return Entry.objects.order_by("-seq").first()


def pending_count() -> int:
    return PendingEntry.objects.count()


def pending_oldest():
    """Return when the oldest pending entry was written (its writer's clock), or None."""
    return PendingEntry.objects.order_by("id").values_list("written_at", flat=True).first()


def entries_for_object(*, object_type: str, object_id: str) -> QuerySet[Entry]:
    """Return the sealed entries about one object, oldest first."""
    return Entry.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("seq")


def object_ids_with_action(*, action: str, since, until) -> list[str]:
    """Return the ids of the objects of the sealed entries ``action`` timed in [since, until)."""
    return list(
        Entry.objects.filter(action=action, time__gte=since, time__lt=until)
        .order_by("seq")
        .values_list("object_id", flat=True)
    )


def checkpoint_latest() -> Checkpoint | None:
    return Checkpoint.objects.select_related("key").order_by("-seq", "-id").first()


def checkpoint_latest_merkle() -> Checkpoint | None:
    """Return the newest checkpoint over the Merkle tree (not of the earlier format)."""
    return Checkpoint.objects.exclude(root="").order_by("-seq", "-id").first()


def checkpoint_note_cosigned(checkpoint: Checkpoint) -> str:
    """
    Return the checkpoint's note with every cosignature held for it appended (C2SP
    tlog-cosignature lines after the platform's own signature line).
    """
    from . import witnessing

    return checkpoint.note + witnessing.cosignature_lines(checkpoint)


def checkpoints_since(size: int) -> QuerySet[Checkpoint]:
    """Return the checkpoints of ``size`` entries or more, oldest first."""
    return Checkpoint.objects.select_related("key").filter(seq__gte=size).order_by("seq", "id")


KEY_CREATION_ACTIONS = ("key.created", "key.rotated")


def _key_creation_audited() -> Q:
    """
    Return the condition that a signing key's creation is in the log (sealed or pending): a
    key row inserted by other means than ``services.signing_key_create`` is never published
    nor trusted.
    """
    key_id = Cast(OuterRef("pk"), output_field=CharField())
    created = {
        "action__in": KEY_CREATION_ACTIONS,
        "object_type": SigningKey._meta.label_lower,
        "object_id": key_id,
    }
    return Q(Exists(Entry.objects.filter(**created))) | Q(
        Exists(PendingEntry.objects.filter(**created))
    )


def signing_keys_trusted() -> QuerySet[SigningKey]:
    """Return the signing keys whose creation the log records, whatever their status."""
    return SigningKey.objects.filter(_key_creation_audited())


def signing_key_events() -> tuple[set[str], dict[str, int]]:
    """
    Return the ids of the keys whose creation the log records, and the sequence number of each
    revoked key's ``key.revoked`` entry (for audit_verify: nothing signed after it counts).
    """
    label = SigningKey._meta.label_lower
    created = set(
        Entry.objects.filter(action__in=KEY_CREATION_ACTIONS, object_type=label).values_list(
            "object_id", flat=True
        )
    )
    revocations = Entry.objects.filter(action="key.revoked", object_type=label)
    revoked = dict(revocations.values_list("object_id", "seq"))
    return created, revoked


KEY_EVENT_ACTIONS = {
    "key.rotated": "retired",  # the payload's retired_kid names the retired key, if any
    "key.revoked": "revoked",
    "key.publication_set": "publication",
}


def signing_key_event_records() -> tuple[list[tuple], list[tuple]]:
    """
    Return every signing-key event as ``(event id, kid, kind, reason, until)`` (``until`` in
    the log's canonical time form, None for ever), and every entry that records one, sealed or
    pending, as ``(seq or None, kid, kind, until)``: for audit_verify to match them.
    """
    events = [
        (event_id, kid, kind, reason, chain.format_time(until) if until else None)
        for event_id, kid, kind, reason, until in SigningKeyEvent.objects.order_by(
            "id"
        ).values_list("id", "key__kid", "kind", "reason", "until")
    ]
    entries = []
    label = SigningKey._meta.label_lower
    for model, seq_field in ((Entry, "seq"), (PendingEntry, None)):
        rows = model.objects.filter(action__in=KEY_EVENT_ACTIONS, object_type=label)
        for seq, action, payload in rows.order_by("id" if seq_field is None else "seq").values_list(
            seq_field or "id", "action", "payload"
        ):
            data = json.loads(payload)
            kind = KEY_EVENT_ACTIONS[action]
            kid = data.get("retired_kid") if kind == "retired" else data.get("kid")
            if kid is None:
                continue  # a rotation that retired no key
            entries.append((seq if seq_field else None, kid, kind, data.get("until")))
    return events, entries


def checkpoint_open(note: str) -> notes.TreeHead | None:
    """
    Return the tree head of ``note`` if a platform Ed25519 key (whatever its status now)
    signed it as this log's checkpoint; None otherwise.
    """
    try:
        notes.parse_tree_head(notes.parse_note(note).text)
    except notes.NoteError:
        return None
    for key in SigningKey.objects.filter(algorithm=SigningKey.Algorithm.EDDSA):
        try:
            return notes.open_checkpoint(note, key.public_key(), settings.AUDIT_LOG_ORIGIN)
        except notes.NoteError:
            continue
    return None


def signing_key_revocations() -> dict[int, "datetime.datetime"]:
    """Return when each revoked key was revoked (its event), by key id."""
    return dict(
        SigningKeyEvent.objects.filter(kind=SigningKeyEvent.Kind.REVOKED).values_list(
            "key_id", "at"
        )
    )


def signing_key_active(algorithm: str) -> SigningKey | None:
    """Return the active key for ``algorithm`` (no event retired or revoked it), or None."""
    return (
        SigningKey.objects.filter(algorithm=algorithm, status=SigningKey.Status.ACTIVE)
        .order_by("-generation")
        .first()
    )


def signing_key_by_kid(kid: str) -> SigningKey | None:
    return SigningKey.objects.filter(kid=kid).first()


def signing_key_signed_checkpoints(key: SigningKey) -> bool:
    """Return True if ``key`` signed a checkpoint (which never expires, so neither may the key)."""
    return Checkpoint.objects.filter(key=key).exists()


def signing_key_verifier(kid: str) -> tuple[str, keys.PublicKey] | None:
    """Return ``(algorithm, public key)`` of the key ``kid`` whatever its status; None if none."""
    key = signing_keys_trusted().filter(kid=kid).only("algorithm", "public_jwk").first()
    if key is None:
        return None
    return key.algorithm, keys.public_key_from_jwk(key.public_jwk)


def signing_key_status_sql() -> str:
    """
    Return a scalar SQL subquery, of one parameter (a kid), giving that key's status
    (``active``, ``retired`` or ``revoked``: a revoked key verifies nothing), NULL when no key
    has that kid: for other apps' hot queries, which ask it in the same round trip as their own.
    """
    events = SigningKeyEvent._meta.db_table
    kinds = SigningKeyEvent.Kind
    return (
        f"(SELECT CASE WHEN EXISTS (SELECT 1 FROM {events} e WHERE e.key_id = k.id "
        f"AND e.kind = '{kinds.REVOKED}') THEN '{SigningKey.Status.REVOKED}' "
        f"WHEN EXISTS (SELECT 1 FROM {events} e WHERE e.key_id = k.id "
        f"AND e.kind = '{kinds.RETIRED}') THEN '{SigningKey.Status.RETIRED}' "
        f"ELSE '{SigningKey.Status.ACTIVE}' END "
        f"FROM {SigningKey._meta.db_table} k WHERE k.kid = %s)"
    )


def signing_key_revoked_status() -> str:
    return SigningKey.Status.REVOKED


def signing_keys_published() -> QuerySet[SigningKey]:
    """Keys in the JWKS: the active ones, and retired ones until their publication ends."""
    now = timezone.now()
    return (
        signing_keys_trusted()
        .filter(
            Q(status=SigningKey.Status.ACTIVE)
            | Q(status=SigningKey.Status.RETIRED)
            & (Q(publish_until__isnull=True) | Q(publish_until__gt=now))
        )
        .order_by("-created_at")
    )


def jwks() -> dict:
    """Return the JWK Set (RFC 7517) of published keys."""
    return {"keys": [key.jwk for key in signing_keys_published()]}


def report_entry_by_sha256(digest: str) -> Entry | None:
    """
    Return the sealed ``report.generated`` entry recording a file with SHA-256 ``digest``.

    The chain, not the report table, is the authority: a report row can be edited, its entry
    cannot. The payload is canonical JSON, so the member's text is exact.
    """
    from .forms import SHA256_RE

    if not SHA256_RE.match(digest):
        return None
    # The (action, seq) index narrows the scan to report entries.
    return (
        Entry.objects.filter(action="report.generated", payload__contains=f'"sha256":"{digest}"')
        .order_by("seq")
        .first()
    )


def reports_visible_to(
    user, *, kind: str | None = None, about: dict | None = None
) -> QuerySet[Report]:
    """
    Return the reports ``user`` may see (each kind's consortia and, for a report about one
    record, whether ``user`` may see that record), newest first; only of ``kind`` and with
    the parameters in ``about`` (``{"ticket": 7}``) when given.
    """
    queryset = Report.objects.all()
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    for name, value in (about or {}).items():
        queryset = queryset.filter(**{f"parameters__{name}": value})
    return reports.visible(user, queryset).order_by("-requested_at", "-id")


def access_report(user, report_id) -> Report:
    """Return the report if ``user`` may see it; Report.DoesNotExist for missing and forbidden."""
    pk = parse_id(report_id)
    if pk is None:
        raise Report.DoesNotExist
    report = Report.objects.filter(reports.visible_filter(user)).get(pk=pk)
    if not reports.can_access(
        user, report.kind, report.consortium_id, parameters=report.parameters
    ):
        raise Report.DoesNotExist
    return report
