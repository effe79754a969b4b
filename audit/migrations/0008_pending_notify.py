"""
On PostgreSQL, each statement that inserts pending audit entries notifies ``audit_pending``:
the notification is delivered when the writer's transaction commits (and never if it rolls
back), and wakes the sequencer (``audit.sequencer``) at once.
"""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION audit_pending_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('audit_pending', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_pending_notify AFTER INSERT ON audit_pending
    FOR EACH STATEMENT EXECUTE FUNCTION audit_pending_notify();
"""

REMOVE = """
DROP TRIGGER IF EXISTS audit_pending_notify ON audit_pending;
DROP FUNCTION IF EXISTS audit_pending_notify();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_database_roles")]
    operations = [migrations.RunPython(install, remove)]
