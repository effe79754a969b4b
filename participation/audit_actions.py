"""Participation's audit actions and the payload fields each may carry (``audit.actions``).

Ids and states only: never a comment's or a proposal's text, nor a participant's name; a
comment's declared age band is not logged either (the log is public and names residents by
their pseudonymous id)."""

ACTIONS: dict[str, list[str]] = {
    "consultation_policy.set": [
        "required_for_all",
        "required_for_sensitive",
        "required_for_third_party",
    ],
    "consultation.created": ["bylaw_version", "purpose", "subject", "ticket"],
    "consultation.changed": ["bylaw_version", "purpose", "subject", "ticket"],
    "consultation.question_saved": ["consultation", "number"],
    "consultation.announced": ["closes_at", "opens_at", "questions"],
    "consultation.result_published": ["answers", "opinions"],
    "consultation.comment_submitted": ["channel", "consultation", "question", "resident"],
    "consultation.comment_edited": ["consultation", "resident"],
    "consultation.comment_hidden": ["consultation"],
    "consultation.comment_restored": ["consultation"],
    "consultation.answer_saved": ["answered", "changed", "consultation", "number"],
}
