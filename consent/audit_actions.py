"""Consent's audit actions and the payload fields each may carry (``audit.actions``)."""

from django.utils.translation import gettext_lazy as _

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
    # A representative's decision: who acted, under which representation, as what.
    "acted_by",
    "representation",
    "relationship",
]

# A representation's step: the residents by pseudonymous id, never the person's name.
REPRESENTATION = ["representation", "representative", "represented", "relationship"]
REPRESENTATION_TERMS = ["evidence_kind", "valid_from", "valid_until", "comes_of_age_on"]

ACTIONS = {
    "resident.registered": ["language", "resident", "with_account"],
    "resident.account_opened": ["resident"],
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
    "notice.published": [
        "changed",
        "previous_version",
        "purpose",
        "sha256",
        "ticket_id",
        "version",
    ],
    "notice.easy_text_set": ["purpose", "sha256", "version"],
    "consent.given": DECISION,
    "consent.withdrawn": DECISION,
    "representation.requested": [*REPRESENTATION, "evidence_kind"],
    "representation.registered": REPRESENTATION + REPRESENTATION_TERMS,
    "representation.approved": REPRESENTATION + REPRESENTATION_TERMS,
    "representation.refused": REPRESENTATION,
    "representation.ended": [*REPRESENTATION, "ended_on", "reason"],
    "data.accessed": ["batch_sha256", "organization", "purpose", "residents", "time"],
    # Never the subject beside the resident: the public log must not link the two.
    "resident.pairwise_subject_issued": ["sector"],
    "consent.recipient_notice_created": ["jti", "purpose", "reason", "resident", "service"],
    # One entry per chunk of a fan-out: the notices whose ``batch`` is this id (ids and counts).
    "consent.recipient_notices_created": [
        "batch",
        "count",
        "grant",
        "jtis_sha256",
        "purpose",
        "reason",
        "residents",
        "services",
    ],
    "consent.recipient_notice_acknowledged": ["count", "jtis", "service"],
    "consent.recipient_notice_confirmed": ["jti", "outcome", "resident", "retained_until"],
}

# What each action means, in words (``audit.actions.label``).
LABELS = {
    "resident.registered": _("Resident registered"),
    "resident.account_opened": _("Portal account opened by the secretariat"),
    "resident.language_set": _("Resident's language changed"),
    "resident.erased": _("Resident's personal data erased"),
    "resident.passkey_added": _("Resident's passkey added"),
    "resident.passkey_removed": _("Resident's passkey removed"),
    "data_category.created": _("Data category created"),
    "data_category.changed": _("Data category changed"),
    "purpose.created": _("Purpose created"),
    "purpose.changed": _("Purpose changed"),
    "purpose.published": _("Purpose opened for consent"),
    "purpose.closed": _("Purpose closed"),
    "notice.published": _("Notice published"),
    "notice.easy_text_set": _("Notice's Easy Japanese text set"),
    "consent.given": _("Consent given"),
    "consent.withdrawn": _("Consent declined or withdrawn"),
    "representation.requested": _("Representation requested"),
    "representation.registered": _("Representation registered"),
    "representation.approved": _("Representation approved"),
    "representation.refused": _("Representation request refused"),
    "representation.ended": _("Representation ended"),
    "data.accessed": _("Personal data provided to a service"),
    "resident.pairwise_subject_issued": _("Service-specific resident id issued"),
    "consent.recipient_notice_created": _("Recipient told of a withdrawal"),
    "consent.recipient_notices_created": _("Recipients told of a withdrawal, in a batch"),
    "consent.recipient_notice_acknowledged": _("Recipient acknowledged withdrawals"),
    "consent.recipient_notice_confirmed": _("Recipient confirmed the data's deletion or retention"),
}
