"""
Each existing key's status columns become events, stamped with the times the columns held
(reason ``migrated``), and each key gets its generation (its rank among the keys of its
algorithm, oldest first). What ``audit_verify`` reads (a revoked key's revocation time, the
``key.revoked`` entries) is unchanged, so a log that verified before verifies after.
"""

from django.db import migrations


def events_from_status(apps, schema_editor):
    SigningKey = apps.get_model("audit", "SigningKey")
    SigningKeyEvent = apps.get_model("audit", "SigningKeyEvent")
    generations: dict[str, int] = {}
    for key in SigningKey.objects.order_by("algorithm", "created_at", "id"):
        generations[key.algorithm] = generations.get(key.algorithm, 0) + 1
        SigningKey.objects.filter(pk=key.pk).update(generation=generations[key.algorithm])
        events = []
        if key.status in ("retired", "revoked") and (key.retired_at or key.status == "retired"):
            at = key.retired_at or key.revoked_at or key.created_at
            events.append(SigningKeyEvent(key=key, kind="retired", at=at, reason="migrated"))
        if key.status == "revoked":
            at = key.revoked_at or key.created_at
            events.append(SigningKeyEvent(key=key, kind="revoked", at=at, reason="migrated"))
        if key.publish_until is not None:
            at = key.retired_at or key.created_at
            events.append(
                SigningKeyEvent(
                    key=key, kind="publication", at=at, until=key.publish_until, reason="migrated"
                )
            )
        SigningKeyEvent.objects.bulk_create(events)


def status_from_events(apps, schema_editor):
    SigningKey = apps.get_model("audit", "SigningKey")
    SigningKeyEvent = apps.get_model("audit", "SigningKeyEvent")
    for key in SigningKey.objects.all():
        events = {event.kind: event for event in SigningKeyEvent.objects.filter(key=key)}
        publication = (
            SigningKeyEvent.objects.filter(key=key, kind="publication").order_by("-id").first()
        )
        retired, revoked = events.get("retired"), events.get("revoked")
        SigningKey.objects.filter(pk=key.pk).update(
            status="revoked" if revoked else "retired" if retired else "active",
            retired_at=retired.at if retired else None,
            revoked_at=revoked.at if revoked else None,
            publish_until=publication.until if publication else None,
        )
    SigningKeyEvent.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("audit", "0010_signingkeyevent")]
    operations = [migrations.RunPython(events_from_status, status_from_events)]
