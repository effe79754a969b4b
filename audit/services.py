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

import datetime
import hashlib
import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import jwt
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, models, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import actions, chain, keys, merkle, notes, reports, selectors, signer_state, tree
from .models import (
    Checkpoint,
    Cosignature,
    Entry,
    PendingEntry,
    Report,
    SigningKey,
    SigningKeyEvent,
    WitnessedCheckpoint,
    WitnessedLog,
)

logger = logging.getLogger(__name__)

# The advisory lock that serialises sealing on PostgreSQL ("audit" in ASCII).
SEAL_LOCK_ID = 0x6175646974
# The advisory lock that serialises checkpoint signing on PostgreSQL ("auditcp").
CHECKPOINT_LOCK_ID = 0x61756469746370
# The advisory locks that serialise changes to the signing keys of one algorithm ("auditk" + n).
SIGNING_KEY_LOCK_ID = 0x6175646974_6B00
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
    def system(cls, source: str = "") -> "Actor":
        """The platform itself, naming the rule or job that acted (``grants.issuancerule:1``)."""
        return cls(Entry.ActorType.SYSTEM, source)

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
    actions.check_declared(spec.action, payload)
    actions.check_no_contacts(payload, "payload")
    actions.check_no_contacts(
        {"actor_id": spec.actor.id, "object_type": spec.object_type, "object_id": spec.object_id},
        "entry",
    )
    return PendingEntry(
        written_at=now,
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
    ``payload`` ids and facts only, in the fields ``action`` declares (``audit.actions``):
    PayloadError refuses an undeclared action or field, names, contacts, free text and floats.
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
PENDING_INSERT = (
    f"INSERT INTO {PendingEntry._meta.db_table} ({', '.join(PENDING_COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * len(PENDING_COLUMNS))}) RETURNING id"
)


# The fields whose values may need the database's own form (SQLite keeps times as text; a
# consortium may be named by a string id); ``_build`` gives the others as the strings their columns
# hold.
PREPARED_FIELDS = {"written_at", "consortium_id"}


def _native_on_postgresql(value) -> bool:
    """Whether psycopg takes ``value`` as its field's preparation would give it on PostgreSQL."""
    return (
        value is None
        or type(value) is int
        or (type(value) is datetime.datetime and value.tzinfo is not None)
    )


def _insert_pending(entry: PendingEntry) -> None:
    # One plain INSERT, as cheap as the caller's own: this runs in every state change. The
    # connection is looked up once (each use of ``django.db.connection`` looks it up again), and
    # a value goes through its field's preparation only when the database needs another form.
    db = connections[DEFAULT_DB_ALIAS]
    postgresql = db.vendor == "postgresql"
    values = []
    for field in PENDING_FIELDS:
        value = getattr(entry, field.attname)
        if field.attname in PREPARED_FIELDS and not (postgresql and _native_on_postgresql(value)):
            value = field.get_db_prep_save(value, db)
        values.append(value)
    with db.cursor() as cursor:
        cursor.execute(PENDING_INSERT, values)
        entry.pk = cursor.fetchone()[0]
    entry._state.adding, entry._state.db = False, db.alias


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
    if settings.AUDIT_SEQUENCER:  # writers only insert; the sequencer seals (audit.sequencer)
        return
    # One sealing per transaction is enough, however many entries it records.
    pending = connection.run_on_commit if connection.in_atomic_block else []
    if not any(item[1] is _seal_quietly for item in pending):
        transaction.on_commit(_seal_quietly, robust=True)


def _seal_quietly() -> None:
    try:
        seal()
    except Exception:  # the entries are committed; the next seal takes them
        logger.exception("sealing the audit chain failed; it will be retried")


def _seal_batch(batch_size: int, *, only: list[int] | None = None) -> int:
    """
    Seal up to ``batch_size`` pending entries (those of ids ``only``, when given: PostgreSQL);
    the caller holds the sealing lock.

    On PostgreSQL the database seals, in ``audit_seal`` (migration ``audit 0007``): a function
    owned by the sealer role, so that the platform's own role never writes the chain or the
    tree. It builds each entry's canonical text in SQL, byte for byte ``chain.entry_text``.
    """
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT audit_seal(%s, %s::bigint[])", [batch_size, only])
            return cursor.fetchone()[0]
    chain_table, pending_table = Entry._meta.db_table, PendingEntry._meta.db_table
    columns = ", ".join(PENDING_COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        # One round trip: the head of the chain and the oldest pending entries.
        cursor.execute(
            f"SELECT (SELECT seq FROM {chain_table} ORDER BY seq DESC LIMIT 1), "
            f"(SELECT hash FROM {chain_table} ORDER BY seq DESC LIMIT 1), "
            f"(SELECT {selectors.time_sql()} FROM {chain_table} ORDER BY seq DESC LIMIT 1), "
            "id, actor_type, actor_id, action, object_type, object_id, "
            f"consortium_id, payload FROM {pending_table} "
            + ("WHERE id IN (SELECT value FROM json_each(%s)) " if only is not None else "")
            + "ORDER BY id LIMIT %s",
            [*([json.dumps(only)] if only is not None else []), batch_size],
        )
        rows = cursor.fetchall()
        if not rows:
            return 0
        seq, prev_hash = rows[0][0] or 0, rows[0][1] or chain.GENESIS_HASH
        # The sealer gives the time, never earlier than the entry before: the log's times only
        # go forward, whatever the writers' clocks said (their time is kept as written_at).
        time = max(chain.format_time(timezone.now()), rows[0][2] or "")
        sealed_at = Entry._meta.get_field("time").get_db_prep_save(
            datetime.datetime.fromisoformat(time), connection
        )
        first_leaf = seq
        ids, seqs, prevs, hashes, leaves = [], [], [], [], []
        for _, _, _, pending_id, a_type, a_id, action, o_type, o_id, consortium, payload in rows:
            seq += 1
            text = chain.entry_text(
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
            ).encode()
            digest = hashlib.sha256(text).hexdigest()
            leaves.append(text)
            ids.append(pending_id)
            seqs.append(seq)
            prevs.append(prev_hash)
            hashes.append(digest)
            prev_hash = digest
        # The Merkle tree grows in the same transaction, from the very bytes just hashed.
        tree.append(first_leaf, leaves)
        # The database copies the fields itself, so the chain holds exactly the bytes that
        # were hashed.
        cursor.executemany(
            f"INSERT INTO {chain_table} (seq, prev_hash, hash, time, {columns}) "
            f"SELECT %s, %s, %s, %s, {columns} FROM {pending_table} WHERE id = %s",
            [
                (seq, prev, digest, sealed_at, pending_id)
                for seq, prev, digest, pending_id in zip(seqs, prevs, hashes, ids, strict=True)
            ],
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


def _chain_hold() -> bool:
    """
    Take the sealing lock, waiting for it, and seal everything pending; return True when held.
    Until ``_chain_release``, entries are still recorded but wait, pending, to be sealed: so the
    holder knows the entry its next one will follow. PostgreSQL only (on SQLite, holding the
    write lock would stop every writer); outside any transaction.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [SEAL_LOCK_ID])
    try:
        while _seal_batch(SEAL_BATCH) == SEAL_BATCH:
            pass
    except BaseException:
        _chain_release()
        raise
    return True


def _chain_release() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [SEAL_LOCK_ID])


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


def tree_build(*, progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """
    Catch the Merkle tree up with the sealed entries, holding the sealing lock (on PostgreSQL;
    SQLite's write lock otherwise); return (entries added, tree size).
    """
    held = _chain_hold()
    try:
        with transaction.atomic():
            return tree.build(progress=progress)
    finally:
        if held:
            _chain_release()


# --- Signing keys ----------------------------------------------------------------------------
#
# A key's row is written once; what happens to it later is an append-only SigningKeyEvent
# (retired, revoked, publication end), from which its status is read.


def _signing_key_lock(algorithm: str) -> None:
    """
    Hold, until the transaction ends, the lock that serialises changes to ``algorithm``'s keys:
    an advisory lock on PostgreSQL (the runtime role may not lock key rows: FOR UPDATE needs
    UPDATE, which it does not have), SQLite's write lock otherwise (IMMEDIATE transactions).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s)",
                [SIGNING_KEY_LOCK_ID + keys.ALGORITHMS.index(algorithm)],
            )


def _signing_key_event(
    *, key: SigningKey, kind: str, reason: str, at, until=None
) -> SigningKeyEvent:
    event = SigningKeyEvent(key=key, kind=kind, at=at, until=until, reason=reason)
    event.full_clean(validate_constraints=False)
    event.save()
    key.__dict__.pop("_lifecycle_cache", None)  # the caller's instance reads its events again
    return event


def signing_key_create(*, actor, algorithm: str = keys.EDDSA) -> SigningKey:
    """Create a new active key for ``algorithm``; the previous active one is retired."""
    return _signing_key_create(actor=actor, algorithm=algorithm, rotate=True)


@transaction.atomic
def _signing_key_create(*, actor, algorithm: str, rotate: bool) -> SigningKey:
    """
    Create an active key for ``algorithm``. With ``rotate`` the active one found under the lock
    is retired; without it, that key is returned and nothing is created.
    """
    if algorithm not in keys.ALGORITHMS:
        raise ValueError(f"unsupported algorithm {algorithm!r}")
    private_key = keys.generate(algorithm)
    jwk = keys.public_jwk(private_key.public_key())
    kid = keys.thumbprint(jwk)
    now = timezone.now()
    _signing_key_lock(algorithm)
    previous = selectors.signing_key_active(algorithm)
    if previous and not rotate:
        return previous
    newest = (
        SigningKey.objects.filter(algorithm=algorithm)
        .order_by("-generation")
        .values_list("generation", flat=True)
        .first()
    )
    if previous:
        _signing_key_event(
            key=previous,
            kind=SigningKeyEvent.Kind.RETIRED,
            reason=SigningKeyEvent.Reason.ROTATED,
            at=now,
        )
    key = SigningKey(
        kid=kid,
        algorithm=algorithm,
        generation=(newest or 0) + 1,
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
    """
    Return the active key for ``algorithm``, creating the first one if there is none. Callers
    that race to create it (two first sign-ins at once) all get the one that was committed.
    """
    key = selectors.signing_key_active(algorithm)
    if key:
        return key
    try:
        with transaction.atomic():
            return _signing_key_create(actor=SYSTEM, algorithm=algorithm, rotate=False)
    except (IntegrityError, ValidationError):
        # Another transaction committed its key between the read above and the insert (the
        # constraint of one key per generation refused the second), where no lock serialised
        # them (a caller's own transaction that read before it).
        key = selectors.signing_key_active(algorithm)
        if key is None:
            raise
        return key


REVOCATION_REASONS = (SigningKeyEvent.Reason.COMPROMISED,)


@transaction.atomic
def signing_key_revoke(*, actor, key: SigningKey, reason: str = "compromised") -> SigningKey:
    """Mark a key compromised: it signs nothing more and leaves the JWKS."""
    if reason not in REVOCATION_REASONS:
        raise ValueError(f"unknown reason {reason!r}")
    _signing_key_lock(key.algorithm)
    current = SigningKey.objects.get(pk=key.pk)
    if current.status == SigningKey.Status.REVOKED:
        return current
    _signing_key_event(key=key, kind=SigningKeyEvent.Kind.REVOKED, reason=reason, at=timezone.now())
    record(
        actor=actor,
        action="key.revoked",
        obj=key,
        payload={"kid": key.kid, "algorithm": key.algorithm, "reason": reason},
    )
    return SigningKey.objects.get(pk=key.pk)


@transaction.atomic
def signing_key_set_publish_until(*, actor, key: SigningKey, until) -> SigningKey:
    """
    Keep a retired key in the JWKS until ``until`` (the expiry of the last thing it signed;
    None: for ever). A new event each time; the newest counts.
    """
    _signing_key_event(
        key=key,
        kind=SigningKeyEvent.Kind.PUBLICATION,
        reason=SigningKeyEvent.Reason.SIGNATURES_EXPIRE,
        at=timezone.now(),
        until=until,
    )
    record(
        actor=actor,
        action="key.publication_set",
        obj=key,
        payload={"kid": key.kid, "until": chain.format_time(until) if until else None},
    )
    return key


# --- Checkpoints -----------------------------------------------------------------------------


class CheckpointRefused(RuntimeError):
    """The signer will not sign: the log or the database disagrees with what it signed."""


def checkpoint_create(*, force: bool = False) -> Checkpoint | None:
    """
    Seal, then sign a checkpoint of the log (C2SP tlog-checkpoint: origin, size, Merkle root);
    None when nothing is new since the last.

    The signer never signs a tree that does not extend the last checkpoint it signed: it keeps
    that checkpoint outside the database too (``signer_state``), and refuses
    (CheckpointRefused) when the database's newest checkpoint is not that one, when the log is
    shorter, or when a consistency proof from it to the new tree does not verify.

    A checkpoint is not itself an audit entry: it is a signed statement about the log, and an
    entry per checkpoint would give the schedule a new entry to checkpoint for ever.
    """
    key = signing_key_ensure(algorithm=keys.EDDSA)  # first, so that its entry is covered
    seal()
    with transaction.atomic():
        # One signer at a time: the state it checks is the state it replaces. An advisory
        # lock (SQLite: the write lock), not a row lock, which would need UPDATE on the keys.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHECKPOINT_LOCK_ID])
        size = tree.size()
        if size == 0:
            return None
        last = selectors.checkpoint_latest()
        if last and last.seq == size and not force:
            return None
        reader = tree.TileReader()
        root = tree.root(size, reader)
        _check_signer_state(size=size, root=root)
        head = notes.TreeHead(origin=settings.AUDIT_LOG_ORIGIN, size=size, root=root)
        checkpoint = Checkpoint.objects.create(
            seq=size,
            hash=Entry.objects.values_list("hash", flat=True).get(seq=size),
            root=root.hex(),
            time=timezone.now(),
            key=key,
            note=notes.sign_checkpoint(head, key.private_key()),
        )
        # Before the commit: a record ahead of the database makes the next signature refuse,
        # never one behind it.
        signer_state.write(checkpoint.note)
        if settings.AUDIT_WITNESSES:
            transaction.on_commit(lambda: _enqueue_witnessing(checkpoint.pk))
        return checkpoint


def _check_signer_state(*, size: int, root: bytes) -> None:
    """Raise CheckpointRefused unless the tree (size, root) extends the last signed checkpoint."""
    recorded = signer_state.read()
    newest = selectors.checkpoint_latest_merkle()
    if recorded is None:
        if newest is not None:
            raise CheckpointRefused(
                f"no record of the last signed checkpoint at {signer_state.path()}, yet the "
                f"database holds one of size {newest.seq}: restore the record"
            )
        return
    last = selectors.checkpoint_open(recorded)
    if last is None:
        raise CheckpointRefused(
            f"the record at {signer_state.path()} is not a checkpoint signed by a platform key"
        )
    if newest is None or newest.note != recorded:
        raise CheckpointRefused(
            f"the database's newest checkpoint ({newest.seq if newest else 'none'}) is not the "
            f"last one signed (size {last.size})"
        )
    if size < last.size:
        raise CheckpointRefused(
            f"the log holds {size} entries, fewer than the {last.size} of the last checkpoint"
        )
    try:
        merkle.verify_consistency(
            last.size, size, tree.consistency_proof(last.size, size), last.root, root
        )
    except (merkle.ProofError, tree.TreeError) as exc:
        raise CheckpointRefused(
            f"the log is not consistent with the last signed checkpoint (size {last.size}): {exc}"
        ) from None


# --- Witnessing (audit.witnessing) -----------------------------------------------------------
#
# Cosignatures and the witness's records are statements about logs, as checkpoints are, and no
# audit entries: an entry per cosignature would give the next checkpoint something new to
# cosign for ever (and two platforms witnessing each other a ping-pong of checkpoints).


def _enqueue_witnessing(checkpoint_id: int) -> None:
    from django_q.tasks import async_task

    async_task(
        "audit.tasks.witness_checkpoint", checkpoint_id, task_name=f"witness {checkpoint_id}"
    )


@transaction.atomic
def cosignature_store(
    *, checkpoint: Checkpoint, witness: str, key_id: str, timestamp: int, line: str
) -> Cosignature:
    """Keep a witness's verified cosignature of ``checkpoint`` (append-only)."""
    cosignature = Cosignature(
        checkpoint=checkpoint, witness=witness, key_id=key_id, timestamp=timestamp, line=line
    )
    cosignature.full_clean(validate_unique=False, validate_constraints=False)
    cosignature.save()
    return cosignature


def witnessed_checkpoint_record(
    *, log: WitnessedLog, size: int, root: bytes, note: str, cosignature: str, cosigned_at
) -> WitnessedCheckpoint:
    """
    Record that this platform, as a witness, cosigned ``log``'s tree (``size``, ``root``): its
    new state for that log. The caller holds the log's row lock and checked consistency.
    """
    return WitnessedCheckpoint.objects.create(
        log=log,
        size=size,
        root=root.hex(),
        note=note,
        cosignature=cosignature,
        cosigned_at=cosigned_at,
    )


@transaction.atomic
def witness_record_inconsistency(
    *, log: WitnessedLog, size: int, old_size: int, reason: str
) -> PendingEntry:
    """
    Record that a witnessed log presented a checkpoint signed by its key that does not extend
    the tree this witness cosigned (``witness.inconsistency``): evidence of a rewritten log.
    """
    return record(
        actor=SYSTEM,
        action="witness.inconsistency",
        obj=log,
        payload={"origin": log.origin, "size": size, "cosigned_size": old_size, "fault": reason},
    )


@transaction.atomic
def witnessed_log_save(
    *, actor, log: WitnessedLog | None = None, origin: str, verifier_key: str, active: bool = True
) -> WitnessedLog:
    """Add a log for this platform to witness, or change one (its key, whether active)."""
    name, _public_key = notes.parse_verifier_key(verifier_key)  # NoteError when malformed
    if name != origin:
        raise ValidationError({"verifier_key": _("The key's name must be the log's origin.")})
    created = log is None
    log = log or WitnessedLog()
    log.origin, log.verifier_key, log.active = origin, verifier_key.strip(), active
    log.full_clean()
    log.save()
    record(
        actor=actor,
        action="witness.log_added" if created else "witness.log_changed",
        obj=log,
        payload={"origin": origin, "active": active},
    )
    return log


def sign_jwt(claims: dict, *, typ: str, algorithm: str = keys.EDDSA) -> str:
    """
    Return ``claims`` as a JWS compact serialisation signed by the active key for ``algorithm``,
    with ``kid`` and ``typ`` in the header, verifiable against ``/.well-known/jwks.json``.
    """
    return sign_jwt_many([claims], typ=typ, algorithm=algorithm)[0]


def sign_jwt_many(
    claims_list: Iterable[dict], *, typ: str, algorithm: str = keys.EDDSA
) -> list[str]:
    """
    Return each of ``claims_list`` signed as ``sign_jwt`` signs one, with the key looked up and
    decrypted once for all (a fan-out signs thousands of tokens; the key's lookup and
    decryption cost more than an Ed25519 signature).
    """
    key = signing_key_ensure(algorithm=algorithm)
    private, headers = key.private_key(), {"kid": key.kid, "typ": typ}
    signer = jwt.PyJWS()
    # The claims as compact UTF-8 JSON (RFC 7519 §7.1), not \u escapes: Japanese text costs three
    # bytes a character instead of six, and every verifier's work grows with the token's length.
    return [
        signer.encode(
            json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode(),
            private,
            algorithm=algorithm,
            headers=headers,
        )
        for claims in claims_list
    ]


# --- Verification ----------------------------------------------------------------------------


@transaction.atomic
def verification_failure_record(*, actor=None, verdict) -> PendingEntry:
    """
    Record that a verification of the chain failed (``audit.verification_failed``), naming the
    first bad sequence number and the kind of fault: an exceptional event every later audit
    report lists.
    """
    first = verdict.first
    return record(
        actor=actor,
        action="audit.verification_failed",
        payload={
            "first_bad_seq": first.seq if first else None,
            "fault": first.kind if first else None,
            "problems": len(verdict.problems),
            "head_seq": verdict.head_seq,
        },
    )


# --- Reports ---------------------------------------------------------------------------------

REPORTS_DIR = "reports"
# A report whose worker has been silent this long has lost it for good: django-q2 re-delivers a
# task once its ``retry`` period is over, at most ``max_attempts`` times.
MAX_REPORT_ATTEMPTS = 3


def reports_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / REPORTS_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def report_file(report: Report) -> Path:
    """Return the path of a finished report's PDF."""
    return Path(settings.MEDIA_ROOT) / report.file_path


@transaction.atomic
def report_request(
    *,
    actor,
    kind: str,
    parameters: dict,
    consortium_id: int | None,
    language: str = "ja",
    enqueue: bool = True,
) -> Report:
    """
    Queue a report of ``kind``; return it (state queued). The task starts after the commit.

    ``actor`` is the requesting user (checked against the kind's access rule: its consortia,
    and its record check for a report about one record) or None for the
    system (management commands, which build it at once: ``enqueue=False``).
    """
    if actor is not None and not reports.can_access(
        actor, kind, consortium_id, parameters=parameters
    ):
        raise PermissionDenied("not allowed to request this report")
    reports.get(kind)  # unknown kinds are refused before anything is stored
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": f"unsupported language {language!r}"})
    report = Report(
        kind=kind,
        parameters=parameters,
        language=language,
        requested_by=actor if actor is not None else None,
        consortium_id=consortium_id,
    )
    report.full_clean()
    report.save()
    record(
        actor=actor,
        action="report.requested",
        obj=report,
        consortium=consortium_id,
        payload={"kind": kind, "language": language},
    )
    if enqueue:
        transaction.on_commit(lambda: _enqueue_report(report.pk))
    return report


def _enqueue_report(report_id: int) -> None:
    from django_q.tasks import async_task

    async_task("audit.tasks.build_report", report_id, task_name=f"report {report_id}")


def _report_set_progress(report_id: int, percent: int) -> None:
    # Not an audited state change: a heartbeat the user watches and the reaper reads.
    Report.objects.filter(pk=report_id, state=Report.State.RUNNING).update(
        progress=max(0, min(100, int(percent))), updated_at=timezone.now()
    )


def _remove_partial_files(report_id: int) -> None:
    """Remove what a killed worker left of this report: a partial PDF, a working folder."""
    for leftover in reports_dir().glob(f".{report_id}-*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def report_build(*, report_id: int, progress: Callable[[int], None] | None = None) -> Report:
    """
    Build the report's PDF (run by the django-q2 task); return the report, done or failed.

    The PDF is written to a hidden ``.part`` file and renamed into place only when complete;
    the report becomes done (with its ``report.generated`` entry) only after that rename. A
    worker killed on the way leaves a report that is still running and a ``.part`` file: the
    task's next delivery removes the file and starts again, and after ``MAX_REPORT_ATTEMPTS``
    deliveries (or when ``report_reap_stale`` finds it silent) the report is marked failed.
    """
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report_id)
        if report.state in (Report.State.DONE, Report.State.FAILED):
            return report
        if report.attempts >= MAX_REPORT_ATTEMPTS:
            return _report_fail(
                report,
                _("the worker building this report stopped %(count)d times")
                % {"count": report.attempts},
            )
        report.attempts += 1
        report.state = Report.State.RUNNING
        report.progress = 0
        report.save(update_fields=["attempts", "state", "progress", "updated_at"])
    _remove_partial_files(report.pk)

    def _progress(percent: int) -> None:
        _report_set_progress(report.pk, percent)
        if progress:
            progress(percent)

    directory = reports_dir()
    partial = directory / f".{report.pk}-{uuid.uuid4().hex}.part"
    held = False
    try:
        with (
            tempfile.TemporaryDirectory(dir=directory, prefix=f".{report.pk}-") as workdir,
            translation.override(report.language),
        ):
            kind = reports.get(report.kind)
            document = kind.build(
                report,
                progress=lambda p: _progress(min(int(p), 90)),
                workdir=Path(workdir),
            )
            # The PDF prints the entry its report.generated entry will follow: on PostgreSQL
            # the chain is held (nothing sealed, writers unhindered) from reading its head until
            # that entry is sealed; elsewhere the head when the PDF is made.
            held = _chain_hold()
            if not held:
                seal()
            head = selectors.chain_head()
            after_seq = head.seq if head else 0
            reports.render_pdf(
                document,
                footer={
                    "after_seq": after_seq,
                    "report_id": report.pk,
                    "url": settings.PLATFORM_URL + reverse("audit:report-verify"),
                },
                target=partial,
            )
        digest = reports.file_sha256(partial)
        size = partial.stat().st_size
        final = directory / f"{report.pk}-{digest[:16]}.pdf"
        os.replace(partial, final)  # atomic: the file appears complete or not at all
    except Exception as exc:
        if held:
            _chain_release()
            held = False
        partial.unlink(missing_ok=True)
        if isinstance(exc, reports.ReportError):
            reason = str(exc)
        else:
            logger.exception("building report %s failed", report.pk)
            with translation.override(report.language):
                reason = _("internal error while building the report (%(error)s)") % {
                    "error": type(exc).__name__
                }
        with transaction.atomic():
            report = Report.objects.select_for_update().get(pk=report.pk)
            return _report_fail(report, reason)
    try:
        with transaction.atomic():
            report = Report.objects.select_for_update().get(pk=report.pk)
            report.state = Report.State.DONE
            report.progress = 100
            report.finished_at = timezone.now()
            report.file_path = str(final.relative_to(Path(settings.MEDIA_ROOT)))
            report.size = size
            report.sha256 = digest
            report.after_seq = after_seq
            report.full_clean()
            report.save()
            generated = record(
                actor=None,
                action="report.generated",
                obj=report,
                consortium=report.consortium_id,
                payload={
                    "kind": report.kind,
                    "sha256": digest,
                    "size": size,
                    "after_seq": after_seq,
                },
            )
            if held:  # sealed in this transaction, before anything that waited: after_seq + 1
                _seal_batch(1, only=[generated.pk])
    finally:
        if held:
            _chain_release()
    seal()  # and whatever waited meanwhile
    entry = Entry.objects.filter(
        action="report.generated", object_type="audit.report", object_id=str(report.pk)
    ).first()
    if entry:
        Report.objects.filter(pk=report.pk).update(audit_seq=entry.seq)
        report.audit_seq = entry.seq
    return report


def _report_fail(report: Report, reason: str) -> Report:
    """Mark ``report`` failed with ``reason``; the caller holds its row lock."""
    report.state = Report.State.FAILED
    report.failure_reason = str(reason)[:300]
    report.finished_at = timezone.now()
    report.save(update_fields=["state", "failure_reason", "finished_at", "updated_at"])
    record(
        actor=None,
        action="report.failed",
        obj=report,
        consortium=report.consortium_id,
        payload={"kind": report.kind, "attempts": report.attempts},
    )
    _remove_partial_files(report.pk)
    return report


def report_reap_stale(*, now=None) -> int:
    """
    Mark failed the reports whose worker went silent (no progress for longer than django-q2
    would take to re-deliver the task every time); return how many.
    """
    now = now or timezone.now()
    silent_for = datetime.timedelta(
        seconds=settings.Q_CLUSTER.get("retry", 660) * MAX_REPORT_ATTEMPTS
    )
    reaped = 0
    for report_id in Report.objects.filter(
        state__in=[Report.State.QUEUED, Report.State.RUNNING], updated_at__lt=now - silent_for
    ).values_list("pk", flat=True):
        with transaction.atomic():
            report = Report.objects.select_for_update().get(pk=report_id)
            if report.state in (Report.State.QUEUED, Report.State.RUNNING):
                with translation.override(report.language):
                    _report_fail(report, _("no worker finished this report in time"))
                reaped += 1
    return reaped
