"""The participation app's django-q2 schedules, kept in step after every migrate."""


def ensure_schedules(**kwargs) -> None:
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name="participation: erase e-mail addresses no longer needed",
        defaults={
            "func": "participation.tasks.erase_expired_addresses",
            "schedule_type": Schedule.DAILY,
            "repeats": -1,
        },
    )
