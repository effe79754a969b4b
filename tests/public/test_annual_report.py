"""
The annual report (年次報告書) of a fiscal year: members, the board's decisions of the year,
consent per purpose, every indicator with its chart and reviews (non-public ones marked), the
audit log's checkpoint; requested by the secretariat, refused to another consortium's clerk.
"""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from audit import services as audit_services
from audit.models import Report
from public import reports, services
from public.models import Indicator, PdcaReview
from tests.audit.reports_helpers import pdf_fonts, pdf_text

from .test_kpi import define

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


def this_fiscal_year() -> int:
    return reports.fiscal_year_of(timezone.localdate())


def build(tmp_path, consortium, year, language="en") -> bytes:
    out = tmp_path / "annual.pdf"
    call_command(
        "audit_report",
        "--kind", "public.annual",
        "--param", f"consortium={consortium.pk}",
        "--param", f"fiscal_year={year}",
        "--language", language,
        "--out", str(out),
        stdout=io.StringIO(),
    )  # fmt: skip
    return out.read_bytes()


@pytest.fixture
def scorecard(clerk_a, consortium_a):
    """A public indicator with a value and a review in this fiscal year; a non-public one."""
    year = this_fiscal_year()
    start, end = reports.fiscal_year_span(year)
    public = define(
        clerk_a,
        consortium_a,
        baseline_on=start,
        target_on=end,
        name_en="Consent rate of walking points",
    )
    services.measurement_record(
        actor=clerk_a,
        indicator=public,
        measured_on=start + datetime.timedelta(days=60),
        value=Decimal("31.5"),
        source="事務局調べ",
    )
    services.pdca_review_record(
        actor=clerk_a,
        indicator=public,
        decision=PdcaReview.Decision.REVISE_TARGET,
        period_start=start,
        period_end=start + datetime.timedelta(days=90),
        assessment="Behind the target: older residents find the phone hard",
    )
    hidden = define(
        clerk_a,
        consortium_a,
        code="sensor-uptime",
        name_en="Sensor uptime",
        is_public=False,
        baseline_on=start,
        target_on=end,
    )
    return public, hidden


def test_the_years_members_decisions_consent_and_indicators(
    consortium_a, register, scorecard, tmp_path
):
    audit_services.seal()
    checkpoint = audit_services.checkpoint_create(force=True)
    year = this_fiscal_year()
    text = pdf_text(build(tmp_path, consortium_a, year))
    start, end = reports.fiscal_year_span(year)
    assert f"Fiscal year {year}: {start:%Y-%m-%d} to {end:%Y-%m-%d}" in text
    # The decisions of the register's fixture: one approval and one rejection this year.
    assert "approved: 1 / rejected: 1" in text
    assert "却下された申請" in text
    # Drafts and tickets in review are never in it.
    assert "SECRETDRAFT" not in text and "SECRETREVIEW" not in text
    # Both indicators, the hidden one marked; the public one's value, progress and review.
    assert "Consent rate of walking points" in text and "Sensor uptime" in text
    assert "not public" in text
    assert "31.50" in text and "Behind the target" in text
    assert f"covered {checkpoint.seq} entries" in text and checkpoint.root in text
    # Members at the end of the year; the one who left did so in fiscal year 2024.
    assert "1 member at the end of the year. Joined in the year: 0. Left in the year: 0." in text


def test_an_earlier_year_has_none_of_this_years_decisions(
    consortium_a, register, scorecard, tmp_path
):
    # Fiscal year 2024 (April 2024 to March 2025): the year the former member left.
    text = pdf_text(build(tmp_path, consortium_a, 2024))
    assert "Left in the year: 1." in text and "Members who left in the year" in text
    assert "The board decided no use of residents' data in this year." in text
    assert "却下された申請" not in text
    # The indicators exist, but no value was measured by the end of that year.
    assert "not measured yet" in text and "31.50" not in text


def test_in_japanese_with_the_font_embedded(consortium_a, register, scorecard, tmp_path):
    data = build(tmp_path, consortium_a, this_fiscal_year(), language="ja")
    text = pdf_text(data)
    assert "年次報告書" in text and "年度" in text
    assert "IPAexGothic" in pdf_fonts(data)


def test_the_clerk_requests_it_and_another_consortiums_clerk_learns_nothing(
    consortium_a, register, client, clerk_a, clerk_b, django_capture_on_commit_callbacks
):
    request_url = reverse("admin:audit_report_request") + "?kind=public.annual"
    data = {
        "kind": "public.annual",
        "consortium": consortium_a.pk,
        "fiscal_year": this_fiscal_year(),
        "language": "ja",
    }
    client.force_login(clerk_a)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(request_url, data).status_code == 302
    report = Report.objects.get()
    assert report.state == Report.State.DONE and report.consortium_id == consortium_a.pk
    download = reverse("admin:audit_report_download", args=[report.pk])
    assert client.get(download).status_code == 200

    client.force_login(clerk_b)
    assert client.get(download).status_code == 404
    assert consortium_a.name_ja not in client.get(request_url).content.decode()
    response = client.post(request_url, data)
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    # A year out of range is a field error, nothing requested.
    client.force_login(clerk_a)
    response = client.post(request_url, {**data, "fiscal_year": "20260"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert Report.objects.count() == 1


def test_fiscal_years_run_from_april():
    assert reports.fiscal_year_of(datetime.date(2027, 3, 31)) == 2026
    assert reports.fiscal_year_of(datetime.date(2027, 4, 1)) == 2027
    assert reports.fiscal_year_span(2026) == (datetime.date(2026, 4, 1), datetime.date(2027, 3, 31))
    assert Indicator.objects.count() == 0
