"""Consent statistics: counts per purpose and month, the suppression rule, the chart, access."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit import services as audit_services
from audit.models import Report
from consent import services
from tests.audit.reports_helpers import pdf_fonts, pdf_text
from tests.consent.conftest import as_resident

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def history(consortium_a, purpose):
    """
    23 residents of consortium A, all in UTC times that fall in April and May in Japan:
    12 consent in April (one at 00:30 on 1 April JST, one at 23:30 on 30 April JST); 3 of them
    withdraw in May; 11 others decline in May.
    """
    residents = [
        services.resident_register(actor=None, consortia=[consortium_a]) for _ in range(23)
    ]
    times = [at("2026-03-31T15:30:00"), at("2026-04-30T14:30:00")] + [
        at(f"2026-04-{day:02d}T03:00:00") for day in range(2, 12)
    ]
    for resident, when in zip(residents[:12], times, strict=True):
        services.consent_give(
            actor=as_resident(resident), resident=resident, purpose=purpose, now=when
        )
    for resident in residents[:3]:
        services.consent_withdraw(
            actor=as_resident(resident),
            resident=resident,
            purpose=purpose,
            now=at("2026-05-10T03:00:00"),
        )
    for resident in residents[12:]:
        services.consent_withdraw(
            actor=as_resident(resident),
            resident=resident,
            purpose=purpose,
            now=at("2026-05-20T03:00:00"),
        )
    return purpose


def build(tmp_path, consortium, language="en", start="2026-04-01", end="2026-06-30") -> bytes:
    out = tmp_path / "statistics.pdf"
    call_command(
        "audit_report",
        "--kind", "consent.statistics",
        "--param", f"consortium={consortium.pk}",
        "--start", start,
        "--end", end,
        "--language", language,
        "--out", str(out),
        stdout=io.StringIO(),
    )  # fmt: skip
    return out.read_bytes()


def test_counts_per_month_in_japan_time_with_small_counts_suppressed(
    consortium_a, history, tmp_path
):
    text = pdf_text(build(tmp_path, consortium_a))
    assert "Consent statistics" in text and "Walking health points" in text
    # April: 12 consents (both border cases in April, Japan time), nothing else.
    assert "2026-04 12 fewer than 10 fewer than 10" in text
    # May: 11 declines by residents who never consented; 3 withdrawals, below 10.
    assert "2026-05 fewer than 10 11 fewer than 10" in text
    assert "2026-06 fewer than 10 fewer than 10 fewer than 10" in text
    assert "Total 12 11 fewer than 10" in text
    # Now: 9 opted in (suppressed), 14 opted out.
    assert "opted in fewer than 10 / opted out 14" in text
    assert "2026-03" not in text


def test_statistics_in_japanese_with_the_font_embedded(consortium_a, history, tmp_path):
    data = build(tmp_path, consortium_a, language="ja")
    text = pdf_text(data)
    assert "同意状況の統計" in text and "歩いて健康ポイント" in text
    assert "10人未満" in text
    assert "IPAexGothic" in pdf_fonts(data)


def test_the_chart_never_shows_a_small_count(consortium_a, history):
    from consent.reports import chart_svg

    rows = {"2026-04": {"given": 12}, "2026-05": {"declined": 11, "withdrawn": 3}}
    svg = chart_svg(["2026-04", "2026-05"], rows)
    assert svg.startswith("<svg") and svg.count("<rect") == 6
    # Two bars of true height (12 and 11); the four small counts are equal empty outlines.
    assert svg.count('fill="none"') == 4
    assert 'height="6"' in svg


def test_the_clerk_requests_it_and_another_consortiums_clerk_learns_nothing(
    consortium_a, history, client, clerk_a, clerk_b, django_capture_on_commit_callbacks
):
    request_url = reverse("admin:audit_report_request") + "?kind=consent.statistics"
    data = {
        "kind": "consent.statistics",
        "consortium": consortium_a.pk,
        "start": "2026-04-01",
        "end": "2026-05-31",
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
    page = client.get(request_url).content.decode()
    assert consortium_a.name_ja not in page
    response = client.post(request_url, data)
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert Report.objects.count() == 1
    with pytest.raises(Exception, match="not allowed"):
        audit_services.report_request(
            actor=clerk_b,
            kind="consent.statistics",
            parameters={"start": "2026-04-01", "end": "2026-05-31"},
            consortium_id=consortium_a.pk,
        )
