"""Many clerks at once on PostgreSQL: one chair, one vote per member, whatever the timing."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from governance import services
from governance.models import Role, Vote

from .conftest import FOUNDED, make_user

CLERKS = 4


def race(call, count=CLERKS):
    """Run ``call(index)`` in ``count`` threads released together; return (results, refusals)."""
    start = threading.Barrier(count)
    results, refusals, errors = [], [], []

    def run(index):
        try:
            start.wait()
            results.append(call(index))
        except ValidationError as refusal:
            refusals.append(refusal)
        except BaseException as error:  # reported in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results, refusals


@pytest.mark.django_db(transaction=True)
def test_concurrent_chairs_one_wins(postgres_only, consortium_a, clerk_a):
    people = [make_user(f"candidate{n}") for n in range(CLERKS)]

    results, refusals = race(
        lambda n: services.role_assign(
            actor=clerk_a,
            consortium=consortium_a,
            kind=Role.Kind.CHAIR,
            user=people[n],
            start_on=FOUNDED,
        )
    )

    assert len(results) == 1
    assert len(refusals) == CLERKS - 1
    assert Role.objects.filter(kind=Role.Kind.CHAIR).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_votes_by_one_member_one_counts(
    postgres_only, add_member, attend, propose, clerk_a
):
    member = add_member()
    attend(member)
    resolution = propose()

    results, refusals = race(
        lambda n: services.resolution_vote_cast(
            actor=clerk_a,
            resolution=resolution,
            membership=member,
            choice=["for", "against"][n % 2],
        )
    )

    assert len(results) == 1
    assert len(refusals) == CLERKS - 1
    assert Vote.objects.filter(resolution=resolution).count() == 1
