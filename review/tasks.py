"""Background work of the review app, run by django-q2."""

from . import services


def send_review_reminders() -> int:
    """Remind reviewers who have not voted two days before their round is due."""
    return services.reminders_send()
