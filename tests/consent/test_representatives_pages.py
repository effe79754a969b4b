"""Representatives through the portal and the admin, tested from outside."""

import json
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consent import services
from consent.models import ConsentRecord, Representation, Resident

from .conftest import as_resident, make_purpose
from .test_representatives import make_child, register

pytestmark = pytest.mark.django_db


def signed_in(resident) -> Client:
    client = Client()
    client.force_login(resident.user)
    return client


@pytest.fixture
def child(consortium_a):
    return make_child(consortium_a)


@pytest.fixture
def representation(clerk_a, resident, child):
    return register(
        clerk_a,
        resident,
        child,
        relationship="parent",
        evidence_kind="family_register",
        valid_from=timezone.localdate(),
        comes_of_age_on=timezone.localdate() + timedelta(days=3650),
    )


def test_the_representative_sees_the_person_and_decides_for_them(
    resident, child, representation, purpose
):
    client = signed_in(resident)
    dashboard = client.get(reverse("consent:portal")).content.decode()
    assert "会津 さくら" in dashboard
    page = reverse("consent:represented", args=[representation.pk])
    assert page in dashboard
    assert client.get(page).status_code == 200

    done = client.post(reverse("consent:give_for", args=[representation.pk, purpose.pk]))

    assert done.status_code == 302 and done["Location"].endswith(page + "#messages")
    record = ConsentRecord.objects.get(resident=child)
    assert (record.decision, record.acted_by, record.relationship) == ("given", resident, "parent")
    assert ConsentRecord.objects.filter(resident=resident).count() == 0  # not the parent's own
    history = client.get(page).content.decode()
    assert "代理人" in history  # "decided by the representative"

    receipt = client.get(reverse("consent:receipt_page", args=[record.receipt_id]))
    assert receipt.status_code == 200
    assert resident.pk in receipt.content.decode() and child.pk in receipt.content.decode()
    document = json.loads(client.get(reverse("consent:receipt", args=[record.receipt_id])).content)
    assert document["receipt"]["piiPrincipalId"] == child.pk
    assert document["receipt"]["representative"] == {
        "piiPrincipalId": resident.pk,
        "relationship": "parent",
        "representationId": representation.pk,
    }

    client.post(reverse("consent:withdraw_for", args=[representation.pk, purpose.pk]))
    assert ConsentRecord.objects.filter(resident=child).latest("id").decision == "withdrawn"


def test_a_purpose_for_the_persons_own_decision_is_refused_with_a_message(
    resident, representation, consortium_a, city_a, steps
):
    own = make_purpose(consortium_a, city_a, [steps], code="own-only", own_decision_only=True)
    client = signed_in(resident)
    page = client.get(reverse("consent:represented", args=[representation.pk])).content.decode()
    assert reverse("consent:give_for", args=[representation.pk, own.pk]) not in page
    assert "本人" in page

    refused = client.post(
        reverse("consent:give_for", args=[representation.pk, own.pk]), follow=True
    )
    assert refused.status_code == 200
    assert "本人" in refused.content.decode()
    assert not ConsentRecord.objects.exists()


def test_another_resident_cannot_act_for_someone_they_do_not_represent(
    other_resident, representation, purpose
):
    client = signed_in(other_resident)
    assert client.get(reverse("consent:represented", args=[representation.pk])).status_code == 404
    post = client.post(reverse("consent:give_for", args=[representation.pk, purpose.pk]))
    assert post.status_code == 404
    assert not ConsentRecord.objects.exists()


def test_an_ended_representation_cannot_act(clerk_a, resident, representation, purpose):
    services.representation_end(actor=clerk_a, representation=representation, reason="secretariat")
    client = signed_in(resident)
    assert client.get(reverse("consent:represented", args=[representation.pk])).status_code == 404
    post = client.post(reverse("consent:give_for", args=[representation.pk, purpose.pk]))
    assert post.status_code == 404
    assert not ConsentRecord.objects.exists()


def test_a_representation_past_its_date_stops_at_use_before_the_daily_task(
    clerk_a, resident, consortium_a, purpose
):
    elder = make_child(consortium_a, name="会津 梅")
    expired = register(
        clerk_a,
        resident,
        elder,
        valid_from=timezone.localdate() - timedelta(days=30),
        valid_until=timezone.localdate() - timedelta(days=1),
    )
    assert expired.state == "active"  # the daily task has not run
    client = signed_in(resident)
    post = client.post(reverse("consent:give_for", args=[expired.pk, purpose.pk]))
    assert post.status_code == 404


def test_a_decision_for_someone_else_cannot_name_a_foreign_purpose(
    resident, representation, consortium_b, company_a, steps
):
    foreign = make_purpose(consortium_b, company_a, [steps], code="kashiwa")
    client = signed_in(resident)
    post = client.post(reverse("consent:give_for", args=[representation.pk, foreign.pk]))
    assert post.status_code == 404


def test_a_resident_requests_online_and_the_form_keeps_what_was_typed(resident):
    client = signed_in(resident)
    url = reverse("consent:representation_request")
    assert client.get(url).status_code == 200
    bad = client.post(url, {"requested_name": "会津 さくら", "relationship": ""})
    assert bad.status_code == 200
    assert "会津 さくら" in bad.content.decode()
    assert bad.context["form"].errors["relationship"]

    done = client.post(
        url,
        {
            "requested_name": "会津 さくら",
            "relationship": "parent",
            "evidence_kind": "family_register",
        },
    )
    assert done.status_code == 302
    request = Representation.objects.get()
    assert (request.state, request.representative) == ("requested", resident)
    dashboard = client.get(reverse("consent:portal")).content.decode()
    assert "事務局" in dashboard


def test_the_secretariat_registers_a_representative_for_a_new_person(
    clerk_a, resident, consortium_a
):
    client = Client()
    client.force_login(clerk_a)
    url = reverse("admin:consent_representation_add")
    data = {
        "consortium": consortium_a.pk,
        "representative": resident.pk,
        "represented": "",
        "new_person_name": "会津 梅",
        "relationship": "guardian",
        "evidence_kind": "guardianship_registry",
        "evidence_checked_on": "令和8年4月1日",
        "valid_from": "2026/04/01",
        "valid_until": "",
        "birth_date": "",
    }
    missing = client.post(url, {**data, "new_person_name": ""})
    assert missing.status_code == 200 and missing.context["form"].errors
    minor_without_birth = client.post(url, {**data, "relationship": "parent"})
    assert minor_without_birth.context["form"].errors["birth_date"]

    done = client.post(url, data)

    assert done.status_code == 302
    representation = Representation.objects.get()
    assert representation.state == "active"
    assert representation.evidence_checked_by == clerk_a
    assert representation.evidence_checked_on == date(2026, 4, 1)
    assert representation.represented.profile.full_name == "会津 梅"
    assert representation.represented.user is None
    change = client.get(reverse("admin:consent_representation_change", args=[representation.pk]))
    assert change.status_code == 200


def test_the_secretariat_approves_a_request_for_a_child(clerk_a, resident, child, consortium_a):
    request = services.representation_request(
        actor=as_resident(resident),
        representative=resident,
        consortium=consortium_a,
        requested_name="会津 さくら",
        relationship="parent",
        evidence_kind="family_register",
    )
    client = Client()
    client.force_login(clerk_a)
    url = reverse("admin:consent_representation_approve", args=[request.pk])
    page = client.get(url)
    assert page.status_code == 200 and "会津 さくら" in page.content.decode()

    done = client.post(
        url,
        {
            "represented": child.pk,
            "new_person_name": "",
            "relationship": "parent",
            "evidence_kind": "family_register",
            "evidence_checked_on": "2026-04-01",
            "valid_from": "2026-04-01",
            "valid_until": "",
            "birth_date": "2013-05-05",
        },
    )

    assert done.status_code == 302
    request.refresh_from_db()
    assert (request.state, request.represented, request.comes_of_age_on) == (
        "active",
        child,
        date(2031, 5, 5),
    )
    assert request.requested_name == ""


def test_the_secretariat_ends_a_representation_with_the_admin_action(clerk_a, representation):
    client = Client()
    client.force_login(clerk_a)
    response = client.post(
        reverse("admin:consent_representation_changelist"),
        {"action": "end", "_selected_action": [representation.pk]},
    )
    assert response.status_code == 302
    representation.refresh_from_db()
    assert (representation.state, representation.end_reason) == ("ended", "secretariat")


def test_another_consortiums_clerk_can_neither_see_nor_register(
    clerk_b, representation, resident, consortium_a, consortium_b
):
    client = Client()
    client.force_login(clerk_b)
    listing = client.get(reverse("admin:consent_representation_changelist")).content.decode()
    assert resident.pk not in listing
    change = reverse("admin:consent_representation_change", args=[representation.pk])
    assert client.get(change).status_code == 404
    approve = reverse("admin:consent_representation_approve", args=[representation.pk])
    assert client.get(approve).status_code == 404
    # Another consortium is no choice, and a resident of A is unknown in B.
    response = client.post(
        reverse("admin:consent_representation_add"),
        {
            "consortium": consortium_a.pk,
            "representative": resident.pk,
            "new_person_name": "会津 梅",
            "relationship": "guardian",
            "evidence_kind": "guardianship_registry",
            "evidence_checked_on": "2026-04-01",
            "valid_from": "2026-04-01",
        },
    )
    assert response.status_code == 200 and response.context["form"].errors["consortium"]
    response = client.post(
        reverse("admin:consent_representation_add"),
        {
            "consortium": consortium_b.pk,
            "representative": resident.pk,
            "new_person_name": "会津 梅",
            "relationship": "guardian",
            "evidence_kind": "guardianship_registry",
            "evidence_checked_on": "2026-04-01",
            "valid_from": "2026-04-01",
        },
    )
    assert response.status_code == 200 and response.context["form"].errors["representative"]
    assert Representation.objects.count() == 1
    assert not Resident.objects.filter(profile__full_name="会津 梅").exists()
    ended = client.post(
        reverse("admin:consent_representation_changelist"),
        {"action": "end", "_selected_action": [representation.pk]},
    )
    assert ended.status_code in (200, 302)
    representation.refresh_from_db()
    assert representation.state == "active"


def test_a_counter_decision_is_recorded_with_the_clerk_and_shown_in_the_history(
    clerk_a, clerk_b, resident, purpose
):
    client = Client()
    client.force_login(clerk_a)
    url = reverse("admin:consent_resident_counter", args=[resident.pk])
    missing = client.post(url, {"purpose": purpose.pk, "decision": ""})
    assert missing.status_code == 200 and missing.context["form"].errors["decision"]
    done = client.post(url, {"purpose": purpose.pk, "decision": "given"})
    assert done.status_code == 302
    record = ConsentRecord.objects.get()
    assert (record.method, record.recorded_by) == ("counter", clerk_a)

    history = signed_in(resident).get(reverse("consent:history")).content.decode()
    assert "窓口" in history
    receipt = signed_in(resident).get(reverse("consent:receipt_page", args=[record.receipt_id]))
    assert "窓口" in receipt.content.decode()

    foreign = Client()
    foreign.force_login(clerk_b)
    assert foreign.get(url).status_code == 404
    assert foreign.post(url, {"purpose": purpose.pk, "decision": "withdrawn"}).status_code == 404


def test_the_person_come_of_age_confirms_in_the_portal(clerk_a, resident, child, purpose):
    representation = register(
        clerk_a,
        resident,
        child,
        relationship="parent",
        evidence_kind="family_register",
        valid_from=timezone.localdate() - timedelta(days=100),
        comes_of_age_on=timezone.localdate() + timedelta(days=1),
    )
    services.consent_decide_for(
        actor=as_resident(resident), representation=representation, purpose=purpose, agree=True
    )
    services.representation_end(actor=None, representation=representation, reason="came_of_age")
    client = Client()
    client.force_login(clerk_a)
    opened = client.post(
        reverse("admin:consent_resident_account", args=[child.pk]),
        {"email": "sakura@example.jp"},
    )
    assert opened.status_code == 302
    child.refresh_from_db()
    assert child.user.email == "sakura@example.jp"

    person = signed_in(child)
    dashboard = person.get(reverse("consent:portal")).content.decode()
    assert 'id="confirm-title"' in dashboard
    confirmed = person.post(reverse("consent:confirm", args=[purpose.pk]))
    assert confirmed.status_code == 302
    latest = ConsentRecord.objects.filter(resident=child).latest("id")
    assert (latest.decision, latest.acted_by) == ("given", None)
    assert 'id="confirm-title"' not in person.get(reverse("consent:portal")).content.decode()
    # The former representative sees the person no more.
    assert "会津 さくら" not in signed_in(resident).get(reverse("consent:portal")).content.decode()


def test_the_representative_reads_the_persons_receipts_only_while_representing(
    clerk_a, resident, other_resident, child, representation, purpose
):
    own = services.consent_record_counter(
        actor=clerk_a, resident=child, purpose=purpose, decision="given"
    )
    url = reverse("consent:receipt_page", args=[own.receipt_id])
    assert signed_in(resident).get(url).status_code == 200
    assert signed_in(other_resident).get(url).status_code == 404
    services.representation_end(actor=clerk_a, representation=representation, reason="secretariat")
    assert signed_in(resident).get(url).status_code == 404


def test_the_residents_admin_page_lists_their_representations(clerk_a, child, representation):
    client = Client()
    client.force_login(clerk_a)
    page = client.get(reverse("admin:consent_resident_change", args=[child.pk]))
    assert reverse("admin:consent_representation_change", args=[representation.pk]) in (
        page.content.decode()
    )


def test_an_account_the_service_refuses_shows_on_the_form_and_changes_nothing(
    clerk_a, resident, child
):
    client = Client()
    client.force_login(clerk_a)
    taken = client.post(
        reverse("admin:consent_resident_account", args=[child.pk]),
        {"email": resident.user.email},
    )
    assert taken.status_code == 200
    assert taken.context["form"].errors["email"] == [
        "このメールアドレスのアカウントはすでにあります。"
    ]
    assert f'value="{resident.user.email}"' in taken.content.decode()
    child.refresh_from_db()
    assert child.user is None

    already = client.post(
        reverse("admin:consent_resident_account", args=[resident.pk]),
        {"email": "another@example.jp"},
    )
    assert already.status_code == 200
    assert already.context["form"].non_field_errors()
    resident.refresh_from_db()
    assert resident.user.email != "another@example.jp"
