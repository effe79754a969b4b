"""
Withdrawals delivered to recipients: a resident's withdrawal reaches every service that received
their data under the purpose as a signed Security Event Token (RFC 8417) naming them by that
service's pairwise id, by push (RFC 8935, retried) or poll (RFC 8936); the service acknowledges
and confirms what it did; the resident sees each step, and an overdue confirmation.
"""

import datetime
import json

import jwt
import pytest
from django.utils import timezone

from consent import services as consent_services
from consent.models import RecipientNotice
from grants import services, tasks

from .conftest import make_resident

pytestmark = pytest.mark.django_db

SECTOR = "mobility.example.jp"


def post_json(client, path, caller, body):
    return client.post(
        path, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=caller.auth
    )


def withdraw(resident, purpose, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        consent_services.consent_withdraw(actor=None, resident=resident, purpose=purpose)


def test_a_withdrawal_becomes_a_signed_event_with_the_services_pairwise_id(
    client, released, purpose, service_a, django_capture_on_commit_callbacks
):
    resident, subject = released
    withdraw(resident, purpose, django_capture_on_commit_callbacks)
    notice = RecipientNotice.objects.get()
    assert notice.service_id == service_a.service.pk and notice.subject == subject
    header = jwt.get_unverified_header(notice.token)
    assert header["typ"] == "secevent+jwt"
    keys = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json())
    claims = jwt.decode(
        notice.token,
        keys[header["kid"]].key,
        algorithms=[header["alg"]],
        audience=service_a.service.subject,
    )
    assert claims["sub_id"] == {"format": "opaque", "id": subject}
    (event,) = claims["events"].values()
    assert event["purpose"] == purpose.code and event["reason"] == "withdrawn"
    assert resident.pseudonymous_id not in notice.token


def test_poll_delivers_then_acknowledges(
    client, released, purpose, service_a, django_capture_on_commit_callbacks
):
    resident, _ = released
    withdraw(resident, purpose, django_capture_on_commit_callbacks)
    first = post_json(client, "/api/v1/events/poll", service_a, {"returnImmediately": True})
    assert first.status_code == 200, first.content
    sets = first.json()["sets"]
    (jti,) = sets
    assert first.json()["moreAvailable"] is False
    notice = RecipientNotice.objects.get()
    assert notice.delivered_at is not None and notice.acknowledged_at is None
    # Not acknowledged: offered again.
    assert jti in post_json(client, "/api/v1/events/poll", service_a, {}).json()["sets"]
    acked = post_json(client, "/api/v1/events/poll", service_a, {"ack": [jti]})
    assert acked.json()["sets"] == {}
    notice.refresh_from_db()
    assert notice.acknowledged_at is not None


def test_another_service_neither_sees_nor_acknowledges_the_event(
    client, released, purpose, service_b, django_capture_on_commit_callbacks
):
    resident, _ = released
    withdraw(resident, purpose, django_capture_on_commit_callbacks)
    jti = RecipientNotice.objects.get().jti
    assert post_json(client, "/api/v1/events/poll", service_b, {"ack": [jti]}).json() == {
        "sets": {},
        "moreAvailable": False,
    }
    assert RecipientNotice.objects.get().acknowledged_at is None
    refused = post_json(client, f"/api/v1/events/{jti}/confirm", service_b, {"outcome": "deleted"})
    assert refused.status_code == 404
    assert refused.json()["error"] == "not_found"


def test_confirmed_deletion_shows_in_the_portal_and_the_export(
    client, released, purpose, service_a, django_capture_on_commit_callbacks, settings
):
    resident, _ = released
    withdraw(resident, purpose, django_capture_on_commit_callbacks)
    jti = RecipientNotice.objects.get().jti
    missing_date = post_json(
        client, f"/api/v1/events/{jti}/confirm", service_a, {"outcome": "retained"}
    )
    assert missing_date.status_code == 400
    done = post_json(client, f"/api/v1/events/{jti}/confirm", service_a, {"outcome": "deleted"})
    assert done.status_code == 200, done.content
    assert done.json()["outcome"] == "deleted"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(resident.user)
    page = client.get("/portal/accesses/").content.decode()
    assert "deleted your data" in page and service_a.service.name in page
    export = json.loads(client.get("/portal/export/").content)
    (notice,) = export["withdrawal_notices"]
    assert notice["outcome"] == "deleted" and notice["confirmed_at"]
    assert notice["acknowledged_at"] and notice["overdue"] is False


def test_an_unconfirmed_notice_past_its_period_is_overdue(
    client, released, purpose, service_a, settings
):
    resident, _ = released
    consent_services.consent_withdraw(actor=None, resident=resident, purpose=purpose)
    long_ago = timezone.now() - datetime.timedelta(days=31)
    services.withdrawal_notify(resident_id=resident.pk, purpose_id=purpose.pk, at=long_ago)
    notice = RecipientNotice.objects.get()
    assert notice.is_overdue()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(resident.user)
    assert "Overdue" in client.get("/portal/accesses/").content.decode()


def test_push_delivers_to_the_events_url_and_a_failure_is_retried(
    client, released, purpose, service_a, django_capture_on_commit_callbacks, monkeypatch
):
    from django_q.models import Schedule

    resident, _ = released
    service = service_a.service
    services.service_update(
        actor=None,
        service=service,
        name=service.name,
        webhook_url="",
        is_active=True,
        events_url="https://rp.example.jp/events",
    )
    sent = []

    def refuse(url, body):
        sent.append((url, body))
        return 503

    monkeypatch.setattr(tasks, "post_security_event", refuse)
    withdraw(resident, purpose, django_capture_on_commit_callbacks)
    notice = RecipientNotice.objects.get()
    assert sent == [("https://rp.example.jp/events", notice.token.encode())]
    notice.refresh_from_db()
    assert notice.push_attempts == 1 and notice.delivered_at is None
    retry = Schedule.objects.get(func="grants.tasks.push_event")
    assert retry.args == f"{notice.pk},2"
    monkeypatch.setattr(tasks, "post_security_event", lambda url, body: 202)
    assert tasks.push_event(notice.pk, 2) is True
    notice.refresh_from_db()
    assert notice.delivered_at is not None and notice.acknowledged_at is not None


def test_a_service_that_received_nothing_is_not_told(
    client, service_a, grant, purpose, consortium_a, django_capture_on_commit_callbacks
):
    resident = make_resident("quiet@example.jp", consortium_a)
    consent_services.consent_give(actor=None, resident=resident, purpose=purpose)
    withdraw(resident, purpose, django_capture_on_commit_callbacks)
    assert not RecipientNotice.objects.exists()


def test_erasing_a_resident_tells_the_recipients_too(
    client, released, purpose, service_a, django_capture_on_commit_callbacks
):
    resident, subject = released
    with django_capture_on_commit_callbacks(execute=True):
        consent_services.resident_erase(actor=None, resident=resident)
    notice = RecipientNotice.objects.get()
    assert notice.subject == subject and notice.service_id == service_a.service.pk


def test_closing_the_purpose_tells_every_recipient_of_each_resident(
    client, released, purpose, service_a, django_capture_on_commit_callbacks
):
    resident, subject = released
    with django_capture_on_commit_callbacks(execute=True):
        consent_services.purpose_close(actor=None, purpose=purpose)
    notice = RecipientNotice.objects.get()
    assert notice.reason == "purpose_closed" and notice.subject == subject
