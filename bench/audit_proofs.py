"""
Benchmark: ``GET /api/v1/audit/proofs/inclusion`` through gunicorn on loopback at 1,000,000
entries (median and p95 latency), beside a bare Django view on the same server in the same run.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_tlog_bench \\
        .venv/bin/python bench/audit_proofs.py [--entries 1000000] [--requests 2000]

Aim: p95 < 10 ms. The log is built once (bulk appends, then sealing, which grows the tree) and
reused by later runs; a checkpoint covers all of it. Each request asks for a random entry's
proof against the checkpoint's size; one client, one request at a time, a new connection
each (as a verifier fetching one proof would).
"""

import argparse
import base64
import http.client
import json
import random
import statistics
import sys
from pathlib import Path

from _setup import machine, served, setup, timed
from audit_verify import ensure_entries

PORT = 8766


def summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {statistics.median(ordered) * 1000:6.2f} ms, p95 {p95 * 1000:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    url = setup()
    from audit import merkle, notes, services

    ensure_entries(args.entries)
    services.tree_build()
    checkpoint = services.checkpoint_create() or services.selectors.checkpoint_latest_merkle()
    head = notes.open_checkpoint(checkpoint.note, checkpoint.key.public_key())
    print(f"inclusion proof benchmark: {machine()}")
    print(f"entries in the log:      {head.size:>12,}")

    rng = random.Random(6962)
    indexes = [rng.randrange(head.size) for _ in range(args.requests)]
    proofs = [f"/api/v1/audit/proofs/inclusion?index={i}&size={head.size}" for i in indexes]
    with served(url, PORT):
        timed(proofs[:50] + ["/bench/bare"] * 50, PORT)  # warm-up
        bare = timed(["/bench/bare"] * args.requests, PORT)
        proof = timed(proofs, PORT)
        # One answer checked against the signed root, so that the figure is of real proofs.
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        conn.request("GET", proofs[0])
        data = json.loads(conn.getresponse().read())
        merkle.verify_inclusion(
            indexes[0],
            head.size,
            base64.b64decode(data["leaf_hash"]),
            [base64.b64decode(p) for p in data["proof"]],
            head.root,
        )
    print(f"baseline: bare Django view:       {summary(bare)}")
    print(f"inclusion proof (size {head.size:,}): {summary(proof)}")
    print("aim: p95 < 10 ms")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
