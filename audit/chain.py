"""
The audit chain's canonical encoding and hashing.

An entry's hash is SHA-256 over the RFC 8785 (JSON Canonicalization Scheme) encoding of a JSON
object holding every field of the entry but the hash. Payloads are restricted so that Python's
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` is exactly RFC 8785:

- no floating-point numbers; integers within +/-(2**53 - 1), where JCS's number form is the
  plain decimal form;
- object keys in ASCII, where sorting by code point equals JCS's sort by UTF-16 code unit.

README.md documents the encoding byte for byte; ``tools/verify_audit_export.py`` reimplements
it without this package. Nothing here imports Django.
"""

import hashlib
import json
import re
from datetime import UTC, datetime
from json.encoder import encode_basestring  # the C string encoder json.dumps itself uses

GENESIS_HASH = "0" * 64
MAX_SAFE_INTEGER = 2**53 - 1
MAX_STRING_LENGTH = 300
ACTION_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
# Payloads hold ids and facts. A key that names personal data or free text is refused outright,
# so that a careless caller fails in development instead of writing a name into a log that can
# never be edited.
FORBIDDEN_KEY_RE = re.compile(
    r"(^|_)(name|names|email|mail|phone|tel|address|contact|comment|comments|note|notes|"
    r"text|body|message|password|secret)($|_)"
)


class PayloadError(ValueError):
    """The payload cannot be written to the audit log."""


def check_payload(value, path: str = "payload") -> None:
    """Raise PayloadError unless ``value`` lies in the canonicalisable, name-free domain."""
    if value is None or isinstance(value, bool | str):
        if isinstance(value, str) and len(value) > MAX_STRING_LENGTH:
            raise PayloadError(f"{path}: strings are limited to {MAX_STRING_LENGTH} characters")
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise PayloadError(f"{path}: integer outside +/-(2**53 - 1)")
        return
    if isinstance(value, float):
        raise PayloadError(f"{path}: floating-point numbers are not allowed; use a string")
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_payload(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise PayloadError(f"{path}: object keys must be ASCII strings")
            if FORBIDDEN_KEY_RE.search(key.lower()):
                raise PayloadError(f"{path}.{key}: personal data and free text stay out of the log")
            check_payload(item, f"{path}.{key}")
        return
    raise PayloadError(f"{path}: {type(value).__name__} is not a JSON value")


def canonical_json(value) -> str:
    """Return the RFC 8785 text of ``value`` (which must pass ``check_payload``)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def format_time(moment: datetime) -> str:
    """Return the canonical time form: UTC, always six fraction digits, ``Z``."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}Z"


def entry_text(
    *,
    seq: int,
    time: str,
    actor_type: str,
    actor_id: str,
    action: str,
    object_type: str,
    object_id: str,
    consortium_id: int | None,
    payload: str,
    prev_hash: str,
) -> str:
    """
    Return the canonical text that an entry's hash covers.

    ``payload`` is the payload's own canonical text. The members are written in JCS order
    directly, which is what ``canonical_json`` of the same object returns, only faster.
    """
    return (
        '{"action":' + encode_basestring(action)
        + ',"actor_id":' + encode_basestring(actor_id)
        + ',"actor_type":' + encode_basestring(actor_type)
        + ',"consortium_id":' + ("null" if consortium_id is None else str(int(consortium_id)))
        + ',"object_id":' + encode_basestring(object_id)
        + ',"object_type":' + encode_basestring(object_type)
        + ',"payload":' + payload
        + ',"prev_hash":' + encode_basestring(prev_hash)
        + ',"seq":' + str(int(seq))
        + ',"time":' + encode_basestring(time)
        + "}"
    )  # fmt: skip


def entry_hash(**fields) -> str:
    """Return the hex SHA-256 of the entry's canonical text."""
    return hashlib.sha256(entry_text(**fields).encode()).hexdigest()
