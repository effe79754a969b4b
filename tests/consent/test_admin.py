"""The secretariat's pages, tested from outside: a clerk of A manages A only."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import PendingEntry
from consent import services
from consent.admin import bucket
from consent.models import ConsentRecord, Purpose, Resident
from governance.models import Organization
from tests.conftest import approve_purpose

from .conftest import as_resident, make_purpose, make_resident

pytestmark = pytest.mark.django_db


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def purpose_b(consortium_b, company_a, steps):
    return make_purpose(consortium_b, company_a, [steps], code="kashiwa-mobility")


@pytest.fixture
def resident_b(consortium_b):
    return make_resident("b@example.jp", consortium_b, name="柏 次郎")


def test_a_clerk_sees_only_their_consortiums_purposes(clerk_a, purpose, purpose_b):
    client = admin_client(clerk_a)
    listing = client.get(reverse("admin:consent_purpose_changelist"))
    assert listing.status_code == 200
    html = listing.content.decode()
    assert reverse("admin:consent_purpose_change", args=[purpose.pk]) in html
    assert reverse("admin:consent_purpose_change", args=[purpose_b.pk]) not in html
    assert purpose_b.consortium.name_ja not in html  # not even in the filters

    foreign = client.get(reverse("admin:consent_purpose_change", args=[purpose_b.pk]))
    assert foreign.status_code == 404  # as for a purpose that does not exist
    assert purpose_b.title_ja not in foreign.content.decode()


def test_a_clerk_sees_only_their_residents_and_records(
    clerk_a, resident, resident_b, purpose, purpose_b
):
    services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)
    services.consent_give(actor=as_resident(resident_b), resident=resident_b, purpose=purpose_b)
    client = admin_client(clerk_a)

    residents = client.get(reverse("admin:consent_resident_changelist")).content.decode()
    assert resident.pk in residents and resident_b.pk not in residents
    records = client.get(reverse("admin:consent_consentrecord_changelist")).content.decode()
    assert resident.pk in records and resident_b.pk not in records
    foreign_record = ConsentRecord.objects.get(resident=resident_b)
    url = reverse("admin:consent_consentrecord_receipt", args=[foreign_record.pk])
    assert client.get(url).status_code == 404
    paper = reverse("admin:consent_resident_paper", args=[resident_b.pk])
    assert client.get(paper).status_code == 404
    assert (
        client.post(
            paper, {"purpose": purpose_b.pk, "decision": "withdrawn", "paper_reference": "X"}
        ).status_code
        == 404
    )
    assert ConsentRecord.objects.filter(resident=resident_b).count() == 1


def test_visitors_outside_the_secretariat_get_nothing(resident, purpose):
    for user_client in (Client(), admin_client(resident.user)):
        response = user_client.get(reverse("admin:consent_purpose_changelist"))
        assert response.status_code == 302
        assert reverse("admin:login") in response["Location"]


def test_a_staff_user_of_no_secretariat_sees_no_consent_pages(purpose, django_user_model):
    staff = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    response = admin_client(staff).get(reverse("admin:consent_purpose_changelist"))
    assert response.status_code == 403


def test_a_clerk_creates_and_publishes_a_purpose_through_the_services(
    clerk_a, consortium_a, consortium_b, city_a, company_a, steps
):
    # The organisations A registered are the choices; one registered by B is not.
    Organization.objects.filter(pk__in=[city_a.pk, company_a.pk]).update(registered_by=consortium_a)
    org_b = Organization.objects.create(
        kind="company",
        name_ja="柏の葉データ株式会社",
        name_en="Kashiwa Data",
        registered_by=consortium_b,
    )
    client = admin_client(clerk_a)
    form = {
        "consortium": consortium_a.pk,
        "code": "evacuation",
        "title_ja": "避難支援",
        "title_en": "Evacuation support",
        "explanation_ja": "災害時に避難を支援します。",
        "explanation_en": "We help you evacuate in a disaster.",
        "categories": [steps.pk],
        "controller": city_a.pk,
        "recipients": [company_a.pk],
        "retention_days": 30,
        "consent_valid_days": "",
        "notices-TOTAL_FORMS": 0,
        "notices-INITIAL_FORMS": 0,
    }
    # Another consortium is not a choice.
    refused = client.post(
        reverse("admin:consent_purpose_add"), {**form, "consortium": consortium_b.pk}
    )
    assert refused.status_code == 200 and "consortium" in refused.context["adminform"].form.errors

    refused = client.post(reverse("admin:consent_purpose_add"), {**form, "recipients": [org_b.pk]})
    assert refused.status_code == 200 and "recipients" in refused.context["adminform"].form.errors
    assert "柏の葉データ" not in client.get(reverse("admin:consent_purpose_add")).content.decode()
    # A number no id can be is an unknown choice, not a 500.
    for field in ("categories", "recipients"):
        refused = client.post(reverse("admin:consent_purpose_add"), {**form, field: [str(2**70)]})
        assert refused.status_code == 200 and field in refused.context["adminform"].form.errors

    response = client.post(reverse("admin:consent_purpose_add"), form)
    assert response.status_code == 302
    purpose = Purpose.objects.get(code="evacuation")
    assert purpose.status == Purpose.Status.DRAFT
    assert PendingEntry.objects.filter(action="purpose.created", actor_id=str(clerk_a.pk)).exists()

    # Without an approval of the data-ethics board, it does not open: the clerk is told why.
    refused = client.post(
        reverse("admin:consent_purpose_changelist"),
        {"action": "publish", "_selected_action": [purpose.pk]},
        follow=True,
    )
    assert "データ倫理審査会の承認" in refused.content.decode()
    purpose.refresh_from_db()
    assert purpose.status == Purpose.Status.DRAFT and purpose.current_notice is None

    ticket = approve_purpose(purpose)
    client.post(
        reverse("admin:consent_purpose_changelist"),
        {"action": "publish", "_selected_action": [purpose.pk]},
    )
    purpose.refresh_from_db()
    assert purpose.status == Purpose.Status.OPEN and purpose.current_notice.version == 1
    assert purpose.current_notice.approval_ticket == ticket.pk

    # Changing the recipients of an open purpose publishes notice version 2.
    change = {k: v for k, v in form.items() if k != "consortium"}
    change["recipients"] = []
    response = client.post(reverse("admin:consent_purpose_change", args=[purpose.pk]), change)
    assert response.status_code == 302
    purpose.refresh_from_db()
    assert purpose.current_notice.version == 2


def test_counts_below_ten_are_hidden(clerk_a, purpose, consortium_a):
    for _ in range(12):
        resident = services.resident_register(actor=None, consortia=[consortium_a])
        services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)
    html = (
        admin_client(clerk_a)
        .get(reverse("admin:consent_purpose_change", args=[purpose.pk]))
        .content.decode()
    )
    assert "<dd>12</dd>" in html
    assert (
        html.count("10人未満") == 2
    )  # opted out and to be asked again: none, shown as fewer than 10
    assert bucket(9) == "10人未満" and bucket(10) == "10"


def test_the_counter_registers_a_resident_and_records_a_paper_decision(
    clerk_a, consortium_a, purpose
):
    client = admin_client(clerk_a)
    response = client.post(
        reverse("admin:consent_resident_add"),
        {
            "consortium": consortium_a.pk,
            "full_name": "会津 松",
            "phone": "0242-00-0000",
            "contact_email": "",
            "language": "ja",
        },
    )
    assert response.status_code == 302
    resident = Resident.objects.get(profile__full_name="会津 松")
    assert resident.user is None
    paper = reverse("admin:consent_resident_paper", args=[resident.pk])

    missing = client.post(
        paper, {"purpose": purpose.pk, "decision": "given", "paper_reference": ""}
    )
    assert missing.status_code == 200 and missing.context["form"].errors
    assert ConsentRecord.objects.count() == 0

    done = client.post(
        paper, {"purpose": purpose.pk, "decision": "given", "paper_reference": "AIZU-0001"}
    )
    assert done.status_code == 302
    record = ConsentRecord.objects.get()
    assert (record.method, record.recorded_by, record.paper_reference) == (
        "paper",
        clerk_a,
        "AIZU-0001",
    )
    entry = PendingEntry.objects.get(action="consent.given")
    assert entry.actor_id == str(clerk_a.pk) and entry.data["resident"] == resident.pk
    assert "会津 松" not in entry.payload


def test_the_secretariat_looks_up_a_receipt(clerk_a, resident, purpose):
    record = services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)
    client = admin_client(clerk_a)
    found = client.get(
        reverse("admin:consent_consentrecord_changelist"), {"q": str(record.receipt_id)}
    )
    assert reverse("admin:consent_consentrecord_change", args=[record.pk]) in found.content.decode()
    page = client.get(reverse("admin:consent_consentrecord_change", args=[record.pk]))
    assert page.status_code == 200 and str(record.receipt_id) in page.content.decode()
    download = client.get(reverse("admin:consent_consentrecord_receipt", args=[record.pk]))
    assert json.loads(download.content)["receipt"]["jti"] == str(record.receipt_id)


def test_the_counter_finds_a_resident_by_name_telephone_or_id(clerk_a, consortium_a):
    matsu = services.resident_register(
        actor=clerk_a, consortia=[consortium_a], full_name="会津 松", phone="0242-11-2222"
    )
    other = services.resident_register(actor=clerk_a, consortia=[consortium_a], full_name="会津 竹")
    client = admin_client(clerk_a)
    for query in ("会津 松", "会津　松", "0242-11-2222", matsu.pk.upper()):
        html = client.get(reverse("admin:consent_resident_changelist"), {"q": query}).content
        assert matsu.pk in html.decode() and other.pk not in html.decode(), query
