"""
The soak test with faults: a baseline run without faults, then the same load with the faults
injected, each followed by the invariant checker; prints both runs' figures side by side and
exits non-zero when an invariant is broken.

    .venv/bin/python -m bench.soak.run --duration 600 --baseline 180          # make soak
    .venv/bin/python -m bench.soak.run --duration 60 --baseline 10 --faults ci  # .ci/run

Everything runs on loopback in ``--workdir``: its own PostgreSQL instance (port 5440), Redis
(6390), gunicorn (8390) and the security-event receiver (8391); all is stopped at the end.
"""

import argparse
import datetime
import http.server
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import faults as fault_injection
from . import invariants, report
from .stack import PYTHON, ROOT, Stack, wait_until

LOCUST = str(ROOT / ".venv/bin/locust")
LOCUSTFILE = str(Path(__file__).with_name("locustfile.py"))
# Tasks per second per user, and users, of each kind: a city's mix, scaled to a small machine.
MIX = {
    "resident": [4, 0.3],
    "service": [2, 0.5],
    "board": [3, 0.1],
    "secretariat": [1, 1 / 30],
    "oidc": [2, 0.1],
}


class EventReceiver(http.server.ThreadingHTTPServer):
    """A member service's security-event push endpoint (RFC 8935): accepts everything."""

    daemon_threads = True

    def __init__(self, port: int):
        self.received = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(handler):  # noqa: N805 - the server is self here
                handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
                self.received += 1
                handler.send_response(202)
                handler.send_header("Content-Length", "0")
                handler.end_headers()

            def log_message(handler, *args):  # noqa: N805
                pass

        super().__init__(("127.0.0.1", port), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def make_fixtures(
    stack: Stack, outs: list[Path], *, tickets: list[int], residents: int, events_url: str
) -> None:
    started = time.time()
    subprocess.run(
        [PYTHON, "bench/soak/fixture.py", *map(str, outs), "--tickets", *map(str, tickets),
         "--residents", str(residents), "--oidc-residents", str(max(2, residents // 6)),
         "--events-url", events_url],
        cwd=ROOT, env=stack.env, check=True,
    )  # fmt: skip
    print(f"soak: the city is set up ({time.time() - started:.0f} s)")


def run_load(stack: Stack, fixture_path: Path, log: Path, seconds: int, mix: dict) -> None:
    users = sum(count for count, _rate in mix.values())
    subprocess.run(
        [LOCUST, "-f", LOCUSTFILE, "--headless", "--host", stack.base_url,
         "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s",
         "--stop-timeout", "15", "--only-summary", "--loglevel", "WARNING"],
        cwd=ROOT,
        env={**stack.env, "SOAK_FIXTURE": str(fixture_path), "SOAK_LOG": str(log),
             "SOAK_MIX": json.dumps(mix)},
        stdout=subprocess.DEVNULL,
        stderr=open(stack.workdir / "locust.log", "ab"),  # noqa: SIM115
    )  # fmt: skip


def drain(since: float, limit: float) -> float:
    """
    Wait until the run's background work is done (reports finished, the audit log sealed,
    withdrawal notices delivered) or ``limit`` seconds have passed; return the seconds waited.
    """
    from django.db import close_old_connections, connection

    from audit.models import PendingEntry, Report
    from consent.models import RecipientNotice

    started = time.time()
    at = datetime.datetime.fromtimestamp(since, tz=datetime.UTC)

    def settled() -> bool:
        close_old_connections()
        try:
            return not (
                Report.objects.filter(
                    requested_at__gte=at, state__in=["queued", "running"]
                ).exists()
                or PendingEntry.objects.exists()
                or RecipientNotice.objects.filter(created_at__gte=at, delivered_at=None).exists()
            )
        except Exception:
            connection.close()
            raise

    wait_until(settled, limit, interval=2)
    return time.time() - started


def one_run(stack, name, *, seconds, mix, fault_names, drain_limit, receiver) -> dict:
    workdir = stack.workdir
    fixture_path = workdir / f"{name}-fixture.json"
    fixture = json.loads(fixture_path.read_text())
    log = workdir / f"{name}-requests.jsonl"
    log.unlink(missing_ok=True)
    injector = None
    if fault_names:
        injector = fault_injection.Injector(stack, fault_injection.plan(fault_names, seconds))
    t0 = time.time()
    if injector:
        injector.start(t0)
    print(f"soak: {name}: {seconds} s of load, faults: {', '.join(fault_names) or 'none'}")
    run_load(stack, fixture_path, log, seconds, mix)
    duration = time.time() - t0
    if injector:
        injector.stop()
    waited = drain(t0, drain_limit)
    requests, facts = invariants.read_log(log)
    windows = injector.windows if injector else []
    from django.db import connection

    connection.close()
    db = invariants.collect(facts, fixture, t0, stack.env)
    results = invariants.check(requests, facts, windows, db, board_size=len(fixture["board"]))
    return {
        "duration": duration,
        "drained": waited,
        "requests": len(requests),
        "kinds": report.by_kind(requests, duration),
        "windows": report.by_window(requests, windows, t0),
        "injection_errors": injector.errors if injector else [],
        "facts": {
            kind: len(invariants.of_kind(facts, kind))
            for kind in ("consent", "vote", "access_batch", "report")
        },  # fmt: skip
        "invariants": [
            {"name": r.name, "checked": r.checked, "violations": r.violations} for r in results
        ],
        "events_received": receiver.received,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=600, help="seconds of load with faults")
    parser.add_argument("--baseline", type=int, default=180, help="seconds of load without")
    parser.add_argument(
        "--faults",
        default="all",
        help="all, ci (one PostgreSQL restart), none, or a comma-separated list of: "
        + ", ".join(sorted(set(fault_injection.FAULTS))),
    )
    parser.add_argument("--mix", default="", help="JSON: kind -> [users, tasks/s per user]")
    parser.add_argument("--workdir", default="/tmp/soak-run")
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--residents", type=int, default=40, help="portal residents per run")
    parser.add_argument("--drain", type=int, default=120, help="seconds to wait for tasks after")
    parser.add_argument("--json", help="write the figures to this file too")
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="keep the database of an earlier soak (faster; its data stays beside the new)",
    )
    args = parser.parse_args(argv)
    named = {"all": fault_injection.FAULTS, "ci": fault_injection.CI_FAULTS, "none": ()}
    fault_names = list(named.get(args.faults, args.faults.split(",")))
    mix = {**MIX, **(json.loads(args.mix) if args.mix else {})}
    stack = Stack(Path(args.workdir), web_workers=args.web_workers)
    receiver = None
    try:
        print("soak: preparing PostgreSQL, Redis and the database")
        stack.prepare(fresh=not args.reuse_database)
        os.environ.update(stack.env)
        import django

        django.setup()
        receiver = EventReceiver(8391)
        stack.start()
        seconds = {"baseline": args.baseline, "faults": args.duration}
        names = [name for name in seconds if seconds[name]]
        make_fixtures(
            stack,
            [stack.workdir / f"{name}-fixture.json" for name in names],
            # Each board member votes at its rate; a few more tickets than it can reach.
            tickets=[int(seconds[name] * mix["board"][1]) + 5 for name in names],
            residents=args.residents,
            events_url=f"http://127.0.0.1:{receiver.server_address[1]}/events",
        )
        runs = {}
        common = {"mix": mix, "drain_limit": args.drain, "receiver": receiver}
        if args.baseline:
            runs["baseline"] = one_run(
                stack, "baseline", seconds=args.baseline, fault_names=[], **common
            )
        runs["faults"] = one_run(
            stack, "faults", seconds=args.duration, fault_names=fault_names, **common
        )
    finally:
        stack.stop()
        if receiver is not None:
            receiver.shutdown()
    print(report.render(runs))
    for name, run in runs.items():
        for error in run["injection_errors"]:
            print(f"{name}: fault not injected: {error}")
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=1, default=str))
    broken = [
        result["name"]
        for run in runs.values()
        for result in run["invariants"]
        if result["violations"]
    ]
    injected = all(not run["injection_errors"] for run in runs.values())
    print("soak: " + ("every invariant holds" if not broken else "BROKEN: " + "; ".join(broken)))
    return 0 if not broken and injected else 1


if __name__ == "__main__":
    sys.exit(main())
