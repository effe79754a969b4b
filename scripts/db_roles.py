#!/usr/bin/env python3
"""
Create (or bring up to date) the PostgreSQL roles the platform runs with, from a superuser URL.

    python scripts/db_roles.py postgres://postgres@127.0.0.1:5432/NAME
    eval "$(python scripts/db_roles.py)"   # from $DATABASE_URL, as make run and make test do

For the database NAME it makes three roles and prints, as shell ``export`` lines, the URLs to
use. Without an argument it reads ``DATABASE_URL`` and prints nothing when that is unset, not
PostgreSQL, or when ``DATABASE_OWNER_URL`` is already set (the roles are in place).

- ``NAME_owner`` (LOGIN, CREATEDB): owns the database, its schema and every table; runs the
  migrations (``DATABASE_OWNER_URL``). Member of the sealer role, so that it can hand the
  sealing function to it.
- ``NAME_app`` (LOGIN): runs the platform (``DATABASE_URL``) and owns nothing. The owner grants
  it what it needs after every migration (``audit.roles.grant_runtime``).
- ``NAME_sealer`` (NOLOGIN): owns the one SECURITY DEFINER function that seals audit entries
  (``AUDIT_SEALER_ROLE``).

Idempotent: run it as often as you like. It creates the database when missing and hands every
table, sequence, view and function of its public schema that the owner does not own yet to the
owner (a database migrated before the roles existed). Passwords: set ``DB_OWNER_PASSWORD`` and
``DB_APP_PASSWORD`` to give the roles passwords (put them into the printed URLs yourself); on a
machine with trust authentication none is needed. Standard library and psycopg only.
"""

import os
import re
import shlex
import sys
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql


def role_names(database: str) -> dict[str, str]:
    base = re.sub(r"[^a-z0-9_]", "_", database.lower())[:40]
    return {"owner": f"{base}_owner", "app": f"{base}_app", "sealer": f"{base}_sealer"}


def ensure_role(cursor, name: str, options: str, password: str | None) -> None:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
    verb = "ALTER" if cursor.fetchone() else "CREATE"
    statement = sql.SQL(f"{verb} ROLE {{}} {options}").format(sql.Identifier(name))
    if password:
        statement += sql.SQL(" PASSWORD {}").format(sql.Literal(password))
    cursor.execute(statement)


def main(url: str) -> int:
    if not urlsplit(url).path.lstrip("/"):
        print("db_roles.py: the URL names no database", file=sys.stderr)
        return 2
    for name, value in ensure(url).items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


def ensure(url: str) -> dict[str, str]:
    """
    Make the roles and the database of ``url`` (a superuser's) as above; return the
    environment to run with: ``DATABASE_URL``, ``DATABASE_OWNER_URL`` and ``AUDIT_SEALER_ROLE``.
    """
    parts = urlsplit(url)
    database = parts.path.lstrip("/")
    roles = role_names(database)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin, admin.cursor() as cursor:
        ensure_role(
            cursor, roles["owner"], "LOGIN CREATEDB NOSUPERUSER NOCREATEROLE",
            os.environ.get("DB_OWNER_PASSWORD"),
        )  # fmt: skip
        ensure_role(
            cursor, roles["app"], "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT",
            os.environ.get("DB_APP_PASSWORD"),
        )  # fmt: skip
        ensure_role(cursor, roles["sealer"], "NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE", None)
        cursor.execute(
            sql.SQL("GRANT {} TO {}").format(
                sql.Identifier(roles["sealer"]), sql.Identifier(roles["owner"])
            )
        )
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        if not cursor.fetchone():
            cursor.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(database), sql.Identifier(roles["owner"])
                )
            )
        cursor.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(database), sql.Identifier(roles["owner"])
            )
        )
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cursor:
        owner = sql.Identifier(roles["owner"])
        cursor.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(owner))
        # Objects of a database migrated before the roles existed.
        cursor.execute(
            "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN "
            "('r', 'p', 'v', 'm', 'f') AND pg_get_userbyid(c.relowner) <> %s",
            [roles["owner"]],
        )
        for name, kind in cursor.fetchall():
            what = {"v": "VIEW", "m": "MATERIALIZED VIEW", "f": "FOREIGN TABLE"}.get(kind, "TABLE")
            cursor.execute(
                sql.SQL(f"ALTER {what} {{}} OWNER TO {{}}").format(sql.Identifier(name), owner)
            )
        cursor.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = 'public' "
            "AND pg_get_userbyid(p.proowner) NOT IN (%s, %s)",
            [roles["owner"], roles["sealer"]],
        )
        for (signature,) in cursor.fetchall():
            cursor.execute(
                sql.SQL("ALTER FUNCTION {} OWNER TO {}").format(sql.SQL(signature), owner)
            )

    def role_url(role: str) -> str:
        netloc = quote(role) + "@" + parts.hostname + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))

    return {
        "DATABASE_URL": role_url(roles["app"]),
        "DATABASE_OWNER_URL": role_url(roles["owner"]),
        "AUDIT_SEALER_ROLE": roles["sealer"],
    }


if __name__ == "__main__":
    if len(sys.argv) > 2:
        print("usage: db_roles.py [postgres://SUPERUSER@HOST:PORT/DATABASE]", file=sys.stderr)
        sys.exit(2)
    if len(sys.argv) == 2:
        sys.exit(main(sys.argv[1]))
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) or os.environ.get("DATABASE_OWNER_URL"):
        sys.exit(0)
    sys.exit(main(url))
