"""
A signing key's status changes become append-only events (``SigningKeyEvent``), and the key's
row is never changed after its insert. This first step adds the event table and the key's
generation; ``0011`` turns the status columns of existing keys into events, ``0012`` removes
those columns and makes the key and event tables append-only on PostgreSQL.
"""

import django.db.models.deletion
from django.db import migrations, models

# Migration 0007's trigger, which let a key's status columns move forward.
FORWARD_TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION audit_signingkey_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    rank_old integer := array_position(ARRAY['active', 'retired', 'revoked'], OLD.status::text);
    rank_new integer := array_position(ARRAY['active', 'retired', 'revoked'], NEW.status::text);
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'signing keys are append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.kid IS DISTINCT FROM OLD.kid OR NEW.algorithm IS DISTINCT FROM OLD.algorithm
        OR NEW.public_jwk::text IS DISTINCT FROM OLD.public_jwk::text
        OR NEW.encrypted_private_key IS DISTINCT FROM OLD.encrypted_private_key
        OR NEW.created_at IS DISTINCT FROM OLD.created_at
        OR rank_new IS NULL OR rank_new < rank_old
        OR (OLD.retired_at IS NOT NULL AND NEW.retired_at IS DISTINCT FROM OLD.retired_at)
        OR (OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at)
        OR (NEW.status = 'revoked' AND NEW.revoked_at IS NULL)
    THEN
        RAISE EXCEPTION 'a signing key keeps its material and only moves forward: refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_signingkey_forward_rows BEFORE UPDATE OR DELETE ON audit_signingkey
    FOR EACH ROW EXECUTE FUNCTION audit_signingkey_forward();
ALTER TABLE audit_signingkey ENABLE ALWAYS TRIGGER audit_signingkey_forward_rows;
"""


def drop_forward_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS audit_signingkey_forward_rows ON audit_signingkey;"
            "DROP FUNCTION IF EXISTS audit_signingkey_forward();",
            params=None,
        )


def restore_forward_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD_TRIGGER_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0009_signingkey_rs256")]

    operations = [
        migrations.RunPython(drop_forward_trigger, restore_forward_trigger),
        migrations.AddField(
            model_name="signingkey",
            name="generation",
            field=models.PositiveIntegerField(
                editable=False, null=True, verbose_name="generation"
            ),
        ),
        migrations.CreateModel(
            name="SigningKeyEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("retired", "retired"),
                            ("revoked", "revoked (compromised)"),
                            ("publication", "publication end set"),
                        ],
                        max_length=16,
                        verbose_name="kind",
                    ),
                ),
                ("at", models.DateTimeField(verbose_name="at")),
                (
                    "until",
                    models.DateTimeField(blank=True, null=True, verbose_name="published until"),
                ),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("rotated", "replaced by a new key"),
                            ("compromised", "compromised"),
                            ("signatures_expire", "what it signed expires"),
                            ("migrated", "taken over from the key's earlier status"),
                        ],
                        max_length=24,
                        verbose_name="reason",
                    ),
                ),
                (
                    "key",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="audit.signingkey",
                        verbose_name="key",
                    ),
                ),
            ],
            options={
                "verbose_name": "signing key event",
                "verbose_name_plural": "signing key events",
                "ordering": ["key_id", "id"],
            },
        ),
    ]
