"""Shared set-up for benchmarks: a dedicated PostgreSQL database, migrated, and Django."""

import contextlib
import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/smartcity_bench"


def runtime_role() -> str:
    """
    Run as the platform's runtime role, as ``make test`` and ``make run`` do: from a superuser's
    PostgreSQL ``DATABASE_URL``, make the database's roles (and the database when missing) with
    scripts/db_roles.py and point ``DATABASE_URL`` at the runtime role, ``DATABASE_OWNER_URL``
    at the owner (migrations connect as the owner by themselves). Nothing when
    ``DATABASE_OWNER_URL`` is set already (a parent process did it) or the URL is not
    PostgreSQL. So ``audit_verify`` inside or after a benchmark finds the privileges designed.
    Return the URL the platform runs with.
    """
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")) and not os.environ.get(
        "DATABASE_OWNER_URL"
    ):
        sys.path.insert(0, str(ROOT / "scripts"))
        import db_roles

        os.environ.update(db_roles.ensure(url))
    return os.environ.get("DATABASE_URL", "")


def setup(*, migrate: bool = True) -> str:
    """
    Point Django at BENCH_DATABASE_URL (a superuser's URL; the database is created if missing)
    as its runtime role (``runtime_role``), migrate it, and set Django up; return the runtime
    role's URL.
    """
    if not os.environ.get("DATABASE_OWNER_URL"):
        os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    url = runtime_role()
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    if migrate:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True, env=os.environ
        )
    import django

    django.setup()
    return url


def machine() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return f"PostgreSQL {version}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"


@contextlib.contextmanager
def served(url: str, port: int):
    """Serve the platform on ``url``'s database with one gunicorn worker (``DEBUG`` off, the
    benchmarks' settings with their bare view) on ``port``, until the block ends."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.introspect_settings",
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "benchmark-only-secret-key"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
    }
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "--workers", "1",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
                break
            except OSError:
                time.sleep(0.2)
        yield
    finally:
        server.terminate()
        server.wait()


def timed(paths: list[str], port: int) -> list[float]:
    """GET each path in turn on ``port``, one connection each; return the seconds each took."""
    latencies = []
    for path in paths:
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        conn.close()
        latencies.append(time.perf_counter() - started)
        if response.status != 200:
            raise SystemExit(f"{path}: {response.status} {body[:200]!r}")
    return latencies
