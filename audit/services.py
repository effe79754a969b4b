"""
Every write of the audit app: appending entries, sealing them into the chain, the platform's
signing keys and checkpoints.

Appending is split in two so that many writers do not queue behind one lock (the design of
transparency-log sequencers such as Trillian and Tessera):

1. ``record`` inserts the entry into the small pending table, inside the caller's transaction.
   If the caller rolls back, the entry goes with it; if the insert fails, the caller fails.
2. After the commit, ``seal`` moves committed pending entries into the chain (``audit_entry``,
   insert-only) in id order, in batches, under one lock (an advisory lock on PostgreSQL,
   SQLite's write lock otherwise), giving each the next sequence number, the previous hash and
   its own hash, and deletes them from the pending table in the same transaction. Whoever fails
   to get the lock leaves the work to its holder, which looks again for pending entries after
   it lets go; so every committed entry is sealed, in one gapless, unforked chain. The
   scheduled task and every reader that needs the whole chain (verification, export,
   checkpoints) seal first as well.
"""

import logging
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass

import jwt
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from . import chain, keys, notes, selectors
from .models import Checkpoint, Entry, PendingEntry, SigningKey

logger = logging.getLogger(__name__)

# The advisory lock that serialises sealing on PostgreSQL ("audit" in ASCII).
SEAL_LOCK_ID = 0x6175646974
SEAL_BATCH = 5000
VACUUM_DEAD_ROWS = 5000


@dataclass(frozen=True)
class Actor:
    """Who acted: a staff user, a service, a resident (by pseudonymous id) or the system."""

    type: str
    id: str = ""

    @classmethod
    def user(cls, user) -> "Actor":
        return cls(Entry.ActorType.USER, str(user.pk))

    @classmethod
    def service(cls, service_id) -> "Actor":
        return cls(Entry.ActorType.SERVICE, str(service_id))

    @classmethod
    def resident(cls, pseudonymous_id: str) -> "Actor":
        return cls(Entry.ActorType.RESIDENT, str(pseudonymous_id))

    @classmethod
    def coerce(cls, actor) -> "Actor":
        """Accept an Actor, a user, or None for the system."""
        if actor is None:
            return SYSTEM
        if isinstance(actor, Actor):
            return actor
        if getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None):
            return cls.user(actor)
        raise TypeError(f"cannot record {actor!r} as an actor")


SYSTEM = Actor(Entry.ActorType.SYSTEM, "")


@dataclass(frozen=True)
class EntrySpec:
    """One entry for ``record_many``."""

    action: str
    actor: Actor = SYSTEM
    object_type: str = ""
    object_id: str = ""
    consortium_id: int | None = None
    payload: dict | None = None


def object_label(obj: models.Model) -> tuple[str, str]:
    """Return (type, id) naming a model instance in the log, e.g. ("consent.purpose", "7")."""
    return obj._meta.label_lower, str(obj.pk)


def _build(spec: EntrySpec, now) -> PendingEntry:
    if not chain.ACTION_RE.match(spec.action):
        raise chain.PayloadError(
            f"action {spec.action!r} is not a dotted verb like 'bylaw.adopted'"
        )
    payload = spec.payload or {}
    chain.check_payload(payload)
    return PendingEntry(
        time=now,
        actor_type=spec.actor.type,
        actor_id=spec.actor.id,
        action=spec.action,
        object_type=spec.object_type,
        object_id=spec.object_id,
        consortium_id=spec.consortium_id,
        payload=chain.canonical_json(payload),
    )


def record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    consortium=None,
    payload: dict | None = None,
) -> PendingEntry:
    """
    Append one entry inside the caller's transaction and return it, pending its seal.

    ``actor`` is an Actor, a user or None (the system); ``obj`` a model instance, or name the
    object with ``object_type`` and ``object_id``; ``consortium`` an id or an instance;
    ``payload`` ids and facts only: PayloadError refuses names, contacts, free text and floats.
    """
    if obj is not None:
        object_type, object_id = object_label(obj)
    spec = EntrySpec(
        action=action,
        actor=Actor.coerce(actor),
        object_type=object_type,
        object_id=str(object_id),
        consortium_id=getattr(consortium, "pk", consortium),
        payload=payload,
    )
    entry = _build(spec, timezone.now())
    _insert_pending(entry)
    _seal_after_commit()
    return entry


# The fields an entry has before its seal, which the sealer copies into the chain as they are.
PENDING_FIELDS = [field for field in PendingEntry._meta.concrete_fields if not field.primary_key]
PENDING_COLUMNS = [field.column for field in PENDING_FIELDS]


def _insert_pending(entry: PendingEntry) -> None:
    # One plain INSERT, as cheap as the caller's own: this runs in every state change.
    values = [field.get_db_prep_save(getattr(entry, field.attname), connection)
              for field in PENDING_FIELDS]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {PendingEntry._meta.db_table} ({', '.join(PENDING_COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(values))}) RETURNING id",
            values,
        )
        entry.pk = cursor.fetchone()[0]
    entry._state.adding, entry._state.db = False, connection.alias


def record_many(specs: Iterable[EntrySpec], *, batch_size: int = 5000) -> int:
    """Append many entries at once (imports, demo data); return how many were appended."""
    count = 0
    batch: list[PendingEntry] = []
    now = timezone.now()
    for spec in specs:
        batch.append(_build(spec, now))
        if len(batch) >= batch_size:
            PendingEntry.objects.bulk_create(batch)
            count += len(batch)
            batch = []
    if batch:
        PendingEntry.objects.bulk_create(batch)
        count += len(batch)
    if count:
        _seal_after_commit()
    return count


def _seal_after_commit() -> None:
    # One sealing per transaction is enough, however many entries it records.
    pending = connection.run_on_commit if connection.in_atomic_block else []
    if not any(item[1] is _seal_quietly for item in pending):
        transaction.on_commit(_seal_quietly, robust=True)


def _seal_quietly() -> None:
    try:
        seal()
    except Exception:  # the entries are committed; the next seal takes them
        logger.exception("sealing the audit chain failed; it will be retried")


def _seal_batch(batch_size: int) -> int:
    """Seal up to ``batch_size`` pending entries; the caller holds the sealing lock."""
    chain_table, pending_table = Entry._meta.db_table, PendingEntry._meta.db_table
    columns = ", ".join(PENDING_COLUMNS)
    postgres = connection.vendor == "postgresql"
    nested = connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        # One round trip: the head of the chain and the oldest pending entries. On PostgreSQL
        # it also tells the trigger that this transaction may delete what it seals.
        cursor.execute(
            "SELECT "
            + ("set_config('audit.sealing', 'on', true), " if postgres else "NULL, ")
            + f"(SELECT seq FROM {chain_table} ORDER BY seq DESC LIMIT 1), "
            f"(SELECT hash FROM {chain_table} ORDER BY seq DESC LIMIT 1), "
            f"id, {selectors.time_sql()}, actor_type, actor_id, action, object_type, object_id, "
            f"consortium_id, payload FROM {pending_table} ORDER BY id LIMIT %s",
            [batch_size],
        )
        rows = cursor.fetchall()
        if not rows:
            return 0
        seq, prev_hash = rows[0][1] or 0, rows[0][2] or chain.GENESIS_HASH
        ids, seqs, prevs, hashes = [], [], [], []
        for (
            _,
            _,
            _,
            pending_id,
            time,
            a_type,
            a_id,
            action,
            o_type,
            o_id,
            consortium,
            payload,
        ) in rows:
            seq += 1
            digest = chain.entry_hash(
                seq=seq,
                time=time,
                actor_type=a_type,
                actor_id=a_id,
                action=action,
                object_type=o_type,
                object_id=o_id,
                consortium_id=consortium,
                payload=payload,
                prev_hash=prev_hash,
            )
            ids.append(pending_id)
            seqs.append(seq)
            prevs.append(prev_hash)
            hashes.append(digest)
            prev_hash = digest
        # The database copies the fields itself, so the chain holds exactly the bytes (and the
        # time, to the microsecond) that were hashed.
        if postgres:
            moved = ", ".join("m." + column for column in PENDING_COLUMNS)
            cursor.execute(
                f"WITH moved AS (DELETE FROM {pending_table} WHERE id = ANY(%s::bigint[]) "
                "RETURNING *) "
                f"INSERT INTO {chain_table} (seq, prev_hash, hash, {columns}) "
                f"SELECT v.seq, v.prev, v.hash, {moved} FROM moved m JOIN "
                "unnest(%s::bigint[], %s::bigint[], %s::varchar[], %s::varchar[]) "
                "AS v(id, seq, prev, hash) ON v.id = m.id",
                [ids, ids, seqs, prevs, hashes],
            )
            if nested:  # the caller's transaction goes on: deleting pending rows is over
                cursor.execute("SELECT set_config('audit.sealing', 'off', true)")
        else:
            cursor.executemany(
                f"INSERT INTO {chain_table} (seq, prev_hash, hash, {columns}) "
                f"SELECT %s, %s, %s, {columns} FROM {pending_table} WHERE id = %s",
                list(zip(seqs, prevs, hashes, ids, strict=True)),
            )
            cursor.executemany(f"DELETE FROM {pending_table} WHERE id = %s", [(i,) for i in ids])
        return len(rows)


@contextmanager
def _sealing_lock():
    """
    Yield True when this connection may seal, False when another sealer is at work.

    On PostgreSQL a session-level advisory lock, tried without waiting (one round trip when
    busy); on SQLite the IMMEDIATE transaction of each batch already holds the write lock.

    While it holds the lock outside any caller's transaction, the session commits without
    waiting for the disk (synchronous_commit off). PostgreSQL's WAL is sequential: a seal lost
    in a crash is always a suffix of the chain, whose entries are still pending and are sealed
    again; and any later synchronous commit, such as a checkpoint's, makes every seal before it
    durable. A caller's own transaction is never made asynchronous.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    relax = not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT got"
            + (", CASE WHEN got THEN set_config('synchronous_commit', 'off', false) END"
               if relax else "")
            + " FROM (SELECT pg_try_advisory_lock(%s) AS got) AS attempt",
            [SEAL_LOCK_ID],
        )  # fmt: skip
        if not cursor.fetchone()[0]:
            yield False
            return
        try:
            yield True
        finally:
            cursor.execute(
                "SELECT pg_advisory_unlock(%s), "
                f"pg_stat_get_dead_tuples('{PendingEntry._meta.db_table}'::regclass)"
                + (", set_config('synchronous_commit', 'on', false)" if relax else ""),
                [SEAL_LOCK_ID],
            )
            dead_rows = cursor.fetchone()[1]
        if relax and dead_rows > VACUUM_DEAD_ROWS:
            # The pending table is a queue: the sealer's scan must not walk the dead rows of
            # every entry ever sealed on a server whose autovacuum is slow or off.
            cursor.execute(f"VACUUM (SKIP_LOCKED) {PendingEntry._meta.db_table}")


def seal(*, batch_size: int = SEAL_BATCH, progress: Callable[[int], None] | None = None) -> int:
    """Move every committed pending entry into the chain; return how many it sealed."""
    total = 0
    while True:
        with _sealing_lock() as acquired:
            if not acquired:
                # The holder looks for pending entries again after it lets go of the lock, and
                # this caller's entries were committed before it tried: they will be sealed.
                return total
            while sealed := _seal_batch(batch_size):
                total += sealed
                if progress:
                    progress(sealed)
                if sealed < batch_size:
                    break
        if not PendingEntry.objects.exists():
            return total


# --- Signing keys ----------------------------------------------------------------------------


@transaction.atomic
def signing_key_create(*, actor, algorithm: str = keys.EDDSA) -> SigningKey:
    """Create a new active key for ``algorithm``; the previous active one is retired."""
    if algorithm not in keys.ALGORITHMS:
        raise ValueError(f"unsupported algorithm {algorithm!r}")
    private_key = keys.generate(algorithm)
    jwk = keys.public_jwk(private_key.public_key())
    kid = keys.thumbprint(jwk)
    now = timezone.now()
    previous = (
        SigningKey.objects.select_for_update()
        .filter(algorithm=algorithm, status=SigningKey.Status.ACTIVE)
        .first()
    )
    if previous:
        previous.status = SigningKey.Status.RETIRED
        previous.retired_at = now
        previous.save(update_fields=["status", "retired_at"])
    key = SigningKey(
        kid=kid,
        algorithm=algorithm,
        status=SigningKey.Status.ACTIVE,
        public_jwk=jwk,
        encrypted_private_key=keys.encrypt_private_key(private_key, kid),
    )
    key.full_clean()
    key.save()
    record(
        actor=actor,
        action="key.rotated" if previous else "key.created",
        obj=key,
        payload={
            "kid": kid,
            "algorithm": algorithm,
            "retired_kid": previous.kid if previous else None,
        },
    )
    return key


def signing_key_ensure(*, algorithm: str = keys.EDDSA) -> SigningKey:
    """Return the active key for ``algorithm``, creating the first one if there is none."""
    key = SigningKey.objects.filter(algorithm=algorithm, status=SigningKey.Status.ACTIVE).first()
    return key or signing_key_create(actor=SYSTEM, algorithm=algorithm)


@transaction.atomic
def signing_key_revoke(*, actor, key: SigningKey, reason: str = "compromised") -> SigningKey:
    """Mark a key compromised: it signs nothing more and leaves the JWKS."""
    key = SigningKey.objects.select_for_update().get(pk=key.pk)
    if key.status == SigningKey.Status.REVOKED:
        return key
    key.status = SigningKey.Status.REVOKED
    key.revoked_at = timezone.now()
    key.save(update_fields=["status", "revoked_at"])
    record(
        actor=actor,
        action="key.revoked",
        obj=key,
        payload={"kid": key.kid, "algorithm": key.algorithm, "reason": reason},
    )
    return key


@transaction.atomic
def signing_key_set_publish_until(*, actor, key: SigningKey, until) -> SigningKey:
    """Keep a retired key in the JWKS until ``until`` (the expiry of the last thing it signed)."""
    key.publish_until = until
    key.save(update_fields=["publish_until"])
    record(
        actor=actor,
        action="key.publication_set",
        obj=key,
        payload={"kid": key.kid, "until": chain.format_time(until) if until else None},
    )
    return key


# --- Checkpoints -----------------------------------------------------------------------------


def checkpoint_create(*, force: bool = False) -> Checkpoint | None:
    """
    Seal, then sign a checkpoint of the chain's head; None when nothing is new since the last.

    A checkpoint is not itself an audit entry: it is a signed statement about the chain, and an
    entry per checkpoint would give the schedule a new entry to checkpoint for ever.
    """
    key = signing_key_ensure(algorithm=keys.EDDSA)  # first, so that its entry is covered
    seal()
    with transaction.atomic():
        head = selectors.chain_head()
        if head is None:
            return None
        last = selectors.checkpoint_latest()
        if last and last.seq == head.seq and not force:
            return None
        now = timezone.now()
        body = notes.CheckpointBody(
            origin=settings.AUDIT_LOG_ORIGIN,
            seq=head.seq,
            hash=head.hash,
            time=chain.format_time(now),
        )
        return Checkpoint.objects.create(
            seq=head.seq,
            hash=head.hash,
            time=now,
            key=key,
            note=notes.sign(body, key.private_key()),
        )


def sign_jwt(claims: dict, *, typ: str, algorithm: str = keys.EDDSA) -> str:
    """
    Return ``claims`` as a JWS compact serialisation signed by the active key for ``algorithm``,
    with ``kid`` and ``typ`` in the header, verifiable against ``/.well-known/jwks.json``.
    """
    key = signing_key_ensure(algorithm=algorithm)
    return jwt.encode(
        claims, key.private_key(), algorithm=algorithm, headers={"kid": key.kid, "typ": typ}
    )
