"""
Benchmark: the bulk consent check (``consent.selectors.consent_allows_many``) for 10,000
residents, on PostgreSQL with 1,000,000 residents and 5,000,000 consent records.

Prints the median and 95th percentile of the call beside, from the same run, the time of one
indexed primary-key lookup (the floor of any query through the same connection and ORM).

    createdb -h 127.0.0.1 -U postgres cons_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/cons_bench
    .venv/bin/python bench/consent_check.py

The data is built once, server-side (INSERT ... SELECT over generate_series), and reused by
later runs; ``--residents`` and ``--records`` choose a smaller size.
"""

import argparse
import gc
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")

import django  # noqa: E402
from _setup import runtime_role  # noqa: E402

runtime_role()  # as the platform's runtime role, as make test does
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from consent import selectors, services  # noqa: E402
from consent.models import ConsentRecord, ConsentState, DataCategory, Purpose, Resident  # noqa: E402
from governance.models import Consortium, Organization  # noqa: E402

PURPOSES = 4


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--batch", type=int, default=10_000, help="residents checked per call")
    parser.add_argument("--runs", type=int, default=30, help="timed calls (each a new sample)")
    return parser.parse_args()


def approve(purpose: Purpose) -> None:
    """Store the board's approval the purpose opens under (the review workflow is not measured)."""
    import datetime

    from django.utils import timezone

    from review.models import ReviewTicket

    today = timezone.localdate()
    ticket = ReviewTicket.objects.create(
        consortium=purpose.consortium,
        requester=purpose.controller,
        title=purpose.title_ja,
        service_name=purpose.title_ja,
        purpose=purpose,
        retention_days=purpose.retention_days,
        state=ReviewTicket.State.APPROVED,
        decided_at=timezone.now(),
        valid_from=today,
        valid_until=today + datetime.timedelta(days=365),
        # The first purpose is later widened to name the city as a recipient.
        third_party_provision=True,
    )
    ticket.categories.set(purpose.categories.all())
    ticket.recipients.set([purpose.controller])


def purposes() -> list[Purpose]:
    """Return the benchmark's open purposes; the first has a second notice version."""
    consortium, _ = Consortium.objects.get_or_create(
        slug="bench", defaults={"name_ja": "ベンチマーク", "name_en": "Benchmark"}
    )
    found = list(Purpose.objects.filter(consortium=consortium).order_by("pk"))
    if len(found) == PURPOSES:
        return found
    city = Organization.objects.create(kind="municipality", name_ja="市", name_en="City")
    category = services.data_category_save(
        actor=None, category=DataCategory(code="bench-steps", name_ja="歩数", name_en="Steps")
    )
    for index in range(PURPOSES):
        purpose = services.purpose_save(
            actor=None,
            purpose=Purpose(
                consortium=consortium,
                code=f"bench-{index}",
                title_ja=f"目的{index}",
                title_en=f"Purpose {index}",
                explanation_ja="説明",
                explanation_en="Explanation",
                controller=city,
                retention_days=365,
            ),
            categories=[category],
            recipients=[],
        )
        approve(purpose)
        services.purpose_publish(actor=None, purpose=purpose)
    first = Purpose.objects.filter(consortium=consortium).order_by("pk").first()
    services.purpose_save(actor=None, purpose=first, categories=[category], recipients=[city])
    return list(Purpose.objects.filter(consortium=consortium).order_by("pk"))


def build(residents: int, records: int, bench_purposes: list[Purpose]) -> None:
    """Fill the tables up to the wanted size, server-side."""
    resident_table = Resident._meta.db_table
    through_table = Resident.consortia.through._meta.db_table
    record_table = ConsentRecord._meta.db_table
    state_table = ConsentState._meta.db_table
    consortium_id = bench_purposes[0].consortium_id
    have_residents = Resident.objects.count()
    have_records = ConsentRecord.objects.count()
    if have_residents >= residents and have_records >= records:
        return
    purpose_ids = [p.pk for p in bench_purposes]
    first_notice = bench_purposes[0].notices.order_by("version").first().pk
    current_notices = [p.current_notice_id for p in bench_purposes]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if have_residents < residents:
            print(f"building {residents - have_residents:,} residents ...", flush=True)
            # Random 24-character ids, as new_pseudonymous_id makes (hex here, for speed).
            cursor.execute(
                f"INSERT INTO {resident_table} (pseudonymous_id, language, registered_at) "
                "SELECT substr(md5(random()::text || i::text), 1, 24), 'ja', now() "
                "FROM generate_series(%s, %s) AS i ON CONFLICT DO NOTHING",
                [have_residents + 1, residents],
            )
            cursor.execute(
                f"INSERT INTO {through_table} (resident_id, consortium_id) "
                f"SELECT pseudonymous_id, %s FROM {resident_table} r WHERE NOT EXISTS "
                f"(SELECT 1 FROM {through_table} t WHERE t.resident_id = r.pseudonymous_id)",
                [consortium_id],
            )
        if have_records < records:
            print(f"building {records - have_records:,} consent records ...", flush=True)
            # Pass k over all residents decides on purpose k mod 4, so residents have one to
            # two records per purpose; the first pass on purpose 0 is under its old notice.
            cursor.execute(
                "CREATE TEMP TABLE bench_ids AS SELECT row_number() OVER () AS n, "
                f"pseudonymous_id AS id FROM {resident_table}"
            )
            cursor.execute("CREATE UNIQUE INDEX ON bench_ids (n)")
            cursor.execute("SELECT count(*) FROM bench_ids")
            count = cursor.fetchone()[0]
            cursor.execute(
                f"INSERT INTO {record_table} (receipt_id, resident_id, purpose_id, notice_id, "
                "decision, decided_at, method, paper_reference, relationship) "
                "SELECT gen_random_uuid(), b.id, "
                "  (%(purposes)s::bigint[])[((j - 1) / %(count)s) %% 4 + 1], "
                "  CASE WHEN (j - 1) / %(count)s = 0 THEN %(first_notice)s "
                "       ELSE (%(notices)s::bigint[])[((j - 1) / %(count)s) %% 4 + 1] END, "
                "  CASE WHEN random() < 0.7 THEN 'given' ELSE 'withdrawn' END, "
                "  now(), 'portal', '', '' "
                "FROM generate_series(%(start)s, %(end)s) AS j "
                "JOIN bench_ids b ON b.n = (j - 1) %% %(count)s + 1 ORDER BY j",
                {
                    "purposes": purpose_ids,
                    "notices": current_notices,
                    "first_notice": first_notice,
                    "count": count,
                    "start": have_records + 1,
                    "end": records,
                },
            )
            cursor.execute("DROP TABLE bench_ids")
            # The current state of each resident and purpose, as consent's services keep it.
            cursor.execute(f"DELETE FROM {state_table}")
            cursor.execute(
                f"INSERT INTO {state_table} (purpose_id, resident_id, record_id, decision, "
                "notice_id, expires_at) SELECT DISTINCT ON (purpose_id, resident_id) "
                f"purpose_id, resident_id, id, decision, notice_id, expires_at FROM {record_table} "
                "ORDER BY purpose_id, resident_id, id DESC"
            )
    print("vacuum analyze ...", flush=True)
    from audit import roles

    with roles.as_owner(), connection.cursor() as cursor:  # only a table's owner vacuums it
        cursor.execute(f"VACUUM ANALYZE {resident_table}")
        cursor.execute(f"VACUUM ANALYZE {record_table}")
        cursor.execute(f"VACUUM ANALYZE {state_table}")
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    args = parse_args()
    if connection.vendor != "postgresql":
        sys.exit("set DATABASE_URL to a PostgreSQL database, e.g. .../cons_bench")
    call_command("migrate", verbosity=0)
    bench_purposes = purposes()
    build(args.residents, args.records, bench_purposes)
    residents = Resident.objects.count()
    records = ConsentRecord.objects.count()
    all_ids = list(Resident.objects.values_list("pk", flat=True))
    gc.freeze()  # the million ids are scaffolding: keep full collections from walking them
    rng = random.Random(2026)
    purpose = Purpose.objects.get(pk=bench_purposes[0].pk)

    # Warm-up, as a service's steady state would be.
    selectors.consent_allows_many(purpose, rng.sample(all_ids, args.batch))

    bulk = []
    allowed = 0
    for _ in range(args.runs):
        sample = rng.sample(all_ids, args.batch)
        started = time.perf_counter()
        answer = selectors.consent_allows_many(purpose, sample)
        bulk.append(time.perf_counter() - started)
        allowed += sum(answer.values())

    lookups = []
    for pk in rng.sample(all_ids, 500):
        started = time.perf_counter()
        Resident.objects.filter(pk=pk).values_list("pk", flat=True).first()
        lookups.append(time.perf_counter() - started)

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    print(f"PostgreSQL {version}: {residents:,} residents, {records:,} consent records")
    print(
        f"consent_allows_many, {args.batch:,} residents per call, {args.runs} calls: "
        f"median {statistics.median(bulk) * 1000:.1f} ms, "
        f"p95 {percentile(bulk, 0.95) * 1000:.1f} ms "
        f"({allowed / args.runs:,.0f} allowed per call on average)"
    )
    print(
        f"baseline, one primary-key lookup (500 lookups): "
        f"median {statistics.median(lookups) * 1000:.3f} ms, "
        f"p95 {percentile(lookups, 0.95) * 1000:.3f} ms"
    )
    per_resident = statistics.median(bulk) / args.batch
    print(
        f"per resident in the bulk call: {per_resident * 1e6:.1f} µs, "
        f"{statistics.median(lookups) / per_resident:.0f}x cheaper than one lookup each"
    )


if __name__ == "__main__":
    main()
