"""On PostgreSQL the audit tables themselves refuse to be changed."""

import pytest
from django.db import DatabaseError, connection, transaction

from audit import services
from audit.models import PendingEntry

from .helpers import build_chain

pytestmark = pytest.mark.usefixtures("postgres_only")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entry SET payload = '{}' WHERE seq = 2",
        "UPDATE audit_entry SET seq = 99 WHERE seq = 2",
        "DELETE FROM audit_entry WHERE seq = 2",
        "TRUNCATE audit_entry",
    ],
)
def test_raw_changes_to_the_chain_are_refused(statement):
    build_chain(3)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL audit.allow_truncate = 'off'")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute(statement)
        cursor.execute("SELECT count(*) FROM audit_entry")
        assert cursor.fetchone()[0] == 3


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_pending SET action = 'x.y'",
        "DELETE FROM audit_pending",
        "TRUNCATE audit_pending",
    ],
)
def test_pending_entries_cannot_be_changed_or_dropped_before_their_seal(statement):
    services.record(actor=None, action="test.recorded")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL audit.allow_truncate = 'off'")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute(statement)
    assert PendingEntry.objects.get().action == "test.recorded"
    assert services.seal() == 1
    assert not PendingEntry.objects.exists()
