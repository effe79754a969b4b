"""The audit app's django-q2 schedules, kept in step with the settings after every migrate."""

from django.conf import settings


def ensure_schedules(**kwargs) -> None:
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name="audit: checkpoint",
        defaults={
            "func": "audit.tasks.make_checkpoint",
            "schedule_type": Schedule.MINUTES,
            "minutes": settings.AUDIT_CHECKPOINT_MINUTES,
            "repeats": -1,
        },
    )
    Schedule.objects.update_or_create(
        name="audit: seal pending entries",
        defaults={
            "func": "audit.tasks.seal_pending",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
    Schedule.objects.update_or_create(
        name="audit: fail reports whose worker died",
        defaults={
            "func": "audit.tasks.reap_stale_reports",
            "schedule_type": Schedule.MINUTES,
            "minutes": 5,
            "repeats": -1,
        },
    )
