from datetime import timedelta

import pytest
from django.utils import timezone

from consent import selectors, services
from consent.models import ConsentRecord, ConsentState, Resident

from .conftest import as_resident, make_purpose

pytestmark = pytest.mark.django_db


def _residents(consortium, count):
    return [services.resident_register(actor=None, consortia=[consortium]) for _ in range(count)]


def test_bulk_check_answers_each_resident(purpose, consortium_a, city_a, steps, company_a):
    agreed, withdrew, silent, old_notice = _residents(consortium_a, 4)
    other = make_purpose(consortium_a, city_a, [steps], code="other")
    for resident in (agreed, withdrew, old_notice):
        services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)
    services.consent_withdraw(actor=as_resident(withdrew), resident=withdrew, purpose=purpose)
    # Consent to another purpose says nothing about this one.
    services.consent_give(actor=as_resident(silent), resident=silent, purpose=other)
    # A new notice version: only those who agree again count.
    services.purpose_save(actor=None, purpose=purpose, categories=[steps], recipients=[company_a])
    purpose.refresh_from_db()
    services.consent_give(actor=as_resident(agreed), resident=agreed, purpose=purpose)

    ids = [r.pseudonymous_id for r in (agreed, withdrew, silent, old_notice)] + ["unknown"]
    answer = selectors.consent_allows_many(purpose, ids)

    assert answer == {
        agreed.pseudonymous_id: True,
        withdrew.pseudonymous_id: False,
        silent.pseudonymous_id: False,
        old_notice.pseudonymous_id: False,
        "unknown": False,
    }
    for resident in (agreed, withdrew, silent, old_notice):
        assert selectors.consent_allows(purpose, resident) == answer[resident.pseudonymous_id]


def test_bulk_check_handles_more_ids_than_one_statement_takes(purpose, consortium_a):
    residents = _residents(consortium_a, 3)
    for resident in residents[:2]:
        services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)
    ids = [f"x{index:05d}" for index in range(1200)] + [r.pk for r in residents]

    answer = selectors.consent_allows_many(purpose, ids)

    assert len(answer) == 1203
    assert [pid for pid, allowed in answer.items() if allowed] == [r.pk for r in residents[:2]]


def test_bulk_check_of_a_closed_purpose_is_all_false(purpose, resident):
    services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)
    services.purpose_close(actor=None, purpose=purpose)
    purpose.refresh_from_db()
    assert selectors.consent_allows_many(purpose, [resident.pk]) == {resident.pk: False}


def test_purpose_counts(purpose, consortium_a):
    residents = _residents(consortium_a, 5)
    for resident in residents[:3]:
        services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)
    services.consent_withdraw(
        actor=as_resident(residents[0]), resident=residents[0], purpose=purpose
    )
    services.consent_withdraw(
        actor=as_resident(residents[3]), resident=residents[3], purpose=purpose
    )

    counts = selectors.purpose_counts(purpose)

    assert (counts.opted_in, counts.opted_out, counts.ask_again) == (2, 2, 0)


def test_pseudonymous_ids_are_random_and_unguessable(consortium_a):
    residents = _residents(consortium_a, 20)
    ids = {r.pseudonymous_id for r in residents}
    assert len(ids) == 20
    assert all(len(pid) == 24 and pid.isalnum() and pid.islower() for pid in ids)
    assert Resident.objects.count() == 20


def _states_match_the_latest_records():
    """Assert the current-state table holds exactly each pair's latest record."""
    latest = {}
    for record in ConsentRecord.objects.order_by("id"):
        latest[record.purpose_id, record.resident_id] = record
    states = {(s.purpose_id, s.resident_id): s for s in ConsentState.objects.all()}
    assert states.keys() == latest.keys()
    for key, record in latest.items():
        state = states[key]
        assert (state.record_id, state.decision, state.notice_id, state.expires_at) == (
            record.pk,
            record.decision,
            record.notice_id,
            record.expires_at,
        )


def test_the_current_state_follows_every_decision(purpose, consortium_a, company_a, steps):
    one, two = _residents(consortium_a, 2)
    services.consent_give(actor=as_resident(one), resident=one, purpose=purpose)
    _states_match_the_latest_records()
    services.consent_withdraw(actor=as_resident(one), resident=one, purpose=purpose)
    services.consent_give(actor=as_resident(two), resident=two, purpose=purpose)
    _states_match_the_latest_records()
    services.purpose_save(actor=None, purpose=purpose, categories=[steps], recipients=[company_a])
    purpose.refresh_from_db()
    services.consent_give(actor=as_resident(one), resident=one, purpose=purpose)  # new notice
    _states_match_the_latest_records()
    services.consent_withdraw_all(actor=as_resident(two), resident=two)
    _states_match_the_latest_records()
    assert ConsentState.objects.count() == 2  # one per resident and purpose, never more


def test_the_migration_fills_the_current_state_from_the_records(purpose, consortium_a):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    residents = _residents(consortium_a, 3)
    for resident in residents:
        services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)
    services.consent_withdraw(
        actor=as_resident(residents[0]), resident=residents[0], purpose=purpose
    )
    ConsentState.objects.all().delete()
    migration = importlib.import_module("consent.migrations.0004_consent_state")
    # The migration's function needs only these two of a schema editor (SQLite refuses a real
    # one inside the test's transaction).
    editor = SimpleNamespace(connection=connection, execute=connection.cursor().execute)
    migration.backfill(apps, editor)
    _states_match_the_latest_records()


def test_an_id_with_a_comma_is_unknown_not_two_residents(purpose, consortium_a):
    one, two = _residents(consortium_a, 2)
    for resident in (one, two):
        services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)
    joined = f"{one.pk},{two.pk}"
    assert selectors.consent_allows_many(purpose, [joined, one.pk]) == {joined: False, one.pk: True}


def test_the_migration_rewrites_json_batches_as_lines(purpose, city_a):
    import importlib

    from django.apps import apps

    from consent.models import DataAccessBatch

    batch = DataAccessBatch.objects.create(
        purpose=purpose,
        organization=city_a,
        service_name="bus",
        grant_jti="j",
        batch_sha256="0" * 64,
        accessed_at=timezone.now(),
        resident_ids='["aaa", "bbb"]',  # as the first version of the table stored them
        residents=2,
    )
    migration = importlib.import_module("consent.migrations.0006_batch_ids_as_lines")
    migration.ids_as_lines(apps, None)
    batch.refresh_from_db()
    assert batch.ids() == ["aaa", "bbb"]


def test_withdrawals_without_notices_are_only_those_that_ended_a_consent_in_one_query(
    consortium_a, purpose, django_assert_num_queries
):
    start = timezone.now() - timedelta(seconds=1)
    ended = []
    *people, never = _residents(consortium_a, 5)
    for person in people:
        services.consent_give(actor=as_resident(person), resident=person, purpose=purpose)
        ended.append(
            services.consent_withdraw(actor=as_resident(person), resident=person, purpose=purpose)
        )
    # Declining without ever agreeing, and withdrawing twice, tell nobody.
    services.consent_withdraw(actor=as_resident(never), resident=never, purpose=purpose)
    twice = ended[0].resident
    services.consent_withdraw(actor=as_resident(twice), resident=twice, purpose=purpose)

    with django_assert_num_queries(1):
        found = selectors.withdrawals_without_notices(start, timezone.now() + timedelta(seconds=1))
    assert found == [(record.resident_id, purpose.pk, record.pk) for record in ended]
