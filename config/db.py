"""
Cursors for the few hot queries that Django's own cursors make slow on PostgreSQL.

Django's PostgreSQL cursors bind parameters on the client: each statement's text carries its
values (a 10,000-element array becomes a quarter of a megabyte of SQL to parse) and is planned
anew on every call. A server-side cursor sends the values apart, and a prepared one is planned
once per connection. Queries still pass through Django's cursor wrapper, so they are logged,
counted and have their errors translated like every other query.
"""

from contextlib import suppress

import psycopg
from django.conf import settings
from django.db import OperationalError, connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper


class _PreparingCursor(psycopg.Cursor):
    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


def server_side_cursor(*, prepare: bool = False) -> CursorWrapper:
    """
    Return a cursor that binds parameters on the server (PostgreSQL) and, with ``prepare``,
    prepares its statements once per connection (unless ``DB_PREPARED_STATEMENTS=0``, for a
    pooler that cannot keep them). On other databases, Django's own cursor.
    """
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    prepared = prepare and settings.DB_PREPARED_STATEMENTS
    raw = (_PreparingCursor if prepared else psycopg.Cursor)(connection.connection)
    if connection.queries_logged:
        return CursorDebugWrapper(raw, connection)
    return CursorWrapper(raw, connection)


def fetch_one_prepared(sql: str, params: list) -> tuple | None:
    """
    Run ``sql`` on a prepared server-side cursor and return its first row. A persistent
    connection that the server dropped (a restart) is replaced once: Django's health check,
    which would have pinged it before the request's first query, is not on this path.
    """
    for attempt in (1, 2):
        try:
            with server_side_cursor(prepare=True) as cursor:
                cursor.execute(sql, params)
                return cursor.fetchone()
        except OperationalError:
            if attempt == 2 or connection.in_atomic_block:
                raise
            with suppress(Exception):
                connection.close()
    return None  # not reached
