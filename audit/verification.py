"""
Walk the audit log and every checkpoint, and name the first thing that does not hold.

Rows come from ``selectors.chain_rows`` (one raw query, a server-side cursor on PostgreSQL) and
are hashed from ``chain.entry_text``, so the walk is bound by reading and hashing. The same
bytes give each entry's chain hash and its Merkle leaf hash; the walk rebuilds the Merkle tree
tile by tile, compares it with the stored tiles, and checks every checkpoint's root, and the
checkpoint the signer keeps outside the database (``signer_state``), against it.

Where the C accelerator ``audit._walk`` is built (and ``AUDIT_VERIFY_ACCELERATED`` is on), it
does each batch's per-entry work: the text, the three hashes, the tiles. It only confirms that
a batch holds; a batch it does not confirm is walked again in Python, which stays the
reference and the one place that names faults.
"""

import gc
import hashlib
import multiprocessing
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from json.encoder import encode_basestring  # the C string encoder chain.entry_text uses

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import chain, cosignatures, merkle, notes, roles, selectors, signer_state, witnessing
from .models import Checkpoint, Cosignature, Entry, SigningKey, SigningKeyEvent
from .tree import FULL_TILE_BYTES, TILE_HEIGHT, TILE_WIDTH

try:
    # The walk's per-entry work in C (audit/_walk.c), an optional part of the install.
    from . import _walk as _accelerator
except ImportError:  # not built (no compiler or no OpenSSL headers): the walk in Python
    _accelerator = None


class Fault:
    HASH_MISMATCH = "hash_mismatch"
    BROKEN_LINK = "broken_link"
    GAP = "gap"
    CHECKPOINT_MISMATCH = "checkpoint_mismatch"
    TRUNCATED = "truncated"
    BAD_SIGNATURE = "bad_signature"
    TREE_MISMATCH = "tree_mismatch"
    BAD_COSIGNATURE = "bad_cosignature"
    WITNESS_MISMATCH = "witness_mismatch"
    TIME_BACKWARDS = "time_backwards"
    PENDING_TOO_LONG = "pending_too_long"
    REVOKED_KEY = "revoked_key"
    UNPUBLISHED_KEY = "unpublished_key"
    UNRECORDED_KEY_EVENT = "unrecorded_key_event"
    MISSING_KEY_EVENT = "missing_key_event"
    TRIGGER_MISSING = roles.TRIGGER_MISSING
    EXCESS_PRIVILEGE = roles.EXCESS_PRIVILEGE


# Each fault in words, for the audit report (the log and ``audit_verify --json`` keep the codes).
FAULT_LABELS = {
    Fault.HASH_MISMATCH: _("its hash does not match its contents"),
    Fault.BROKEN_LINK: _("it does not link to the entry before it"),
    Fault.GAP: _("an entry is missing before it"),
    Fault.CHECKPOINT_MISMATCH: _("a signed checkpoint does not match the log"),
    Fault.TRUNCATED: _("the log is shorter than a signed checkpoint"),
    Fault.BAD_SIGNATURE: _("a checkpoint's signature is not valid"),
    Fault.TREE_MISMATCH: _("the stored Merkle tree does not match the entries"),
    Fault.BAD_COSIGNATURE: _("a witness's cosignature is not valid"),
    Fault.WITNESS_MISMATCH: _("a witness saw a different log"),
    Fault.TIME_BACKWARDS: _("its time is before the entry before it"),
    Fault.PENDING_TOO_LONG: _("entries have waited too long to be sealed"),
    Fault.REVOKED_KEY: _("it was signed with a revoked key"),
    Fault.UNPUBLISHED_KEY: _("it was signed with a key that is not published"),
    Fault.UNRECORDED_KEY_EVENT: _("a signing key's event has no audit entry"),
    Fault.MISSING_KEY_EVENT: _("a signing key's event recorded in the log is missing"),
    Fault.TRIGGER_MISSING: _("a database guard of the log is missing"),
    Fault.EXCESS_PRIVILEGE: _("the platform's database role may change the log"),
}


def fault_label(kind: str):
    """Return the fault ``kind`` in words (the code itself for an unknown one)."""
    return FAULT_LABELS.get(kind, kind)


@dataclass(frozen=True)
class Problem:
    seq: int
    kind: str
    detail: str


@dataclass
class Verdict:
    ok: bool = True
    entries: int = 0
    head_seq: int = 0
    head_hash: str = chain.GENESIS_HASH
    checkpoints: int = 0
    pending: int = 0
    tree_root: str = merkle.EMPTY_ROOT.hex()
    signer_checkpoint: int | None = None
    # Checkpoints cosigned by a quorum of the configured witnesses, and the newest one's size.
    witnessed: int = 0
    witnessed_size: int | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def first(self) -> Problem | None:
        """Return the problem at the lowest sequence number."""
        return min(self.problems, key=lambda p: p.seq) if self.problems else None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["first_bad_seq"] = self.first.seq if self.first else None
        data["first_fault"] = self.first.kind if self.first else None
        return data


class _TreeCheck:
    """
    The Merkle tree rebuilt from the walk's leaf hashes, tile by tile (C2SP tlog-tiles), and
    compared with the stored tiles after the walk: level 0 by a digest of each tile (so that
    the walk itself reads nothing but entries), the levels above hash by hash.
    """

    def __init__(self, note) -> None:
        self.note = note
        self.leaves: list[bytes] = []  # the level-0 tile being filled
        self.levels: list[list[bytes]] = [[]]  # levels[k >= 1]: every hash of tile level k
        self.leaf_tile_digests: list[bytes] = []  # SHA-256 of each full level-0 tile
        self.size = 0

    def _compare(self, level: int, index: int, computed: bytes, stored: bytes | None) -> None:
        if stored == computed:
            return
        first = index * TILE_WIDTH  # the first hash of the tile, at its level
        if stored is not None:
            for at in range(0, min(len(stored), len(computed)), merkle.HASH_SIZE):
                if stored[at : at + merkle.HASH_SIZE] != computed[at : at + merkle.HASH_SIZE]:
                    first += at // merkle.HASH_SIZE
                    break
            else:
                first += min(len(stored), len(computed)) // merkle.HASH_SIZE
        seq = (first << (TILE_HEIGHT * level)) + 1
        self.note(
            seq,
            Fault.TREE_MISMATCH,
            f"stored tile {level}/{index} differs from the tree of the entries"
            if stored is not None
            else f"stored tile {level}/{index} is missing",
        )

    def absorb(self, segment: "_Segment") -> None:
        """Add a walked run of entries, which starts at a tile boundary, after the tree so far."""
        self.leaf_tile_digests.extend(segment.tile_digests)
        for value in segment.tile_roots:
            level = 1
            while True:
                if len(self.levels) <= level:
                    self.levels.append([])
                hashes = self.levels[level]
                hashes.append(value)
                if len(hashes) % TILE_WIDTH:
                    break
                value, level = merkle.perfect_root(hashes[-TILE_WIDTH:]), level + 1
        self.leaves = segment.leaves
        self.size += segment.count

    def root_at(self, size: int, leaves: bytes) -> bytes:
        """
        Return the root of the tree of the first ``size`` leaves, given the leaf hashes of its
        last, partial level-0 tile (the full tiles before it are absorbed already).
        """
        saved = self.size, self.leaves
        self.size = size
        self.leaves = merkle.split_hashes(leaves)
        try:
            return self.root()
        finally:
            self.size, self.leaves = saved

    def node(self, level: int, index: int) -> bytes:
        tile_level, height = divmod(level, TILE_HEIGHT)
        first = index << height
        if tile_level == 0:
            hashes = self.leaves[first - (self.size >> TILE_HEIGHT << TILE_HEIGHT) :][: 1 << height]
        else:
            hashes = self.levels[tile_level][first : first + (1 << height)]
        return merkle.perfect_root(hashes)

    def root(self) -> bytes:
        """Return the root of the tree of the leaves so far."""
        if self.size == 0:
            return merkle.EMPTY_ROOT
        return merkle.subtree_hash(0, self.size, self.node)

    def _leaf_tile(self, index: int) -> bytes:
        """Recompute full level-0 tile ``index`` from its entries (to name a bad leaf)."""
        first = index * TILE_WIDTH + 1
        return b"".join(
            merkle.leaf_hash(row.text().encode())
            for row in selectors.chain_rows(start_seq=first, end_seq=first + TILE_WIDTH - 1)
        )

    def finish(self) -> None:
        """Compare every stored tile with the tree of the entries."""
        full_tiles = len(self.leaf_tile_digests)
        stored_leaf_tiles = set()
        for index, digest in selectors.tree_tile_digests(level=0):
            stored_leaf_tiles.add(index)
            if index < full_tiles:
                if digest != self.leaf_tile_digests[index]:
                    stored = selectors.tree_tile(level=0, index=index)
                    self._compare(0, index, self._leaf_tile(index), stored)
            elif index == full_tiles and self.leaves:
                stored = selectors.tree_tile(level=0, index=index)
                self._compare(0, index, b"".join(self.leaves), stored)
            else:
                self.note(
                    self.size + 1, Fault.TREE_MISMATCH, f"stored tile 0/{index} is beyond the log"
                )
        expected = set(range(full_tiles + (1 if self.leaves else 0)))
        for index in sorted(expected - stored_leaf_tiles)[:1]:
            self._compare(0, index, b"", None)
        for level in range(1, max(len(self.levels), 2)):
            computed = b"".join(self.levels[level]) if level < len(self.levels) else b""
            stored = {index: bytes(hashes) for index, hashes in selectors.tree_tiles(level=level)}
            count = -(-len(computed) // FULL_TILE_BYTES)
            for index in range(count):
                part = computed[index * FULL_TILE_BYTES : (index + 1) * FULL_TILE_BYTES]
                self._compare(level, index, part, stored.pop(index, None))
            for index in sorted(stored)[:1]:
                self.note(
                    self.size + 1,
                    Fault.TREE_MISMATCH,
                    f"stored tile {level}/{index} is beyond the log",
                )


# Walks of at least this many entries are split over processes (fewer: starting them costs
# more than it saves).
PARALLEL_MIN_ENTRIES = 65_536


class _Irregular(Exception):
    """A parallel walk met a fault: the single walk names it (and every other) instead."""


@dataclass
class _Segment:
    """
    What a walk over a run of entries, from a tile boundary, leaves for the verdict: where the
    chain ends, the digest and root of each full level-0 tile, the leaf hashes of the last,
    partial tile, and at each wanted tree size the entry's hash and its partial tile's leaves.
    """

    expected_seq: int
    prev_hash: str
    prev_time: str
    count: int = 0
    tile_digests: list[bytes] = field(default_factory=list)
    tile_roots: list[bytes] = field(default_factory=list)
    leaves: list[bytes] = field(default_factory=list)
    hashes_at: dict[int, str] = field(default_factory=dict)
    leaves_at: dict[int, bytes] = field(default_factory=dict)


def _walk(
    batches,
    *,
    position: int,
    expected_seq: int,
    prev_hash: str,
    prev_time: str,
    wanted: set[int],
    note: Callable[[int, str, str], None],
    progress: Callable[[int], None] | None = None,
    iso_time: bool = False,
) -> _Segment:
    """
    Check each entry of ``batches`` (ChainRow tuples in sequence order) for its sequence, link,
    time and hash, following the entry of ``prev_hash`` and ``prev_time`` at tree size
    ``position`` (a multiple of TILE_WIDTH); hash its leaf and each full tile.

    With ``iso_time`` the rows' times are PostgreSQL's ISO text (``selectors.chain_rows_sql``),
    which only the C walk reads: a batch it does not confirm raises _Irregular, and the caller
    walks again with the canonical times.
    """
    segment = _Segment(expected_seq, prev_hash, prev_time)
    tile_digests, tile_roots = segment.tile_digests, segment.tile_roots
    hashes_at, leaves_at = segment.hashes_at, segment.leaves_at
    leaves: list[bytes] = []
    count = position
    sha256, enc = hashlib.sha256, encode_basestring  # local names: this is the hot loop
    perfect_root, join = merkle.perfect_root, b"".join
    fast = accelerator()
    wanted_sizes = sorted(wanted)
    for batch in batches:
        if fast is not None or iso_time:
            size = len(batch)
            walked = fast and fast.walk_batch(
                batch,
                expected_seq,
                prev_hash,
                prev_time,
                join(leaves),
                count,
                wanted_sizes[
                    bisect_right(wanted_sizes, count) : bisect_right(wanted_sizes, count + size)
                ],
                iso_time,
            )
            if walked is not None:  # every entry holds; otherwise the batch again, in Python
                expected_seq, prev_hash, prev_time, tile, digests, roots, met = walked
                leaves = merkle.split_hashes(tile)
                tile_digests.extend(digests)
                tile_roots.extend(roots)
                for at_size, digest, partial in met:
                    hashes_at[at_size] = digest
                    leaves_at[at_size] = partial
                count += size
                if progress:
                    progress(size)
                continue
            if iso_time:
                raise _Irregular(count + 1, "the C walk left a batch of ISO times to Python")
        for (
            seq,
            time,
            a_type,
            a_id,
            action,
            o_type,
            o_id,
            cons,
            payload,
            prev,
            digest,
        ) in batch:
            if seq != expected_seq:
                note(expected_seq, Fault.GAP, f"entry {expected_seq} is missing; the next is {seq}")
            if prev != prev_hash:
                note(seq, Fault.BROKEN_LINK, "the previous hash does not match the entry before")
            if time < prev_time:  # canonical times compare as text
                note(seq, Fault.TIME_BACKWARDS, f"its time {time} is before the entry before's")
            prev_time = time
            # chain.entry_text, written out: the same members in the same order.
            data = (
                f'{{"action":{enc(action)},"actor_id":{enc(a_id)},"actor_type":{enc(a_type)},'
                f'"consortium_id":{"null" if cons is None else int(cons)},'
                f'"object_id":{enc(o_id)},"object_type":{enc(o_type)},"payload":{payload},'
                f'"prev_hash":{enc(prev)},"seq":{int(seq)},"time":{enc(time)}}}'
            ).encode()
            if sha256(data).hexdigest() != digest:
                note(seq, Fault.HASH_MISMATCH, "the stored hash does not match the entry's content")
            leaves.append(sha256(b"\x00" + data).digest())
            count += 1
            if len(leaves) == TILE_WIDTH:
                tile_digests.append(sha256(join(leaves)).digest())
                tile_roots.append(perfect_root(leaves))
                leaves = []
            if count in wanted:
                hashes_at[count] = digest
                leaves_at[count] = join(leaves)
            expected_seq, prev_hash = seq + 1, digest
        if progress:
            progress(len(batch))
    segment.count = count - position
    segment.leaves = leaves
    segment.expected_seq, segment.prev_hash, segment.prev_time = expected_seq, prev_hash, prev_time
    return segment


def accelerator():
    """
    Return the C walk (module ``audit._walk``) when it is built and ``AUDIT_VERIFY_ACCELERATED``
    is on, else None.
    """
    return _accelerator if settings.AUDIT_VERIFY_ACCELERATED else None


def _irregular(seq: int, kind: str, detail: str) -> None:
    raise _Irregular(seq, kind)


def _walk_parallel(workers: int, wanted: set[int], progress) -> list[_Segment] | None:
    """
    Walk the entries in ``workers`` runs of whole tiles at once: this process the first, a
    forked process each of the others, every one on a connection of its own reading the
    snapshot of this transaction. Each run starts from the stored hash and time of the entry
    before it, and the runs must meet: each ends at the entry the next started after, with
    that entry's hash and time. Return the runs in order; None when the log is too short to
    split or any run met a fault, for the single walk to name every fault as it always has.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(seq) FROM {Entry._meta.db_table}")
        last = cursor.fetchone()[0] or 0
        if last < PARALLEL_MIN_ENTRIES:
            return None
        tiles = -(-last // TILE_WIDTH)
        workers = min(workers, tiles)
        # Run k covers the entries after tree size starts[k], up to starts[k + 1].
        starts = [tiles * k // workers * TILE_WIDTH for k in range(workers)]
        cursor.execute(
            f"SELECT seq, {selectors.time_sql()}, hash FROM {Entry._meta.db_table} "
            "WHERE seq = ANY(%s)",
            [starts[1:]],
        )
        before = {seq: (time, digest) for seq, time, digest in cursor.fetchall()}
        if len(before) != workers - 1:
            return None  # a gap at a boundary
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
    params = connection.get_connection_params()
    iso_time = accelerator() is not None  # every run in C, on the server's cheaper time text
    context = multiprocessing.get_context("fork")
    children = []
    for k in range(1, workers):
        end = starts[k + 1] if k + 1 < workers else None
        receiver, sender = context.Pipe(duplex=False)
        time, digest = before[starts[k]]
        child = context.Process(
            target=_walk_child,
            args=(sender, params, snapshot, starts[k], end, digest, time, wanted, iso_time),
            daemon=True,
        )
        child.start()
        sender.close()
        children.append((child, receiver))
    segments, irregular = [], False
    try:
        segments.append(
            _walk(
                selectors.chain_row_batches(start_seq=1, end_seq=starts[1], iso_time=iso_time),
                position=0,
                expected_seq=1,
                prev_hash=chain.GENESIS_HASH,
                prev_time="",
                wanted=wanted,
                note=_irregular,
                progress=progress,
                iso_time=iso_time,
            )
        )
    except _Irregular:
        irregular = True
    for child, receiver in children:
        try:
            outcome, value = receiver.recv()
        except EOFError:
            outcome, value = "error", f"a verifying process ended with code {child.exitcode}"
        child.join()
        if outcome == "error":
            raise RuntimeError(value)
        if outcome == "irregular" or irregular:
            irregular = True
            continue
        if progress:
            progress(value.count)
        segments.append(value)
    if irregular:
        return None
    for k in range(1, workers):
        time, digest = before[starts[k]]
        if (segments[k - 1].expected_seq, segments[k - 1].prev_hash) != (starts[k] + 1, digest):
            return None  # the runs do not meet
    return segments


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """
    Pause the cyclic garbage collector for the walk: it makes a tuple and eleven values for
    every entry, none of them in a cycle, and the collector, started by every few hundred of
    them, would go over the batches alive again and again (a few per cent of the walk).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Progress:
    """
    Report the entries walked to ``progress``, once each, over walks that may start again
    from the first entry (a parallel or C-only walk that met a fault).
    """

    def __init__(self, progress: Callable[[int], None] | None) -> None:
        self.progress = progress
        self.reported = self.walked = 0

    def restart(self) -> None:
        self.walked = 0

    def advance(self, count: int) -> None:
        self.walked += count
        if self.progress and self.walked > self.reported:
            self.progress(self.walked - self.reported)
            self.reported = self.walked


def _walk_single(wanted: set[int], note, walked: _Progress) -> _Segment:
    """
    Walk the whole log in this process. With the C walk on PostgreSQL, first on the server's
    cheaper ISO time text, all in C; at the first batch it does not confirm, again on the
    canonical time text, each batch that C does not confirm in Python, which names the faults.
    """
    start = {"position": 0, "expected_seq": 1, "prev_hash": chain.GENESIS_HASH, "prev_time": ""}
    walked.restart()
    if accelerator() is not None and connection.vendor == "postgresql":
        try:
            return _walk(
                selectors.chain_row_batches(iso_time=True),
                **start,
                wanted=wanted,
                note=_irregular,
                progress=walked.advance,
                iso_time=True,
            )
        except _Irregular:
            walked.restart()
    return _walk(
        selectors.chain_row_batches(), **start, wanted=wanted, note=note, progress=walked.advance
    )


def _walk_child(
    sender, params, snapshot, start, end, prev_hash, prev_time, wanted, iso_time
) -> None:
    """In a forked process: walk the entries after ``start`` (to ``end``); send the outcome."""
    import psycopg
    from psycopg import sql

    try:
        # Nothing of Django's connection, which is the parent's: a connection of its own.
        with psycopg.connect(**params) as own:
            own.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            own.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
            with own.cursor(name="audit_chain_part") as cursor:
                cursor.execute(
                    selectors.chain_rows_sql(bounded=end is not None, iso_time=iso_time),
                    [start + 1] + ([end] if end is not None else []),
                )
                segment = _walk(
                    selectors.overlapped_batches(cursor),
                    position=start,
                    expected_seq=start + 1,
                    prev_hash=prev_hash,
                    prev_time=prev_time,
                    wanted=wanted,
                    note=_irregular,
                    iso_time=iso_time,
                )
        sender.send(("ok", segment))
    except _Irregular:
        sender.send(("irregular", None))
    except BaseException as exc:  # the parent raises it
        sender.send(("error", f"a verifying process failed: {exc!r}"))
    finally:
        sender.close()


def verify_chain(
    *,
    progress: Callable[[int], None] | None = None,
    max_problems: int = 50,
    cosigned_notes: Sequence[str] = (),
    workers: int | None = None,
) -> Verdict:
    """
    Check every entry's sequence, link and hash, the Merkle tree's stored tiles, then every
    checkpoint and the signer's own record of its last one, every witness cosignature held and
    each of ``cosigned_notes`` (checkpoints cosigned by a configured witness, obtained
    elsewhere); return the verdict.

    On PostgreSQL, outside a caller's transaction, everything is read from one snapshot
    (REPEATABLE READ), so that entries, tiles and checkpoints sealed meanwhile do not count;
    there the entries of a long log are walked by ``workers`` processes (default
    ``AUDIT_VERIFY_WORKERS``) sharing that snapshot (``_walk_parallel``).
    """
    if workers is None:
        workers = settings.AUDIT_VERIFY_WORKERS
    if multiprocessing.current_process().daemon:
        # A task cluster's worker (django-q daemonizes them) may not start processes.
        workers = 1
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        # A caller's transaction may hold entries no other connection sees: one process.
        return _verify(
            progress=progress, max_problems=max_problems, cosigned_notes=cosigned_notes, workers=1
        )
    with transaction.atomic(), connection.cursor() as cursor:
        # Not READ ONLY: a report's progress callback writes its heartbeat meanwhile.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _verify(
            progress=progress,
            max_problems=max_problems,
            cosigned_notes=cosigned_notes,
            workers=workers,
        )


def _verify(
    *, progress, max_problems: int, cosigned_notes: Sequence[str] = (), workers: int = 1
) -> Verdict:
    verdict = Verdict()
    problems = verdict.problems

    def note(seq: int, kind: str, detail: str) -> None:
        if len(problems) < max_problems:
            problems.append(Problem(seq, kind, detail))

    checkpoints = list(Checkpoint.objects.select_related("key").order_by("seq", "id"))
    recorded = signer_state.read()
    signer_head = selectors.checkpoint_open(recorded) if recorded is not None else None
    wanted = {cp.seq for cp in checkpoints}
    if signer_head is not None:
        wanted.add(signer_head.size)
    witnessed = _witnessed_heads(checkpoints, cosigned_notes, note, verdict)
    wanted.update(head.size for head, _ in witnessed)
    hashes_at: dict[int, str] = {}
    roots_at: dict[int, bytes] = {}
    tree_check = _TreeCheck(note)
    walked = _Progress(progress)
    with _cyclic_gc_paused():
        segments = _walk_parallel(workers, wanted, walked.advance) if workers > 1 else None
        if segments is None:  # one walk; also the one that names the faults a parallel walk met
            segments = [_walk_single(wanted, note, walked)]
    leaves_at: dict[int, bytes] = {}
    for segment in segments:
        tree_check.absorb(segment)
        hashes_at.update(segment.hashes_at)
        leaves_at.update(segment.leaves_at)
    for size, leaves in leaves_at.items():
        roots_at[size] = tree_check.root_at(size, leaves)
    count = tree_check.size
    expected_seq, prev_hash = segments[-1].expected_seq, segments[-1].prev_hash

    verdict.entries = count
    verdict.head_seq = expected_seq - 1
    verdict.head_hash = prev_hash
    verdict.tree_root = tree_check.root().hex()
    verdict.pending = selectors.pending_count()
    _check_pending(count, note)
    verdict.checkpoints = len(checkpoints)
    _check_checkpoint_keys(checkpoints, note)
    _check_key_events(count, note)
    if connection.vendor == "postgresql":
        # The database's own guards: triggers in place and enabled, the platform's role no
        # stronger than designed (audit.roles).
        for kind, detail in roles.check():
            note(0, kind, detail)
    for checkpoint in checkpoints:
        if checkpoint.root:
            _check_tree_checkpoint(checkpoint, count, roots_at, note)
        else:
            _check_checkpoint(checkpoint, verdict.head_seq, hashes_at, note)
    if recorded is not None:
        _check_signer_record(signer_head, count, roots_at, note)
        verdict.signer_checkpoint = signer_head.size if signer_head else None
    for head, where in witnessed:
        if head.size > count:
            note(
                count + 1,
                Fault.TRUNCATED,
                f"{where} covers {head.size} entries; the log ends at {count}",
            )
        elif roots_at.get(head.size) != head.root:
            note(
                head.size,
                Fault.WITNESS_MISMATCH,
                f"the log is not consistent with {where}: the Merkle root of its first "
                f"{head.size} entries differs",
            )
    # After the checkpoints: a log cut short is named "truncated" before its tiles differ.
    tree_check.finish()
    verdict.ok = not problems
    return verdict


def _check_checkpoint_keys(checkpoints: list[Checkpoint], note) -> None:
    """
    Name a checkpoint signed by a key whose creation the log does not record (never published),
    or by a revoked key after its revocation (a checkpoint covering the ``key.revoked`` entry,
    or stamped after its revocation event).
    """
    created, revoked_at_seq = selectors.signing_key_events()
    revoked_at = selectors.signing_key_revocations()
    for checkpoint in checkpoints:
        key = checkpoint.key
        if str(key.pk) not in created:
            note(
                checkpoint.seq,
                Fault.UNPUBLISHED_KEY,
                f"checkpoint {checkpoint.pk} is signed by key {key.kid[:16]}, whose creation the "
                "log does not record: a key the platform never published",
            )
        revocation = revoked_at_seq.get(str(key.pk))
        revoked = revoked_at.get(key.pk)
        if revoked is not None or revocation is not None:
            late = (revocation is not None and checkpoint.seq >= revocation) or (
                revoked is not None and checkpoint.time > revoked
            )
            if late:
                note(
                    checkpoint.seq,
                    Fault.REVOKED_KEY,
                    f"checkpoint {checkpoint.pk} is signed by key {key.kid[:16]} after its "
                    "revocation",
                )


def _check_key_events(size: int, note) -> None:
    """
    Match each signing-key event (retirement, revocation, publication end) with the audit entry
    its service writes in the same transaction (``key.rotated`` naming the retired key,
    ``key.revoked``, ``key.publication_set`` with the same end), one for one: name an event
    without its entry (a row inserted by other means, which would change a key's status
    unseen) and an entry without its event (a row taken away, which would bring a revoked key
    back).
    """
    events, entries = selectors.signing_key_event_records()
    unmatched_entries = Counter((kid, kind, until) for _seq, kid, kind, until in entries)
    unmatched_events = Counter((kid, kind, until) for _id, kid, kind, _reason, until in events)
    # Migration audit 0011 made one publication event, the newest end, of the key's column:
    # its earlier key.publication_set entries have no event of their own.
    migrated = {
        kid
        for _id, kid, kind, reason, _until in events
        if kind == SigningKeyEvent.Kind.PUBLICATION and reason == SigningKeyEvent.Reason.MIGRATED
    }
    for event_id, kid, kind, _reason, until in events:
        token = (kid, kind, until)
        if unmatched_entries[token]:
            unmatched_entries[token] -= 1
            continue
        note(
            0,
            Fault.UNRECORDED_KEY_EVENT,
            f"signing key event {event_id} ({kind} of key {kid[:16]}) has no audit entry: it "
            "was not made by the platform's service",
        )
    for seq, kid, kind, until in entries:
        token = (kid, kind, until)
        if unmatched_events[token]:
            unmatched_events[token] -= 1
            continue
        if kind == SigningKeyEvent.Kind.PUBLICATION and kid in migrated:
            continue
        note(
            seq if seq is not None else size + 1,
            Fault.MISSING_KEY_EVENT,
            f"the log records key {kid[:16]} {kind}"
            + (f" (until {until})" if until else "")
            + (" in a pending entry" if seq is None else "")
            + ", but no such signing key event exists",
        )


def _check_pending(size: int, note) -> None:
    """Name an entry left pending longer than AUDIT_PENDING_MAX_SECONDS: sealing has stopped."""
    oldest = selectors.pending_oldest()
    if oldest is None:
        return
    waited = (timezone.now() - oldest).total_seconds()
    if waited > settings.AUDIT_PENDING_MAX_SECONDS:
        note(
            size + 1,
            Fault.PENDING_TOO_LONG,
            f"an entry has waited {int(waited)} s to be sealed (more than "
            f"AUDIT_PENDING_MAX_SECONDS, {settings.AUDIT_PENDING_MAX_SECONDS} s): sealing has "
            "stopped",
        )


def _check_tree_checkpoint(checkpoint: Checkpoint, size: int, roots_at: dict, note) -> None:
    key: SigningKey = checkpoint.key
    try:
        if key.algorithm != SigningKey.Algorithm.EDDSA:
            raise notes.NoteError("checkpoints are signed with Ed25519 keys only")
        head = notes.open_checkpoint(checkpoint.note, key.public_key())
    except notes.NoteError as exc:
        note(checkpoint.seq, Fault.BAD_SIGNATURE, f"checkpoint {checkpoint.pk}: {exc}")
        return
    if (head.size, head.root.hex()) != (checkpoint.seq, checkpoint.root):
        note(checkpoint.seq, Fault.CHECKPOINT_MISMATCH, "the signed note and its row disagree")
    elif head.size > size:
        note(
            size + 1,
            Fault.TRUNCATED,
            f"checkpoint {checkpoint.pk} covers {head.size} entries; the log ends at {size}",
        )
    elif roots_at.get(head.size) != head.root:
        note(
            head.size,
            Fault.CHECKPOINT_MISMATCH,
            f"the Merkle root of the first {head.size} entries differs from checkpoint "
            f"{checkpoint.pk}",
        )


def _check_signer_record(head: notes.TreeHead | None, size: int, roots_at: dict, note) -> None:
    where = signer_state.path()
    if head is None:
        note(
            size + 1,
            Fault.BAD_SIGNATURE,
            f"the checkpoint kept outside the database ({where}) is not signed by a platform key",
        )
    elif head.size > size:
        note(
            size + 1,
            Fault.TRUNCATED,
            f"the checkpoint kept outside the database ({where}) covers {head.size} entries; "
            f"the log ends at {size}",
        )
    elif roots_at.get(head.size) != head.root:
        note(
            head.size,
            Fault.CHECKPOINT_MISMATCH,
            f"the log is not consistent with the checkpoint kept outside the database ({where}): "
            f"the Merkle root of its first {head.size} entries differs",
        )


def _check_checkpoint(checkpoint: Checkpoint, head_seq: int, hashes_at: dict, note) -> None:
    key: SigningKey = checkpoint.key
    try:
        if key.algorithm != SigningKey.Algorithm.EDDSA:
            raise notes.NoteError("checkpoints are signed with Ed25519 keys only")
        body = notes.verify(checkpoint.note, key.public_key())
    except notes.NoteError as exc:
        note(checkpoint.seq, Fault.BAD_SIGNATURE, f"checkpoint {checkpoint.pk}: {exc}")
        return
    if (body.seq, body.hash) != (checkpoint.seq, checkpoint.hash):
        note(checkpoint.seq, Fault.CHECKPOINT_MISMATCH, "the signed note and its row disagree")
    elif body.seq > head_seq:
        note(
            head_seq + 1,
            Fault.TRUNCATED,
            f"checkpoint {checkpoint.pk} covers {body.seq} entries; the chain ends at {head_seq}",
        )
    elif hashes_at.get(body.seq) != body.hash:
        note(body.seq, Fault.CHECKPOINT_MISMATCH, f"entry {body.seq} differs from the checkpoint")


def _witnessed_heads(
    checkpoints: list[Checkpoint], cosigned_notes: Sequence[str], note, verdict: Verdict
) -> list[tuple[notes.TreeHead, str]]:
    """
    Check every cosignature held against its checkpoint and the configured witnesses' keys,
    count the witnessed checkpoints, and return the tree heads of ``cosigned_notes`` (each
    signed by a platform key and cosigned by a configured witness) with a description, for the
    walk to check the log against.
    """
    witnesses = witnessing.configured_witnesses()
    cosigners = {(w.name, w.cosigner.key_id.hex()): w.cosigner for w in witnesses}
    needed = max(witnessing.quorum(), 1)
    by_checkpoint: dict[int, list] = {}
    for cosignature in Cosignature.objects.order_by("checkpoint_id", "id"):
        by_checkpoint.setdefault(cosignature.checkpoint_id, []).append(cosignature)
    for checkpoint in checkpoints:
        held = set()
        for cosignature in by_checkpoint.get(checkpoint.pk, []):
            cosigner = cosigners.get((cosignature.witness, cosignature.key_id))
            if cosigner is None:
                continue  # a witness no longer configured: nothing to check it against
            try:
                signature = cosignatures.parse_signature_lines(cosignature.line)[0]
                text = notes.parse_note(checkpoint.note).text
                cosignatures.verify(text, signature, cosigner)
            except (notes.NoteError, IndexError) as exc:
                note(
                    checkpoint.seq,
                    Fault.BAD_COSIGNATURE,
                    f"checkpoint {checkpoint.pk}: the cosignature by {cosignature.witness} "
                    f"does not verify ({exc})",
                )
                continue
            held.add(cosigner.name)
        if witnesses and len(held) >= needed:
            verdict.witnessed += 1
            verdict.witnessed_size = max(verdict.witnessed_size or 0, checkpoint.seq)
    heads = []
    for text in cosigned_notes:
        head = selectors.checkpoint_open(text)
        if head is None:
            note(
                0,
                Fault.BAD_SIGNATURE,
                "a cosigned checkpoint given is not signed by a platform key",
            )
            continue
        try:
            names = sorted(cosignatures.cosignatures(text, [w.cosigner for w in witnesses]))
        except notes.NoteError as exc:
            note(head.size, Fault.BAD_COSIGNATURE, f"a cosigned checkpoint given: {exc}")
            continue
        if not names:
            note(
                head.size,
                Fault.BAD_COSIGNATURE,
                f"the checkpoint of size {head.size} given is cosigned by no configured witness",
            )
            continue
        heads.append((head, f"the checkpoint of size {head.size} cosigned by {', '.join(names)}"))
    return heads
