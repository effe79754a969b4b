"""The audit app's own actions and the payload fields each may carry (``audit.actions``)."""

ACTIONS = {
    "audit.verification_failed": ["first_bad_seq", "fault", "problems", "head_seq"],
    "key.created": ["kid", "algorithm", "retired_kid"],
    "key.rotated": ["kid", "algorithm", "retired_kid"],
    "key.revoked": ["kid", "algorithm", "reason"],
    "key.publication_set": ["kid", "until"],
    "report.requested": ["kind", "language"],
    "report.generated": ["kind", "sha256", "size", "after_seq"],
    "report.failed": ["kind", "attempts"],
    "witness.inconsistency": ["origin", "size", "cosigned_size", "fault"],
    "witness.log_added": ["origin", "active"],
    "witness.log_changed": ["origin", "active"],
}
