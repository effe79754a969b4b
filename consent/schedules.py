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
    # Representations end at their end date or at the person's coming of age; they stop
    # at use already, this records the end and asks the person to confirm (once a day).
    Schedule.objects.update_or_create(
        name="consent: end representations",
        defaults={
            "func": "consent.tasks.representations_end_due",
            "schedule_type": Schedule.DAILY,
            "repeats": -1,
        },
    )
