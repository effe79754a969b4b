"""
A commit that inserted pending entries notifies ``audit_pending`` only when no sequencer is at
work: a sequencer at work holds the advisory lock ``AWAKE_LOCK_ID`` (``audit.sequencer``) and
looks for new entries itself every few milliseconds until none is left. PostgreSQL serialises
the commits of notifying transactions, so writers that need not notify commit side by side.
"""

from django.db import migrations

# audit.sequencer.AWAKE_LOCK_ID ("auditsq" in ASCII).
AWAKE_LOCK_ID = 0x61756469747371

INSTALL = f"""
CREATE OR REPLACE FUNCTION audit_pending_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_try_advisory_xact_lock_shared({AWAKE_LOCK_ID}) THEN
        PERFORM pg_notify('audit_pending', '');
    END IF;
    RETURN NULL;
END
$$;
"""

REMOVE = """
CREATE OR REPLACE FUNCTION audit_pending_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('audit_pending', '');
    RETURN NULL;
END
$$;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0012_signingkey_append_only")]
    operations = [migrations.RunPython(install, remove)]
