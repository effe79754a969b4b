"""
What must hold after the soak, checked from the clients' log and the database.

The checks are plain functions over plain data (what the clients saw, what the database holds),
so that each can be shown to fail on a broken invariant (tests/soak); ``collect`` reads the
database with Django and ``check`` runs them all. Each returns the list of its violations, each
a short line naming the ids concerned.
"""

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

# Statuses the clients may see inside a fault window: the documented 503 (database or broker
# unavailable) and 0, a connection refused or cut (a killed worker, a port closed for a moment).
ALLOWED_IN_WINDOWS = {503, 0}


@dataclass
class Result:
    name: str
    checked: int
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


def read_log(path) -> tuple[list[dict], list[dict]]:
    """Split the clients' JSON-lines log into requests and facts (writes seen committed)."""
    requests, facts = [], []
    with open(path) as handle:
        for line in handle:
            if line.strip():
                entry = json.loads(line)
                (facts if "fact" in entry else requests).append(entry)
    return requests, facts


def of_kind(facts: Iterable[dict], kind: str) -> list[dict]:
    return [entry for entry in facts if entry["fact"] == kind]


# --- writes the clients saw committed ---------------------------------------------------------


def missing_consents(seen: list[dict], history: dict[tuple[str, int], list]) -> Result:
    """
    Every consent decision a resident saw recorded is the stored state at the moment the
    answer came: the latest record of that resident and purpose made before it (``t``, the
    time the client noted the answer) holds that decision. ``history`` maps (resident,
    purpose) to its records as (time, decision), in any order. (A decision that repeats the
    current one stores no new record, so counting records would not do.)
    """
    result = Result("consent decisions seen committed are stored", len(seen))
    for entry in seen:
        records = sorted(history.get((entry["resident"], entry["purpose"]), []))
        before = [decision for at, decision in records if at <= entry["t"]]
        if not before or before[-1] != entry["decision"]:
            result.violations.append(
                f"resident {entry['resident']} purpose {entry['purpose']}: saw "
                f"{entry['decision']}, stored {before[-1] if before else 'nothing'}"
            )
    return result


def missing_votes(seen: list[dict], stored: set[tuple[int, str]]) -> Result:
    """Every vote a board member saw recorded is stored."""
    result = Result("votes seen committed exist", len(seen))
    for entry in seen:
        if (entry["ticket"], entry["reviewer"]) not in stored:
            result.violations.append(f"ticket {entry['ticket']}: {entry['reviewer']}'s vote")
    return result


def undecided(seen: list[dict], states: dict[int, str], board_size: int) -> Result:
    """A ticket whose every vote was seen approving is approved (the board's rule decided)."""
    voters = Counter(entry["ticket"] for entry in seen)
    full = [ticket for ticket, count in voters.items() if count >= board_size]
    result = Result("tickets voted by the whole board are approved", len(full))
    for ticket in sorted(full):
        if states.get(ticket) != "approved":
            result.violations.append(f"ticket {ticket} is {states.get(ticket)}")
    return result


def approvals_without_one_grant(approved: Iterable[int], grants: Counter) -> Result:
    """Every approval got exactly one grant (the issuance rule's)."""
    approved = sorted(approved)
    result = Result("approvals with exactly one grant", len(approved))
    for ticket in approved:
        if grants.get(ticket, 0) != 1:
            result.violations.append(f"ticket {ticket}: {grants.get(ticket, 0)} grants")
    return result


def missing_batches(seen: list[dict], stored: set[str]) -> Result:
    """Every consent check a service saw answered has its access batch (what was released)."""
    result = Result("access batches seen committed exist", len(seen))
    for entry in seen:
        if entry["sha256"] not in stored:
            result.violations.append(f"batch {entry['sha256'][:16]}")
    return result


def reports_not_finished(
    seen: list[dict], states: dict[int, tuple[str, float]], retry_horizon: float
) -> tuple[Result, Result]:
    """
    Every report the secretariat saw queued exists; every report is done or failed, or still
    within the time in which django-q2 delivers its task again (its worker died): none stuck.
    ``states`` maps every report of the run to (state, seconds since its last progress).
    """
    exists = Result("reports seen queued exist", len(seen))
    for entry in seen:
        if entry["report"] not in states:
            exists.violations.append(f"report {entry['report']}")
    finished = Result("reports done or failed, none stuck", len(states))
    for report, (state, idle) in sorted(states.items()):
        if state in ("queued", "running") and idle > retry_horizon:
            finished.violations.append(f"report {report} {state} for {idle:.0f} s")
    return exists, finished


def events_not_delivered(events: list[dict]) -> Result:
    """
    Every withdrawal notice and webhook event was delivered, or its next attempt is scheduled
    (``retrying``). ``events``: {"id", "delivered", "retrying"}.
    """
    result = Result("events delivered or being retried", len(events))
    for event in events:
        if not event["delivered"] and not event["retrying"]:
            result.violations.append(f"{event['id']} neither delivered nor retried")
    return result


def withdrawals_without_notice(seen: list[dict], notified: Counter) -> Result:
    """
    Each withdrawal seen committed that ended a consent (``after_given``) of a resident whose
    data a service had received under the purpose (``released``) sent that service a notice:
    per resident and purpose, at least as many notices as such withdrawals. ``notified``
    counts the notices of the run per (resident, purpose).
    """
    # Declining again a purpose already declined stores no new record: the clients' repeated
    # withdrawals that found the same record (``record``: its time) are one withdrawal.
    owed: dict[tuple, set] = {}
    for number, entry in enumerate(seen):
        if entry.get("released") and entry.get("after_given", True):
            key = (entry["resident"], entry["purpose"])
            owed.setdefault(key, set()).add(entry.get("record", ("seen", number)))
    expected = Counter({key: len(records) for key, records in owed.items()})
    result = Result("withdrawals with a notice to the recipients", sum(expected.values()))
    for (resident, purpose), count in sorted(expected.items()):
        if notified.get((resident, purpose), 0) < count:
            result.violations.append(
                f"resident {resident} purpose {purpose}: {count} withdrawals, "
                f"{notified.get((resident, purpose), 0)} notices"
            )
    return result


# --- the audit log --------------------------------------------------------------------------------


def audit_log(verified: bool, output: str, pending_over_limit: int) -> Result:
    """``audit_verify`` passes and no entry waits to be sealed longer than the limit."""
    result = Result("audit_verify passes, nothing pending beyond the limit", 1)
    if not verified:
        result.violations.append("audit_verify: " + (output.strip().splitlines() or ["failed"])[-1])
    if pending_over_limit:
        result.violations.append(f"{pending_over_limit} entries pending beyond the limit")
    return result


# --- the answers ----------------------------------------------------------------------------------


def server_errors(requests: list[dict], windows: list) -> Result:
    """
    No request got a 5xx or lost its connection outside the fault windows; inside them, only
    the documented 503 or a lost connection. ``windows`` hold ``covers(start, end)``.
    """
    failed = [entry for entry in requests if entry["s"] >= 500 or entry["s"] == 0]
    result = Result("no 5xx outside the fault windows, only 503 inside", len(requests))
    for entry in failed:
        end = entry["t"] + entry["ms"] / 1000
        inside = any(window.covers(entry["t"], end) for window in windows)
        if not inside or entry["s"] not in ALLOWED_IN_WINDOWS:
            where = "in a fault window" if inside else "outside the fault windows"
            what = entry["s"] or entry.get("e") or "no answer"
            result.violations.append(f"{entry['k']} at {entry['t']:.1f}: {what} {where}")
    return result


# --- reading the database ------------------------------------------------------------------------


def collect(facts: list[dict], fixture: dict, since: float, env: dict) -> dict:
    """Read what the checks need from the database (Django set up on the soak's database)."""
    import datetime
    import subprocess

    from django.conf import settings
    from django.utils import timezone
    from django_q.models import Schedule

    from audit.models import PendingEntry, Report
    from audit.services import MAX_REPORT_ATTEMPTS
    from consent.models import ConsentRecord, DataAccess, DataAccessBatch, RecipientNotice
    from grants.models import Grant, GrantEvent
    from review.models import ReviewTicket, ReviewVote

    started = datetime.datetime.fromtimestamp(since, tz=datetime.UTC)
    residents = [r["id"] for r in fixture["residents"] + fixture["oidc_residents"]]
    consents = defaultdict(list)
    for resident, purpose, decided_at, decision in ConsentRecord.objects.filter(
        resident_id__in=residents
    ).values_list("resident_id", "purpose_id", "decided_at", "decision"):
        consents[(resident, purpose)].append((decided_at.timestamp(), decision))
    tickets = fixture["tickets"]
    votes = {
        (ticket, username)
        for ticket, username in ReviewVote.objects.filter(ticket_id__in=tickets).values_list(
            "ticket_id", "assignment__reviewer__username"
        )
    }
    states = dict(ReviewTicket.objects.filter(pk__in=tickets).values_list("pk", "state"))
    approved = [ticket for ticket, state in states.items() if state == "approved"]
    grants = Counter(
        Grant.objects.filter(ticket_id__in=tickets).values_list("ticket_id", flat=True)
    )
    shas = [entry["sha256"] for entry in of_kind(facts, "access_batch")]
    batches = set(
        DataAccessBatch.objects.filter(batch_sha256__in=shas).values_list("batch_sha256", flat=True)
    )
    now = timezone.now()
    reports = {
        pk: (state, (now - updated).total_seconds())
        for pk, state, updated in Report.objects.filter(requested_at__gte=started).values_list(
            "pk", "state", "updated_at"
        )
    }
    scheduled = set(Schedule.objects.values_list("name", flat=True))
    notices = [
        {
            "id": f"notice {pk}",
            "delivered": delivered is not None,
            "retrying": any(name.startswith(f"security event {pk} attempt") for name in scheduled),
        }
        for pk, delivered in RecipientNotice.objects.filter(created_at__gte=started).values_list(
            "pk", "delivered_at"
        )
    ]
    webhooks = [
        {
            "id": f"grant event {event.pk}",
            "delivered": event.deliveries.filter(delivered=True).exists(),
            "retrying": any(
                name.startswith(f"grants webhook {event.pk} attempt") for name in scheduled
            ),
        }
        for event in GrantEvent.objects.filter(at__gte=started, grant__service__webhook_url__gt="")
    ]
    withdrawals = []
    for entry in of_kind(facts, "consent"):
        if entry["decision"] != "withdrawn":
            continue
        at = datetime.datetime.fromtimestamp(entry["t"], tz=datetime.UTC)
        released = (
            DataAccess.objects.filter(
                resident_id=entry["resident"], purpose_id=entry["purpose"], accessed_at__lt=at
            ).exists()
            or DataAccessBatch.objects.filter(
                purpose_id=entry["purpose"],
                accessed_at__lt=at,
                resident_ids__contains=entry["resident"],
            ).exists()
        )
        # The decision before this withdrawal's own record: only ending a consent notifies.
        records = sorted(consents.get((entry["resident"], entry["purpose"]), []))
        before = [(at, decision) for at, decision in records if at <= entry["t"]]
        after_given = len(before) >= 2 and before[-1][1] == "withdrawn" and before[-2][1] == "given"
        withdrawals.append(
            {
                **entry,
                "released": released,
                "after_given": after_given,
                "record": before[-1][0] if before else None,
            }
        )
    # The notices of withdrawals (an ended grant's notices tell of no withdrawal).
    notified = Counter(
        RecipientNotice.objects.filter(created_at__gte=started)
        .exclude(reason=RecipientNotice.Reason.GRANT_ENDED)
        .values_list("resident_id", "purpose_id")
    )
    limit = int(env.get("AUDIT_PENDING_MAX_SECONDS", "300"))
    pending_over = PendingEntry.objects.filter(
        written_at__lt=now - datetime.timedelta(seconds=limit)
    ).count()
    verify = subprocess.run(
        [settings.BASE_DIR / ".venv/bin/python", "manage.py", "audit_verify"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    return {
        "consents": consents,
        "votes": votes,
        "states": states,
        "approved": approved,
        "grants": grants,
        "batches": batches,
        "reports": reports,
        "events": notices + webhooks,
        "withdrawals": withdrawals,
        "notified": notified,
        "pending_over_limit": pending_over,
        "verified": verify.returncode == 0,
        "verify_output": verify.stdout + verify.stderr,
        "retry_horizon": settings.Q_CLUSTER.get("retry", 660) * MAX_REPORT_ATTEMPTS,
    }


def check(requests: list[dict], facts: list[dict], windows: list, db: dict, board_size: int):
    """Run every check; return the results in order."""
    votes = of_kind(facts, "vote")
    reports_exist, reports_finished = reports_not_finished(
        of_kind(facts, "report"), db["reports"], db["retry_horizon"]
    )
    return [
        missing_consents(of_kind(facts, "consent"), db["consents"]),
        missing_votes(votes, db["votes"]),
        undecided(votes, db["states"], board_size),
        approvals_without_one_grant(db["approved"], db["grants"]),
        missing_batches(of_kind(facts, "access_batch"), db["batches"]),
        reports_exist,
        reports_finished,
        events_not_delivered(db["events"]),
        withdrawals_without_notice(db["withdrawals"], db["notified"]),
        audit_log(db["verified"], db["verify_output"], db["pending_over_limit"]),
        server_errors(requests, windows),
    ]
