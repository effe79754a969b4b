"""Participation's audit actions and the payload fields each may carry (``audit.actions``).

Ids and states only: never a comment's or a proposal's text, a meeting's agenda or minutes,
nor a participant's name or e-mail address (an e-mail participant is named by id); a comment's
declared age band is not logged either (the log is public and names residents by their
pseudonymous id)."""

from django.utils.translation import gettext_lazy as _

ACTIONS: dict[str, list[str]] = {
    "consultation_policy.set": [
        "required_for_all",
        "required_for_sensitive",
        "required_for_third_party",
        # People without a portal account may comment with a confirmed e-mail address.
        "without_account",
    ],
    # Taking part with a confirmed e-mail address: the participant's id, never the address.
    "email_participant.link_sent": ["consultation", "created"],
    "email_participant.confirmed": ["consultation", "first"],
    # The address erased (APPI Art. 22): "participant" (they asked) or "retention" (no longer
    # needed); how many of their comments (opinions) stay, without it.
    "email_participant.erased": ["opinions", "reason"],
    "consultation.created": ["bylaw_version", "purpose", "subject", "ticket"],
    "consultation.changed": ["bylaw_version", "purpose", "subject", "ticket"],
    "consultation.question_saved": ["consultation", "number"],
    "consultation.announced": ["closes_at", "opens_at", "questions"],
    "consultation.result_published": ["answers", "opinions"],
    "consultation.comment_submitted": [
        "channel",
        "consultation",
        "meeting",
        "notice_section",
        # An e-mail participant's id (never the address).
        "participant",
        "question",
        "resident",
    ],
    "consultation.comment_edited": ["consultation", "participant", "resident"],
    "consultation.comment_hidden": ["consultation"],
    "consultation.comment_restored": ["consultation"],
    "consultation.answer_saved": ["answered", "changed", "consultation", "number"],
    "proposal.submitted": ["author", "kind"],
    "proposal.hidden": [],
    "proposal.answered": ["indicator_linked", "outcome", "purpose", "ticket"],
    "proposal.supported": ["resident"],
    "proposal.support_withdrawn": ["resident"],
    "meeting.created": ["capacity", "consultations", "format", "proposals"],
    "meeting.changed": ["capacity", "consultations", "format", "proposals"],
    "meeting.announced": ["capacity", "format", "starts_at"],
    "meeting.registered": ["resident"],
    "meeting.registration_cancelled": ["resident"],
    "meeting.attendance_recorded": ["present", "registered", "walk_ins"],
    "meeting.minutes_published": ["consultations", "proposals"],
}

# What each action means, in words (``audit.actions.label``).
LABELS = {
    "consultation_policy.set": _("Rule for public consultations set"),
    "email_participant.link_sent": _("Link to confirm an e-mail participant's address sent"),
    "email_participant.confirmed": _("E-mail participant's address confirmed"),
    "email_participant.erased": _("E-mail participant's address erased"),
    "consultation.created": _("Public consultation drafted"),
    "consultation.changed": _("Public consultation changed"),
    "consultation.question_saved": _("Consultation question saved"),
    "consultation.announced": _("Public consultation announced"),
    "consultation.result_published": _("Consultation result published"),
    "consultation.comment_submitted": _("Comment submitted"),
    "consultation.comment_edited": _("Comment edited"),
    "consultation.comment_hidden": _("Comment hidden"),
    "consultation.comment_restored": _("Comment shown again"),
    "consultation.answer_saved": _("Answer to comments saved"),
    "proposal.submitted": _("Proposal submitted"),
    "proposal.hidden": _("Proposal hidden"),
    "proposal.answered": _("Proposal answered"),
    "proposal.supported": _("Proposal supported"),
    "proposal.support_withdrawn": _("Support of a proposal withdrawn"),
    "meeting.created": _("Meeting drafted"),
    "meeting.changed": _("Meeting changed"),
    "meeting.announced": _("Meeting announced"),
    "meeting.registered": _("Registered for a meeting"),
    "meeting.registration_cancelled": _("Registration for a meeting cancelled"),
    "meeting.attendance_recorded": _("Meeting attendance recorded"),
    "meeting.minutes_published": _("Meeting minutes published"),
}
