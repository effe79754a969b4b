"""
On PostgreSQL, make the audit log append-only in the database itself.

``audit_entry`` (the chain) refuses every UPDATE, every DELETE and every TRUNCATE.
``audit_pending`` (entries waiting to be sealed) refuses every UPDATE, and lets a row be deleted
only by the sealer, in the transaction that copies it into the chain (it says so with
``set_config('audit.sealing', 'on', true)``).

A TRUNCATE is let through only in a session that has said ``SET audit.allow_truncate = 'on'``
(restoring a backup, the test suite's flush between tests); nothing the application runs says so.

The pending table is a queue: it is vacuumed as soon as a thousand rows are dead.
"""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('audit.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_pending'
        AND current_setting('audit.sealing', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_entry_append_only_rows
    BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_entry_append_only_truncate
    BEFORE TRUNCATE ON audit_entry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_pending_append_only_rows
    BEFORE UPDATE OR DELETE ON audit_pending
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_pending_append_only_truncate
    BEFORE TRUNCATE ON audit_pending
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
ALTER TABLE audit_pending SET (
    autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000
);
"""

REMOVE = """
DROP TRIGGER IF EXISTS audit_entry_append_only_rows ON audit_entry;
DROP TRIGGER IF EXISTS audit_entry_append_only_truncate ON audit_entry;
DROP TRIGGER IF EXISTS audit_pending_append_only_rows ON audit_pending;
DROP TRIGGER IF EXISTS audit_pending_append_only_truncate ON audit_pending;
DROP FUNCTION IF EXISTS audit_append_only();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(install, remove)]
