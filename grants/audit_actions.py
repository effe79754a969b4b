"""Grants' audit actions and the payload fields each may carry (``audit.actions``)."""

from django.utils.translation import gettext_lazy as _

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

# What each action means, in words (``audit.actions.label``).
LABELS = {
    "service.registered": _("Service registered"),
    "service.updated": _("Service changed"),
    "credential.issued": _("Service credential issued"),
    "credential.revoked": _("Service credential revoked"),
    "grant.issued": _("Data-use grant issued"),
    "grant.suspended": _("Data-use grant suspended"),
    "grant.reinstated": _("Data-use grant reinstated"),
    "grant.revoked": _("Data-use grant revoked"),
    "grant.expired": _("Data-use grant expired"),
    "grant.issuance_rule_set": _("Rule for issuing grants set"),
    "grant.auto_issue_skipped": _("Grant not issued automatically"),
    "grant.auto_issue_failed": _("Automatic grant issue failed"),
    "webhook.delivered": _("Notification delivered to a service"),
    "webhook.failed": _("Notification to a service failed"),
    "oidc.client_registered": _("Sign-in client registered"),
    "oidc.client_updated": _("Sign-in client changed"),
    "oidc.client_secret_rotated": _("Sign-in client secret renewed"),
    "oidc.authorized": _("Resident signed in to a service"),
    "oidc.token_issued": _("Sign-in token issued to a service"),
}
