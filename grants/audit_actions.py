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
    # The OpenID Provider (grants.oidc, grants/services/openid.py).
    "oidc.client_registered": ["client_id", "redirect_uris", "sector_identifier", "service"],
    "oidc.client_updated": ["changed", "is_active", "redirect_uris"],
    "oidc.client_secret_rotated": ["client_id"],
    "oidc.authorized": ["client_id", "scopes"],
    "oidc.token_issued": ["client_id", "grant_type", "scopes"],
}
