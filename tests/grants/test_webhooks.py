"""Revocations pushed to a service's webhook: signed, retried with backoff, kept in history."""

import http.server
import json
import threading

import jwt
import pytest

from audit import selectors as audit_selectors
from audit.models import PendingEntry
from grants import services, tasks
from grants.models import Grant, WebhookDelivery

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP server answering the statuses it is given, in turn, and keeping bodies."""

    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.bodies = []
        self.content_types = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers["Content-Length"])
                receiver.bodies.append(self.rfile.read(length))
                receiver.content_types.append(self.headers["Content-Type"])
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/grants"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=()):
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for r in made:
        r.close()


def with_webhook(caller, url):
    return services.service_update(
        actor=None,
        service=caller.service,
        name=caller.service.name,
        webhook_url=url,
        is_active=True,
    )


def test_revocation_is_pushed_signed_to_the_webhook(
    receiver, service_a, grant, django_capture_on_commit_callbacks
):
    hook = receiver()
    with_webhook(service_a, hook.url)
    with django_capture_on_commit_callbacks(execute=True):
        services.grant_revoke(actor=None, grant=grant, reason=Grant.Reason.TICKET_CLOSED)
    assert len(hook.bodies) == 1
    assert hook.content_types == ["application/jwt"]
    token = hook.bodies[0].decode()
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "grant-event+jwt"
    jwk = next(k for k in audit_selectors.jwks()["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(
        token,
        key=jwt.PyJWK.from_dict(jwk),
        algorithms=[jwk["alg"]],
        audience=service_a.service.subject,
    )
    assert claims["jti"] == grant.jti
    assert claims["status"] == "revoked"
    assert claims["reason"] == "ticket_closed"
    delivery = WebhookDelivery.objects.get()
    assert delivery.delivered and delivery.status_code == 200 and delivery.attempt == 1
    assert PendingEntry.objects.filter(action="webhook.delivered").count() == 1


def test_failed_push_is_retried_with_backoff_until_delivered(
    receiver, service_a, grant, django_capture_on_commit_callbacks
):
    from django_q.models import Schedule

    hook = receiver([500, 503])
    with_webhook(service_a, hook.url)
    with django_capture_on_commit_callbacks(execute=True):
        services.grant_suspend(actor=None, grant=grant)
    retry = Schedule.objects.get(func="grants.tasks.deliver")
    assert retry.func == "grants.tasks.deliver"
    first_delay = (retry.next_run - WebhookDelivery.objects.get().at).total_seconds()
    assert 55 < first_delay < 65  # one minute
    event_id, attempt = (int(x) for x in retry.args.split(","))
    assert attempt == 2
    assert tasks.deliver(event_id, attempt) is False
    second = Schedule.objects.filter(func="grants.tasks.deliver").order_by("-id").first()
    assert second.args == f"{event_id},3"
    second_attempt = WebhookDelivery.objects.get(attempt=2)
    assert 115 < (second.next_run - second_attempt.at).total_seconds() < 125  # two minutes
    assert tasks.deliver(event_id, 3) is True
    history = list(
        WebhookDelivery.objects.order_by("attempt").values_list(
            "attempt", "status_code", "delivered"
        )
    )
    assert history == [(1, 500, False), (2, 503, False), (3, 200, True)]
    assert len(hook.bodies) == 3


def test_unreachable_webhook_is_recorded_and_gives_up_after_the_last_attempt(
    service_a, grant, django_capture_on_commit_callbacks
):
    from django_q.models import Schedule

    with_webhook(service_a, "http://127.0.0.1:9/nothing-listens")
    with django_capture_on_commit_callbacks(execute=True):
        services.grant_suspend(actor=None, grant=grant)
    delivery = WebhookDelivery.objects.get()
    assert not delivery.delivered and delivery.status_code is None
    assert "ConnectionRefused" in delivery.error or "URLError" in delivery.error
    event_id = delivery.event_id
    Schedule.objects.filter(func="grants.tasks.deliver").delete()
    assert tasks.deliver(event_id, tasks.MAX_ATTEMPTS) is False
    assert not Schedule.objects.filter(func="grants.tasks.deliver").exists()  # no 7th attempt
    assert (
        json.loads(PendingEntry.objects.filter(action="webhook.failed").last().payload)["attempt"]
        == tasks.MAX_ATTEMPTS
    )


def test_no_push_without_a_webhook(service_a, grant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.grant_suspend(actor=None, grant=grant)
    assert not WebhookDelivery.objects.exists()
