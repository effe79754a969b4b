"""On PostgreSQL the entry table itself refuses UPDATE, DELETE and TRUNCATE."""

import pytest
from django.db import DatabaseError, connection, transaction

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
def test_raw_changes_to_entries_are_refused(statement):
    build_chain(3)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL audit.allow_truncate = 'off'")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute(statement)
        cursor.execute("SELECT count(*) FROM audit_entry WHERE seq IS NOT NULL")
        assert cursor.fetchone()[0] == 3


def test_an_unsealed_entry_may_only_be_sealed():
    from audit import services

    entry = services.record(actor=None, action="test.recorded")
    with (
        connection.cursor() as cursor,
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
    ):
        cursor.execute("UPDATE audit_entry SET action = 'x.y' WHERE id = %s", [entry.pk])
    assert services.seal() == 1
