"""
The fault injector: production's failures, on a plan, against the soak's own stack only.

Each fault opens a window: from the moment it is injected until the platform is seen healthy
again (its recovery), plus a grace of a few seconds for the requests already under way. Inside a
window the clients may see the documented ``503`` (README, "Configuration": a database or
broker that does not answer) and lost connections (a killed worker's); outside any window they
may see neither. Bounded in time: every fault and every wait for recovery has a limit, and no
fault is injected after the plan's end. Loopback only: the injector refuses a stack whose
addresses are not 127.0.0.1.
"""

import contextlib
import ipaddress
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

# The faults, in the order a full run injects them.
FAULTS = ("web_worker", "cluster", "redis", "db_connections", "web_worker", "postgres")
CI_FAULTS = ("postgres",)
GRACE_SECONDS = 5.0
RECOVERY_LIMIT_SECONDS = 120.0


@dataclass
class Window:
    fault: str
    start: float
    injected: float = 0.0  # when the injection itself was done (a restart returned)
    recovered: float | None = None  # when the probe first saw the platform healthy again
    detail: str = ""

    @property
    def end(self) -> float:
        """The end of the window in which failures are forgiven."""
        last = (
            self.recovered if self.recovered is not None else self.injected + RECOVERY_LIMIT_SECONDS
        )
        return max(last, self.injected) + GRACE_SECONDS

    @property
    def recovery_seconds(self) -> float | None:
        return None if self.recovered is None else self.recovered - self.start

    def covers(self, start: float, end: float) -> bool:
        """Return True if a request from ``start`` to ``end`` overlaps the window."""
        return start <= self.end and end >= self.start

    def as_dict(self) -> dict:
        return {**asdict(self), "end": self.end, "recovery_seconds": self.recovery_seconds}


def require_loopback(url: str) -> None:
    """Refuse to inject faults anywhere but this machine's loopback interface."""
    host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"faults are injected on loopback only, not on {host!r}")


def plan(faults: tuple[str, ...] | list[str], duration: float) -> list[tuple[float, str]]:
    """
    Spread ``faults`` evenly over ``duration`` seconds: the n-th of N at (n + 1) / (N + 1) of
    it, so that the platform runs undisturbed before the first and after the last.
    """
    unknown = set(faults) - set(FAULTS)
    if unknown:
        raise ValueError(f"unknown faults: {', '.join(sorted(unknown))}")
    return [(duration * (index + 1) / (len(faults) + 1), name) for index, name in enumerate(faults)]


@dataclass
class Injector:
    """Inject the plan's faults into ``stack`` (a ``stack.Stack``) from a thread."""

    stack: object
    schedule: list[tuple[float, str]]
    windows: list[Window] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self):
        require_loopback(self.stack.base_url)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self, t0: float) -> None:
        self.t0 = t0
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(RECOVERY_LIMIT_SECONDS + 60)

    def _run(self) -> None:
        for at, name in self.schedule:
            if self._stop.wait(max(0.0, self.t0 + at - time.time())):
                return
            try:
                self.windows.append(self.inject(name))
            except Exception as error:  # noqa: BLE001 - a failed injection is reported, not fatal
                self.errors.append(f"{name}: {error}")

    # --- the faults ---------------------------------------------------------------------------

    def inject(self, name: str) -> Window:
        window = Window(fault=name, start=time.time())
        healthy = getattr(self, f"_{name}")(window)
        window.injected = time.time()
        window.recovered = self._wait_recovered(healthy)
        return window

    def _web_worker(self, window: Window):
        """SIGKILL one gunicorn worker; the master starts another."""
        workers = self.stack.web_worker_pids()
        if not workers:
            raise RuntimeError("no gunicorn worker to kill")
        victim = workers[0]
        os.kill(victim, signal.SIGKILL)
        window.detail = f"worker {victim} killed"
        expected = self.stack.web_workers

        def healthy():
            pids = self.stack.web_worker_pids()
            return len(pids) >= expected and victim not in pids and self._healthz()

        return healthy

    def _cluster(self, window: Window):
        """SIGKILL one task cluster and all its processes, then start it again."""
        process = self.stack.cluster_processes[0]
        self.stack.kill_group(process, signal.SIGKILL)
        restarted = self.stack.start_cluster(0)
        window.detail = f"cluster {process.pid} killed, {restarted.pid} started"

        def healthy():
            children = f"/proc/{restarted.pid}/task/{restarted.pid}/children"
            with open(children) as handle:  # the sentinel, its workers and monitor are up
                return restarted.poll() is None and len(handle.read().split()) >= 1

        return healthy

    def _redis(self, window: Window):
        """Shut Redis down and start it again (the queue is kept in its append-only file)."""
        self.stack.redis.restart()
        window.detail = "redis restarted"
        return self._healthz

    def _db_connections(self, window: Window):
        """Terminate every session on the soak's database (pg_terminate_backend)."""
        import psycopg

        with psycopg.connect(
            self.stack.postgres.superuser_url("postgres"), autocommit=True
        ) as conn:
            ended = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.stack.database],
            ).fetchone()[0]
        window.detail = f"{ended} sessions terminated"
        return self._healthz

    def _postgres(self, window: Window):
        """Restart the soak's PostgreSQL instance (fast shutdown: every session ended)."""
        self.stack.postgres.restart()
        window.detail = "postgres restarted"
        return self._healthz

    # --- recovery -----------------------------------------------------------------------------

    def _healthz(self) -> bool:
        from .stack import http_status

        return http_status(self.stack.web_port, "/healthz") == 200

    def _wait_recovered(self, healthy) -> float | None:
        deadline = time.time() + RECOVERY_LIMIT_SECONDS
        while time.time() < deadline and not self._stop.is_set():
            with contextlib.suppress(Exception):
                if healthy():
                    return time.time()
            time.sleep(0.1)
        return None
