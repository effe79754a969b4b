"""Grants' audit actions and the payload fields each may carry (``audit.actions``)."""

GRANT_STATUS = ["event", "jti", "reason"]
WEBHOOK = ["attempt", "jti", "service", "status_code"]

ACTIONS = {
    "service.registered": ["organization"],
    "service.updated": ["changed", "is_active", "reason"],
    "credential.issued": ["client_id", "previous", "previous_until", "service"],
    "credential.revoked": ["client_id", "service"],
    "grant.issued": ["exp", "jti", "kid", "nbf", "purpose", "service", "ticket"],
    "grant.suspended": GRANT_STATUS,
    "grant.reinstated": GRANT_STATUS,
    "grant.revoked": GRANT_STATUS,
    "grant.expired": ["event", "exp", "jti", "previous"],
    "grant.issuance_rule_set": ["algorithm", "enabled", "third_party_provision"],
    "grant.auto_issue_skipped": ["reason", "result", "ticket"],
    "grant.auto_issue_failed": ["error", "reason", "result", "ticket"],
    "webhook.delivered": WEBHOOK,
    "webhook.failed": WEBHOOK,
}
