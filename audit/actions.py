"""
The actions the audit log accepts, and the payload fields each may carry.

Each app declares its own actions in its ``audit_actions.py`` and registers them from its
``AppConfig.ready()`` with ``declare``; this module imports no other app. ``record`` refuses an
action nobody declared, a payload field its action does not declare, and any value in the entry
that looks like an e-mail address or a telephone number: the log can never be erased (APPI
Article 22 asks that personal data no longer needed be erased; the log's entries cannot be), so
it holds ids and facts only.

Each action also has a label, what it means in words ("Member voted on a resolution"), declared
beside it: people read the labels (the audit report, the admin, the review pages), the log keeps
the codes. Labels are the declaring app's translatable strings; nothing here imports Django.
"""

import re
import unicodedata
from collections.abc import Iterable, Mapping

from .chain import PayloadError

_declared: dict[str, frozenset[str]] = {}
# A label is whatever the declaring app gives: a lazily translated string, rendered by str().
_labels: dict[str, object] = {}


class UndeclaredAction(PayloadError):
    """The action, or one of its payload fields, was never declared."""


def declare(
    actions: Mapping[str, Iterable[str]], labels: Mapping[str, object] | None = None
) -> None:
    """
    Declare actions and the payload fields each may carry (``{"consent.given": ["purpose"]}``),
    with what each means in words (``{"consent.given": _("Consent given")}``).

    Declaring an action again with other fields is a programming error, since two apps would
    then disagree on what an entry means.
    """
    for action, fields in actions.items():
        fields = frozenset(fields)
        known = _declared.get(action)
        if known is not None and known != fields:
            raise ValueError(f"audit action {action!r} is declared twice with different fields")
        _declared[action] = fields
    for action, label in (labels or {}).items():
        if action not in actions:
            raise ValueError(f"audit action {action!r} has a label but is not declared")
        _labels[action] = label


def label(action: str) -> object:
    """
    Return what ``action`` means in words (a translatable string); the code itself only for an
    action no app declares any more (an old entry's).
    """
    return _labels.get(action, action)


def unlabelled() -> list[str]:
    """Return the declared actions that have no label, sorted."""
    return sorted(set(_declared) - set(_labels))


def declared() -> dict[str, frozenset[str]]:
    """Return every declared action with its payload fields."""
    return dict(_declared)


def check_declared(action: str, payload: Mapping) -> None:
    """Raise UndeclaredAction unless ``action`` and each of ``payload``'s fields are declared."""
    fields = _declared.get(action)
    if fields is None:
        raise UndeclaredAction(
            f"audit action {action!r} is not declared: add it to its app's audit_actions.py"
        )
    extra = sorted(set(payload) - fields)
    if extra:
        raise UndeclaredAction(
            f"payload field(s) {', '.join(extra)} are not declared for {action!r}"
        )


# --- Values that look like contacts -----------------------------------------------------------

# Dashes people type between the groups of a telephone number, besides the ASCII hyphen (which
# NFKC already gives for the full-width one): the katakana prolonged sound mark, the minus sign,
# the hyphen and the dashes.
_DASHES = str.maketrans(dict.fromkeys("ー―‐‑‒–—−ｰ", "-"))
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# A run of digits with the separators a telephone number is written with, standing alone (no
# letter or digit on either side: a hash or a longer number is not a telephone number).
_PHONE_CANDIDATE_RE = re.compile(r"(?<![0-9A-Za-z])\+?\(?\d[\d ().-]{6,}\d(?![0-9A-Za-z])")


def _looks_like_phone(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if candidate.startswith("+"):
        # E.164: a country code and at most 15 digits in all (+81 90-1234-5678).
        return 8 <= len(digits) <= 15
    if candidate.startswith("(0") or candidate.startswith("0"):
        # Japanese numbers: 0 and nine digits (landlines, 03-1234-5678) or ten (mobile and IP
        # phones, 090-1234-5678, 050-..., and 0120/0800 free dial).
        return len(digits) in (10, 11)
    return False


def contact_in(text: str) -> str | None:
    """Return "an e-mail address" or "a telephone number" when ``text`` contains one, else None."""
    normal = unicodedata.normalize("NFKC", text).translate(_DASHES)
    if _EMAIL_RE.search(normal):
        return "an e-mail address"
    for match in _PHONE_CANDIDATE_RE.finditer(normal):
        if _looks_like_phone(match.group().strip()):
            return "a telephone number"
    return None


def check_no_contacts(value, path: str) -> None:
    """Raise PayloadError when any string in ``value`` (keys and nested values too) is a contact."""
    if isinstance(value, str):
        found = contact_in(value)
        if found:
            raise PayloadError(f"{path}: looks like {found}; the log holds ids only")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_no_contacts(key, f"{path} (a key)")
            check_no_contacts(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_no_contacts(item, f"{path}[{index}]")
