"""
Chained audit appends per second on PostgreSQL with 1 and 8 writers, beside plain INSERTs of the
same rows into a table of the same shape without the chain, in the same run.

Each writer is a process; each append is its own transaction, as in a web request. The chained
figure counts an entry only once it is sealed into the chain (the final seal is timed in).

    python bench/audit_append.py   # BENCH_DATABASE_URL (default: .../smartcity_bench)
"""

import argparse
import multiprocessing as mp
import time

from _setup import machine, setup

PLAIN_TABLE = "bench_plain_entry"


def _worker(mode: str, seconds: float, barrier, counter) -> None:
    setup(migrate=False)
    from django.db import connection, transaction

    from audit import chain, services
    from audit.services import EntrySpec, _build

    spec = EntrySpec(
        action="bench.appended",
        object_type="bench",
        object_id="1",
        payload={"n": 1, "kind": "bench"},
    )
    columns = (
        "time",
        "actor_type",
        "actor_id",
        "action",
        "object_type",
        "object_id",
        "consortium_id",
        "payload",
    )
    insert = (
        f"INSERT INTO {PLAIN_TABLE} ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    connection.ensure_connection()
    barrier.wait()
    done, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if mode == "chained":
            with transaction.atomic():
                services.record(
                    actor=None,
                    action=spec.action,
                    object_type=spec.object_type,
                    object_id=spec.object_id,
                    payload=spec.payload,
                )
        else:
            from django.utils import timezone

            chain.check_payload(spec.payload)  # the same validation and encoding as record()
            entry = _build(spec, timezone.now())
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(insert, [getattr(entry, c) for c in columns])
        done += 1
    with counter.get_lock():
        counter.value += done


def run(mode: str, writers: int, seconds: float) -> float:
    from django.db import connection

    from audit import services

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PLAIN_TABLE}")
        cursor.execute(f"CREATE TABLE {PLAIN_TABLE} (LIKE audit_entry INCLUDING ALL)")
    # Fresh interpreters: a forked child would share the parent's database connection.
    context = mp.get_context("spawn")
    barrier, counter = context.Barrier(writers + 1), context.Value("i", 0)
    processes = [
        context.Process(target=_worker, args=(mode, seconds, barrier, counter))
        for _ in range(writers)
    ]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    for process in processes:
        process.join()
    if mode == "chained":
        services.seal()  # count only what is in the chain
    elapsed = time.perf_counter() - started
    return counter.value / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 8])
    args = parser.parse_args()
    setup()
    from django.db import connection

    from audit.verification import verify_chain

    print(f"audit append benchmark: {machine()}; {args.seconds:.0f} s per run")
    print(f"{'writers':>7} {'plain INSERT/s':>15} {'chained append/s':>17} {'ratio':>6}")
    for writers in args.writers:
        plain = run("plain", writers, args.seconds)
        chained = run("chained", writers, args.seconds)
        print(f"{writers:>7} {plain:>15,.0f} {chained:>17,.0f} {chained / plain:>6.2f}")
    verdict = verify_chain()
    print(
        f"chain after the runs: {verdict.entries:,} entries, "
        f"{'verifies' if verdict.ok else 'DOES NOT VERIFY'}; pending {verdict.pending}"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PLAIN_TABLE}")


if __name__ == "__main__":
    main()
