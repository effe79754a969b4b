"""
The soak test's city, on top of the demo (``seed_demo``): residents with portal accounts, the
demo mobility service with a client secret, its grant and an OpenID client, the demo board's
three experts with tickets in review to vote on (approvals issue grants through the
consortium's issuance rule), and the secretariat clerk. Writes what the load generator needs as
JSON.

    DATABASE_URL=... python bench/soak/fixture.py BASELINE.json FAULTS.json --residents 60 \\
        --tickets 40 --events-url http://127.0.0.1:8391/events

Idempotent in what it reuses (the demo, the service); each run adds its own tickets.
"""

import argparse
import io
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

PASSWORD = "soak-password-2026"
CALLBACK = "https://soak.example.jp/callback"
BOARD = ("ethics-security", "ethics-legal", "ethics-data")
SECRETARIAT = "aizu-secretariat"


def residents(consortium, count: int, prefix: str, sector: str) -> list[dict]:
    """
    Portal residents sharing one password hash (hashing each would take minutes), with the
    pairwise id (``sub``) the service knows each by.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from consent import services as consent_services
    from consent.models import Resident
    from consent.pairwise import subject_for

    User = get_user_model()
    hashed = make_password(PASSWORD)
    made = []
    for index in range(count):
        email = f"{prefix}-{index}@example.jp"
        user = User.objects.filter(username=email).first()
        if user is None:
            user = User.objects.create(username=email, email=email, password=hashed)
            consent_services.resident_register(
                actor=None, consortia=[consortium], user=user, contact_email=email
            )
        resident = Resident.objects.get(user=user)
        made.append({"email": email, "id": resident.pk, "sub": subject_for(sector, resident.pk)})
    return made


def tickets(consortium, purpose, mobility, service_name: str, count: int) -> list[int]:
    """Tickets in review, the three board experts assigned and free of conflicts."""
    from governance.demo import demo_users
    from review import services

    users = demo_users()
    clerk, rep = users[SECRETARIAT], users["aizu-rep-mobility"]
    made = []
    for index in range(count):
        ticket = services.ticket_create(
            actor=rep,
            consortium=consortium,
            requester=mobility,
            title=f"Soak request {index}",
            service_name=service_name,
            purpose=purpose,
            categories=list(purpose.categories.all()),
            recipients=[mobility],
            third_party_provision=False,
            retention_days=365,
            deletion_method="Deleted at the end of the retention period.",
            security_measures="Encrypted at rest; access limited to the planning staff.",
            anonymisation="pseudonymised",
            anonymisation_details="Pseudonymous ids only.",
            pia=[
                {
                    "risk": "Re-identification",
                    "likelihood": "low",
                    "impact": "high",
                    "mitigation": "Aggregated before analysis.",
                }
            ],
        )
        services.ticket_submit(actor=rep, ticket=ticket)
        for username in BOARD:
            services.reviewer_assign(actor=clerk, ticket=ticket, reviewer=users[username])
            services.conflict_declare(actor=users[username], ticket=ticket, has_conflict=False)
        services.ticket_review_start(actor=clerk, ticket=ticket)
        made.append(ticket.pk)
    return made


def build(
    *, residents_count: int, oidc_residents: int, tickets_counts: list[int], events_url: str
) -> list[dict]:
    """The city, and for each run (its number of tickets) residents and tickets of its own."""
    import django

    django.setup()
    from django.core.management import call_command

    from consent.models import Purpose
    from governance.demo import DEMO_PASSWORD, demo_consortium
    from grants import services
    from grants.models import Grant, OpenIDClient
    from review.demo import REVIEW_APPROVED_TITLE
    from review.models import ReviewTicket

    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    consortium = demo_consortium()
    grant = (
        Grant.objects.filter(consortium=consortium, status="active")
        .select_related("service", "purpose")
        .order_by("pk")
        .first()
    )
    service = grant.service
    services.service_update(
        actor=None,
        service=service,
        name=service.name,
        webhook_url=service.webhook_url,
        is_active=True,
        events_url=events_url,
    )
    services.issuance_rule_set(actor=None, consortium=consortium, enabled=True)
    _credential, secret = services.credential_issue(actor=None, service=service)
    client = OpenIDClient.objects.filter(service=service).first()
    if client is None:
        client, oidc_secret = services.openid_client_register(
            actor=None,
            service=service,
            redirect_uris=[CALLBACK],
            sector_identifier="soak.example.jp",
        )
    else:
        oidc_secret = services.openid_client_secret_rotate(actor=None, client=client)
        services.openid_client_update(
            actor=None, client=client, redirect_uris=[CALLBACK], is_active=True
        )
    purposes = list(
        Purpose.objects.filter(consortium=consortium, status="open").values_list("pk", flat=True)
    )
    import secrets as random_secrets

    from grants.selectors import service_sectors

    sector = service_sectors(service.pk)[0]
    common = {
        "password": PASSWORD,
        "staff_password": DEMO_PASSWORD,
        "consortium": consortium.pk,
        "purposes": purposes,
        "service": {
            "id": service.pk,
            "client_id": _credential.client_id,
            "client_secret": secret,
            "grant_jti": grant.jti,
            "grant_token": grant.token,
        },
        "oidc": {
            "client_id": client.application.client_id,
            "client_secret": oidc_secret,
            "redirect_uri": CALLBACK,
            "purpose_id": grant.purpose_id,
            "purpose_code": grant.purpose.code,
        },
        "board": list(BOARD),
        "secretariat": SECRETARIAT,
        "demo_ticket": ReviewTicket.objects.get(
            consortium=consortium, title=REVIEW_APPROVED_TITLE
        ).pk,
    }
    runs = []
    for tickets_count in tickets_counts:
        run = random_secrets.token_hex(3)
        runs.append(
            {
                **common,
                "residents": residents(consortium, residents_count, f"soak-{run}", sector),
                "oidc_residents": residents(consortium, oidc_residents, f"soak-oidc-{run}", sector),
                "tickets": tickets(
                    consortium, grant.purpose, service.organization, service.name, tickets_count
                ),
            }
        )
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="+", help="one file per run (each its own residents)")
    parser.add_argument("--residents", type=int, default=60)
    parser.add_argument("--oidc-residents", type=int, default=10)
    parser.add_argument("--tickets", type=int, nargs="+", default=[40], help="per run (file)")
    parser.add_argument("--events-url", default="")
    args = parser.parse_args()
    runs = build(
        residents_count=args.residents,
        oidc_residents=args.oidc_residents,
        tickets_counts=(args.tickets * len(args.out))[: len(args.out)]
        if len(args.tickets) == 1
        else args.tickets,
        events_url=args.events_url,
    )
    for out, data in zip(args.out, runs, strict=True):
        Path(out).write_text(json.dumps(data, indent=1))


if __name__ == "__main__":
    main()
