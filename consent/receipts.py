"""
Consent receipts: a machine-readable record of each decision, with the fields of the Kantara
Initiative Consent Receipt Specification v1.1 and ISO/IEC TS 27560 that apply, signed by the
platform's key as a JWS (RFC 7515) that anyone can verify against ``/.well-known/jwks.json``.

The claims are a pure function of the stored record, its notice and the public audit log, so
a receipt downloaded twice says the same thing; it is signed when it is downloaded. Once a
signed checkpoint covers the decision's audit entry, ``auditLog.proof`` carries that entry's
inclusion proof against it (C2SP tlog-proof, with the witnesses' cosignatures), which anyone can
check offline: ``tools/verify_audit_export.py proof receipt``.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from audit.proofs import object_entry_proof
from audit.reports import FONT_FAMILY, font_face_css
from audit.services import object_label, sign_jwt

from .models import ConsentRecord

RECEIPT_TYPE = "consent-receipt+jwt"
RECEIPT_VERSION = "KI-CR-v1.1.0"
JURISDICTION = "JP"
# Kantara §4.4 "collectionMethod": how the consent was collected.
COLLECTION_METHODS = {
    ConsentRecord.Method.PORTAL: "web form (resident portal)",
    ConsentRecord.Method.PAPER: "paper form recorded by the secretariat",
    ConsentRecord.Method.OIDC: "web form (sign-in to a member service, OpenID Connect)",
    ConsentRecord.Method.COUNTER: "in person at the secretariat's counter, recorded by a clerk",
}


def receipt_claims(record: ConsentRecord) -> dict:
    """Return the receipt's claims for ``record``."""
    notice = record.notice
    terms = notice.terms
    # ISO 639-1, as the Kantara receipt asks: Easy Japanese is Japanese ("ja-easy" -> "ja").
    language = record.resident.language[:2]
    timestamp = int(record.decided_at.timestamp())
    sensitive_categories = [c["code"] for c in terms["categories"] if c["sensitive"]]
    recipients = terms["recipients"]
    policy_url = settings.PLATFORM_URL + reverse(
        "consent:notice", kwargs={"purpose_id": record.purpose_id, "version": notice.version}
    )
    return {
        # JWT (RFC 7519) claims.
        "iss": settings.PLATFORM_URL,
        "sub": record.resident_id,
        "iat": timestamp,
        "jti": str(record.receipt_id),
        # Kantara Consent Receipt v1.1 and ISO/IEC TS 27560 fields.
        "version": RECEIPT_VERSION,
        "jurisdiction": JURISDICTION,
        "consentTimestamp": timestamp,
        "collectionMethod": COLLECTION_METHODS[record.method],
        "consentReceiptID": str(record.receipt_id),
        "language": language,
        "piiPrincipalId": record.resident_id,
        "piiControllers": [
            {
                "piiController": terms["controller"]["name"][language]
                or terms["controller"]["name"]["ja"],
                "corporateNumber": terms["controller"]["corporate_number"],
                "onBehalf": False,
            }
        ],
        "policyUrl": policy_url,
        "services": [
            {
                "service": terms["title"][language] or terms["title"]["ja"],
                "purposes": [
                    {
                        "purpose": terms["explanation"][language] or terms["explanation"]["ja"],
                        "purposeId": record.purpose_id,
                        "consentType": "EXPLICIT",
                        "piiCategory": [c["code"] for c in terms["categories"]],
                        "primaryPurpose": True,
                        "termination": _termination(record, terms),
                        "thirdPartyDisclosure": bool(recipients),
                        "thirdPartyName": [
                            r["name"][language] or r["name"]["ja"] for r in recipients
                        ],
                        "retentionDays": terms["retention_days"],
                    }
                ],
            }
        ],
        "sensitive": bool(sensitive_categories),
        "spiCat": sensitive_categories,
        # ISO/IEC TS 27560: the event recorded, the notice it was made under.
        "consentStatus": record.decision,
        "notice": {"version": notice.version, "sha256": notice.sha256},
        "expiry": int(record.expires_at.timestamp()) if record.expires_at else None,
        # The decision's entry in the public audit log and, once a checkpoint covers it, its
        # inclusion proof (C2SP tlog-proof).
        "auditLog": audit_log_claim(record),
        # Decided for the principal by their representative (pseudonymous ids only).
        "representative": {
            "piiPrincipalId": record.acted_by_id,
            "relationship": record.relationship,
            "representationId": record.representation_id,
        }
        if record.acted_by_id
        else None,
    }


def audit_log_claim(record: ConsentRecord) -> dict:
    """Return where the decision is in the public audit log, with its proof when there is one."""
    object_type, object_id = object_label(record)
    return object_entry_proof(
        object_type=object_type, object_id=object_id, action_prefix="consent."
    )


def _termination(record: ConsentRecord, terms: dict) -> str:
    if record.decision == ConsentRecord.Decision.WITHDRAWN:
        return "withdrawn by this decision; no further use of the data"
    if record.expires_at:
        return f"until withdrawn, a new notice version, or {record.expires_at.date().isoformat()}"
    return "until withdrawn or a new notice version"


def receipt_jws(record: ConsentRecord) -> str:
    """Return the receipt for ``record`` signed by the platform's active key."""
    return sign_jwt(receipt_claims(record), typ=RECEIPT_TYPE)


def receipt_pdf(view) -> bytes:
    """
    Return the readable receipt (``selectors.ReceiptView``) as a PDF in the current language:
    for reading, printing and showing; the signed JSON is what proves it.
    """
    import weasyprint  # heavy; only this download needs it

    html = render_to_string(
        "consent/receipts/pdf.html",
        {"view": view, "font_face_css": font_face_css(), "font_family": FONT_FAMILY},
    )
    return weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(
        pdf_identifier=False
    )
