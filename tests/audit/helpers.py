"""Helpers for audit tests: a small chain, raw tampering, running the verifier."""

import json
from contextlib import contextmanager
from io import StringIO

from django.core.management import call_command
from django.db import connection

from audit import roles, services


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


def owner_sql(statement: str) -> None:
    """
    Run ``statement`` as the schema's owner, in the test's own transaction (PostgreSQL): through
    the test database's ``test_run_as_owner`` door (tests/conftest.py) when the platform runs as
    a role of its own, directly when it owns the tables.
    """
    with connection.cursor() as cursor:
        if roles.separated():
            cursor.execute("SELECT test_run_as_owner(%s)", [statement])
        else:
            cursor.execute(statement)


@contextmanager
def as_insider():
    """
    For the block, lift the audit log's guards in the test's transaction: its triggers and, on
    PostgreSQL with separate roles, the runtime role's limits, as an insider with the owner's
    rights would; the designed guards and grants are back afterwards.
    """
    if connection.vendor != "postgresql":
        yield
        return
    runtime = connection.ops.quote_name(connection.settings_dict["USER"])
    tables = list(roles.TRIGGERS) + ["audit_tile"]
    with connection.cursor() as cursor:  # no pending foreign-key checks: ALTER may run
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for table in roles.TRIGGERS:
        owner_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    if roles.separated():
        owner_sql(f"GRANT ALL ON {', '.join(tables)} TO {runtime}")
    try:
        yield
    finally:
        if roles.separated():
            owner_sql(f"REVOKE ALL ON {', '.join(tables)} FROM {runtime}")
            for table, allowed in roles.RUNTIME_AUDIT_PRIVILEGES.items():
                owner_sql(f"GRANT {', '.join(sorted(allowed))} ON {table} TO {runtime}")
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in roles.TRIGGERS:
            owner_sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@contextmanager
def raw_sql():
    """Yield a cursor with the audit log's guards lifted (``as_insider``)."""
    with as_insider(), connection.cursor() as cursor:
        yield cursor


def verify_json() -> tuple[int, dict]:
    """Run ``audit_verify --json --no-seal``; return (exit code, verdict)."""
    out = StringIO()
    try:
        call_command("audit_verify", "--json", "--no-seal", stdout=out)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, json.loads(out.getvalue())
