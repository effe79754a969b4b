"""
Benchmark: withdrawal fan-out. A purpose closes for residents whose data was released to
several services: the Security Event Tokens produced per second (one per resident and service,
signed, stored, audited: chunks of GRANTS_FAN_OUT_CHUNK residents, each its own transaction
with one audit entry, as the task cluster runs them), then delivered and acknowledged per
second, and the time until every one is acknowledged; beside them, in the same run, the grant
webhooks' delivery rate to the same receiver, the old one-resident-at-a-time production, and
signing one token at a time.

    eval "$(.venv/bin/python scripts/db_roles.py)"
    export BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_fanout
    .venv/bin/python bench/withdrawal_fanout.py [--residents 100000] [--services 3]

Both modes are measured, on different services of the same run: the odd-numbered services
have an events URL and get pushes (RFC 8935, one SET per POST, GRANTS_PUSH_CONCURRENCY at once
over kept connections) from this process, running the push task's code chunk after chunk, to
a loopback receiver in another process that answers 202; the even-numbered ones poll (RFC
8936) the platform served by gunicorn (one worker) on loopback, ``maxEvents`` 1,000 a call,
acknowledging each page with the next call.
"""

import argparse
import base64
import datetime
import http.client
import io
import json
import multiprocessing
import os
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

from _setup import machine, served, setup  # noqa: E402

URL = setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from audit.services import sign_jwt, sign_jwt_many  # noqa: E402
from consent import pairwise  # noqa: E402
from consent.models import DataAccess, PairwiseSubject, RecipientNotice, Resident  # noqa: E402
from grants import services, tasks  # noqa: E402
from grants.models import Grant, GrantEvent, OpenIDClient, Service  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def receive(port: int, count, ready) -> None:
    """A services' events endpoint and webhook on loopback (HTTP/1.1, connections kept)."""

    class Receiver(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with count.get_lock():
                count.value += 1
            self.send_response(202 if self.path == "/events" else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    server.daemon_threads = True
    ready.set()
    server.serve_forever()


def recipients(base_grant: Grant, url: str, count: int) -> list[Grant]:
    """``count`` services of the demo's organisation, each with a grant and an OpenID client."""
    grants = []
    now = timezone.now()
    for number in range(1, count + 1):
        name = f"fan-out service {number}"
        service = Service.objects.filter(name=name).first() or services.service_register(
            actor=None,
            consortium=base_grant.consortium,
            organization=base_grant.service.organization,
            name=name,
        )
        Service.objects.filter(pk=service.pk).update(events_url="", webhook_url="")
        grant = Grant.objects.filter(service=service, status="active").first()
        if grant is None:
            grant = Grant.objects.create(
                jti=f"fanout-{number}-{now.timestamp():.0f}",
                consortium=base_grant.consortium,
                service=service,
                purpose=base_grant.purpose,
                audience=base_grant.audience,
                categories=base_grant.categories,
                issued_at=now,
                not_before=now,
                expires_at=now + datetime.timedelta(days=365),
                kid="bench",
                algorithm="EdDSA",
                token="",
            )
        if not OpenIDClient.objects.filter(service=service).exists():
            services.openid_client_register(
                actor=None,
                service=service,
                redirect_uris=[f"{url}/callback"],
                sector_identifier=f"fanout{number}.example.jp",
            )
        grants.append(grant)
    return grants


def released_residents(grants: list[Grant], count: int) -> list[str]:
    """``count`` new residents whose data each of the grants' services received."""
    consortium = grants[0].consortium
    made = [Resident() for _ in range(count)]
    Resident.objects.bulk_create(made, batch_size=5000)
    through = Resident.consortia.through
    through.objects.bulk_create(
        [through(resident_id=r.pk, consortium_id=consortium.pk) for r in made], batch_size=5000
    )
    now = timezone.now()
    DataAccess.objects.bulk_create(
        [
            DataAccess(
                resident_id=r.pk,
                purpose_id=grant.purpose_id,
                organization_id=grant.service.organization_id,
                service_name=grant.service.name,
                grant_jti=grant.jti,
                batch_sha256="0" * 64,
                accessed_at=now,
            )
            for r in made
            for grant in grants
        ],
        batch_size=5000,
    )
    sectors = [f"fanout{n}.example.jp" for n in range(1, len(grants) + 1)]
    PairwiseSubject.objects.bulk_create(
        [
            PairwiseSubject(
                resident_id=r.pk, sector=sector, subject=pairwise.subject_for(sector, r.pk)
            )
            for r in made
            for sector in sectors
        ],
        batch_size=5000,
    )
    return [r.pk for r in made]


def poll_all(port: int, auth: str, expected: int) -> int:
    """Poll one service's events until none is left, acknowledging each page with the next."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/json", "Authorization": auth}
    acks: list[str] = []
    received = 0
    while True:
        body = json.dumps({"ack": acks, "maxEvents": 1000, "returnImmediately": True})
        conn.request("POST", "/api/v1/events/poll", body, headers)
        response = conn.getresponse()
        answer = json.loads(response.read())
        assert response.status == 200, answer
        acks = list(answer["sets"])
        received += len(acks)
        if not acks:
            return received
        assert received <= expected, received


def signing(purpose_code: str) -> tuple[float, float]:
    """Microseconds per token: 1,000 signed at once, and 200 one at a time (``sign_jwt``)."""
    claims = [
        {"iss": "x", "iat": 1, "jti": str(i), "aud": "service:1",
         "sub_id": {"format": "opaque", "id": "s" * 43},
         "events": {"u": {"purpose": purpose_code, "reason": "purpose_closed"}}}
        for i in range(1000)
    ]  # fmt: skip
    started = time.perf_counter()
    sign_jwt_many(claims, typ="secevent+jwt")
    bulk = (time.perf_counter() - started) / 1000
    started = time.perf_counter()
    for claim in claims[:200]:
        sign_jwt(claim, typ="secevent+jwt")
    alone = (time.perf_counter() - started) / 200
    return bulk * 1e6, alone * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--services", type=int, default=3)
    parser.add_argument(
        "--baseline-residents",
        type=int,
        default=100,
        help="residents produced the old way, one transaction and entry per notice",
    )
    args = parser.parse_args()
    receiver_port = free_port()
    count, ready = multiprocessing.Value("l", 0), multiprocessing.Event()
    receiver = multiprocessing.Process(
        target=receive, args=(receiver_port, count, ready), daemon=True
    )
    receiver.start()
    ready.wait(10)
    url = f"http://127.0.0.1:{receiver_port}"
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    base = Grant.objects.filter(status="active").select_related("service").first()
    grants = recipients(base, url, args.services)
    for grant in grants:
        grant.service.refresh_from_db()
    # Notices of earlier runs left unacknowledged (their baselines) would be polled in this one.
    RecipientNotice.objects.filter(
        service_id__in=[g.service_id for g in grants], acknowledged_at__isnull=True
    ).update(acknowledged_at=timezone.now())
    ids = released_residents(grants, args.residents)
    chunk = settings.GRANTS_FAN_OUT_CHUNK
    start_id = RecipientNotice.objects.order_by("-id").values_list("id", flat=True).first() or 0
    print(machine(), f"load average {os.getloadavg()[0]:.1f}", flush=True)
    print(
        f"{args.residents:,} residents x {args.services} services = "
        f"{args.services * args.residents:,} events (chunks of {chunk:,} residents, "
        f"{settings.GRANTS_PUSH_CONCURRENCY} pushes at once)",
        flush=True,
    )

    # Production: chunk after chunk in this process (the task's code, without the broker).
    started = time.perf_counter()
    for first in range(0, len(ids), chunk):
        services.purpose_closed_notify_chunk(
            purpose_id=base.purpose_id, resident_ids=ids[first : first + chunk]
        )
        done = min(first + chunk, len(ids))
        if done % (chunk * 10) == 0:
            print(f"  produced for {done:,} residents", file=sys.stderr, flush=True)
    produced = time.perf_counter() - started
    total = args.services * args.residents
    print(f"produced (signed, stored, audited)     {total / produced:9.1f} events/s "
          f"({produced:.1f} s)", flush=True)  # fmt: skip
    made = RecipientNotice.objects.filter(id__gt=start_id, purpose_id=base.purpose_id)
    assert made.count() == total, (made.count(), total)

    # Push: the odd-numbered services, the push task's code over each chunk's notices.
    pushers = [g.service for n, g in enumerate(grants, 1) if n % 2 == 1]
    pollers = [g.service for n, g in enumerate(grants, 1) if n % 2 == 0]
    Service.objects.filter(pk__in=[s.pk for s in pushers]).update(events_url=f"{url}/events")
    push_started = time.perf_counter()
    pushed = 0
    for service in pushers:
        notice_ids = list(
            made.filter(service_id=service.pk).order_by("id").values_list("id", flat=True)
        )
        for first in range(0, len(notice_ids), chunk):
            pushed += tasks.push_events(service.pk, notice_ids[first : first + chunk])
    push_time = time.perf_counter() - push_started
    if pushers:
        print(f"pushed and acknowledged (202), {len(pushers)} svc {pushed / push_time:9.1f} "
              f"events/s ({pushed:,} in {push_time:.1f} s)", flush=True)  # fmt: skip

    # Poll: the even-numbered services through the API, served by gunicorn on loopback.
    polled, poll_time = 0, 0.0
    if pollers:
        port = free_port()
        auths = []
        for service in pollers:
            credential, secret = services.credential_issue(actor=None, service=service)
            raw = f"{credential.client_id}:{secret}".encode()
            auths.append("Basic " + base64.b64encode(raw).decode())
        with served(URL, port):
            poll_started = time.perf_counter()
            for auth in auths:
                polled += poll_all(port, auth, args.residents)
            poll_time = time.perf_counter() - poll_started
        print(f"polled and acknowledged, {len(pollers)} svc       {polled / poll_time:9.1f} "
              f"events/s ({polled:,} in {poll_time:.1f} s)", flush=True)  # fmt: skip
    all_done = time.perf_counter() - started
    unacknowledged = made.filter(acknowledged_at__isnull=True).count()

    # Baselines in the same run: the old production, signing one at a time, the webhooks.
    old_ids = released_residents(grants, args.baseline_residents)
    Service.objects.filter(pk__in=[s.pk for s in pushers]).update(events_url="")
    old_started = time.perf_counter()
    for resident_id in old_ids:
        with transaction.atomic():
            services.withdrawal_notify(
                resident_id=resident_id,
                purpose_id=base.purpose_id,
                reason=RecipientNotice.Reason.PURPOSE_CLOSED,
            )
    old_rate = args.services * len(old_ids) / (time.perf_counter() - old_started)
    bulk_us, alone_us = signing(base.purpose.code)
    webhook_grant = grants[0]
    Service.objects.filter(pk=webhook_grant.service_id).update(webhook_url=f"{url}/webhook")
    hooks = min(total, 5000)
    now = timezone.now()
    events = GrantEvent.objects.bulk_create(
        [GrantEvent(grant=webhook_grant, status="active", reason="", at=now) for _ in range(hooks)]
    )
    hooks_started = time.perf_counter()
    for event in events:
        assert services.webhook_deliver(event_id=event.pk, attempt=1, post=tasks.post)
    hooks_rate = hooks / (time.perf_counter() - hooks_started)
    receiver.terminate()

    print(f"time until every one acknowledged     {all_done:9.1f} s ({unacknowledged} left)")
    print(f"baseline: one resident at a time       {old_rate:9.1f} events/s "
          f"({len(old_ids):,} residents)")  # fmt: skip
    print(f"signing a SET: {bulk_us:.0f} µs in bulk, {alone_us:.0f} µs one at a time (sign_jwt)")
    print(f"baseline: grant webhooks delivered     {hooks_rate:9.1f} events/s "
          f"({hooks:,} pushes, one connection each)")  # fmt: skip
    print(f"load average after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
