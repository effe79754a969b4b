"""
Witnessing (C2SP tlog-witness): cosignatures witnesses gave this platform's checkpoints, the
logs this platform witnesses and the checkpoints of theirs it cosigned.

On PostgreSQL ``audit_cosignature`` and ``audit_witnessedcheckpoint`` are append-only, as the
chain is (``audit_append_only``): a witness's state only ever grows, and a cosignature, once
held, stays.
"""

import django.db.models.deletion
from django.db import migrations, models

APPEND_ONLY = ("audit_cosignature", "audit_witnessedcheckpoint")


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in APPEND_ONLY:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only_rows BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
            f"CREATE TRIGGER {table}_append_only_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();"
            f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only_rows;"
            f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only_truncate;",
            params=None,
        )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in APPEND_ONLY:
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {table}_append_only_rows ON {table};"
            f"DROP TRIGGER IF EXISTS {table}_append_only_truncate ON {table};",
            params=None,
        )


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_merkle_tree")]

    operations = [
        migrations.CreateModel(
            name="WitnessedLog",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("origin", models.CharField(max_length=255, unique=True, verbose_name="origin")),
                (
                    "verifier_key",
                    models.CharField(
                        help_text="The log's public key as a signed-note verifier key: name+key ID+key.",
                        max_length=300,
                        verbose_name="log's verifier key",
                    ),
                ),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
            ],
            options={
                "verbose_name": "witnessed log",
                "verbose_name_plural": "witnessed logs",
                "ordering": ["origin"],
            },
        ),
        migrations.CreateModel(
            name="Cosignature",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("witness", models.CharField(max_length=255, verbose_name="witness")),
                ("key_id", models.CharField(max_length=8, verbose_name="key ID")),
                (
                    "timestamp",
                    models.PositiveBigIntegerField(verbose_name="cosigned at (POSIX seconds)"),
                ),
                ("line", models.TextField(verbose_name="signature line")),
                (
                    "received_at",
                    models.DateTimeField(auto_now_add=True, verbose_name="received at"),
                ),
                (
                    "checkpoint",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cosignatures",
                        to="audit.checkpoint",
                        verbose_name="checkpoint",
                    ),
                ),
            ],
            options={
                "verbose_name": "cosignature",
                "verbose_name_plural": "cosignatures",
                "ordering": ["checkpoint_id", "witness", "id"],
                "indexes": [
                    models.Index(
                        fields=["witness", "key_id", "-checkpoint"], name="audit_cosig_witness"
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("checkpoint", "witness", "key_id"), name="audit_cosignature_once"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="WitnessedCheckpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("size", models.PositiveBigIntegerField(verbose_name="tree size")),
                ("root", models.CharField(max_length=64, verbose_name="Merkle root")),
                ("note", models.TextField(verbose_name="checkpoint as submitted")),
                ("cosignature", models.TextField(verbose_name="cosignature line")),
                ("cosigned_at", models.DateTimeField(verbose_name="cosigned at")),
                (
                    "log",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="checkpoints",
                        to="audit.witnessedlog",
                        verbose_name="log",
                    ),
                ),
            ],
            options={
                "verbose_name": "witnessed checkpoint",
                "verbose_name_plural": "witnessed checkpoints",
                "ordering": ["log_id", "-id"],
                "indexes": [models.Index(fields=["log", "-id"], name="audit_witnessed_latest")],
            },
        ),
        migrations.RunPython(install, remove),
    ]
