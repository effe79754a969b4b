"""
Walk the audit chain and every checkpoint, and name the first thing that does not hold.

Rows come from ``selectors.chain_rows`` (one raw query, a server-side cursor on PostgreSQL) and
are hashed from ``chain.entry_text``, so the walk is bound by reading and hashing.
"""

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from . import chain, notes, selectors
from .models import Checkpoint, SigningKey

PROGRESS_EVERY = 20_000


class Fault:
    HASH_MISMATCH = "hash_mismatch"
    BROKEN_LINK = "broken_link"
    GAP = "gap"
    CHECKPOINT_MISMATCH = "checkpoint_mismatch"
    TRUNCATED = "truncated"
    BAD_SIGNATURE = "bad_signature"


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


def verify_chain(
    *, progress: Callable[[int], None] | None = None, max_problems: int = 50
) -> Verdict:
    """Check every entry's sequence, link and hash, then every checkpoint; return the verdict."""
    verdict = Verdict()
    problems = verdict.problems

    def note(seq: int, kind: str, detail: str) -> None:
        if len(problems) < max_problems:
            problems.append(Problem(seq, kind, detail))

    checkpoints = list(Checkpoint.objects.select_related("key").order_by("seq", "id"))
    wanted = {cp.seq for cp in checkpoints}
    hashes_at: dict[int, str] = {}
    expected_seq, prev_hash, count = 1, chain.GENESIS_HASH, 0
    entry_text, sha256 = chain.entry_text, hashlib.sha256  # local names: this is the hot loop
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
    ) in selectors.chain_rows():
        if seq != expected_seq:
            note(expected_seq, Fault.GAP, f"entry {expected_seq} is missing; the next is {seq}")
        if prev != prev_hash:
            note(seq, Fault.BROKEN_LINK, "the previous hash does not match the entry before")
        text = entry_text(
            seq=seq,
            time=time,
            actor_type=a_type,
            actor_id=a_id,
            action=action,
            object_type=o_type,
            object_id=o_id,
            consortium_id=cons,
            payload=payload,
            prev_hash=prev,
        )
        if sha256(text.encode()).hexdigest() != digest:
            note(seq, Fault.HASH_MISMATCH, "the stored hash does not match the entry's content")
        if seq in wanted:
            hashes_at[seq] = digest
        expected_seq, prev_hash = seq + 1, digest
        count += 1
        if progress and count % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    if progress and count % PROGRESS_EVERY:
        progress(count % PROGRESS_EVERY)

    verdict.entries = count
    verdict.head_seq = expected_seq - 1
    verdict.head_hash = prev_hash
    verdict.pending = selectors.pending_count()
    verdict.checkpoints = len(checkpoints)
    for checkpoint in checkpoints:
        _check_checkpoint(checkpoint, verdict.head_seq, hashes_at, note)
    verdict.ok = not problems
    return verdict


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
