"""
On PostgreSQL a long log is walked by several processes, each a run of whole tiles, from one
snapshot (audit.verification._walk_parallel); they find what the single walk finds.
"""

import pytest
from django.db import transaction

from audit import chain, services, verification
from audit.models import Entry

from .helpers import build_chain, raw_sql, verify_json

# Committed entries: the walking processes read them on connections of their own.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


@pytest.fixture
def two_workers(settings, monkeypatch):
    """Split even a short log over two processes; return the runs each parallel walk made."""
    settings.AUDIT_VERIFY_WORKERS = 2
    monkeypatch.setattr(verification, "PARALLEL_MIN_ENTRIES", 1)
    walks = []
    walk_parallel = verification._walk_parallel

    def spy(*args):
        segments = walk_parallel(*args)
        walks.append(None if segments is None else [s.count for s in segments])
        return segments

    monkeypatch.setattr(verification, "_walk_parallel", spy)
    return walks


def _named(problems) -> list[tuple[int, str]]:
    return [(p["seq"], p["kind"]) if isinstance(p, dict) else (p.seq, p.kind) for p in problems]


def _log_of_three_tiles() -> None:
    """600 entries and a key's creation: tiles of 256, 256 and 89 entries, and a checkpoint."""
    build_chain(600)
    services.checkpoint_create()
    services.seal()


def test_two_processes_give_the_single_walks_verdict(two_workers):
    _log_of_three_tiles()

    code, verdict = verify_json()

    # The first process walks the first tile, the second the rest.
    assert two_workers == [[256, 345]]
    assert code == 0, verdict["problems"]
    single = verification.verify_chain(workers=1)
    assert (verdict["entries"], verdict["head_hash"], verdict["tree_root"]) == (
        single.entries,
        single.head_hash,
        single.tree_root,
    )
    assert verdict["checkpoints"] == 1 and single.ok


def test_a_fault_in_the_second_process_range_is_named_with_its_index(two_workers):
    _log_of_three_tiles()
    with transaction.atomic(), raw_sql() as cursor:
        cursor.execute("UPDATE audit_entry SET payload = %s WHERE seq = 400", ['{"number":4}'])

    code, verdict = verify_json()

    assert two_workers == [None]  # the parallel walk met it; the single walk names it
    assert code == 1
    problems = _named(verdict["problems"])
    assert (400, "hash_mismatch") in problems
    assert problems == _named(verification.verify_chain(workers=1).problems)


def test_a_broken_link_at_a_tile_boundary_is_caught(two_workers):
    """
    The last entry of the first run rewritten with a hash right for its new content: each run
    holds within itself, and only where they meet does the link break.
    """
    _log_of_three_tiles()
    entry = Entry.objects.get(seq=256)
    forged = chain.entry_hash(
        seq=256,
        time=chain.format_time(entry.time),
        actor_type=entry.actor_type,
        actor_id=entry.actor_id,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        consortium_id=entry.consortium_id,
        payload='{"number":999}',
        prev_hash=entry.prev_hash,
    )
    with transaction.atomic(), raw_sql() as cursor:
        cursor.execute(
            "UPDATE audit_entry SET payload = %s, hash = %s WHERE seq = 256",
            ['{"number":999}', forged],
        )

    code, verdict = verify_json()

    assert two_workers == [None]
    assert code == 1
    problems = _named(verdict["problems"])
    assert (257, "broken_link") in problems
    assert (256, "hash_mismatch") not in problems  # the forged entry holds by itself
    assert problems == _named(verification.verify_chain(workers=1).problems)


def test_a_daemonic_process_walks_alone(two_workers, monkeypatch):
    """A task cluster's worker is daemonic and may not start processes: the report's walk."""
    _log_of_three_tiles()

    class Daemonic:
        daemon = True

    monkeypatch.setattr(verification.multiprocessing, "current_process", Daemonic)
    verdict = verification.verify_chain()

    assert verdict.ok and verdict.entries == 601
    assert two_workers == []  # never split
