"""
Benchmark: withdrawal fan-out. Residents whose data was released to 3 services withdraw (as
when a purpose closes for all of them): the Security Event Tokens produced per second (one per
resident and service, signed, stored, audited), then pushed (RFC 8935) to loopback receivers
per second, and the time until every one is acknowledged; beside it, in the same run, the grant
webhooks' delivery rate to the same receiver.

    export BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/oidc_bench
    .venv/bin/python bench/withdrawal_fanout.py [--residents 2000]

The issue's scale is 100,000 residents (300,000 events): pass --residents 100000 on a machine
with the time for it. Pushes go one after another from this process (a task cluster's worker
does the same per task); the receiver answers 202 at once.
"""

import argparse
import datetime
import io
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

from _setup import machine, setup  # noqa: E402

setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from consent import pairwise  # noqa: E402
from consent.models import DataAccess, PairwiseSubject, RecipientNotice, Resident  # noqa: E402
from grants import services, tasks  # noqa: E402
from grants.models import Grant, GrantEvent, OpenIDClient, Service  # noqa: E402

SERVICES = 3


class Receiver(BaseHTTPRequestHandler):
    received = 0
    lock = threading.Lock()

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with Receiver.lock:
            Receiver.received += 1
        self.send_response(202 if self.path == "/events" else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def recipients(base_grant: Grant, url: str) -> list[Grant]:
    """Three services of the demo's organisation, each with a grant for the purpose and a client."""
    grants = []
    now = timezone.now()
    for number in range(1, SERVICES + 1):
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
    PairwiseSubject.objects.bulk_create(
        [
            PairwiseSubject(
                resident_id=r.pk, sector=sector, subject=pairwise.subject_for(sector, r.pk)
            )
            for r in made
            for sector in (f"fanout{n}.example.jp" for n in range(1, SERVICES + 1))
        ],
        batch_size=5000,
    )
    return [r.pk for r in made]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=2000)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    base = Grant.objects.filter(status="active").select_related("service").first()
    grants = recipients(base, url)
    ids = released_residents(grants, args.residents)
    start_id = RecipientNotice.objects.order_by("-id").values_list("id", flat=True).first() or 0

    start = time.perf_counter()
    for resident_id in ids:
        with transaction.atomic():
            services.withdrawal_notify(
                resident_id=resident_id,
                purpose_id=base.purpose_id,
                reason=RecipientNotice.Reason.PURPOSE_CLOSED,
            )
    produced_at = time.perf_counter()
    notices = list(
        RecipientNotice.objects.filter(id__gt=start_id).order_by("id").values_list("id", flat=True)
    )
    assert len(notices) == SERVICES * args.residents, len(notices)
    Service.objects.filter(pk__in=[g.service_id for g in grants]).update(events_url=f"{url}/events")
    for notice_id in notices:
        assert services.withdrawal_push(
            notice_id=notice_id, attempt=1, post=tasks.post_security_event
        )
    acknowledged_at = time.perf_counter()
    unacknowledged = RecipientNotice.objects.filter(
        id__in=notices, acknowledged_at__isnull=True
    ).count()

    # Baseline: the grant webhooks, as many pushes (capped) to the same receiver.
    webhook_grant = grants[0]
    Service.objects.filter(pk=webhook_grant.service_id).update(webhook_url=f"{url}/webhook")
    count = min(len(notices), 5000)
    now = timezone.now()
    events = GrantEvent.objects.bulk_create(
        [GrantEvent(grant=webhook_grant, status="active", reason="", at=now) for _ in range(count)]
    )
    hooks_start = time.perf_counter()
    for event in events:
        assert services.webhook_deliver(event_id=event.pk, attempt=1, post=tasks.post)
    hooks_done = time.perf_counter()
    server.shutdown()

    events_total = len(notices)
    produce = produced_at - start
    push = acknowledged_at - produced_at
    print(machine())
    print(f"{args.residents:,} residents x {SERVICES} services = {events_total:,} events")
    print(f"produced (signed, stored, audited)   {events_total / produce:9.1f} events/s")
    print(f"pushed and acknowledged (202)         {events_total / push:9.1f} events/s")
    print(
        f"time until every one acknowledged     {acknowledged_at - start:9.1f} s "
        f"({unacknowledged} left)"
    )
    print(
        f"baseline: grant webhooks delivered    {count / (hooks_done - hooks_start):9.1f} "
        f"events/s ({count:,} pushes)"
    )


if __name__ == "__main__":
    main()
