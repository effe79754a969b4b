"""Review's audit actions and the payload fields each may carry (``audit.actions``)."""

ACTIONS = {
    "ethics_board.created": ["changed", "legal_veto", "quorum", "security_veto"],
    "ethics_board.updated": ["changed", "legal_veto", "quorum", "security_veto"],
    "ticket.created": ["purpose_id", "requester_id"],
    "ticket.updated": ["changed"],
    "ticket.submitted": ["due_on", "round"],
    "ticket.resubmitted": ["due_on", "round"],
    "ticket.reviewer_recused": ["reason", "reviewer_id"],
    "ticket.reviewer_assigned": ["expertise", "recusal", "reviewer_id"],
    "ticket.review_started": ["reviewers", "round"],
    "ticket.conflict_declared": ["has_conflict", "reviewer_id"],
    "ticket.commented": ["kind", "remark_id", "visibility"],
    "ticket.vote_cast": ["choice", "reviewer_id", "round"],
    "ticket.approved": ["round", "valid_from", "valid_until", "with_conditions"],
    "ticket.rejected": ["round", "veto"],
    "ticket.changes_requested": ["round"],
    "ticket.suspended": ["old"],
    "ticket.resumed": ["old"],
    "ticket.closed": ["old", "reason"],
    "ticket.attachment_added": ["attachment_id", "content_type", "sha256", "size"],
    "ticket.reminded": ["due_on", "reviewer_ids", "round"],
}
