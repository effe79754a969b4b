"""Helpers for audit tests: a small chain, raw tampering, running the verifier."""

import json
from contextlib import contextmanager
from io import StringIO

from django.core.management import call_command
from django.db import connection

from audit import services


def build_chain(count: int) -> None:
    for number in range(1, count + 1):
        services.record(
            actor=None,
            action="test.recorded",
            object_type="test.thing",
            object_id=str(number),
            consortium=1,
            payload={"number": number, "label": f"item {number}"},
        )
    services.seal()


@contextmanager
def raw_sql():
    """Yield a cursor with the append-only triggers lifted (inside the test's transaction)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_entry DISABLE TRIGGER USER")
            cursor.execute("ALTER TABLE audit_pending DISABLE TRIGGER USER")
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("ALTER TABLE audit_entry ENABLE TRIGGER USER")
                cursor.execute("ALTER TABLE audit_pending ENABLE TRIGGER USER")


def verify_json() -> tuple[int, dict]:
    """Run ``audit_verify --json --no-seal``; return (exit code, verdict)."""
    out = StringIO()
    try:
        call_command("audit_verify", "--json", "--no-seal", stdout=out)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, json.loads(out.getvalue())
