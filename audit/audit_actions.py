"""The audit app's own actions and the payload fields each may carry (``audit.actions``)."""

from django.utils.translation import gettext_lazy as _

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

# What each action means, in words: the audit report, the admin and the pages show these, never
# the codes (``audit.actions.label``).
LABELS = {
    "audit.verification_failed": _("Verification of the audit log failed"),
    "key.created": _("Signing key created"),
    "key.rotated": _("Signing key rotated"),
    "key.revoked": _("Signing key revoked"),
    "key.publication_set": _("Publication period of a public key set"),
    "report.requested": _("Report requested"),
    "report.generated": _("Report produced"),
    "report.failed": _("Report could not be produced"),
    "witness.inconsistency": _("Witnessed log found inconsistent"),
    "witness.log_added": _("Log added for witnessing"),
    "witness.log_changed": _("Log for witnessing changed"),
}
