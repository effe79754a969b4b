"""
Each signing-key event goes with the audit entry its service writes (audit_verify matches them
one for one): an event made by other means, or an entry whose event is gone, is named.
"""

import datetime

import pytest
from django.utils import timezone

from audit import selectors, services
from audit.models import Entry, SigningKeyEvent

from .helpers import raw_sql, verify_json

pytestmark = pytest.mark.django_db

UNTIL = datetime.datetime(2030, 4, 1, tzinfo=datetime.UTC)


def _rotated_and_published():
    """Rotate the first key (a retirement) and set its publication end twice; return it."""
    first = services.signing_key_create(actor=None)
    services.signing_key_create(actor=None)
    services.signing_key_set_publish_until(actor=None, key=first, until=UNTIL)
    services.signing_key_set_publish_until(actor=None, key=first, until=None)
    services.seal()
    return first


def _kinds(verdict) -> set[tuple[int, str]]:
    return {(problem["seq"], problem["kind"]) for problem in verdict["problems"]}


def test_the_services_events_and_entries_match():
    first = _rotated_and_published()
    services.signing_key_revoke(actor=None, key=first)
    services.seal()

    code, verdict = verify_json()

    assert (code, verdict["problems"]) == (0, [])


@pytest.mark.parametrize(
    "kind, reason, until",
    [
        (SigningKeyEvent.Kind.RETIRED, SigningKeyEvent.Reason.ROTATED, None),
        (SigningKeyEvent.Kind.REVOKED, SigningKeyEvent.Reason.COMPROMISED, None),
        (SigningKeyEvent.Kind.PUBLICATION, SigningKeyEvent.Reason.SIGNATURES_EXPIRE, UNTIL),
    ],
)
def test_an_event_without_its_entry_is_named(kind, reason, until):
    _rotated_and_published()
    active = selectors.signing_key_active("EdDSA")
    # Written past the service: no audit entry goes with it.
    event = SigningKeyEvent.objects.create(
        key=active, kind=kind, reason=reason, at=timezone.now(), until=until
    )

    code, verdict = verify_json()

    assert code == 1
    assert (0, "unrecorded_key_event") in _kinds(verdict)
    named = [p for p in verdict["problems"] if p["kind"] == "unrecorded_key_event"]
    assert len(named) == 1 and f"event {event.pk} ({kind}" in named[0]["detail"]


def test_an_entry_whose_event_is_gone_is_named():
    first = _rotated_and_published()
    services.signing_key_revoke(actor=None, key=first)
    services.seal()
    revoked_at = Entry.objects.get(action="key.revoked").seq
    with raw_sql() as cursor:
        cursor.execute(
            "DELETE FROM audit_signingkeyevent WHERE key_id = %s AND kind = 'revoked'", [first.pk]
        )

    code, verdict = verify_json()

    assert code == 1
    assert (revoked_at, "missing_key_event") in _kinds(verdict)
