"""
The PostgreSQL roles the platform runs with (README, "Production"): the owner owns the schema
and runs the migrations (``DATABASE_OWNER_URL``); the runtime role (``DATABASE_URL``) owns
nothing and may insert pending audit entries and read the log; the sealer role
(``AUDIT_SEALER_ROLE``) owns the one function that seals (``audit_seal``).

``grant_runtime`` runs after every migration, as the owner: it gives the runtime role what the
platform needs on every table and takes back what the audit log forbids. ``check`` lists what
``audit_verify`` finds wrong with the roles and triggers of the database it is connected to.
"""

from contextlib import contextmanager

from django.conf import settings
from django.db import connections

# The audit tables and what the runtime role may do with each; anything else is refused.
RUNTIME_AUDIT_PRIVILEGES = {
    "audit_entry": {"SELECT"},
    "audit_tile": {"SELECT"},
    "audit_pending": {"SELECT", "INSERT"},
    "audit_checkpoint": {"SELECT", "INSERT"},
    "audit_cosignature": {"SELECT", "INSERT"},
    "audit_witnessedcheckpoint": {"SELECT", "INSERT"},
    "audit_signingkey": {"SELECT", "INSERT"},
    "audit_signingkeyevent": {"SELECT", "INSERT"},
}
SEALER_PRIVILEGES = {
    "audit_entry": "SELECT, INSERT",
    "audit_pending": "SELECT, DELETE",
    "audit_tile": "SELECT, INSERT, UPDATE",
}
FORBIDDEN = ("UPDATE", "DELETE", "TRUNCATE", "INSERT", "REFERENCES", "TRIGGER")
# Every trigger the audit log's tables must have, enabled.
TRIGGERS = {
    "audit_entry": ["audit_entry_append_only_rows", "audit_entry_append_only_truncate"],
    "audit_pending": [
        "audit_pending_append_only_rows",
        "audit_pending_append_only_delete",
        "audit_pending_append_only_truncate",
    ],
    "audit_checkpoint": [
        "audit_checkpoint_append_only_rows",
        "audit_checkpoint_append_only_truncate",
    ],
    "audit_cosignature": [
        "audit_cosignature_append_only_rows",
        "audit_cosignature_append_only_truncate",
    ],
    "audit_witnessedcheckpoint": [
        "audit_witnessedcheckpoint_append_only_rows",
        "audit_witnessedcheckpoint_append_only_truncate",
    ],
    "audit_signingkey": [
        "audit_signingkey_append_only_rows",
        "audit_signingkey_append_only_truncate",
    ],
    "audit_signingkeyevent": [
        "audit_signingkeyevent_append_only_rows",
        "audit_signingkeyevent_append_only_truncate",
    ],
}
# What a column privilege can give (has_any_column_privilege): a grant on one column of a
# table is a privilege on that table too.
COLUMN_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "REFERENCES")
SEAL_FUNCTION = "audit_seal(integer, bigint[])"


def separated() -> bool:
    """Return True when the platform runs as a runtime role apart from the schema's owner."""
    return bool(settings.DATABASE_OWNER and settings.DATABASE_RUNTIME_ROLE)


@contextmanager
def as_owner(alias: str = "default"):
    """Connect ``alias`` as the schema's owner for the block (migrations, tree builds)."""
    connection = connections[alias]
    owner = settings.DATABASE_OWNER
    if connection.vendor != "postgresql" or not owner or alias != "default":
        yield connection
        return
    saved = {key: connection.settings_dict.get(key) for key in ("USER", "PASSWORD")}
    connection.close()
    connection.settings_dict.update({"USER": owner["USER"], "PASSWORD": owner.get("PASSWORD", "")})
    try:
        yield connection
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def _quote(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def grant_runtime(*, using: str = "default", **kwargs) -> None:  # a post_migrate receiver
    """
    As the owner, after a migration: give the runtime role SELECT, INSERT, UPDATE and DELETE on
    every table (and the same by default on tables the owner creates later), then only what
    ``RUNTIME_AUDIT_PRIVILEGES`` says on the audit log's tables; hand ``audit_seal`` to the
    sealer role with the privileges it needs. Nothing when the roles are not separated.
    """
    connection = connections[using]
    if connection.vendor != "postgresql" or not separated():
        return
    runtime = _quote(connection, settings.DATABASE_RUNTIME_ROLE)
    sealer = settings.AUDIT_SEALER_ROLE
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = _quote(connection, cursor.fetchone()[0])
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {runtime}; "
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {runtime}; "
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {runtime}; "
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            f"GRANT USAGE, SELECT ON SEQUENCES TO {runtime}; "
            # Which migrations ran is the owner's to say.
            f"REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM {runtime}"
        )
        for table, allowed in RUNTIME_AUDIT_PRIVILEGES.items():
            cursor.execute(
                f"REVOKE ALL ON {table} FROM {runtime}; "
                f"GRANT {', '.join(sorted(allowed))} ON {table} TO {runtime}"
            )
        cursor.execute(f"GRANT EXECUTE ON FUNCTION {SEAL_FUNCTION} TO {runtime}")
        if sealer:
            quoted = _quote(connection, sealer)
            for table, privileges in SEALER_PRIVILEGES.items():
                cursor.execute(f"GRANT {privileges} ON {table} TO {quoted}")
            # A new owner of a function needs CREATE on its schema, for that moment only.
            cursor.execute(
                f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {quoted}; "
                f"ALTER FUNCTION {SEAL_FUNCTION} OWNER TO {quoted}; "
                f"REVOKE CREATE ON SCHEMA {schema} FROM {quoted}"
            )


TRIGGER_MISSING = "trigger_missing"
EXCESS_PRIVILEGE = "excess_privilege"


def check() -> list[tuple[str, str]]:
    """
    Return what is wrong with the database's triggers and the connected (runtime) role's
    privileges, as (fault, words); empty when all is as designed. PostgreSQL only.
    """
    faults: list[tuple[str, str]] = []
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal "
            "AND c.relname = ANY(%s)",
            [list(TRIGGERS)],
        )
        present = {(table, name): enabled for table, name, enabled in cursor.fetchall()}
        for table, names in TRIGGERS.items():
            for name in names:
                enabled = present.get((table, name))
                if enabled is None:
                    faults.append((TRIGGER_MISSING, f"trigger {name} on {table} is missing"))
                elif enabled == "D":
                    faults.append((TRIGGER_MISSING, f"trigger {name} on {table} is disabled"))
        cursor.execute(
            "SELECT current_user, r.rolsuper, r.rolcreaterole, r.rolbypassrls "
            "FROM pg_roles r WHERE r.rolname = current_user"
        )
        user, superuser, createrole, bypassrls = cursor.fetchone()
        if superuser or createrole or bypassrls:
            faults.append(
                (EXCESS_PRIVILEGE, f"the platform's role {user} is a superuser or may create roles")
            )
        cursor.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relname = ANY(%s) "
            "AND c.relnamespace = current_schema()::regnamespace "
            "AND pg_has_role(current_user, c.relowner, 'USAGE')",
            [list(TRIGGERS) + ["audit_tile"]],
        )
        for (table,) in cursor.fetchall():
            faults.append(
                (EXCESS_PRIVILEGE, f"the platform's role {user} owns (or acts as owner of) {table}")
            )
        for table, allowed in RUNTIME_AUDIT_PRIVILEGES.items():
            for privilege in FORBIDDEN:
                if privilege in allowed:
                    continue
                check = (
                    "has_any_column_privilege"
                    if privilege in COLUMN_PRIVILEGES
                    else "has_table_privilege"
                )
                cursor.execute(f"SELECT {check}(current_user, %s, %s)", [table, privilege])
                if cursor.fetchone()[0]:
                    faults.append(
                        (EXCESS_PRIVILEGE, f"the platform's role {user} may {privilege} {table}")
                    )
        cursor.execute(
            "SELECT p.prosecdef, pg_has_role(current_user, p.proowner, 'USAGE') "
            "FROM pg_proc p WHERE p.proname = 'audit_seal' "
            "AND p.pronamespace = current_schema()::regnamespace"
        )
        row = cursor.fetchone()
        if row is None:
            faults.append((TRIGGER_MISSING, "the sealing function audit_seal is missing"))
        elif not row[0] or row[1]:
            faults.append(
                (
                    EXCESS_PRIVILEGE,
                    "the sealing function audit_seal is not a SECURITY DEFINER function of a "
                    f"role of its own (the platform's role {user} acts as its owner)",
                )
            )
    return faults
