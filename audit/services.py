"""
Every write of the audit app: appending entries, sealing them into the chain, the platform's
signing keys and checkpoints.

Appending is split in two so that many writers do not queue behind one lock (the design of
transparency-log sequencers such as Trillian and Tessera):

1. ``record`` inserts the entry without a place in the chain, inside the caller's transaction.
   If the caller rolls back, the entry goes with it; if the insert fails, the caller fails.
2. After the commit, ``seal`` gives every committed, unsealed entry the next sequence number,
   the previous hash and its own hash, in id order, in batches, under one lock (an advisory lock
   on PostgreSQL, SQLite's write lock otherwise). Whoever fails to get the lock leaves the work
   to its holder, which looks again for unsealed entries after it commits; so every committed
   entry is sealed, in one gapless, unforked chain. The scheduled task and every reader that
   needs the whole chain (verification, export, checkpoints) seal first as well.
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
from .models import Checkpoint, Entry, SigningKey

logger = logging.getLogger(__name__)

# The advisory lock that serialises sealing on PostgreSQL ("audit" in ASCII).
SEAL_LOCK_ID = 0x6175646974
SEAL_BATCH = 5000


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


def _build(spec: EntrySpec, now) -> Entry:
    if not chain.ACTION_RE.match(spec.action):
        raise chain.PayloadError(
            f"action {spec.action!r} is not a dotted verb like 'bylaw.adopted'"
        )
    payload = spec.payload or {}
    chain.check_payload(payload)
    return Entry(
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
) -> Entry:
    """
    Append one entry inside the caller's transaction and return it (unsealed).

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
    entry.save(force_insert=True)
    _seal_after_commit()
    return entry


def record_many(specs: Iterable[EntrySpec], *, batch_size: int = 5000) -> int:
    """Append many entries at once (imports, demo data); return how many were appended."""
    count = 0
    batch: list[Entry] = []
    now = timezone.now()
    for spec in specs:
        batch.append(_build(spec, now))
        if len(batch) >= batch_size:
            Entry.objects.bulk_create(batch)
            count += len(batch)
            batch = []
    if batch:
        Entry.objects.bulk_create(batch)
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
    table = Entry._meta.db_table
    time_sql = selectors.time_sql()
    with transaction.atomic(), connection.cursor() as cursor:
        # One round trip reads the head and the pending entries after it, oldest first.
        cursor.execute(
            f"SELECT * FROM (SELECT 0 AS part, seq AS key, NULL, NULL, NULL, NULL, NULL, NULL, "
            f"CAST(NULL AS BIGINT), hash FROM {table} WHERE seq IS NOT NULL ORDER BY seq DESC "
            "LIMIT 1) AS head "
            f"UNION ALL SELECT * FROM (SELECT 1, id, {time_sql}, actor_type, actor_id, action, "
            f"object_type, object_id, consortium_id, payload FROM {table} WHERE seq IS NULL "
            "ORDER BY id LIMIT %s) AS pending ORDER BY 1, 2",
            [batch_size],
        )
        rows = cursor.fetchall()
        seq, prev_hash = 0, chain.GENESIS_HASH
        if rows and rows[0][0] == 0:
            seq, prev_hash = rows[0][1], rows[0][9]
            rows = rows[1:]
        if not rows:
            return 0
        ids, seqs, prevs, hashes = [], [], [], []
        for row in rows:
            seq += 1
            digest = chain.entry_hash(
                seq=seq,
                time=row[2],
                actor_type=row[3],
                actor_id=row[4],
                action=row[5],
                object_type=row[6],
                object_id=row[7],
                consortium_id=row[8],
                payload=row[9],
                prev_hash=prev_hash,
            )
            ids.append(row[1])
            seqs.append(seq)
            prevs.append(prev_hash)
            hashes.append(digest)
            prev_hash = digest
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET seq = v.seq, prev_hash = v.prev, hash = v.hash "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[], %s::varchar[]) "
                f"AS v(id, seq, prev, hash) WHERE {table}.id = v.id",
                [ids, seqs, prevs, hashes],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET seq = %s, prev_hash = %s, hash = %s WHERE id = %s",
                list(zip(seqs, prevs, hashes, ids, strict=True)),
            )
        return len(rows)


@contextmanager
def _sealing_lock():
    """
    Yield True when this connection may seal, False when another sealer is at work.

    On PostgreSQL a session-level advisory lock, tried without waiting (one round trip when
    busy); on SQLite the IMMEDIATE transaction of each batch already holds the write lock.

    While it holds the lock outside any caller's transaction, the session commits without
    waiting for the disk (synchronous_commit off). PostgreSQL's WAL is sequential: a seal lost
    in a crash is always a suffix of the chain whose entries stay committed, unsealed, and are
    sealed again; and any later synchronous commit, such as a checkpoint's, makes every seal
    before it durable. A caller's own transaction is never made asynchronous.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    relax = not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SEAL_LOCK_ID])
        if not cursor.fetchone()[0]:
            yield False
            return
        if relax:
            cursor.execute("SET synchronous_commit = off")
        try:
            yield True
        finally:
            cursor.execute(
                "SELECT pg_advisory_unlock(%s)"
                + (", set_config('synchronous_commit', 'on', false)" if relax else ""),
                [SEAL_LOCK_ID],
            )


def seal(*, batch_size: int = SEAL_BATCH, progress: Callable[[int], None] | None = None) -> int:
    """Give every committed, unsealed entry its place in the chain; return how many it sealed."""
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
        if not Entry.objects.filter(seq__isnull=True).exists():
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
