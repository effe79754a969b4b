"""The report machinery and the audit log report: content, attachments, states, access."""

import datetime
import hashlib
from io import StringIO
from pathlib import Path

import pytest
from django import forms
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from audit import reports, services
from audit.models import Entry, PendingEntry, Report
from tests.audit.helpers import build_chain
from tests.audit.reports_helpers import (
    pdf_attachments,
    pdf_fonts,
    pdf_text,
    verify_with_tool,
)


def today() -> datetime.date:
    """The local date now, read when a test runs (not when the module is imported)."""
    return timezone.localdate()


def make_audit_report(tmp_path, *, language="ja", start=None, end=None) -> tuple[bytes, str]:
    # By default the period runs from yesterday to today, so that a test whose entries are
    # written just before midnight (JST) and reported just after still finds them.
    end = end or today()
    start = start or end - datetime.timedelta(days=1)
    out = tmp_path / "report.pdf"
    stdout = StringIO()
    call_command(
        "audit_report",
        "--start",
        start.isoformat(),
        "--end",
        end.isoformat(),
        "--language",
        language,
        "--out",
        str(out),
        stdout=stdout,
    )
    return out.read_bytes(), stdout.getvalue()


# --- The audit log report ---------------------------------------------------------------------


def test_audit_report_counts_entries_by_action_and_consortium(db, tmp_path):
    build_chain(5)
    services.signing_key_create(actor=None)  # key.created
    services.signing_key_create(actor=None)  # key.rotated: an exceptional event
    services.checkpoint_create()

    data, _ = make_audit_report(tmp_path, language="en")
    text = pdf_text(data)

    assert "Audit log report" in text
    assert "The chain holds" in text
    assert "test.recorded 5" in text  # an action with no label reads as its code
    assert "Signing key rotated 1" in text and "key.rotated" not in text
    # Consortium 1 (not registered in this test) has the five test entries; the key entries
    # belong to no consortium.
    assert "consortium no. 1 5" in text
    assert "platform (no consortium) 3" in text
    # Exceptional events are listed one by one; the checkpoint of the period is shown.
    rotated = Entry.objects.get(action="key.rotated")
    assert f"{rotated.seq} " in text and "Signing key rotated signing key" in text
    assert "1 signed checkpoint." in text
    # The period runs to the head of the chain when the report was made (its request included).
    report = Report.objects.get()
    first, last = Entry.objects.get(seq=1), Entry.objects.get(seq=report.after_seq)
    assert f"Number of entries {report.after_seq}" in text
    assert first.hash in text.replace(" ", "") and last.hash in text.replace(" ", "")


def test_audit_report_is_in_japanese_with_the_font_embedded(db, tmp_path):
    build_chain(2)
    data, _ = make_audit_report(tmp_path, language="ja")
    text = pdf_text(data)
    assert "監査ログ報告書" in text
    assert "検証" in text
    assert "IPAexGothic" in pdf_fonts(data)


def test_the_attached_entries_verify_with_the_standalone_tool(db, tmp_path):
    build_chain(7)
    services.checkpoint_create()
    data, _ = make_audit_report(tmp_path)
    attachments = pdf_attachments(data)
    assert set(attachments) == {"entries.jsonl", "checkpoints.jsonl", "jwks.json", "manifest.json"}
    folder = tmp_path / "extracted"
    folder.mkdir()
    for name, content in attachments.items():
        (folder / name).write_bytes(content)
    result = verify_with_tool(folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: " in result.stdout and "checkpoint(s) verified" in result.stdout

    # An auditor who edits one attached entry is caught, with its sequence number.
    lines = (folder / "entries.jsonl").read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace('"number":3', '"number":4')
    (folder / "entries.jsonl").write_text("".join(lines))
    result = verify_with_tool(folder)
    assert result.returncode == 1
    assert "seq 3: hash_mismatch" in result.stdout


def test_a_period_without_entries_says_so(db, tmp_path):
    build_chain(3)
    long_ago = datetime.date(2001, 1, 1)
    data, _ = make_audit_report(tmp_path, language="en", start=long_ago, end=long_ago)
    text = pdf_text(data)
    assert "No entries were recorded in this period." in text
    assert "test.recorded" not in text


def test_a_broken_chain_is_reported_with_its_first_bad_entry(db, tmp_path):
    from tests.audit.helpers import raw_sql

    build_chain(4)
    with raw_sql() as cursor:
        cursor.execute("UPDATE audit_entry SET action = 'test.forged' WHERE seq = 2")
    data, _ = make_audit_report(tmp_path, language="en")
    text = pdf_text(data)
    assert "The chain does NOT hold." in text
    assert "First bad entry: 2 (its hash does not match its contents)" in text
    # The failure is itself recorded, and the next report lists it as an exceptional event.
    failed = Entry.objects.get(action="audit.verification_failed")
    assert failed.data == {
        "first_bad_seq": 2,
        "fault": "hash_mismatch",
        "problems": 2,  # the entry's hash, and the Merkle tree's leaf over the same bytes
        "head_seq": failed.data["head_seq"],
    }
    text = pdf_text(make_audit_report(tmp_path, language="en")[0])
    assert f"{failed.seq} " in text and "Verification of the audit log failed" in text


def test_audit_verify_records_a_failed_verification_unless_read_only(db):
    from tests.audit.helpers import raw_sql

    build_chain(3)
    with raw_sql() as cursor:
        cursor.execute("UPDATE audit_entry SET action = 'test.forged' WHERE seq = 3")
    with pytest.raises(SystemExit):
        call_command("audit_verify", "--no-seal", stdout=StringIO())
    assert not PendingEntry.objects.filter(action="audit.verification_failed").exists()
    with pytest.raises(SystemExit):
        call_command("audit_verify", stdout=StringIO())
    entry = PendingEntry.objects.get(action="audit.verification_failed")
    assert entry.data["first_bad_seq"] == 3 and entry.data["fault"] == "hash_mismatch"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--start", "2026-02-01", "--end", "2026-01-01"], "--end"),
        (["--start", "2026-13-01", "--end", "2026-01-01"], "--start"),
        (["--end", "2026-01-01"], "--start"),
        (["--kind", "no.such", "--start", "2026-01-01", "--end", "2026-01-02"], "unknown"),
    ],
)
def test_the_command_refuses_bad_input_and_stores_nothing(db, tmp_path, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("audit_report", *arguments, "--out", str(tmp_path / "x.pdf"))
    assert not Report.objects.exists()
    assert not (tmp_path / "x.pdf").exists()


def test_the_command_needs_an_output_file(db):
    with pytest.raises(CommandError, match="--out"):
        call_command("audit_report", "--start", "2026-01-01", "--end", "2026-01-02")


# --- The report.generated entry and the verification page --------------------------------------


def test_the_reports_sha256_is_recorded_in_the_chain_and_printed_in_it(db, tmp_path):
    build_chain(3)
    data, stdout = make_audit_report(tmp_path, language="en")
    report = Report.objects.get()
    digest = hashlib.sha256(data).hexdigest()
    assert report.state == Report.State.DONE and report.progress == 100
    assert report.sha256 == digest and report.size == len(data)
    entry = Entry.objects.get(action="report.generated")
    assert entry.data == {
        "kind": "audit.period",
        "sha256": digest,
        "size": len(data),
        "after_seq": report.after_seq,
    }
    assert report.audit_seq == entry.seq > report.after_seq
    text = pdf_text(data)
    assert f'"Report produced" that follows entry {report.after_seq}' in text
    assert "/reports/verify" in text.replace(" ", "")
    assert digest in stdout
    # The file lives under MEDIA_ROOT, named once complete: no partial file is left.
    files = sorted(p.name for p in services.reports_dir().iterdir())
    assert files == [Path(report.file_path).name]


def test_the_verification_page_recognises_a_genuine_report(db, client, tmp_path):
    build_chain(2)
    data, _ = make_audit_report(tmp_path)
    url = reverse("audit:report-verify")
    assert client.get(url).status_code == 200

    (tmp_path / "upload.pdf").write_bytes(data)
    with open(tmp_path / "upload.pdf", "rb") as upload:
        response = client.post(url, {"file": upload})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="verdict"' in page
    assert "result-ok" in page
    assert str(Report.objects.get().audit_seq) in page
    # The verdict in colour, icon and words; the report named in words, not by its code.
    assert "✔" in page and "✖" not in page
    assert "監査ログ" in page and "audit.period" not in page

    # The same by SHA-256, for files too large to upload (upper case is accepted).
    response = client.post(url, {"sha256": hashlib.sha256(data).hexdigest().upper()})
    assert "result-ok" in response.content.decode()


def test_the_verification_page_rejects_a_changed_or_unknown_file(db, client, tmp_path):
    build_chain(2)
    data, _ = make_audit_report(tmp_path)
    changed = data[:-10] + b"0" * 10
    (tmp_path / "changed.pdf").write_bytes(changed)
    url = reverse("audit:report-verify")
    with open(tmp_path / "changed.pdf", "rb") as upload:
        response = client.post(url, {"file": upload})
    page = response.content.decode()
    assert response.status_code == 200
    assert "result-bad" in page and "result-ok" not in page
    assert "✖" in page and "✔" not in page
    # A hash of something never recorded (such as a report row edited by hand) is unknown too.
    report = Report.objects.get()
    Report.objects.filter(pk=report.pk).update(sha256="0" * 64)
    response = client.post(url, {"sha256": "0" * 64})
    assert "result-bad" in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [{}, {"sha256": "not-a-hash"}, {"sha256": "a" * 63}],
)
def test_the_verification_page_explains_bad_input(db, client, data):
    response = client.post(reverse("audit:report-verify"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "errorlist" in page
    assert 'id="verdict"' not in page


# --- Task states: failures and dead workers ----------------------------------------------------


class EmptyForm(reports.ReportParametersForm):
    def parameters(self):
        return {}, None


def register_kind(registry, build):
    registry.register(
        reports.ReportKind(
            kind="test.kind",
            label="test",
            consortia_for=lambda user: reports.ALL,
            form_class=EmptyForm,
            build=build,
        )
    )


def simple_document(report, *, progress, workdir):
    progress(50)
    return reports.Document(template="audit/reports/base.html", context={}, title="Test report")


def queue(kind="test.kind") -> Report:
    return services.report_request(
        actor=None, kind=kind, parameters={}, consortium_id=None, enqueue=False
    )


def test_a_requested_report_is_built_by_the_task_queue(
    db, superuser, django_capture_on_commit_callbacks
):
    build_chain(1)
    with django_capture_on_commit_callbacks(execute=True):
        report = services.report_request(
            actor=superuser,
            kind="audit.period",
            parameters={"start": today().isoformat(), "end": today().isoformat()},
            consortium_id=None,
        )
        assert Report.objects.get(pk=report.pk).state == Report.State.QUEUED
    report.refresh_from_db()
    assert report.state == Report.State.DONE
    assert report.attempts == 1
    assert (
        PendingEntry.objects.filter(action="report.requested").exists()
        or Entry.objects.filter(action="report.requested").exists()
    )


def test_a_builder_error_marks_the_report_failed_with_its_reason(db, report_kinds):
    def broken(report, *, progress, workdir):
        progress(30)
        raise reports.ReportError("the assembly has no resolutions")

    register_kind(report_kinds, broken)
    report = services.report_build(report_id=queue().pk)
    assert report.state == Report.State.FAILED
    assert report.failure_reason == "the assembly has no resolutions"
    assert report.sha256 == "" and report.file_path == ""
    assert list(services.reports_dir().iterdir()) == []
    assert not Entry.objects.filter(action="report.generated").exists()
    assert PendingEntry.objects.filter(action="report.failed", object_id=str(report.pk)).exists()


def test_an_unexpected_error_is_named_without_a_stack_trace(db, report_kinds):
    def broken(report, *, progress, workdir):
        raise ZeroDivisionError("division by zero")

    register_kind(report_kinds, broken)
    report = services.report_build(report_id=queue().pk)
    assert report.state == Report.State.FAILED
    assert "ZeroDivisionError" in report.failure_reason
    assert "Traceback" not in report.failure_reason


def test_a_worker_killed_mid_render_leaves_nothing_visible_and_the_retry_finishes(
    db, report_kinds, superuser, client
):
    def killed(report, *, progress, workdir):
        progress(40)
        # What a killed worker leaves: half a file, under the hidden partial name.
        (services.reports_dir() / f".{report.pk}-dead.part").write_bytes(b"%PDF-1.7 half")
        raise KeyboardInterrupt  # not an Exception: nothing in the task catches it

    register_kind(report_kinds, killed)
    report = queue()
    with pytest.raises(KeyboardInterrupt):
        services.report_build(report_id=report.pk)
    report.refresh_from_db()
    assert report.state == Report.State.RUNNING and report.progress == 40
    assert report.file_path == "" and report.sha256 == ""
    client.force_login(superuser)
    download = reverse("admin:audit_report_download", args=[report.pk])
    assert client.get(download).status_code == 404
    # The list shows how far it got, offers no download, and refreshes itself.
    listing = client.get(reverse("admin:audit_report_changelist"), HTTP_ACCEPT_LANGUAGE="en")
    page = listing.content.decode()
    assert "(40%)" in page and download not in page
    # It updates in place, without a <meta> refresh that moves the reader back to the top.
    assert 'http-equiv="refresh"' not in page
    assert "data-refresh-status" in page and "js/list-refresh.js" in page

    # django-q2 delivers the task again: the partial file goes, the report is built.
    register_kind(report_kinds, simple_document)
    report = services.report_build(report_id=report.pk)
    assert report.state == Report.State.DONE and report.attempts == 2
    names = [p.name for p in services.reports_dir().iterdir()]
    assert names == [Path(report.file_path).name]
    response = client.get(download)
    assert response.status_code == 200
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == report.sha256


def test_a_report_whose_workers_keep_dying_is_failed_after_the_last_attempt(db, report_kinds):
    register_kind(report_kinds, simple_document)
    report = queue()
    Report.objects.filter(pk=report.pk).update(
        state=Report.State.RUNNING, attempts=services.MAX_REPORT_ATTEMPTS
    )
    report = services.report_build(report_id=report.pk)
    assert report.state == Report.State.FAILED
    assert "stopped 3 times" in report.failure_reason or "3" in report.failure_reason


def test_the_reaper_fails_reports_whose_worker_went_silent(db, report_kinds):
    register_kind(report_kinds, simple_document)
    silent, fresh = queue(), queue()
    Report.objects.filter(pk=silent.pk).update(state=Report.State.RUNNING)
    later = timezone.now() + datetime.timedelta(hours=2)
    Report.objects.filter(pk=fresh.pk).update(updated_at=later)
    assert services.report_reap_stale(now=later) == 1
    silent.refresh_from_db()
    fresh.refresh_from_db()
    assert silent.state == Report.State.FAILED and silent.failure_reason
    assert fresh.state == Report.State.QUEUED
    # A finished report is never touched again.
    assert services.report_build(report_id=silent.pk).state == Report.State.FAILED


def test_a_done_report_is_not_built_twice(db, report_kinds):
    register_kind(report_kinds, simple_document)
    report = services.report_build(report_id=queue().pk)
    again = services.report_build(report_id=report.pk)
    assert again.sha256 == report.sha256
    assert Entry.objects.filter(action="report.generated").count() == 1


# --- Requesting and downloading in the admin ---------------------------------------------------


def test_the_admin_lists_requests_and_serves_the_audit_report_to_a_superuser(
    db, client, superuser, django_capture_on_commit_callbacks
):
    build_chain(2)
    client.force_login(superuser)
    listing = reverse("admin:audit_report_changelist")
    request_url = reverse("admin:audit_report_request")
    page = client.get(request_url + "?kind=audit.period")
    assert page.status_code == 200 and 'name="start"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            request_url + "?kind=audit.period",
            {"kind": "audit.period", "start": today(), "end": today(), "language": "en"},
        )
    assert response.status_code == 302 and response["Location"] == listing
    report = Report.objects.get()
    assert report.requested_by == superuser and report.state == Report.State.DONE
    assert Entry.objects.filter(action="report.requested", actor_id=str(superuser.pk)).exists()
    page = client.get(listing).content.decode()
    assert reverse("admin:audit_report_download", args=[report.pk]) in page
    response = client.get(reverse("admin:audit_report_download", args=[report.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_the_admin_request_form_shows_field_errors_and_queues_nothing(db, client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:audit_report_request") + "?kind=audit.period",
        {"kind": "audit.period", "start": "2026-02-01", "end": "2026-01-01", "language": "ja"},
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not Report.objects.exists()


def test_a_clerk_can_neither_request_nor_download_the_platform_audit_report(
    db, client, superuser, clerk_a
):
    build_chain(1)
    report = queue("audit.period")
    Report.objects.filter(pk=report.pk).update(
        parameters={"start": "2026-01-01", "end": "2026-01-01"}
    )
    services.report_build(report_id=report.pk)
    client.force_login(clerk_a)
    assert client.get(reverse("admin:audit_report_download", args=[report.pk])).status_code == 404
    response = client.get(reverse("admin:audit_report_request") + "?kind=audit.period")
    assert response.status_code == 404
    response = client.post(
        reverse("admin:audit_report_request") + "?kind=audit.period",
        {"kind": "audit.period", "start": today(), "end": today(), "language": "ja"},
    )
    assert response.status_code == 404
    assert Report.objects.count() == 1
    with pytest.raises(Exception, match="not allowed"):
        services.report_request(
            actor=clerk_a, kind="audit.period", parameters={}, consortium_id=None
        )


def test_anonymous_visitors_are_sent_to_sign_in(db, client, superuser):
    build_chain(1)
    report = queue("audit.period")
    for url in (
        reverse("admin:audit_report_changelist"),
        reverse("admin:audit_report_request"),
        reverse("admin:audit_report_download", args=[report.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("admin:login") in response["Location"]


def test_a_report_kind_form_must_say_its_parameters():
    form = reports.ReportParametersForm(data={"language": "ja"})
    assert isinstance(form.fields["language"], forms.ChoiceField)
    with pytest.raises(NotImplementedError):
        form.parameters()


# --- A kind's record check: request, list and download alike ----------------------------------


class RecordForm(reports.ReportParametersForm):
    record = forms.CharField()

    def parameters(self):
        return {"record": self.cleaned_data["record"]}, None


def register_record_kind(registry):
    """A kind every staff user may use, whose record "secret" only the superuser may see."""
    registry.register(
        reports.ReportKind(
            kind="test.record",
            label="test",
            consortia_for=lambda user: reports.ALL,
            form_class=RecordForm,
            build=simple_document,
            can_access=lambda user, parameters, consortium_id: (
                user.is_superuser or parameters.get("record") != "secret"
            ),
        )
    )


def test_a_kinds_record_check_governs_request_list_and_download(
    db, client, superuser, report_kinds, django_capture_on_commit_callbacks
):
    from tests.conftest import make_user

    register_record_kind(report_kinds)
    staff = make_user("staff", is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        secret = services.report_request(
            actor=superuser, kind="test.record", parameters={"record": "secret"}, consortium_id=None
        )
        public = services.report_request(
            actor=staff, kind="test.record", parameters={"record": "public"}, consortium_id=None
        )
    assert set(Report.objects.values_list("state", flat=True)) == {Report.State.DONE}

    client.force_login(staff)
    listing = client.get(reverse("admin:audit_report_changelist")).content.decode()
    assert reverse("admin:audit_report_download", args=[public.pk]) in listing
    assert reverse("admin:audit_report_download", args=[secret.pk]) not in listing
    assert client.get(reverse("admin:audit_report_download", args=[public.pk])).status_code == 200
    assert client.get(reverse("admin:audit_report_download", args=[secret.pk])).status_code == 404
    assert client.get(reverse("admin:audit_report_change", args=[secret.pk])).status_code in (
        302,
        403,
        404,
    )
    with pytest.raises(Exception, match="not allowed"):
        services.report_request(
            actor=staff, kind="test.record", parameters={"record": "secret"}, consortium_id=None
        )
    response = client.post(
        reverse("admin:audit_report_request") + "?kind=test.record",
        {"kind": "test.record", "record": "secret", "language": "ja"},
    )
    assert response.status_code == 404
    assert Report.objects.count() == 2

    client.force_login(superuser)
    listing = client.get(reverse("admin:audit_report_changelist")).content.decode()
    assert reverse("admin:audit_report_download", args=[secret.pk]) in listing
