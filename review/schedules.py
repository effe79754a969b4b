"""The review app's django-q2 schedules, kept in step after every migrate."""

# The name and function the reminders had while the review was part of the governance app.
FORMER_SCHEDULE = "governance: review reminders"


def ensure_schedules(**kwargs) -> None:
    from django_q.models import Schedule

    Schedule.objects.filter(name=FORMER_SCHEDULE).delete()
    Schedule.objects.update_or_create(
        name="review: reminders",
        defaults={
            "func": "review.tasks.send_review_reminders",
            "schedule_type": Schedule.DAILY,
            "repeats": -1,
        },
    )
    Schedule.objects.update_or_create(
        name="review: obligations follow-up",
        defaults={
            "func": "review.tasks.follow_up_obligations",
            "schedule_type": Schedule.DAILY,
            "repeats": -1,
        },
    )
    Schedule.objects.update_or_create(
        name="review: renewal reminders",
        defaults={
            "func": "review.tasks.remind_renewals",
            "schedule_type": Schedule.DAILY,
            "repeats": -1,
        },
    )
