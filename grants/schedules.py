"""The grants app's django-q2 schedules, kept in step with the settings after every migrate."""

from django.conf import settings


def ensure_schedules(**kwargs) -> None:
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name="grants: expire grants",
        defaults={
            "func": "grants.tasks.expire_grants",
            "schedule_type": Schedule.MINUTES,
            "minutes": settings.GRANTS_EXPIRE_MINUTES,
            "repeats": -1,
        },
    )
    Schedule.objects.update_or_create(
        name="grants: overdue deletion confirmations",
        defaults={
            "func": "grants.tasks.follow_overdue_confirmations",
            "schedule_type": Schedule.DAILY,
            "repeats": -1,
        },
    )
    Schedule.objects.update_or_create(
        name="grants: sweep undelivered notices",
        defaults={
            "func": "grants.tasks.sweep_undelivered",
            "schedule_type": Schedule.MINUTES,
            "minutes": settings.GRANTS_SWEEP_MINUTES,
            "repeats": -1,
        },
    )
