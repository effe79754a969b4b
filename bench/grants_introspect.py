"""
Benchmark: ``POST /api/v1/introspect`` through gunicorn on loopback (requests per second and
p99 latency), beside a bare Django view on the same server in the same run.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/grants_bench
    .venv/bin/python bench/grants_introspect.py [--seconds 10] [--clients 4] [--workers 2]

Aim: at least 0.5 of the bare view's rate. Two loads: one grant's token again and again (a
service introspecting the grant it holds: the signature is verified once per worker), and
5,000 grants in turn, more than the workers keep, so that every call verifies a signature.
The benchmark's service and grants (real signed tokens) are inserted directly: the tickets'
review is not what is measured. An empty database gets the demo first.
"""

import argparse
import base64
import datetime
import http.client
import itertools
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import jwt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")
PORT = 8765
DISTINCT = 5000  # > grants.selectors.VERIFIED_TOKENS


def prepare() -> tuple[str, str]:
    import django
    from _setup import runtime_role

    runtime_role()  # as the platform's runtime role, as make test does
    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from audit.services import sign_jwt
    from consent.models import Purpose
    from governance.models import Consortium, Membership, Organization
    from grants import services
    from grants.models import Grant, Service

    call_command("migrate", verbosity=0)
    consortium, _ = Consortium.objects.get_or_create(
        slug="bench-introspect", defaults={"name_ja": "ベンチ", "name_en": "Bench"}
    )
    organization = Organization.objects.filter(name_en="Bench holder").first()
    if organization is None:
        organization = Organization.objects.create(
            kind="municipality", name_ja="ベンチ市", name_en="Bench holder"
        )
    Membership.objects.get_or_create(
        consortium=consortium,
        organization=organization,
        defaults={"member_class": "regular", "joined_on": datetime.date(2020, 4, 1)},
    )
    service = Service.objects.filter(consortium=consortium).first() or services.service_register(
        actor=None, consortium=consortium, organization=organization, name="introspecting"
    )
    credential, secret = services.credential_issue(actor=None, service=service)
    purpose = Purpose.objects.first()
    if purpose is None:  # an empty database: the demo's purposes
        call_command("seed_demo", verbosity=0)
        purpose = Purpose.objects.first()
    now = timezone.now().replace(microsecond=0)
    # More distinct tokens than the verified-token cache keeps, so that cycling through them
    # verifies every signature.
    tokens, grants = [], []
    for _ in range(DISTINCT):
        jti = str(uuid.uuid4())
        claims = {
            "iss": f"http://127.0.0.1:8000/consortia/{consortium.slug}",
            "sub": service.subject,
            "aud": [f"organization:{organization.pk}"],
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int(now.timestamp()) + 86400,
            "jti": jti,
            "purpose": purpose.pk,
            "purpose_code": purpose.code,
            "data_categories": ["location", "trips"],
            "ticket": 1,
            "conditions": ["集計単位は50人以上とする", "第三者への再提供を禁止する"],
        }
        token = sign_jwt(claims, typ="grant+jwt")
        tokens.append(token)
        grants.append(
            Grant(
                jti=jti,
                consortium=consortium,
                service=service,
                purpose=purpose,
                audience=claims["aud"],
                categories=claims["data_categories"],
                issued_at=now,
                not_before=now,
                expires_at=now + datetime.timedelta(days=1),
                kid=jwt.get_unverified_header(token)["kid"],
                algorithm="EdDSA",
                token=token,
            )  # fmt: skip
        )
    Grant.objects.bulk_create(grants, batch_size=1000)
    # Fresh statistics, as autovacuum would gather them before long: without them the planner
    # may take the grants table for empty and scan it.
    from django.db import connection

    from audit import roles

    with roles.as_owner(), connection.cursor() as cursor:  # only a table's owner analyzes it
        cursor.execute(f"ANALYZE {Grant._meta.db_table}")
    auth = "Basic " + base64.b64encode(f"{credential.client_id}:{secret}".encode()).decode()
    return auth, tokens


def load(method, path, bodies, headers, seconds, clients):
    """Send requests from ``clients`` threads for ``seconds``, each taking the next body."""
    latencies, lock, stop = [], threading.Lock(), time.perf_counter() + seconds
    errors = []
    bodies = itertools.cycle(bodies)

    def run():
        mine = []
        while time.perf_counter() < stop:
            with lock:
                body = next(bodies)
            started = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            conn.close()
            if response.status != 200:
                errors.append((response.status, data[:200]))
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return len(latencies) / elapsed, statistics.median(latencies), p99, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    auth, tokens = prepare()
    from grants.selectors import VERIFIED_TOKENS

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.introspect_settings",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
    }
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "--workers", str(args.workers),
         "--bind", f"127.0.0.1:{PORT}", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/")
                break
            except OSError:
                time.sleep(0.2)
        forms = [urllib.parse.urlencode({"token": token}) for token in tokens]
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": auth}
        load("POST", "/api/v1/introspect", forms[:1], headers, 1, args.clients)  # warm-up
        load("GET", "/bench/bare", [None], {}, 1, args.clients)
        bare = load("GET", "/bench/bare", [None], {}, args.seconds, args.clients)
        same = load("POST", "/api/v1/introspect", forms[:1], headers, args.seconds, args.clients)
        each = load("POST", "/api/v1/introspect", forms, headers, args.seconds, args.clients)
    finally:
        server.terminate()
        server.wait()
    rows = (
        ("baseline: bare Django view", bare),
        ("introspect, one grant", same),
        (f"introspect, {len(forms):,} grants", each),
    )
    for name, (rate, median, p99, errors) in rows:
        print(
            f"{name:30} {rate:8,.0f} req/s  median {median * 1000:6.1f} ms  "
            f"p99 {p99 * 1000:6.1f} ms  errors {len(errors)} {errors[:1] or ''}"
        )
    print(
        f"ratio: one grant {same[0] / bare[0]:.2f}, {len(forms):,} grants "
        f"{each[0] / bare[0]:.2f} (aim >= 0.50); gunicorn workers {args.workers}, "
        f"{args.clients} client threads on the same two cores"
    )
    print(
        "(one grant: its signature is verified once per worker and kept; "
        f"{len(forms):,} grants cycle through more than the {VERIFIED_TOKENS:,} kept, "
        "so every call verifies one)"
    )


if __name__ == "__main__":
    main()
