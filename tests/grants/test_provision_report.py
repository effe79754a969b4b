"""The third-party provision record: counts per grant and recipient, suppression, access."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit import services as audit_services
from audit.models import Report
from consent import services as consent_services
from grants import services
from tests.audit.reports_helpers import pdf_fonts, pdf_text

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
KIND = "grants.provision_record"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def provided(consortium_a, purpose, grant, service_a):
    """
    14 residents consent in March; data of 12 of them is provided in April (one batch at 00:30
    on 1 April Japan time), of 3 in May (the same residents again), and of 2 in a batch on
    31 March Japan time (outside the period); 2 residents never consented.
    """
    residents = [
        consent_services.resident_register(actor=None, consortia=[consortium_a]) for _ in range(14)
    ]
    for resident in residents:
        consent_services.consent_give(
            actor=None, resident=resident, purpose=purpose, now=at("2026-03-01T03:00:00")
        )

    def batch(who, when):
        consent_services.data_access_record_batch(
            actor=None,
            purpose=purpose,
            organization=service_a.service.organization,
            service_name=service_a.service.name,
            grant_jti=grant.jti,
            pseudonymous_ids=[r.pseudonymous_id for r in who],
            accessed_at=at(when),
        )

    batch(residents[12:], "2026-03-31T14:00:00")  # 23:00 on 31 March in Japan
    batch(residents[:6], "2026-03-31T15:30:00")  # 00:30 on 1 April in Japan
    batch(residents[6:12], "2026-04-15T03:00:00")
    batch(residents[:12], "2026-04-20T03:00:00")  # the same residents again: counted once
    batch(residents[:3], "2026-05-10T03:00:00")
    return residents


def build(tmp_path, consortium, language="en", start="2026-04-01", end="2026-06-30") -> bytes:
    out = tmp_path / "provision.pdf"
    call_command(
        "audit_report",
        "--kind", KIND,
        "--param", f"consortium={consortium.pk}",
        "--start", start,
        "--end", end,
        "--language", language,
        "--out", str(out),
        stdout=io.StringIO(),
    )  # fmt: skip
    return out.read_bytes()


def test_counts_per_grant_and_recipient_with_small_counts_suppressed(
    consortium_a, purpose, grant, provided, tmp_path
):
    text = pdf_text(build(tmp_path, consortium_a))
    assert "Third-party provision record" in text
    assert grant.jti in text and "Walking health points" in text
    notice = purpose.current_notice
    assert f"opt-in consent under notice version {notice.version}" in text
    assert notice.sha256 in text
    # 12 distinct residents in the period (the 2 of 31 March, Japan time, are outside it).
    assert "Residents 12" in text
    assert "2026-04 12" in text
    assert "2026-05 fewer than 10" in text
    assert "2026-06 fewer than 10" in text
    assert "2026-03" not in text
    assert "First provision 2026-04-01 00:30" in text
    assert "Last provision 2026-05-10 12:00" in text
    assert "3 years" in text
    # No pseudonymous id of a resident is printed.
    assert not any(r.pseudonymous_id in text for r in provided)


def test_a_small_total_is_suppressed(consortium_a, grant, provided, tmp_path):
    text = pdf_text(build(tmp_path, consortium_a, start="2026-05-01", end="2026-05-31"))
    assert "Residents fewer than 10" in text
    assert "2026-05 fewer than 10" in text
    assert "Residents 3" not in text


def test_in_japanese_with_the_font_embedded(consortium_a, grant, provided, tmp_path):
    data = build(tmp_path, consortium_a, language="ja")
    text = pdf_text(data)
    assert "第三者提供記録" in text and "歩いて健康ポイント" in text
    assert "10人未満" in text
    assert "IPAexGothic" in pdf_fonts(data)


def test_another_consortium_has_nothing(consortium_b, grant, provided, tmp_path):
    text = pdf_text(build(tmp_path, consortium_b))
    assert grant.jti not in text
    assert "No personal data was provided" in text


def test_the_clerk_requests_it_and_another_consortiums_clerk_learns_nothing(
    consortium_a, grant, provided, client, clerk_a, clerk_b, django_capture_on_commit_callbacks
):
    request_url = reverse("admin:audit_report_request") + f"?kind={KIND}"
    data = {
        "kind": KIND,
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
    response = client.get(download)
    assert response.status_code == 200
    assert "第三者提供記録" in pdf_text(b"".join(response.streaming_content))

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
            kind=KIND,
            parameters={"start": "2026-04-01", "end": "2026-05-31"},
            consortium_id=consortium_a.pk,
        )

    client.logout()
    for url in (download, request_url):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_provisions_through_the_grants_check_are_recorded(
    consortium_a, grant, service_a, agreeing, tmp_path
):
    from django.utils import timezone

    services.grant_check(
        service=service_a.service,
        grant=grant,
        pseudonymous_ids=[r.pseudonymous_id for r in agreeing] + ["unknown"],
    )
    today = timezone.localdate().isoformat()
    text = pdf_text(build(tmp_path, consortium_a, start=today, end=today))
    assert grant.jti in text and "Residents fewer than 10" in text
