"""
On PostgreSQL, make audit entries append-only in the database itself.

Refused: every DELETE, every TRUNCATE, and every UPDATE but one: sealing, where an unsealed entry
(seq NULL) receives its sequence number and hashes once, with nothing else changed. A TRUNCATE is
let through only in a session that has said ``SET audit.allow_truncate = 'on'`` (restoring a
backup, the test suite's flush); nothing the application runs says so.
"""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF current_setting('audit.allow_truncate', true) = 'on' THEN
            RETURN NULL;
        END IF;
    ELSIF TG_OP = 'UPDATE'
        AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
        AND NEW.id = OLD.id AND NEW.time = OLD.time
        AND NEW.actor_type = OLD.actor_type AND NEW.actor_id = OLD.actor_id
        AND NEW.action = OLD.action
        AND NEW.object_type = OLD.object_type AND NEW.object_id = OLD.object_id
        AND NEW.consortium_id IS NOT DISTINCT FROM OLD.consortium_id
        AND NEW.payload = OLD.payload THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_entry_append_only_rows
    BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
CREATE TRIGGER audit_entry_append_only_truncate
    BEFORE TRUNCATE ON audit_entry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only();
"""

REMOVE = """
DROP TRIGGER IF EXISTS audit_entry_append_only_rows ON audit_entry;
DROP TRIGGER IF EXISTS audit_entry_append_only_truncate ON audit_entry;
DROP FUNCTION IF EXISTS audit_entry_append_only();
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
