"""The first signing key of an algorithm, asked for by many requests at once on PostgreSQL."""

import threading

import pytest
from django.db import connection

from audit import keys, services
from audit.models import Entry, SigningKey

CALLERS = 6


@pytest.mark.django_db(transaction=True)
def test_callers_racing_for_the_first_key_all_get_the_one_committed():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    start = threading.Barrier(CALLERS)
    kids: list[str] = []
    errors: list[BaseException] = []

    def caller() -> None:
        try:
            start.wait()
            kids.append(services.signing_key_ensure(algorithm=keys.RS256).kid)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=caller) for _ in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors, errors
    rs256 = SigningKey.objects.filter(algorithm=keys.RS256)
    assert list(rs256.values_list("status", flat=True)) == [SigningKey.Status.ACTIVE]
    assert set(kids) == {rs256.get().kid}
    # One creation, no rotation; pending entries are sealed when their writers commit.
    services.seal()
    rs256_actions = [
        entry.action
        for entry in Entry.objects.filter(action__startswith="key.").order_by("seq")
        if entry.data["algorithm"] == keys.RS256
    ]
    assert rs256_actions == ["key.created"]
