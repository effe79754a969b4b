"""
A purpose closed for many residents at once: the notices to every service that received their
data are made in chunks (one transaction and one audit entry each, nothing made twice when a
chunk runs again), pushed in batches over kept connections or fetched by polling many at a
time, and each is a Security Event Token a receiver verifies with a JOSE library of its own.
"""

import datetime
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import KeySet

from audit.models import PendingEntry
from consent import services as consent_services
from consent.models import RecipientNotice
from grants import services, tasks

from .conftest import SECTOR, make_resident, make_service

pytestmark = pytest.mark.django_db

OTHER_SECTOR = "bus.example.jp"


def post_json(client, path, caller, body):
    return client.post(
        path, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=caller.auth
    )


def check(client, caller, grant, ids):
    answer = post_json(client, f"/api/v1/grants/{grant.jti}/check", caller, {"residents": ids})
    assert answer.status_code == 200, answer.content
    assert all(answer.json()["results"].values())


@pytest.fixture
def recipients(client, service_a, grant, ticket, purpose, consortium_a, requester_a):
    """
    Five residents who agreed; service A (pairwise ids, two grants) received all five, a second
    service (a pairwise sector of its own) the first three, and a third service, holding a grant
    for the purpose too, received nothing.
    """
    from .oidc_helpers import register

    register(service_a.service, sector=SECTOR)
    bus = make_service(consortium_a, requester_a, "Aizu bus")
    idle = make_service(consortium_a, requester_a, "Aizu idle app")
    later = timezone.now() + datetime.timedelta(days=90)
    second = services.grant_issue(actor=None, service=service_a.service, ticket=ticket,
                                  expires_at=later)  # fmt: skip
    bus_grant = services.grant_issue(actor=None, service=bus.service, ticket=ticket,
                                     expires_at=later)  # fmt: skip
    services.grant_issue(actor=None, service=idle.service, ticket=ticket, expires_at=later)
    register(bus.service, sector=OTHER_SECTOR)
    residents = [make_resident(f"fan{i}@example.jp", consortium_a) for i in range(5)]
    for resident in residents:
        consent_services.consent_give(actor=None, resident=resident, purpose=purpose)

    def subjects(people, sector):
        return [
            consent_services.pairwise_subject_issue(actor=None, resident=r, sector=sector).subject
            for r in people
        ]

    check(client, service_a, grant, subjects(residents[:3], SECTOR))
    check(client, service_a, second, subjects(residents[2:], SECTOR))
    check(client, bus, bus_grant, subjects(residents[:3], OTHER_SECTOR))
    return residents, service_a, bus, idle


def close(purpose, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        consent_services.purpose_close(actor=None, purpose=purpose)


def test_one_notice_per_resident_and_service_that_received_data(
    recipients, purpose, django_capture_on_commit_callbacks, settings
):
    residents, service_a, bus, idle = recipients
    settings.GRANTS_FAN_OUT_CHUNK = 2
    close(purpose, django_capture_on_commit_callbacks)
    pairs = sorted(
        RecipientNotice.objects.filter(reason="purpose_closed").values_list(
            "resident_id", "service_id"
        )
    )
    expected = sorted(
        [(r.pk, service_a.service.pk) for r in residents]
        + [(r.pk, bus.service.pk) for r in residents[:3]]
    )
    assert pairs == expected
    assert not RecipientNotice.objects.filter(service_id=idle.service.pk).exists()
    # Three chunks of two residents: one audit entry each, naming exactly its notices.
    entries = PendingEntry.objects.filter(action="consent.recipient_notices_created")
    assert entries.count() == 3
    for entry in entries:
        payload = json.loads(entry.payload)
        notices = RecipientNotice.objects.filter(batch=payload["batch"])
        assert payload["count"] == notices.count() > 0
        jtis = sorted(notices.values_list("jti", flat=True))
        assert payload["jtis_sha256"] == hashlib.sha256("\n".join(jtis).encode()).hexdigest()
        assert payload["purpose"] == purpose.pk and payload["reason"] == "purpose_closed"
        assert not any(r.pk in entry.payload for r in residents)
    assert sum(json.loads(e.payload)["count"] for e in entries) == len(expected)


def test_a_chunk_run_again_makes_nothing_twice(recipients, purpose, monkeypatch):
    residents, service_a, bus, _ = recipients
    consent_services.purpose_close(actor=None, purpose=purpose)
    # The first two residents received by both services, the last one by service A only.
    chunk = [residents[0].pk, residents[1].pk, residents[4].pk]
    assert services.purpose_closed_notify_chunk(purpose_id=purpose.pk, resident_ids=chunk) == 5
    # The same chunk again (a retried task) and the whole fan-out again: only what is missing.
    assert services.purpose_closed_notify_chunk(purpose_id=purpose.pk, resident_ids=chunk) == 0
    assert services.purpose_closed_notify(purpose_id=purpose.pk, chunk_size=2) == 3
    assert services.purpose_closed_notify(purpose_id=purpose.pk, chunk_size=2) == 0
    assert RecipientNotice.objects.count() == 8
    # An entry for each chunk that made notices, none for the runs that made nothing.
    counts = [
        json.loads(payload)["count"]
        for payload in PendingEntry.objects.filter(
            action="consent.recipient_notices_created"
        ).values_list("payload", flat=True)
    ]
    assert sum(counts) == 8 and all(counts)


def test_a_chunk_that_fails_leaves_nothing_and_the_next_run_completes(
    recipients, purpose, monkeypatch
):
    consent_services.purpose_close(actor=None, purpose=purpose)
    signed = services.events.sign_jwt_many
    calls = []

    def fail_on_second(claims, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("key unavailable")
        return signed(claims, **kwargs)

    monkeypatch.setattr(services.events, "sign_jwt_many", fail_on_second)
    with pytest.raises(RuntimeError):
        services.purpose_closed_notify(purpose_id=purpose.pk, chunk_size=2)
    first = RecipientNotice.objects.count()
    # The first chunk only, whole: each of its two residents told by one or both services.
    assert RecipientNotice.objects.values("resident").distinct().count() == 2 and first >= 2
    monkeypatch.setattr(services.events, "sign_jwt_many", signed)
    assert services.purpose_closed_notify(purpose_id=purpose.pk, chunk_size=2) == 8 - first
    assert RecipientNotice.objects.count() == 8


def test_two_runs_of_one_chunk_at_once_cannot_both_store_it(recipients, purpose):
    from django.db import IntegrityError, transaction

    residents, service_a, _, _ = recipients
    consent_services.purpose_close(actor=None, purpose=purpose)
    services.purpose_closed_notify_chunk(purpose_id=purpose.pk, resident_ids=[residents[0].pk])
    # What a second worker that read "nothing told yet" before the first committed would store.
    duplicate = RecipientNotice.objects.filter(service_id=service_a.service.pk).values()[0]
    duplicate.update(id=None, jti="another-jti", batch=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        RecipientNotice.objects.create(**duplicate)


class Receiver(BaseHTTPRequestHandler):
    """A service's events endpoint on loopback (RFC 8935), keeping connections open."""

    protocol_version = "HTTP/1.1"
    status = 202
    bodies: list[bytes] = []
    connections: set[int] = set()

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.bodies.append((self.headers["Content-Type"], body))
        Receiver.connections.add(id(self.connection))
        self.send_response(Receiver.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.status, Receiver.bodies, Receiver.connections = 202, [], set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/events"
    server.shutdown()
    server.server_close()


def set_events_url(caller, url):
    service = caller.service
    services.service_update(actor=None, service=service, name=service.name, webhook_url="",
                            is_active=True, events_url=url)  # fmt: skip


def test_pushed_events_verify_with_joserfc_against_the_jwks(
    client, recipients, purpose, receiver, django_capture_on_commit_callbacks, settings
):
    residents, service_a, bus, _ = recipients
    set_events_url(service_a, receiver)
    settings.GRANTS_PUSH_CONCURRENCY = 2
    close(purpose, django_capture_on_commit_callbacks)
    assert len(Receiver.bodies) == 5
    # Five pushes over at most two kept connections, not one connection each.
    assert 1 <= len(Receiver.connections) <= 2
    keys = KeySet.import_key_set(client.get("/.well-known/jwks.json").json())
    subjects = {
        n.jti: n.subject for n in RecipientNotice.objects.filter(service_id=service_a.service.pk)
    }
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": settings.PLATFORM_URL},
        aud={"essential": True, "value": service_a.service.subject},
        iat={"essential": True},
        jti={"essential": True},
    )
    event_type = f"{settings.PLATFORM_URL}/secevent/consent-withdrawn"
    for content_type, body in Receiver.bodies:
        assert content_type == "application/secevent+jwt"
        token = jwt.decode(body, keys, algorithms=["EdDSA"])
        assert token.header["typ"] == "secevent+jwt"
        registry.validate(token.claims)
        claims = token.claims
        assert claims["sub_id"] == {"format": "opaque", "id": subjects[claims["jti"]]}
        assert "sub" not in claims and "exp" not in claims  # RFC 8417 §2.2
        assert list(claims["events"]) == [event_type]
        event = claims["events"][event_type]
        assert event["purpose"] == purpose.code and event["reason"] == "purpose_closed"
        assert event["confirm_by"] > claims["iat"]
        assert all(r.pk not in body.decode() for r in residents)
    pushed = RecipientNotice.objects.filter(service_id=service_a.service.pk)
    assert all(n.acknowledged_at and n.push_attempts == 1 for n in pushed)
    # The bus service has no events URL: its notices wait for its poll.
    assert not RecipientNotice.objects.filter(
        service_id=bus.service.pk, delivered_at__isnull=False
    ).exists()


def test_a_refused_batch_is_tried_again_together_with_backoff(
    recipients, purpose, receiver, django_capture_on_commit_callbacks
):
    from django_q.models import Schedule

    _, service_a, _, _ = recipients
    set_events_url(service_a, receiver)
    Receiver.status = 503
    close(purpose, django_capture_on_commit_callbacks)
    notices = RecipientNotice.objects.filter(service_id=service_a.service.pk)
    assert all(n.push_attempts == 1 and n.delivered_at is None for n in notices)
    retry = Schedule.objects.get(func="grants.tasks.push_events")
    service_id, ids, attempt = eval(retry.args)  # noqa: S307 - django-q's own format
    assert service_id == service_a.service.pk and attempt == 2
    assert sorted(ids) == sorted(n.pk for n in notices)
    Receiver.status = 202
    assert tasks.push_events(service_id, ids, attempt) == 5
    assert all(n.acknowledged_at for n in notices.all())
    # Acknowledged notices are not pushed again.
    Receiver.bodies.clear()
    tasks.push_events(service_id, ids, 3)
    assert Receiver.bodies == []


def test_the_sweep_pushes_a_chunk_whose_push_was_lost(
    recipients, purpose, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    _, service_a, _, _ = recipients
    set_events_url(service_a, receiver)
    monkeypatch.setattr(tasks, "enqueue_events_push", lambda *args: None)
    close(purpose, django_capture_on_commit_callbacks)
    assert Receiver.bodies == []
    monkeypatch.undo()
    later = timezone.now() + datetime.timedelta(minutes=3)
    assert services.undelivered_sweep(now=later)["pushes"] == 5
    assert len(Receiver.bodies) == 5
    assert services.undelivered_sweep(now=later)["pushes"] == 0


def test_poll_takes_max_events_and_acknowledges_in_bulk(
    client, recipients, purpose, django_capture_on_commit_callbacks
):
    _, service_a, bus, _ = recipients
    close(purpose, django_capture_on_commit_callbacks)
    first = post_json(client, "/api/v1/events/poll", service_a, {"maxEvents": 2})
    assert first.status_code == 200
    assert len(first.json()["sets"]) == 2 and first.json()["moreAvailable"] is True
    acks = list(first.json()["sets"])
    second = post_json(client, "/api/v1/events/poll", service_a, {"ack": acks, "maxEvents": 10})
    rest = second.json()["sets"]
    assert len(rest) == 3 and not set(rest) & set(acks)
    assert second.json()["moreAvailable"] is False
    last = post_json(client, "/api/v1/events/poll", service_a, {"ack": list(rest)})
    assert last.json() == {"sets": {}, "moreAvailable": False}
    assert not RecipientNotice.objects.filter(
        service_id=service_a.service.pk, acknowledged_at__isnull=True
    ).exists()
    # The bus service's own three are still waiting for it.
    assert len(post_json(client, "/api/v1/events/poll", bus, {}).json()["sets"]) == 3


def test_another_service_can_neither_poll_nor_acknowledge_nor_confirm(
    client, recipients, purpose, service_b, django_capture_on_commit_callbacks
):
    _, service_a, _, _ = recipients
    close(purpose, django_capture_on_commit_callbacks)
    jtis = list(
        RecipientNotice.objects.filter(service_id=service_a.service.pk).values_list(
            "jti", flat=True
        )
    )
    answer = post_json(client, "/api/v1/events/poll", service_b, {"ack": jtis, "maxEvents": 100})
    assert answer.json() == {"sets": {}, "moreAvailable": False}
    assert not RecipientNotice.objects.filter(acknowledged_at__isnull=False).exists()
    refused = post_json(client, f"/api/v1/events/{jtis[0]}/confirm", service_b,
                        {"outcome": "deleted"})  # fmt: skip
    assert refused.status_code == 404 and refused.json()["error"] == "not_found"
    anonymous = client.post("/api/v1/events/poll", "{}", content_type="application/json")
    assert anonymous.status_code == 401


def test_the_command_makes_what_is_missing_with_a_progress_bar(recipients, purpose, capsys):
    consent_services.purpose_close(actor=None, purpose=purpose)
    call_command("grants_notify_recipients", "--purpose", str(purpose.pk), "--chunk-size", "2")
    out = capsys.readouterr().out
    assert "8 notice(s) made." in out
    call_command("grants_notify_recipients", "--purpose", str(purpose.pk))
    assert "0 notice(s) made." in capsys.readouterr().out
    assert RecipientNotice.objects.count() == 8


@pytest.mark.parametrize(
    "args",
    [["--purpose", "nope"], ["--purpose", "999999"], ["--purpose", "1", "--chunk-size", "0"], []],
)
def test_the_command_refuses_bad_input_in_one_line(recipients, purpose, args):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("grants_notify_recipients", *args)


def test_the_command_refuses_an_open_purpose(recipients, purpose):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not closed"):
        call_command("grants_notify_recipients", "--purpose", str(purpose.pk))
    assert not RecipientNotice.objects.exists()


def test_the_secretariat_sees_the_fan_outs_progress_on_the_purpose_and_the_grant(
    client, recipients, purpose, grant, clerk_a, clerk_b, settings,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    _, service_a, _, _ = recipients
    consent_services.purpose_close(actor=None, purpose=purpose)  # the task not yet run
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(clerk_a)
    page = f"/admin/consent/purpose/{purpose.pk}/change/"
    assert "0 of 8 notices made" in client.get(page).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.notify_purpose_closed(purpose.pk)
    post_json(client, "/api/v1/events/poll", service_a, {"maxEvents": 2})
    text = client.get(page).content.decode()
    assert "8 of 8 notices made; 2 delivered, 0 acknowledged, 0 confirmed" in text
    # Another consortium's clerk learns nothing.
    client.force_login(clerk_b)
    assert client.get(page).status_code == 404


def test_the_grant_page_shows_how_far_its_end_was_told(
    client, released, grant, clerk_a, clerk_b, settings, django_capture_on_commit_callbacks
):
    services.grant_revoke(actor=None, grant=grant, reason="secretariat_decision")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(clerk_a)
    page = f"/admin/grants/grant/{grant.pk}/change/"
    assert "0 of 1 notices made" in client.get(page).content.decode()
    tasks.notify_grant_ended(grant.pk)
    assert "1 of 1 notices made; 0 delivered" in client.get(page).content.decode()
    client.force_login(clerk_b)
    assert client.get(page).status_code == 404
