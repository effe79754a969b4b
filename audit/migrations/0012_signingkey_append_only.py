"""
The key's status columns go (its events hold them now). On PostgreSQL a key's row refuses every
UPDATE and DELETE (``audit_append_only``, as the chain's rows do), and so does every event:
a key's history is only ever added to. ``audit.roles`` gives the runtime role INSERT and SELECT
on both tables, nothing more, and ``audit_verify`` checks that these triggers are there and
enabled.
"""

from django.db import migrations, models

TRIGGERS = {
    "audit_signingkey": ["audit_signingkey_append_only_rows"],
    "audit_signingkeyevent": [
        "audit_signingkeyevent_append_only_rows",
        "audit_signingkeyevent_append_only_truncate",
    ],
}

INSTALL = """
CREATE TRIGGER audit_signingkey_append_only_rows BEFORE UPDATE OR DELETE ON audit_signingkey
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_signingkeyevent_append_only_rows
    BEFORE UPDATE OR DELETE ON audit_signingkeyevent
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_signingkeyevent_append_only_truncate BEFORE TRUNCATE ON audit_signingkeyevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"""

REMOVE = """
DROP TRIGGER IF EXISTS audit_signingkey_append_only_rows ON audit_signingkey;
DROP TRIGGER IF EXISTS audit_signingkeyevent_append_only_rows ON audit_signingkeyevent;
DROP TRIGGER IF EXISTS audit_signingkeyevent_append_only_truncate ON audit_signingkeyevent;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(INSTALL, params=None)
    for table, names in TRIGGERS.items():
        for name in names:
            schema_editor.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {name}", params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0011_signingkey_events_from_status")]

    operations = [
        migrations.RemoveConstraint(
            model_name="signingkey", name="audit_one_active_key_per_algorithm"
        ),
        migrations.RemoveField(model_name="signingkey", name="status"),
        migrations.RemoveField(model_name="signingkey", name="retired_at"),
        migrations.RemoveField(model_name="signingkey", name="revoked_at"),
        migrations.RemoveField(model_name="signingkey", name="publish_until"),
        migrations.AlterField(
            model_name="signingkey",
            name="generation",
            field=models.PositiveIntegerField(editable=False, verbose_name="generation"),
        ),
        migrations.AddConstraint(
            model_name="signingkey",
            constraint=models.UniqueConstraint(
                fields=("algorithm", "generation"), name="audit_signingkey_generation"
            ),
        ),
        migrations.AddConstraint(
            model_name="signingkeyevent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind__in", ["retired", "revoked"])),
                fields=("key", "kind"),
                name="audit_signingkeyevent_once",
            ),
        ),
        migrations.AddIndex(
            model_name="signingkeyevent",
            index=models.Index(fields=["key", "kind", "-id"], name="audit_signingkeyevent_key"),
        ),
        migrations.RunPython(install, remove),
    ]
