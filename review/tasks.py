"""Background work of the review app, run by django-q2."""

from . import services


def send_review_reminders() -> int:
    """Remind reviewers who have not voted two days before their round is due."""
    return services.reminders_send()


def follow_up_obligations() -> dict:
    """Remind requesters before their obligations fall due; escalate the overdue (daily)."""
    return services.obligations_follow_up()


def remind_renewals() -> int:
    """Remind requesters whose approval ends within the renewal thresholds (daily)."""
    return services.renewals_remind()
