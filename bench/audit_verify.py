"""
Audit entries verified per second over 1,000,000 entries on PostgreSQL — the chain and the
Merkle tree: each entry's hash, its leaf hash, the tree's nodes and the stored tiles — split
over AUDIT_VERIFY_WORKERS processes (default: one per core) and in one process, with the C
accelerator where it is built, beside the pure-Python walk in one process and hashing the same
bytes with hashlib alone in the same run.

The chain is built once (bulk appends, then sealing) and reused by later runs.

    python bench/audit_verify.py   # BENCH_DATABASE_URL (default: .../smartcity_bench)
"""

import argparse
import hashlib
import os
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
    started = time.perf_counter()
    verdict = verify_chain()
    verify_seconds = time.perf_counter() - started
    assert verdict.ok, verdict.problems[:3]
    # The walk in one process, as before the split.
    started = time.perf_counter()
    single = verify_chain(workers=1)
    single_seconds = time.perf_counter() - started
    assert single.ok and single.tree_root == verdict.tree_root, single.problems[:3]
    # Baseline: the pure-Python walk in one process.
    started = time.perf_counter()
    with override_settings(AUDIT_VERIFY_ACCELERATED=False):
        python = verify_chain(workers=1)
    python_seconds = time.perf_counter() - started
    assert python.ok and python.tree_root == verdict.tree_root, python.problems[:3]

    # Baseline: the very bytes the verifier hashes, already in memory, hashed by hashlib alone.
    texts = [row.text().encode() for row in selectors.chain_rows()]
    sha256 = hashlib.sha256
    started = time.perf_counter()
    for text in texts:
        sha256(text).hexdigest()
    hash_seconds = time.perf_counter() - started
    # And the same hashing as the verifier's: entry hash, leaf hash, one node per leaf.
    started = time.perf_counter()
    for text in texts:
        sha256(text).hexdigest()
        leaf = sha256(b"\x00" + text).digest()
        sha256(b"\x01" + leaf + leaf).digest()
    all_hash_seconds = time.perf_counter() - started

    count = verdict.entries
    print(f"entries in the chain:        {count:>12,}")
    print(
        f"verify_chain, {workers} process(es): {count / verify_seconds:>12,.0f} entries/s "
        f"({verify_seconds:.2f} s)"
    )
    print(
        f"verify_chain, one process:   {count / single_seconds:>12,.0f} entries/s "
        f"({single_seconds:.2f} s)"
    )
    print(
        f"Python walk, one process:    {count / python_seconds:>12,.0f} entries/s "
        f"({python_seconds:.2f} s)"
    )
    print(
        f"hashlib alone, same bytes:   {count / hash_seconds:>12,.0f} entries/s "
        f"({hash_seconds:.2f} s)"
    )
    print(
        f"hashlib, the verifier's three hashes: {count / all_hash_seconds:>12,.0f} entries/s "
        f"({all_hash_seconds:.2f} s)"
    )
    print(f"ratio verify / hashlib:      {hash_seconds / verify_seconds:>12.2f}")
    print("aim: >= 300,000 entries/s including the tree")
    print(f"load average after the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
