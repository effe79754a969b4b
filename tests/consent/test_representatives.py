"""Representatives: registering, requesting, deciding for someone, ending; the services."""

import json
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import PendingEntry
from consent import selectors, services
from consent.models import ConsentRecord, Representation

from .conftest import as_resident, make_purpose

pytestmark = pytest.mark.django_db


def payload_of(action: str) -> dict:
    entry = PendingEntry.objects.filter(action=action).latest("id")
    return entry.payload if isinstance(entry.payload, dict) else json.loads(entry.payload)


TODAY = date(2026, 4, 1)


def make_child(consortium, name="会津 さくら"):
    """A child registered at the counter: a resident record without an account."""
    return services.resident_register(actor=None, consortia=[consortium], full_name=name)


def register(clerk, representative, represented, **extra):
    fields = {
        "relationship": Representation.Relationship.GUARDIAN,
        "evidence_kind": Representation.EvidenceKind.GUARDIANSHIP_REGISTRY,
        "evidence_checked_on": TODAY,
        "valid_from": TODAY,
        **extra,
    }
    return services.representation_register(
        actor=clerk,
        consortium=represented.consortia.get(),
        representative=representative,
        represented=represented,
        **fields,
    )


@pytest.fixture
def child(consortium_a):
    return make_child(consortium_a)


@pytest.fixture
def parent_of_child(clerk_a, resident, child):
    return register(
        clerk_a,
        resident,
        child,
        relationship=Representation.Relationship.PARENT,
        evidence_kind=Representation.EvidenceKind.FAMILY_REGISTER,
        comes_of_age_on=date(2031, 5, 5),
    )


def test_the_coming_of_age_is_the_18th_birthday():
    assert services.coming_of_age(date(2013, 5, 5)) == date(2031, 5, 5)
    assert services.coming_of_age(date(2012, 2, 29)) == date(2030, 3, 1)


def test_a_representative_decides_for_a_child_and_the_record_says_so(
    parent_of_child, resident, child, purpose
):
    record = services.consent_decide_for(
        actor=as_resident(resident),
        representation=parent_of_child,
        purpose=purpose,
        agree=True,
        now=timezone.make_aware(timezone.datetime(2026, 4, 2, 10)),
    )

    assert record.resident == child
    assert (record.acted_by, record.relationship, record.method) == (resident, "parent", "portal")
    assert record.representation == parent_of_child
    assert selectors.consent_allows(purpose, child) is True
    assert PendingEntry.objects.filter(action="consent.given").latest("id").actor_id == resident.pk
    payload = payload_of("consent.given")
    assert payload["resident"] == child.pk
    assert payload["acted_by"] == resident.pk
    assert payload["relationship"] == "parent"
    assert payload["representation"] == parent_of_child.pk
    assert "会津" not in str(payload)  # no name in the log


def test_registering_audits_ids_only_and_records_who_checked(clerk_a, parent_of_child, child):
    assert parent_of_child.state == Representation.State.ACTIVE
    assert parent_of_child.evidence_checked_by == clerk_a
    payload = payload_of("representation.registered")
    assert payload["represented"] == child.pk
    assert payload["comes_of_age_on"] == "2031-05-05"
    assert "さくら" not in str(payload)


def test_a_minor_needs_the_date_of_coming_of_age(clerk_a, resident, child):
    with pytest.raises(ValidationError) as error:
        register(clerk_a, resident, child, relationship=Representation.Relationship.PARENT)
    assert "comes_of_age_on" in error.value.message_dict
    assert not Representation.objects.exists()


def test_a_resident_of_another_consortium_cannot_be_registered(
    clerk_a, resident, consortium_a, consortium_b
):
    elsewhere = make_child(consortium_b, name="柏 みどり")
    with pytest.raises(ValidationError):
        services.representation_register(
            actor=clerk_a,
            consortium=consortium_a,
            representative=resident,
            represented=elsewhere,
            relationship="guardian",
            evidence_kind="guardianship_registry",
            evidence_checked_on=TODAY,
            valid_from=TODAY,
        )


def test_a_purpose_needing_the_persons_own_decision_refuses_the_representative(
    parent_of_child, resident, child, consortium_a, city_a, steps
):
    own = make_purpose(consortium_a, city_a, [steps], code="own-only", own_decision_only=True)
    with pytest.raises(ValidationError) as error:
        services.consent_decide_for(
            actor=as_resident(resident), representation=parent_of_child, purpose=own, agree=True
        )
    assert "本人だけ" in " ".join(error.value.messages)
    assert not ConsentRecord.objects.filter(resident=child).exists()


def test_an_ended_or_expired_representation_cannot_act(clerk_a, resident, child, purpose):
    adult = register(clerk_a, resident, child, valid_until=TODAY + timedelta(days=30))
    too_late = timezone.make_aware(timezone.datetime(2026, 5, 2, 12))
    with pytest.raises(ValidationError):
        services.consent_decide_for(
            actor=as_resident(resident),
            representation=adult,
            purpose=purpose,
            agree=True,
            now=too_late,
        )
    services.representation_end(actor=clerk_a, representation=adult, reason="secretariat")
    with pytest.raises(ValidationError):
        services.consent_decide_for(
            actor=as_resident(resident), representation=adult, purpose=purpose, agree=True
        )
    assert not ConsentRecord.objects.filter(resident=child).exists()
    assert payload_of("representation.ended")["reason"] == "secretariat"


def test_the_daily_task_ends_representations_at_their_date_and_at_coming_of_age(
    clerk_a, resident, other_resident, child, consortium_a
):
    minor = register(
        clerk_a, resident, child, relationship="parent", comes_of_age_on=date(2031, 5, 5)
    )
    elder = make_child(consortium_a, name="会津 梅")
    dated = register(clerk_a, other_resident, elder, valid_until=date(2030, 3, 31))

    assert services.representations_end_due(today=date(2030, 3, 31)) == 0
    assert services.representations_end_due(today=date(2030, 4, 1)) == 1
    assert services.representations_end_due(today=date(2031, 5, 5)) == 1
    minor.refresh_from_db()
    dated.refresh_from_db()
    assert (dated.state, dated.end_reason) == ("ended", "end_date")
    assert (minor.state, minor.end_reason, minor.ended_on) == (
        "ended",
        "came_of_age",
        date(2031, 5, 5),
    )


def test_an_online_request_is_approved_then_acts(clerk_a, resident, child, consortium_a):
    request = services.representation_request(
        actor=as_resident(resident),
        representative=resident,
        consortium=consortium_a,
        requested_name="会津 さくら",
        relationship="parent",
        evidence_kind="family_register",
    )
    assert request.state == "requested"
    assert "さくら" not in str(payload_of("representation.requested"))

    approved = services.representation_approve(
        actor=clerk_a,
        representation=request,
        represented=child,
        evidence_kind="family_register",
        evidence_checked_on=TODAY,
        valid_from=TODAY,
        comes_of_age_on=date(2031, 5, 5),
    )
    assert (approved.state, approved.requested_name, approved.represented) == (
        "active",
        "",
        child,
    )
    with pytest.raises(ValidationError):
        services.representation_refuse(actor=clerk_a, representation=approved)


def test_a_refused_request_forgets_the_name(clerk_a, resident, consortium_a):
    request = services.representation_request(
        actor=as_resident(resident),
        representative=resident,
        consortium=consortium_a,
        requested_name="会津 さくら",
        relationship="parent",
        evidence_kind="family_register",
    )
    refused = services.representation_refuse(actor=clerk_a, representation=request)
    assert (refused.state, refused.requested_name) == ("refused", "")
    assert PendingEntry.objects.filter(action="representation.refused").count() == 1


def test_the_person_confirms_a_decision_made_for_them(
    clerk_a, parent_of_child, resident, child, purpose
):
    services.consent_decide_for(
        actor=as_resident(resident), representation=parent_of_child, purpose=purpose, agree=True
    )
    services.representation_end(actor=clerk_a, representation=parent_of_child, reason="came_of_age")
    to_confirm = selectors.decisions_to_confirm(child)
    assert [state.purpose for state in to_confirm] == [purpose]

    mine = services.consent_confirm(actor=as_resident(child), resident=child, purpose=purpose)

    assert (mine.decision, mine.acted_by) == ("given", None)
    assert ConsentRecord.objects.filter(resident=child).count() == 2
    assert selectors.decisions_to_confirm(child) == []
    assert selectors.consent_allows(purpose, child) is True


def test_a_counter_decision_names_the_clerk(clerk_a, resident, purpose):
    record = services.consent_record_counter(
        actor=clerk_a, resident=resident, purpose=purpose, decision="given"
    )
    assert (record.method, record.recorded_by, record.paper_reference) == ("counter", clerk_a, "")
    assert payload_of("consent.given")["method"] == "counter"
    with pytest.raises(ValidationError):
        services.consent_record_counter(
            actor=None, resident=resident, purpose=purpose, decision="given"
        )


def test_deleting_the_representatives_account_ends_what_they_hold(parent_of_child, resident):
    services.resident_erase(actor=as_resident(resident), resident=resident)
    parent_of_child.refresh_from_db()
    assert (parent_of_child.state, parent_of_child.end_reason) == ("ended", "representative")


def test_another_resident_cannot_reach_a_representation(parent_of_child, other_resident):
    from django.http import Http404

    with pytest.raises(Http404):
        selectors.access_representation(other_resident, parent_of_child.pk)


def test_erasing_the_represented_person_ends_the_representation(parent_of_child, child):
    services.resident_erase(actor=None, resident=child)
    parent_of_child.refresh_from_db()
    assert (parent_of_child.state, parent_of_child.end_reason) == ("ended", "person_erased")


def test_the_export_lists_the_representations_on_both_sides(parent_of_child, resident, child):
    held = selectors.resident_export(resident)["representations"]
    assert [(r["role"], r["represented"]) for r in held] == [("representative", child.pk)]
    subject = selectors.resident_export(child)["representations"]
    assert [(r["role"], r["representative"]) for r in subject] == [("represented", resident.pk)]
