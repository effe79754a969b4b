"""Governance reports: general assembly minutes and the bylaws as a document."""

import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from audit import services as audit_services
from audit.models import Report
from governance import demo
from governance.models import BylawVersion, GeneralAssembly
from tests.audit.reports_helpers import pdf_fonts, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def aizu():
    demo.seed(stdout=io.StringIO())
    return demo.demo_consortium()


def assembly_2025(consortium) -> GeneralAssembly:
    return GeneralAssembly.objects.get(consortium=consortium, held_on__year=2025)


def build(tmp_path, kind, language="ja", **params) -> str:
    out = tmp_path / f"{kind}.pdf"
    arguments = ["--kind", kind, "--language", language, "--out", str(out)]
    for name, value in params.items():
        arguments += ["--param", f"{name}={value}"]
    call_command("audit_report", *arguments, stdout=io.StringIO())
    return out.read_bytes()


def test_minutes_show_attendance_votes_and_the_computed_outcomes(aizu, tmp_path):
    data = build(tmp_path, "governance.minutes", "en", assembly=assembly_2025(aizu).pk)
    text = pdf_text(data)
    assert "Minutes of the general assembly" in text
    assert "Aizuwakamatsu Smart City Council" in text
    assert "Present: 7; by proxy: 1; absent: 1." in text
    # The bylaws in force on the assembly date: the founding version.
    assert "version 1, in force from 2024-04-01" in text
    # The business plan: five for, one abstention, carried; the amendment by special majority.
    assert "5 0 1 6 / 7 carried" in text
    assert "5 1 0 6 / 7 carried — special majority" in text
    assert "rejected" in text  # the fee increase
    assert "Civic Tech Aizu against" in text
    assert "Chair" in text and "Signatory of the minutes" in text


def test_minutes_in_japanese_with_the_font_embedded(aizu, tmp_path):
    data = build(tmp_path, "governance.minutes", "ja", assembly=assembly_2025(aizu).pk)
    text = pdf_text(data)
    assert "総会議事録" in text
    assert "会津若松スマートシティ推進協議会" in text
    assert "出席：7、委任状：1、欠席：1。" in text
    assert "可決" in text and "否決" in text
    assert "IPAexGothic" in pdf_fonts(data)


def test_minutes_of_an_assembly_still_voting_say_the_vote_is_not_closed(aizu, tmp_path):
    assembly = GeneralAssembly.objects.get(consortium=aizu, held_on__year=2027)
    text = pdf_text(build(tmp_path, "governance.minutes", "en", assembly=assembly.pk))
    assert "vote not closed" in text
    assert " carried" not in text.replace("so far: carried", "")


def test_any_bylaw_version_as_a_document(aizu, tmp_path):
    amended = BylawVersion.objects.get(consortium=aizu, number=2)
    text = pdf_text(build(tmp_path, "governance.bylaws", "ja", version=amended.pk))
    assert amended.title_ja in text
    assert "第14条 個人データの取扱い" in text
    assert "2025-07-01" in text
    founding = BylawVersion.objects.get(consortium=aizu, number=1)
    text = pdf_text(build(tmp_path, "governance.bylaws", "ja", version=founding.pk))
    assert "第14条" not in text  # the article the amendment added


def test_a_draft_version_is_marked_as_a_draft(aizu, tmp_path):
    from governance import services

    draft = services.bylaw_version_create(
        actor=None,
        consortium=aizu,
        title_ja="規約（改正案）",
        title_en="Bylaws (draft amendment)",
        based_on=BylawVersion.objects.get(consortium=aizu, number=2),
    )
    text = pdf_text(build(tmp_path, "governance.bylaws", "en", version=draft.pk))
    assert "Draft: not adopted, not in force." in text


def test_the_command_refuses_a_missing_assembly(aizu, tmp_path):
    with pytest.raises(CommandError, match="--param assembly"):
        build(tmp_path, "governance.minutes", assembly=999999)
    assert not Report.objects.exists()


# --- Who may request and download --------------------------------------------------------------


def secretariat():
    return get_user_model().objects.get(username="aizu-secretariat")


def request_minutes(client, assembly, captured):
    with captured(execute=True):
        return client.post(
            reverse("admin:audit_report_request") + "?kind=governance.minutes",
            {"kind": "governance.minutes", "assembly": assembly.pk, "language": "ja"},
        )


def test_the_consortium_clerk_requests_and_downloads_the_minutes(
    aizu, client, django_capture_on_commit_callbacks
):
    client.force_login(secretariat())
    page = client.get(reverse("admin:audit_report_request"))
    assert "governance.minutes" in page.content.decode()
    assert "audit.period" not in page.content.decode()  # the platform's log is not theirs
    response = request_minutes(client, assembly_2025(aizu), django_capture_on_commit_callbacks)
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.state == Report.State.DONE and report.consortium_id == aizu.pk
    listing = client.get(reverse("admin:audit_report_changelist")).content.decode()
    download = reverse("admin:audit_report_download", args=[report.pk])
    assert download in listing
    # The list says in words whose report it is, in which language, and what it covers.
    assert aizu.name_ja in listing and "日本語" in listing
    assert "令和7年度 定時総会 (2025-06-14)" in listing
    assert f'<td class="field-consortium_name">{aizu.pk}</td>' not in listing
    response = client.get(download)
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert "総会議事録" in pdf_text(content)


def test_another_consortiums_clerk_learns_nothing(
    aizu, client, clerk_b, django_capture_on_commit_callbacks
):
    client.force_login(secretariat())
    request_minutes(client, assembly_2025(aizu), django_capture_on_commit_callbacks)
    report = Report.objects.get()

    client.force_login(clerk_b)
    assert client.get(reverse("admin:audit_report_download", args=[report.pk])).status_code == 404
    assert client.get(reverse("admin:audit_report_change", args=[report.pk])).status_code in (
        302,
        404,
    )
    listing = client.get(reverse("admin:audit_report_changelist")).content.decode()
    assert f"/{report.pk}/download/" not in listing
    # Aizu's assemblies are not offered, and posting one is refused with nothing queued.
    page = client.get(reverse("admin:audit_report_request") + "?kind=governance.minutes")
    assert page.status_code == 200
    assert assembly_2025(aizu).title_ja not in page.content.decode()
    response = request_minutes(client, assembly_2025(aizu), django_capture_on_commit_callbacks)
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert Report.objects.count() == 1
    with pytest.raises(Exception, match="not allowed"):
        audit_services.report_request(
            actor=clerk_b,
            kind="governance.minutes",
            parameters={"assembly": assembly_2025(aizu).pk},
            consortium_id=aizu.pk,
        )


def test_a_report_requested_for_one_consortium_never_shows_anothers_record(
    aizu, consortium_b, tmp_path
):
    # Parameters naming consortium A's assembly under consortium B's id fail, revealing nothing.
    report = audit_services.report_request(
        actor=None,
        kind="governance.minutes",
        parameters={"assembly": assembly_2025(aizu).pk},
        consortium_id=consortium_b.pk,
        enqueue=False,
    )
    report = audit_services.report_build(report_id=report.pk)
    assert report.state == Report.State.FAILED
    assert not list(Path(audit_services.reports_dir()).glob("*.pdf"))
