"""The governance app's django-q2 schedules, kept in step after every migrate."""


def ensure_schedules(**kwargs) -> None:
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name="governance: cut off ended memberships",
        defaults={
            "func": "governance.tasks.cut_off_ended_memberships",
            "schedule_type": Schedule.DAILY,
            "repeats": -1,
        },
    )
