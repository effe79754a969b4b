"""Many writers at once on PostgreSQL: one chain, no gaps, no duplicates, verifying clean."""

import threading

import pytest
from django.db import connection, transaction

from audit import services
from audit.models import Entry
from audit.verification import verify_chain

WRITERS = 8
APPENDS = 500


@pytest.mark.django_db(transaction=True)
def test_eight_writers_appending_500_entries_each_make_one_chain():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(number: int) -> None:
        try:
            start.wait()
            for index in range(APPENDS):
                with transaction.atomic():  # each append its own transaction, sealed on commit
                    services.record(
                        actor=None,
                        action="test.appended",
                        object_type="writer",
                        object_id=str(number),
                        payload={"index": index},
                    )
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    services.seal()  # whatever a writer left for the lock's holder

    seqs = list(Entry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, WRITERS * APPENDS + 1))
    per_writer = {str(n): Entry.objects.filter(object_id=str(n)).count() for n in range(WRITERS)}
    assert set(per_writer.values()) == {APPENDS}
    verdict = verify_chain()
    assert verdict.ok, verdict.problems
    assert verdict.entries == WRITERS * APPENDS
