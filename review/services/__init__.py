"""
Every state change of the data-ethics review: one function per use case, ``<entity>_<action>``,
each atomic, keyword-only with the actor first, validated, and recorded in the audit log.
"""

from .board import ethics_board_set
from .obligations import (
    deletion_confirmations_overdue,
    obligation_accept,
    obligation_evidence_submit,
    obligation_reject,
    obligation_waive,
    obligations_follow_up,
)
from .purposes import purpose_create_from_ticket
from .renewals import renewals_remind, ticket_continue, ticket_renew
from .tickets import (
    TransitionError,
    attachment_add,
    comment_add,
    conflict_declare,
    reminders_send,
    review_vote_cast,
    reviewer_assign,
    ticket_approve,
    ticket_close,
    ticket_create,
    ticket_reject,
    ticket_request_changes,
    ticket_resubmit,
    ticket_resume,
    ticket_review_start,
    ticket_submit,
    ticket_suspend,
    ticket_update,
    tickets_close_for_member,
)

__all__ = [
    "deletion_confirmations_overdue",
    "ethics_board_set",
    "obligation_accept",
    "obligation_evidence_submit",
    "obligation_reject",
    "obligation_waive",
    "obligations_follow_up",
    "purpose_create_from_ticket",
    "renewals_remind",
    "ticket_continue",
    "ticket_renew",
    "TransitionError",
    "attachment_add",
    "comment_add",
    "conflict_declare",
    "reminders_send",
    "review_vote_cast",
    "reviewer_assign",
    "ticket_approve",
    "ticket_close",
    "ticket_create",
    "ticket_reject",
    "ticket_request_changes",
    "ticket_resubmit",
    "ticket_resume",
    "ticket_review_start",
    "ticket_submit",
    "ticket_suspend",
    "ticket_update",
    "tickets_close_for_member",
]
