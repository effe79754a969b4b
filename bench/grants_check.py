"""
Benchmark: ``POST /api/v1/grants/<jti>/check`` for 10,000 residents, through the whole HTTP
stack (Django's test client: authentication, JSON parsing, the grant, the consent check, the
access rows of every allowed resident and the batch's audit entry, committed), on PostgreSQL
with 1,000,000 residents. Beside it, in the same run: ``consent_allows_many`` alone.

    createdb -h 127.0.0.1 -U postgres grants_bench   # or: CREATE DATABASE ... TEMPLATE cons_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/grants_bench
    .venv/bin/python bench/grants_check.py

The residents and consent records come from bench/consent_check.py's builder (run here when
missing). The benchmark's service and grant are inserted directly (a grant's ticket review is
not what is measured). Aim: under 150 ms at p95.
"""

import argparse
import base64
import datetime
import gc
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402
from _setup import runtime_role  # noqa: E402

runtime_role()  # as the platform's runtime role, as make test does
django.setup()
import consent_check  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from consent import selectors  # noqa: E402
from consent.models import Purpose, Resident  # noqa: E402
from governance.models import Membership  # noqa: E402
from grants import services  # noqa: E402
from grants.models import Grant, Service  # noqa: E402


def service_and_grant(purpose: Purpose) -> tuple[Service, str, Grant]:
    organization = purpose.controller
    Membership.objects.get_or_create(
        consortium=purpose.consortium,
        organization=organization,
        defaults={"member_class": "regular", "joined_on": datetime.date(2020, 4, 1)},
    )
    service = Service.objects.filter(name="bench service").first() or services.service_register(
        actor=None, consortium=purpose.consortium, organization=organization, name="bench service"
    )
    credential, secret = services.credential_issue(actor=None, service=service)
    now = timezone.now()
    grant = Grant.objects.filter(service=service, status="active").first() or Grant.objects.create(
        jti=f"bench-{now.timestamp():.0f}",
        consortium=purpose.consortium,
        service=service,
        purpose=purpose,
        audience=[f"organization:{organization.pk}"],
        categories=[],
        issued_at=now,
        not_before=now,
        expires_at=now + datetime.timedelta(days=3650),
        kid="bench",
        algorithm="EdDSA",
        token="",
    )
    auth = "Basic " + base64.b64encode(f"{credential.client_id}:{secret}".encode()).decode()
    return service, auth, grant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=5_000_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("set DATABASE_URL to a PostgreSQL database, e.g. .../grants_bench")
    call_command("migrate", verbosity=0)
    bench_purposes = consent_check.purposes()
    consent_check.build(args.residents, args.records, bench_purposes)
    purpose = Purpose.objects.get(pk=bench_purposes[0].pk)
    _, auth, grant = service_and_grant(purpose)
    all_ids = list(Resident.objects.values_list("pk", flat=True))
    # The million ids above are the benchmark's scaffolding, not the server's: without this,
    # Python's full garbage collections walk them during timed calls (100 ms pauses that no
    # web worker, which holds no such list, would see).
    gc.freeze()
    rng = random.Random(6)
    client = Client()
    url = f"/api/v1/grants/{grant.jti}/check"

    def call(sample):
        response = client.post(
            url,
            json.dumps({"residents": sample}),
            content_type="application/json",
            HTTP_AUTHORIZATION=auth,
            secure=True,  # outside DEBUG, plain HTTP is redirected
        )
        assert response.status_code == 200, (response.status_code, response.content[:300])
        return response.json()["allowed"]

    call(rng.sample(all_ids, args.batch))  # warm-up
    endpoint, allowed = [], 0
    for _ in range(args.runs):
        sample = rng.sample(all_ids, args.batch)
        started = time.perf_counter()
        allowed += call(sample)
        endpoint.append(time.perf_counter() - started)
    baseline = []
    for _ in range(args.runs):
        sample = rng.sample(all_ids, args.batch)
        started = time.perf_counter()
        selectors.consent_allows_many(purpose, sample)
        baseline.append(time.perf_counter() - started)

    p = consent_check.percentile
    print(f"{len(all_ids):,} residents; {args.batch:,} per call, {args.runs} calls each")
    print(
        f"POST /api/v1/grants/<jti>/check: median {statistics.median(endpoint) * 1000:.1f} ms, "
        f"p95 {p(endpoint, 0.95) * 1000:.1f} ms ({allowed / args.runs:,.0f} accesses recorded "
        "per call) — aim p95 < 150 ms"
    )
    print(
        f"baseline, consent_allows_many alone: median {statistics.median(baseline) * 1000:.1f} ms,"
        f" p95 {p(baseline, 0.95) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
