"""
The platform as README's scale-out section deploys it, on loopback, for the soak test: its own
PostgreSQL instance (``initdb``/``pg_ctl`` under the work folder, another port: the machine's
PostgreSQL is never touched), its own Redis server (append-only file, as production keeps its
queue across a restart), gunicorn with several workers, two task clusters (``qcluster``) and
the audit sequencer. Every process started here is stopped by ``Stack.stop``.
"""

import contextlib
import glob
import http.client
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv/bin/python")
GUNICORN = str(ROOT / ".venv/bin/gunicorn")


def postgres_bin(name: str) -> str:
    """Return the path of a PostgreSQL server program (Debian keeps them off the PATH)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not candidates:
        raise SystemExit(f"soak: {name} not found (install postgresql)")
    return candidates[-1]


def _as_postgres(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: CI and this machine run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def wait_until(check, timeout: float, interval: float = 0.2) -> bool:
    """Call ``check`` until it returns true or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return True
        time.sleep(interval)
    return False


def http_status(port: int, path: str, timeout: float = 10.0) -> int:
    """GET ``path`` on loopback; the status, or 0 when nothing answered."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("GET", path, headers={"X-Forwarded-Proto": "https"})
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return 0


@dataclass
class Postgres:
    directory: Path
    port: int

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def superuser_url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres([postgres_bin("pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args]),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        if not (self.data / "PG_VERSION").exists():
            subprocess.run(
                _as_postgres(
                    [postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres",
                     "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"]
                ),
                check=True,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
        if self.running():
            return
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c max_connections=200 -c shared_buffers=64MB"
            # A throw-away instance: no flush to disk per commit (a clean restart loses
            # nothing; only a machine crash would).
            " -c fsync=off -c full_page_writes=off"
        )
        self.pg_ctl("-o", options, "-l", str(self.directory / "server.log"), "start")

    def running(self) -> bool:
        result = subprocess.run(
            _as_postgres([postgres_bin("pg_ctl"), "-D", str(self.data), "status"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return result.returncode == 0

    def restart(self) -> None:
        """Stop at once (``-m fast``: every session is ended) and start again."""
        self.pg_ctl("-m", "fast", "restart")

    def stop(self) -> None:
        if self.data.exists() and self.running():
            self.pg_ctl("-m", "fast", "stop")


@dataclass
class Redis:
    directory: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.directory), "--appendonly", "yes", "--save", "",
             "--logfile", str(self.directory / "redis.log")],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        if not wait_until(self.ping, 15):
            raise SystemExit("soak: redis-server did not start")

    def ping(self) -> bool:
        result = subprocess.run(
            ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
        )
        return result.stdout.strip() == "PONG"

    def restart(self) -> None:
        """A clean shutdown (the append-only file is written) and a start, as an upgrade does."""
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
        self.process = None


@dataclass
class Stack:
    """The whole deployment; ``env`` is what every platform process runs with."""

    workdir: Path
    web_port: int = 8390
    pg_port: int = 5440
    redis_port: int = 6390
    database: str = "soak_city"
    web_workers: int = 3
    clusters: int = 2
    env: dict = field(default_factory=dict)
    web: subprocess.Popen | None = None
    cluster_processes: list = field(default_factory=list)
    sequencer: subprocess.Popen | None = None

    def __post_init__(self):
        self.postgres = Postgres(self.workdir / "pg", self.pg_port)
        self.redis = Redis(self.workdir / "redis", self.redis_port)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def prepare(self, *, fresh: bool = True) -> None:
        """Start PostgreSQL and Redis, make a fresh database with its roles, and migrate it."""
        started = time.time()
        self.postgres.start()
        if fresh:
            subprocess.run(
                [PYTHON, "-c", "import psycopg, sys; c = psycopg.connect(sys.argv[1], "
                 f"autocommit=True); c.execute('DROP DATABASE IF EXISTS {self.database} "
                 "WITH (FORCE)')",
                 self.postgres.superuser_url("postgres")],
                check=True,
            )  # fmt: skip
        roles = subprocess.run(
            [PYTHON, "scripts/db_roles.py", self.postgres.superuser_url(self.database)],
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
        for line in roles.splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = value.strip("'")
        if fresh:
            shutil.rmtree(self.workdir / "state", ignore_errors=True)
        (self.workdir / "state").mkdir(parents=True, exist_ok=True)
        self.redis.start()
        env.update(
            {
                "DEBUG": "0",
                "SECRET_KEY": "soak-test-only-secret-key-not-for-production",
                "ALLOWED_HOSTS": "127.0.0.1",
                "PLATFORM_URL": self.base_url,
                "REDIS_URL": self.redis.url,
                "CACHE_PREFIX": "soak",
                "AUDIT_SEQUENCER": "1",
                # Tasks lost while Redis is down are made up for by the grants sweep, every
                # minute; within the drain here, not after the production's two minutes.
                "GRANTS_SWEEP_GRACE_SECONDS": "15",
                # The load generator stands where a reverse proxy would: its addresses and
                # its X-Forwarded-Proto (HTTPS ends at the proxy) are believed.
                "TRUSTED_PROXIES": "127.0.0.1",
                "MEDIA_ROOT": str(self.workdir / "state/media"),
                "AUDIT_CHECKPOINT_STATE": str(self.workdir / "state/checkpoint.txt"),
                "AUDIT_WITNESS_KEY_FILE": str(self.workdir / "state/witness.key"),
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.env = env
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        print(f"soak: the database is ready ({time.time() - started:.0f} s)")

    def _spawn(self, command: list[str], log: str) -> subprocess.Popen:
        # Each in a session of its own, so that a cluster and its children die together.
        out = open(self.workdir / log, "ab")  # noqa: SIM115 - kept open for the process's life
        return subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def start_cluster(self, index: int) -> subprocess.Popen:
        process = self._spawn([PYTHON, "manage.py", "qcluster"], f"qcluster-{index}.log")
        if index < len(self.cluster_processes):
            self.cluster_processes[index] = process
        else:
            self.cluster_processes.append(process)
        return process

    def start(self) -> None:
        """Start gunicorn, the task clusters and the sequencer; wait for /healthz."""
        self.web = self._spawn(
            [GUNICORN, "config.wsgi", "--workers", str(self.web_workers),
             "--bind", f"127.0.0.1:{self.web_port}", "--timeout", "60",
             "--access-logfile", "-", "--log-level", "warning"],
            "gunicorn.log",
        )  # fmt: skip
        for index in range(self.clusters):
            self.start_cluster(index)
        self.sequencer = self._spawn([PYTHON, "manage.py", "audit_sequencer"], "sequencer.log")
        started = time.time()
        if not wait_until(lambda: http_status(self.web_port, "/healthz") == 200, 90):
            self.stop()
            raise SystemExit(f"soak: the platform did not come up (see {self.workdir}/*.log)")
        print(f"soak: gunicorn, {self.clusters} task clusters and the sequencer up "
              f"({time.time() - started:.0f} s)")  # fmt: skip

    def web_worker_pids(self) -> list[int]:
        """The gunicorn master's worker processes."""
        if self.web is None:
            return []
        path = Path(f"/proc/{self.web.pid}/task/{self.web.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def kill_group(self, process: subprocess.Popen | None, sig=signal.SIGKILL) -> None:
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(30)

    def stop_platform(self) -> None:
        """Stop gunicorn, the clusters and the sequencer (gracefully, then by force)."""
        processes = [self.web, self.sequencer, *self.cluster_processes]
        for process in processes:
            self.kill_group(process, signal.SIGTERM)
        for process in processes:
            self.kill_group(process, signal.SIGKILL)
        self.web, self.sequencer, self.cluster_processes = None, None, []

    def stop(self) -> None:
        self.stop_platform()
        self.redis.stop()
        self.postgres.stop()


if __name__ == "__main__":  # a manual check: bring the stack up and down
    stack = Stack(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/soak-stack"))
    try:
        stack.prepare()
        stack.start()
        print("up:", stack.base_url, stack.web_worker_pids())
    finally:
        stack.stop()
