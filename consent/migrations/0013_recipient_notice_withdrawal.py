import datetime

import django.db.models.deletion
from django.db import migrations, models


def link_withdrawals(apps, schema_editor):
    """
    Name, on each existing notice of a withdrawal, the withdrawal it told of: the resident's
    latest withdrawal from the purpose made before it (its time is cut to the second).
    """
    RecipientNotice = apps.get_model("consent", "RecipientNotice")
    ConsentRecord = apps.get_model("consent", "ConsentRecord")
    notices = RecipientNotice.objects.filter(reason="withdrawn", withdrawal__isnull=True)
    for notice in notices.iterator():
        record = (
            ConsentRecord.objects.filter(
                resident_id=notice.resident_id,
                purpose_id=notice.purpose_id,
                decision="withdrawn",
                decided_at__lt=notice.created_at + datetime.timedelta(seconds=1),
            )
            .order_by("-decided_at", "-pk")
            .values_list("pk", flat=True)
            .first()
        )
        if record is not None:
            RecipientNotice.objects.filter(pk=notice.pk).update(withdrawal_id=record)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0012_representation_end_person_erased"),
    ]

    operations = [
        migrations.AddField(
            model_name="recipientnotice",
            name="withdrawal",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="consent.consentrecord",
                verbose_name="withdrawal",
            ),
        ),
        migrations.RunPython(link_withdrawals, migrations.RunPython.noop),
    ]
