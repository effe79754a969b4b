"""
Benchmark: the public register's pages and the CKAN API through gunicorn on loopback, at
10,000 decided tickets and 100 members, beside a bare Django view on the same server in the
same run (median and p95 latency, and requests/s of one client, one request at a time).

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_public_bench \\
        .venv/bin/python bench/public_register.py [--tickets 10000] [--requests 300]

Aim: p95 < 50 ms for the register's main page, a use's page and the uses list (50 a page).
The data are built once (bulk inserts, not the services: three board votes per ticket, a
grant-free register) and reused by later runs. Every request is a full render: no
If-None-Match is sent.
"""

import argparse
import datetime
import random
import statistics
import sys
from pathlib import Path

from _setup import machine, served, setup, timed

PORT = 8767
SLUG = "bench-register"


def ensure_register(tickets: int, members: int) -> int:
    """Build the benchmark's consortium once; return one decided ticket's id."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from consent.models import DataCategory, Purpose
    from governance.models import Consortium, Membership, Organization, Role
    from review.models import EthicsBoard, ReviewAssignment, ReviewTicket, ReviewVote

    consortium = Consortium.objects.filter(slug=SLUG).first()
    if (
        consortium is not None
        and ReviewTicket.objects.filter(consortium=consortium).count() >= tickets
    ):
        return ReviewTicket.objects.filter(consortium=consortium).order_by("pk").first().pk
    consortium = consortium or Consortium.objects.create(
        slug=SLUG, name_ja="ベンチマーク協議会", name_en="Benchmark council"
    )
    EthicsBoard.objects.get_or_create(
        consortium=consortium, defaults={"name_ja": "審査会", "name_en": "Board"}
    )
    organizations = Organization.objects.bulk_create(
        Organization(kind="civic_group", name_ja=f"会員{i}", name_en=f"Member {i}")
        for i in range(members)
    )
    Membership.objects.bulk_create(
        Membership(
            consortium=consortium,
            organization=organization,
            member_class="regular",
            joined_on=datetime.date(2024, 4, 1),
        )
        for organization in organizations
    )
    category = DataCategory.objects.get_or_create(
        code="bench-steps", defaults={"name_ja": "歩数", "name_en": "Steps"}
    )[0]
    purpose = Purpose.objects.create(
        consortium=consortium,
        code="bench",
        title_ja="健康づくり",
        title_en="Health",
        explanation_ja="説明",
        explanation_en="Explanation",
        controller=organizations[0],
        retention_days=365,
    )
    purpose.categories.add(category)
    users = [get_user_model().objects.create_user(username=f"bench-reviewer-{i}") for i in range(3)]
    roles = [
        Role.objects.create(
            consortium=consortium,
            kind="ethics_board_member",
            user=user,
            expertise=expertise,
            start_on=datetime.date(2024, 4, 1),
        )
        for user, expertise in zip(users, ["legal", "security", "data_ethics"], strict=True)
    ]
    rng = random.Random(16)
    now = timezone.now()
    batch = []
    for i in range(tickets):
        approved = rng.random() < 0.8
        decided = now - datetime.timedelta(days=rng.randrange(700))
        batch.append(
            ReviewTicket(
                consortium=consortium,
                requester=organizations[i % members],
                title=f"データ利用申請 {i}",
                service_name=f"サービス {i % 250}",
                purpose=purpose,
                retention_days=365,
                state="approved" if approved else "rejected",
                round=1,
                conditions="集計してから公表する" if approved else "",
                valid_from=decided.date() if approved else None,
                valid_until=decided.date() + datetime.timedelta(days=365) if approved else None,
                decided_at=decided,
            )
        )
    created = ReviewTicket.objects.bulk_create(batch, batch_size=2000)
    through = ReviewTicket.categories.through
    through.objects.bulk_create(
        [through(reviewticket_id=t.pk, datacategory_id=category.pk) for t in created],
        batch_size=5000,
    )
    assignments = ReviewAssignment.objects.bulk_create(
        [
            ReviewAssignment(ticket=ticket, reviewer=user, role=role, conflict_declared_at=now)
            for ticket in created
            for user, role in zip(users, roles, strict=True)
        ],
        batch_size=5000,
    )
    ReviewVote.objects.bulk_create(
        [
            ReviewVote(
                ticket_id=a.ticket_id,
                round=1,
                assignment=a,
                choice="approve" if rng.random() < 0.8 else "reject",
            )
            for a in assignments
        ],
        batch_size=5000,
    )
    return created[0].pk


def summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    rate = len(ordered) / sum(ordered)
    return (
        f"median {statistics.median(ordered) * 1000:6.2f} ms, p95 {p95 * 1000:6.2f} ms, "
        f"{rate:6.1f} req/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    url = setup()
    ticket_id = ensure_register(args.tickets, args.members)
    print(f"public register benchmark: {machine()}")
    print(f"decided tickets: {args.tickets:,}; members: {args.members}")
    pages = {
        "register main page": f"/register/{SLUG}/",
        "uses, first page of 50": f"/register/{SLUG}/uses/",
        "uses, page 100 of 200": f"/register/{SLUG}/uses/?page=100",
        "a use's page": f"/register/{SLUG}/uses/{ticket_id}/",
        "CKAN package_show": f"/api/3/action/package_show?id={SLUG}-uses",
        "CKAN package_search": f"/api/3/action/package_search?q=uses&fq=organization:{SLUG}",
    }
    with served(url, PORT):
        timed([*pages.values(), "/bench/bare"] * 10, PORT)  # warm-up
        results = {"baseline: bare Django view": timed(["/bench/bare"] * args.requests, PORT)}
        for name, path in pages.items():
            results[name] = timed([path] * args.requests, PORT)
    for name, latencies in results.items():
        print(f"{name:<28} {summary(latencies)}")
    print("aim: p95 < 50 ms (main page, a use's page, the uses list)")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
