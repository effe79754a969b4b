"""
Each entry's time is given by the sealer, never earlier than the entry before; the writer's own
clock is kept apart as ``written_at``, outside the hash.

The pending table's ``time`` (the writer's clock) becomes ``written_at``; sealed entries gain a
``written_at`` column, empty for the entries sealed before this change (whose ``time`` was the
writer's). No entry's hashed bytes change: ``time`` stays in the hash, ``written_at`` does not.
Adding a nullable column without a default rewrites no row, so the append-only triggers are
not involved.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_witnesses")]

    operations = [
        migrations.RenameField(model_name="pendingentry", old_name="time", new_name="written_at"),
        migrations.AlterField(
            model_name="pendingentry",
            name="written_at",
            field=models.DateTimeField(editable=False, null=True, verbose_name="written at"),
        ),
        migrations.AddField(
            model_name="entry",
            name="written_at",
            field=models.DateTimeField(editable=False, null=True, verbose_name="written at"),
        ),
    ]
