"""
Audit appends per second on PostgreSQL with 1 and 8 writers, beside plain INSERTs of the same
rows into an audit table without the chain, in the same run; and the time from a writer's
commit to its entry's seal.

Each writer is a process; each append is its own transaction, as in a web request.

- ``plain``: the baseline, a plain INSERT of the same row (the same payload checks and
  canonical JSON as ``record()``) in a transaction of its own, into a table of the chain
  table's columns and query indexes (time, consortium, action, object) with an identity key,
  but none of the chain's own columns (previous hash, hash) nor their unique index: the audit
  table a platform without a transparency log would keep.
- ``sealed on commit``: ``record()`` as without a sequencer: each writer also seals after its
  commit (one sealer at a time). Counted once sealed (the final seal is timed in). Once per
  writer count.
- ``sequenced``: ``AUDIT_SEQUENCER`` on: writers only insert pending entries, as the writer
  sees an append (its transaction committed, its entry pending); one ``audit.sequencer`` process
  seals meanwhile, as ``manage.py audit_sequencer`` does (woken by LISTEN/NOTIFY, polling each
  second), on the same cores: its work counts. Its commit-to-sealed latency (median, p99) is
  the sealed entry's time (the database's clock at sealing) minus the writer's clock after its
  commit, on the same machine.

CPU per append is counted too (Linux ``/proc``): the writers' processes, their database
sessions, and the sequencer's process and sessions; what a loaded machine does to the rates
does not change it much. Django runs with ``DEBUG`` off, as in production.

Plain and sequenced runs alternate (``--rounds`` pairs, the order swapped each round) so that
other work on a shared machine weighs on both alike; each line gives the load average before
and after its pair, and the last line per writer count the median of the pairs' ratios.

    python bench/audit_append.py   # BENCH_DATABASE_URL (default: .../smartcity_bench)
"""

import argparse
import contextlib
import multiprocessing as mp
import os
import statistics
import time

from _setup import machine, setup

PLAIN_TABLE = "bench_plain_entry"
ACTION = "bench.appended"


def _cpu_seconds(pid: int) -> float:
    """Return the CPU time (user and system) process ``pid`` has used (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backend_pid(connection) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _worker(mode: str, seconds: float, barrier, counter, number: int, commits) -> None:
    if mode == "sequenced":
        os.environ["AUDIT_SEQUENCER"] = "1"
    setup(migrate=False)
    from django.db import connection, transaction
    from django.utils import timezone

    from audit import actions, services
    from audit.services import EntrySpec, _build

    actions.declare({ACTION: ["n", "kind"]})
    columns = (
        "written_at",
        "actor_type",
        "actor_id",
        "action",
        "object_type",
        "object_id",
        "consortium_id",
        "payload",
    )
    insert = (
        f"INSERT INTO {PLAIN_TABLE} (time, {', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * (len(columns) + 1))})"
    )
    backend = _backend_pid(connection)
    barrier.wait()
    python, session = time.process_time(), _cpu_seconds(backend)
    done, deadline, committed = 0, time.perf_counter() + seconds, []
    while time.perf_counter() < deadline:
        n = number * 10_000_000 + done
        if mode == "plain":
            spec = EntrySpec(action=ACTION, object_type="bench", object_id="1",
                             payload={"n": n, "kind": "bench"})  # fmt: skip
            entry = _build(spec, timezone.now())
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(insert, [entry.written_at] + [getattr(entry, c) for c in columns])
        else:
            with transaction.atomic():
                services.record(
                    actor=None,
                    action=ACTION,
                    object_type="bench",
                    object_id="1",
                    payload={"n": n, "kind": "bench"},
                )
            if mode == "sequenced":
                committed.append((n, time.time()))
        done += 1
    python, session = time.process_time() - python, _cpu_seconds(backend) - session
    with counter.get_lock():
        counter.value += done
    commits.put((committed, (python, session)))


def _sequencer(stop, commits) -> None:
    os.environ["AUDIT_SEQUENCER"] = "1"
    setup(migrate=False)
    import threading

    from django.db import connection

    from audit import sequencer

    # The CPU of the sequencer's process and of its two database sessions (the sealing one and
    # the listening one, read after each round: its session ends with the run).
    backends = {_backend_pid(connection): 0.0}
    listen = sequencer._listen

    def listening():
        listener = listen()
        backends[listener.info.backend_pid] = 0.0
        return listener

    def sealed(_count):
        for pid in backends:
            with contextlib.suppress(FileNotFoundError):  # the listener's session has ended
                backends[pid] = _cpu_seconds(pid)

    sequencer._listen = listening
    python, sessions = time.process_time(), sum(_cpu_seconds(pid) for pid in backends)
    event = threading.Event()
    threading.Thread(target=lambda: (stop.wait(), event.set()), daemon=True).start()
    # As manage.py audit_sequencer: the poll of production.
    sequencer.run(stop=event, sealed=sealed)
    sealed(0)
    commits.put(([], (time.process_time() - python, sum(backends.values()) - sessions)))


def run(mode: str, writers: int, seconds: float) -> tuple[float, list[float], tuple]:
    """Return the appends per second, the commit-to-sealed latencies (sequenced) and the CPU
    seconds per append of the writers' processes, of their database sessions, and of the
    sequencer's process and sessions."""
    from django.db import connection

    from audit import roles, services
    from audit.models import Entry

    # Made by the owner, as a migration would: the runtime role creates no tables; the owner's
    # default privileges let it insert.
    with roles.as_owner(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PLAIN_TABLE}")
        # The chain table's columns and query indexes, with a plain identity key and without
        # the chain's columns and their unique index (NULLs in it would still be indexed).
        cursor.execute(f"CREATE TABLE {PLAIN_TABLE} (LIKE audit_entry INCLUDING ALL)")
        cursor.execute(
            f"ALTER TABLE {PLAIN_TABLE} ALTER COLUMN seq ADD GENERATED BY DEFAULT AS IDENTITY, "
            "DROP COLUMN prev_hash, DROP COLUMN hash"
        )
    first_seq = (Entry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0) + 1
    # Fresh interpreters: a forked child would share the parent's database connection.
    context = mp.get_context("spawn")
    barrier, counter = context.Barrier(writers + 1), context.Value("i", 0)
    commits, stop = context.Queue(), context.Event()
    sequencer = None
    if mode == "sequenced":
        sequencer = context.Process(target=_sequencer, args=(stop, commits))
        sequencer.start()
    processes = [
        context.Process(target=_worker, args=(mode, seconds, barrier, counter, n, commits))
        for n in range(writers)
    ]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    committed: dict[int, float] = {}
    python = session = 0.0
    for _ in range(writers):
        times, (python_used, session_used) = commits.get()
        committed.update(times)
        python, session = python + python_used, session + session_used
    for process in processes:
        process.join()
    if mode == "sealed on commit":
        services.seal()  # count only what is in the chain
    elapsed = time.perf_counter() - started
    latencies, sequencer_cpu = [], 0.0
    if sequencer is not None:
        while services.selectors.pending_count():  # the sequencer catches up
            time.sleep(0.05)
        stop.set()
        sequencer_cpu = sum(commits.get()[1])
        sequencer.join()
        for payload, sealed in Entry.objects.filter(seq__gte=first_seq, action=ACTION).values_list(
            "payload", "time"
        ):
            n = int(payload.split('"n":')[1].split("}")[0].split(",")[0])
            if n in committed:
                latencies.append(sealed.timestamp() - committed[n])
    count = max(counter.value, 1)
    per_append = (python / count, session / count, sequencer_cpu / count)
    return counter.value / elapsed, latencies, per_append


def _p99(latencies: list[float]) -> float:
    ordered = sorted(latencies) or [float("nan")]
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--rounds", type=int, default=5, help="plain/sequenced pairs per count")
    parser.add_argument("--no-sealed-on-commit", action="store_true")
    args = parser.parse_args()
    # As in production: with DEBUG on, Django would also keep every query's text, in both modes.
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")
    setup()
    from django.db import connection

    from audit import roles
    from audit.verification import verify_chain

    print(f"audit append benchmark: {machine()}; {args.seconds:.0f} s per run", flush=True)
    print(
        f"{'writers':>7} {'load':>9} {'plain INSERT/s':>15} {'sequenced/s':>12} {'ratio':>6} "
        f"{'commit->sealed median':>22} {'p99':>9} "
        "CPU us/append (writers + their sessions + sequencer): plain; sequenced",
        flush=True,
    )
    for writers in args.writers:
        ratios = []
        for round_ in range(args.rounds):
            before = _load()
            results = {}
            for mode in ("plain", "sequenced")[:: 1 if round_ % 2 == 0 else -1]:
                results[mode] = run(mode, writers, args.seconds)
            (plain, _, plain_cpu), (sequenced, latencies, cpu) = (
                results["plain"],
                results["sequenced"],
            )
            ratios.append(sequenced / plain)
            median = statistics.median(latencies) if latencies else float("nan")
            print(
                f"{writers:>7} {before + '-' + _load():>9} {plain:>15,.0f} {sequenced:>12,.0f} "
                f"{sequenced / plain:>6.2f} {median * 1000:>19.1f} ms "
                f"{_p99(latencies) * 1000:>6.1f} ms "
                f"{' + '.join(f'{t * 1e6:,.0f}' for t in plain_cpu[:2])}; "
                f"{' + '.join(f'{t * 1e6:,.0f}' for t in cpu)}",
                flush=True,
            )
        line = f"{writers:>7} median ratio {statistics.median(ratios):.2f} (min {min(ratios):.2f})"
        if not args.no_sealed_on_commit:
            before = _load()
            plain = run("plain", writers, args.seconds)[0]
            on_commit = run("sealed on commit", writers, args.seconds)[0]
            line += (
                f"; sealed on commit {on_commit:,.0f}/s beside plain {plain:,.0f}/s "
                f"({on_commit / plain:.2f}, load {before}-{_load()})"
            )
        print(line, flush=True)
    with roles.as_owner(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PLAIN_TABLE}")
    verdict = verify_chain()
    print(
        f"chain after the runs: {verdict.entries:,} entries, "
        f"{'verifies' if verdict.ok else 'DOES NOT VERIFY'} "
        f"({', '.join(sorted({p.kind for p in verdict.problems})) or 'no faults'}); "
        f"pending {verdict.pending}"
    )


if __name__ == "__main__":
    main()
