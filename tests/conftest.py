"""Fixtures shared by the whole suite: database set-up and the personas of style.md."""

import pytest
from django.db.backends.signals import connection_created


def _allow_test_flush(sender, connection, **kwargs):
    # The suite's flush between transactional tests TRUNCATEs every table; the audit table's
    # trigger lets that through only in a session that asks (audit/migrations/0002).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET audit.allow_truncate = 'on'")


connection_created.connect(_allow_test_flush)


@pytest.fixture(autouse=True)
def _tasks_run_synchronously(settings):
    """Run django-q2 tasks in the calling thread, so their effects can be asserted."""
    from django_q.conf import Conf

    previous = Conf.SYNC
    Conf.SYNC = True
    yield
    Conf.SYNC = previous


@pytest.fixture
def postgres_only(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
