"""
Audit entries verified per second over 1,000,000 entries on PostgreSQL — the chain and the
Merkle tree: each entry's hash, its leaf hash, the tree's nodes and the stored tiles — split
over AUDIT_VERIFY_WORKERS processes (default: one per core) and in one process, with the C
accelerator where it is built, beside the pure-Python walk in one process and hashing the same
bytes with hashlib alone in the same run. Each figure is the median of ``--repeats`` runs (3),
the runs of one repeat one after the other.

The chain is built once (bulk appends, then sealing) and reused by later runs.

    python bench/audit_verify.py   # BENCH_DATABASE_URL (default: .../smartcity_bench)
"""

import argparse
import hashlib
import os
import statistics
import time

from _setup import machine, setup


def ensure_entries(target: int) -> None:
    from audit import services
    from audit.models import Entry
    from config.progress import progress_bar

    services.seal()
    have = Entry.objects.count()
    if have >= target:
        return
    missing = target - have
    specs = (
        services.EntrySpec(
            action="consent.given",
            actor=services.Actor.resident(f"r{n:09d}"),
            object_type="consent.consentrecord",
            object_id=str(n),
            consortium_id=1,
            payload={"purpose": n % 7, "notice_version": 2, "method": "portal"},
        )
        for n in range(have, target)
    )
    with progress_bar(total=missing, desc="appending", unit="entries") as bar:
        batch = []
        for spec in specs:
            batch.append(spec)
            if len(batch) == 50_000:
                services.record_many(batch)
                bar.update(len(batch))
                batch = []
        if batch:
            services.record_many(batch)
            bar.update(len(batch))
    with progress_bar(total=missing, desc="sealing", unit="entries") as bar:
        services.seal(batch_size=20_000, progress=bar.update)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each figure")
    args = parser.parse_args()
    setup()
    from audit import selectors, services
    from audit.verification import accelerator, verify_chain

    ensure_entries(args.entries)
    services.tree_build()
    print(f"audit verification benchmark: {machine()}")
    print(f"load average before the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    from django.conf import settings
    from django.test import override_settings

    workers = settings.AUDIT_VERIFY_WORKERS
    accelerated = accelerator() is not None
    print(
        "walk: "
        + (
            "C accelerator (audit._walk)"
            if accelerated
            else "Python (audit._walk not built, or AUDIT_VERIFY_ACCELERATED=0)"
        )
    )
    # Baseline: the very bytes the verifier hashes, already in memory, hashed by hashlib alone.
    texts = [row.text().encode() for row in selectors.chain_rows()]
    sha256 = hashlib.sha256

    def hashlib_alone():
        for text in texts:
            sha256(text).hexdigest()

    def three_hashes():  # the same hashing as the verifier's: entry, leaf, one node per leaf
        for text in texts:
            sha256(text).hexdigest()
            leaf = sha256(b"\x00" + text).digest()
            sha256(b"\x01" + leaf + leaf).digest()

    def python_walk():
        with override_settings(AUDIT_VERIFY_ACCELERATED=False):
            return verify_chain(workers=1)

    measured = {
        f"verify_chain, {workers} process(es)": verify_chain,
        "verify_chain, one process": lambda: verify_chain(workers=1),
        "Python walk, one process": python_walk,
        "hashlib alone, same bytes": hashlib_alone,
        "hashlib, the verifier's three hashes": three_hashes,
    }
    # Each figure --repeats times, the runs of one repeat one after the other, so that other
    # work on the machine weighs on all of them alike; the median of each is its figure.
    seconds: dict[str, list[float]] = {label: [] for label in measured}
    root = None
    for _ in range(args.repeats):
        for label, run in measured.items():
            started = time.perf_counter()
            verdict = run()
            seconds[label].append(time.perf_counter() - started)
            if verdict is not None:
                assert verdict.ok, verdict.problems[:3]
                assert root is None or verdict.tree_root == root
                root, count = verdict.tree_root, verdict.entries

    print(f"entries in the chain:        {count:>12,}")
    for label, times in seconds.items():
        rates = ", ".join(f"{count / t:,.0f}" for t in times)
        print(
            f"{label + ':':<38} {count / statistics.median(times):>10,.0f} entries/s "
            f"(median of {rates})"
        )
    split = statistics.median(seconds[f"verify_chain, {workers} process(es)"])
    alone = statistics.median(seconds["hashlib alone, same bytes"])
    print(f"ratio verify / hashlib:      {alone / split:>12.2f}")
    print("aim: >= 300,000 entries/s including the tree")
    print(f"load average after the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
