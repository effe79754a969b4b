"""The consent app's django-q2 schedules, kept in step after every migrate."""


def ensure_schedules(**kwargs) -> None:
    from django_q.models import Schedule

    # Each consent check queues the copy of its batch; this catches any that was not run.
    Schedule.objects.update_or_create(
        name="consent: copy data accesses",
        defaults={
            "func": "consent.tasks.data_access_expand",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
