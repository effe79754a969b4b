"""
Outcome reports: the requester of an approved use reads the indicators that follow it and
reports their values over the API, on their own or filed with the use's outcome-report
obligation; others' uses and obligations, computed indicators and bad input are refused with
JSON errors and change nothing; the value shows on the scorecard as the requester's, and on the
use's register page under its outcome report.
"""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from audit.models import PendingEntry
from public.models import Indicator, Measurement
from review.models import Obligation, ReviewTicket
from tests.grants import conftest as grants_fixtures

from .test_kpi import define

service_b = grants_fixtures.service_b
company_b = grants_fixtures.company_b

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()


@pytest.fixture
def followed(clerk_a, consortium_a, ticket, grant):
    """Two indicators that follow the approved use: one entered, one computed."""
    entered = define(
        clerk_a, consortium_a, code="rides", unit="件", ticket=ticket, name_en="Rides a month"
    )
    computed = define(
        clerk_a,
        consortium_a,
        code="decisions",
        source=Indicator.Source.DECISIONS,
        unit="件",
        ticket=ticket,
    )
    return entered, computed


def report(client, caller, ticket_id, code, body):
    return client.post(
        f"/api/v1/tickets/{ticket_id}/indicators/{code}/measurements",
        json.dumps(body) if not isinstance(body, str) else body,
        content_type="application/json",
        HTTP_AUTHORIZATION=caller.auth,
    )


GOOD = {"measured_on": "2026-11-30", "value": "1234.5", "source": "配車システムの月次集計"}


def test_the_requester_reports_a_value_that_the_scorecard_shows_as_its_own(
    client, service_a, ticket, followed
):
    listed = client.get(
        f"/api/v1/tickets/{ticket.pk}/indicators", HTTP_AUTHORIZATION=service_a.auth
    )
    assert listed.status_code == 200
    assert [row["code"] for row in listed.json()] == ["decisions", "rides"]

    response = report(client, service_a, ticket.pk, "rides", {**GOOD, "evidence": "集計表 v3"})
    assert response.status_code == 201, response.json()
    assert response.json()["value"] == "1234.50"
    assert response.json()["reported_by_requester"] is True
    measurement = Measurement.objects.get()
    assert measurement.reported_by_id == ticket.requester_id
    assert measurement.recorded_by is None and not measurement.computed
    entry = PendingEntry.objects.get(action="indicator.measured")
    assert (entry.actor_type, entry.actor_id) == ("service", str(service_a.service.pk))
    assert entry.data["reported_by"] == ticket.requester_id
    assert "配車" not in entry.payload

    again = client.get(f"/api/v1/tickets/{ticket.pk}/indicators", HTTP_AUTHORIZATION=service_a.auth)
    rides = next(row for row in again.json() if row["code"] == "rides")
    assert rides["measurements"] == [
        {
            "id": measurement.pk,
            "measured_on": "2026-11-30",
            "value": "1234.50",
            "computed": False,
            "reported_by_requester": True,
            "obligation": None,
        }
    ]
    page = client.get(reverse("public:scorecard", kwargs={"slug": "aizu", "lang": "en"}))
    assert "reported by the requester" in page.content.decode()


def test_refusals_are_json_and_change_nothing(client, service_a, service_b, ticket, followed):
    # Another service, a missing ticket, an indicator of no such code: the same 404.
    other = report(client, service_b, ticket.pk, "rides", GOOD)
    missing = report(client, service_a, 999999, "rides", GOOD)
    unknown = report(client, service_a, ticket.pk, "no-such-code", GOOD)
    assert other.status_code == missing.status_code == unknown.status_code == 404
    assert (
        other.json()["error"] == missing.json()["error"] == unknown.json()["error"] == "not_found"
    )
    listed = client.get(
        f"/api/v1/tickets/{ticket.pk}/indicators", HTTP_AUTHORIZATION=service_b.auth
    )
    assert listed.status_code == 404
    assert client.get(f"/api/v1/tickets/{ticket.pk}/indicators").status_code == 401
    # A computed indicator takes no values.
    computed = report(client, service_a, ticket.pk, "decisions", GOOD)
    assert computed.status_code == 409 and computed.json()["error"] == "computed"
    # Bad input.
    for body in (
        {},
        {**GOOD, "source": "   "},
        {**GOOD, "value": "12.345"},
        {**GOOD, "value": "a lot"},
        {**GOOD, "value": ""},
        {**GOOD, "value": 12.5},
        {**GOOD, "value": "1e5"},
        {**GOOD, "measured_on": "2026-02-30"},
        {**GOOD, "source": 42},
        "[1, 2]",
        "{not json",
    ):
        response = report(client, service_a, ticket.pk, "rides", body)
        assert response.status_code == 400, body
        assert response.json()["error"] in {"invalid_request", "malformed_request"}
    assert not Measurement.objects.exists()
    # One value a day: the second is a conflict, the first stays.
    assert report(client, service_a, ticket.pk, "rides", GOOD).status_code == 201
    twice = report(client, service_a, ticket.pk, "rides", {**GOOD, "value": "1"})
    assert twice.status_code == 409 and twice.json()["error"] == "already_measured"
    assert Measurement.objects.get().value == Decimal("1234.50")


def test_a_use_not_approved_takes_no_values(client, service_a, ticket, followed):
    ReviewTicket.objects.filter(pk=ticket.pk).update(state=ReviewTicket.State.REJECTED)
    response = report(client, service_a, ticket.pk, "rides", GOOD)
    assert response.status_code == 409 and response.json()["error"] == "not_approved"
    assert not Measurement.objects.exists()
    assert datetime.date.fromisoformat(GOOD["measured_on"])


@pytest.fixture
def outcome_report(ticket):
    """The board's condition on the approved use: a yearly outcome report by the requester."""
    return Obligation.objects.create(
        ticket=ticket,
        owner=ticket.requester,
        kind=Obligation.Kind.OUTCOME_REPORT,
        text="毎年度の利用実績と効果を報告すること",
        due_on=datetime.date(2027, 4, 30),
    )


def test_an_outcome_report_carries_its_uses_indicators(
    client, clerk_a, consortium_a, service_a, ticket, followed, outcome_report
):
    hidden = define(clerk_a, consortium_a, code="cost", ticket=ticket, is_public=False)
    response = report(
        client, service_a, ticket.pk, "rides", {**GOOD, "obligation": outcome_report.pk}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["obligation"] == outcome_report.pk
    assert Measurement.objects.get().obligation == outcome_report
    entry = PendingEntry.objects.get(action="indicator.measured")
    assert entry.data["obligation"] == outcome_report.pk
    secret = {**GOOD, "value": "777777", "obligation": outcome_report.pk}
    assert report(client, service_a, ticket.pk, hidden.code, secret).status_code == 201
    # The use's register page shows the public indicator's value under the outcome report.
    path = reverse("public:use", kwargs={"slug": "aizu", "lang": "en", "ticket_id": ticket.pk})
    page = client.get(path).content.decode()
    assert "reported: Rides a month 1234.50 件 (2026-11-30)" in page
    assert "777777" not in page


def test_values_are_filed_only_with_the_uses_own_outcome_report(
    client, service_a, ticket, followed, outcome_report, file_ticket
):
    other_kind = Obligation.objects.create(
        ticket=ticket, owner=ticket.requester, kind=Obligation.Kind.SECURITY_AUDIT, text="監査"
    )
    elsewhere = Obligation.objects.create(
        ticket=file_ticket(title="別の申請"),
        owner=ticket.requester,
        kind=Obligation.Kind.OUTCOME_REPORT,
        text="別の報告",
    )
    wrong_kind = report(
        client, service_a, ticket.pk, "rides", {**GOOD, "obligation": other_kind.pk}
    )
    assert wrong_kind.status_code == 409 and wrong_kind.json()["error"] == "not_outcome_report"
    for obligation in (elsewhere.pk, 999999):
        response = report(client, service_a, ticket.pk, "rides", {**GOOD, "obligation": obligation})
        assert response.status_code == 404 and response.json()["error"] == "not_found"
    for bad in ("one", 0, -3, 1.5):
        response = report(client, service_a, ticket.pk, "rides", {**GOOD, "obligation": bad})
        assert response.status_code == 400, bad
    assert not Measurement.objects.exists()
    assert not PendingEntry.objects.filter(action="indicator.measured").exists()
