"""Consent's audit actions and the payload fields each may carry (``audit.actions``)."""

# A decision's payload: ``services.decision_payload``.
DECISION = [
    "resident",
    "purpose",
    "notice_version",
    "notice_sha256",
    "method",
    "paper_reference",
    "receipt",
    "decided_at",
    "expires_at",
]

ACTIONS = {
    "resident.registered": ["language", "resident", "with_account"],
    "resident.language_set": ["language", "resident"],
    "resident.erased": ["consents_withdrawn", "resident"],
    "resident.passkey_added": ["passkey", "resident"],
    "resident.passkey_removed": ["passkey", "resident"],
    "data_category.created": ["code", "sensitive"],
    "data_category.changed": ["code", "sensitive"],
    "purpose.created": ["code", "status"],
    "purpose.changed": ["code", "status"],
    "purpose.published": ["code", "notice_version"],
    "purpose.closed": ["code"],
    "notice.published": ["purpose", "sha256", "version"],
    "consent.given": DECISION,
    "consent.withdrawn": DECISION,
    "data.accessed": ["batch_sha256", "organization", "purpose", "residents", "time"],
    # Never the subject beside the resident: the public log must not link the two.
    "resident.pairwise_subject_issued": ["sector"],
    "consent.recipient_notice_created": ["jti", "purpose", "reason", "resident", "service"],
    "consent.recipient_notice_acknowledged": ["count", "jtis", "service"],
    "consent.recipient_notice_confirmed": ["jti", "outcome", "resident", "retained_until"],
}
