"""The register's django-q2 schedule, kept in step after every migrate."""


def ensure_schedules(**kwargs) -> None:
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name="public: compute indicators",
        defaults={
            "func": "public.tasks.indicators_compute",
            "schedule_type": Schedule.DAILY,
            "repeats": -1,
        },
    )
