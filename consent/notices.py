"""
The frozen content of a purpose's notice: its terms as plain data, its texts in Japanese and
English, and the SHA-256 that receipts cite.
"""

import hashlib

from django.template.loader import render_to_string
from django.utils import translation

from audit.chain import canonical_json

from .models import Purpose

# Terms added after the first notices were frozen, with the value those notices meant: a
# notice without them is compared as if it had them (no new version for an unchanged purpose).
TERM_DEFAULTS = {
    "legal_basis": Purpose.LegalBasis.CONSENT.value,
    "processing": Purpose.Processing.NONE.value,
}


def purpose_terms(purpose: Purpose, *, categories=None, recipients=None) -> dict:
    """
    Return what a resident agrees to for ``purpose``: why (title and explanation), what data
    (with sensitivity), who controls and who receives it, on which legal basis, how it is
    processed, and for how long. Any change to this makes a new notice version.
    ``categories`` and ``recipients`` stand for the purpose's own when given (a form's values
    not yet saved).
    """
    categories = sorted(
        purpose.categories.all() if categories is None else categories,
        key=lambda category: category.code,
    )
    recipients = sorted(
        purpose.recipients.all() if recipients is None else recipients,
        key=lambda organization: organization.pk,
    )
    return {
        "title": {"ja": purpose.title_ja, "en": purpose.title_en},
        "explanation": {"ja": purpose.explanation_ja, "en": purpose.explanation_en},
        "categories": [
            {
                "code": category.code,
                "name": {"ja": category.name_ja, "en": category.name_en},
                "sensitive": category.sensitive,
            }
            for category in categories
        ],
        "controller": _organization(purpose.controller),
        "recipients": [_organization(organization) for organization in recipients],
        "retention_days": purpose.retention_days,
        "consent_valid_days": purpose.consent_valid_days,
        "legal_basis": purpose.legal_basis,
        "processing": purpose.processing,
    }


def terms_equal(old: dict, new: dict) -> bool:
    """Return True if the frozen terms ``old`` say what ``new`` says."""
    return {**TERM_DEFAULTS, **old} == {**TERM_DEFAULTS, **new}


def changed_terms(old: dict | None, new: dict) -> list[str]:
    """Return the names of the terms that differ between ``old`` and ``new``, sorted."""
    if old is None:
        return []
    old, new = {**TERM_DEFAULTS, **old}, {**TERM_DEFAULTS, **new}
    return sorted(name for name in set(old) | set(new) if old.get(name) != new.get(name))


def _organization(organization) -> dict:
    return {
        "id": organization.pk,
        "name": {"ja": organization.name_ja, "en": organization.name_en},
        "corporate_number": organization.corporate_number,
    }


def notice_text(*, purpose: Purpose, terms: dict, language: str, approval=None) -> str:
    """
    Return the plain-text notice for ``terms`` in ``language``, naming the board's decision
    ``approval`` (a ``consent.approvals.Approval``) it is published under.
    """
    with translation.override(language):
        return render_to_string(
            "consent/notice.txt",
            {
                "purpose": purpose,
                "consortium": purpose.consortium,
                "terms": terms,
                "lang": language,
                "sensitive": any(category["sensitive"] for category in terms["categories"]),
                "processing": Purpose.Processing(
                    terms.get("processing", TERM_DEFAULTS["processing"])
                ).label,
                "approval": approval,
            },
        ).strip()


def notice_sha256(*, purpose_id: int, version: int, text_ja: str, text_en: str, terms: dict) -> str:
    """Return the SHA-256 (hex) of the notice's canonical JSON (RFC 8785)."""
    document = {
        "purpose": purpose_id,
        "version": version,
        "text": {"ja": text_ja, "en": text_en},
        "terms": terms,
    }
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()
