"""
The consent check speaks the caller's pairwise ids once it has an OpenID client: its residents'
ids are mapped back to residents (their accesses recorded as ever), while another service's ids
and the platform's own pseudonymous ids are "unknown" to it.
"""

import json

import pytest

from consent import pairwise
from consent import services as consent_services
from consent.models import DataAccessBatch

from .conftest import make_resident
from .oidc_helpers import register

pytestmark = pytest.mark.django_db

SECTOR = "mobility.example.jp"


def check(client, caller, grant, residents):
    return client.post(
        f"/api/v1/grants/{grant.jti}/check",
        json.dumps({"residents": residents}),
        content_type="application/json",
        HTTP_AUTHORIZATION=caller.auth,
    )


@pytest.fixture
def signed_in(consortium_a, purpose):
    """Two residents who signed in to service A's client; the first agreed to the purpose."""
    residents = [make_resident(f"p{i}@example.jp", consortium_a) for i in range(2)]
    consent_services.consent_give(actor=None, resident=residents[0], purpose=purpose)
    return residents


def subject(resident, sector=SECTOR):
    return consent_services.pairwise_subject_issue(
        actor=None, resident=resident, sector=sector
    ).subject


def test_pairwise_ids_are_answered_and_platform_ids_are_unknown(
    client, service_a, grant, signed_in
):
    register(service_a.service, sector=SECTOR)
    agreed, undecided = (subject(resident) for resident in signed_in)
    platform_id = signed_in[0].pseudonymous_id
    answer = check(client, service_a, grant, [agreed, undecided, platform_id])
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["results"] == {agreed: True, undecided: False, platform_id: False}
    assert body["unknown"] == [platform_id]
    assert body["allowed"] == 1
    # The access is recorded for the resident the pairwise id names.
    batch = DataAccessBatch.objects.get()
    assert batch.resident_ids.split() == [signed_in[0].pseudonymous_id]


def test_another_sectors_ids_are_unknown(client, service_a, grant, signed_in):
    register(service_a.service, sector=SECTOR)
    elsewhere = subject(signed_in[0], sector="energy.example.jp")
    never_issued = pairwise.subject_for(SECTOR, signed_in[1].pseudonymous_id)
    body = check(client, service_a, grant, [elsewhere, never_issued]).json()
    assert body["results"] == {elsewhere: False, never_issued: False}
    assert body["unknown"] == [elsewhere, never_issued]
    assert not DataAccessBatch.objects.exists()


def test_a_service_without_a_client_keeps_pseudonymous_ids_until_switched_off(
    client, service_a, grant, signed_in, settings
):
    platform_id = signed_in[0].pseudonymous_id
    body = check(client, service_a, grant, [platform_id]).json()
    assert body["results"] == {platform_id: True}
    assert body["unknown"] == []
    settings.GRANTS_ACCEPT_PSEUDONYMOUS_IDS = False
    body = check(client, service_a, grant, [platform_id]).json()
    assert body["results"] == {platform_id: False}
    assert body["unknown"] == [platform_id]


def test_ids_longer_than_any_resident_id_are_refused(client, service_a, grant):
    answer = check(client, service_a, grant, ["x" * 65])
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def test_the_resident_sees_the_access_under_who_used_my_data(client, service_a, grant, signed_in):
    register(service_a.service, sector=SECTOR)
    check(client, service_a, grant, [subject(signed_in[0])])
    consent_services.data_access_expand()
    client.force_login(signed_in[0].user)
    page = client.get("/portal/accesses/")
    assert page.status_code == 200
    assert service_a.service.name in page.content.decode()
