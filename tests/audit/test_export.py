"""``audit_export`` and the standalone ``tools/verify_audit_export.py`` on good and bad exports."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.conf import settings
from django.core.management import call_command

from audit import notes, services

from .helpers import build_chain

pytestmark = pytest.mark.django_db
TOOL = Path(settings.BASE_DIR) / "tools" / "verify_audit_export.py"


def run_tool(export_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    # A separate interpreter, as an auditor would run it: no Django, no database.
    return subprocess.run(
        [sys.executable, str(TOOL), str(export_dir), *extra],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )


def export(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "export"
    call_command("audit_export", str(out), *args, stdout=StringIO())
    return out


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def test_a_faithful_export_verifies_without_django(tmp_path):
    build_chain(20)
    services.checkpoint_create()
    out = export(tmp_path)

    result = run_tool(out, "--json")

    assert result.returncode == 0, result.stdout + result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["entries"] == 21
    assert verdict["checkpoints_verified"] == 1
    assert verdict["anchored_at_genesis"] is True
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["entries"] == 21
    assert "name" not in (out / "entries.jsonl").read_text()


def test_the_tool_and_the_platform_compute_the_same_hashes(tmp_path):
    build_chain(5)
    out = export(tmp_path)
    from audit.models import Entry

    exported = [json.loads(line)["hash"] for line in lines(out / "entries.jsonl")]
    assert exported == list(Entry.objects.order_by("seq").values_list("hash", flat=True))


def test_a_part_of_the_chain_verifies_anchored_at_its_first_entry(tmp_path):
    build_chain(10)
    out = export(tmp_path, "--start-seq", "4", "--end-seq", "8")

    result = run_tool(out)

    assert result.returncode == 0, result.stdout
    assert "seq 4..8 (anchored at its first entry)" in result.stdout


@pytest.mark.parametrize(
    ("tamper", "seq", "fault"),
    [
        ("edit", 5, "hash_mismatch"),
        ("delete", 5, "gap"),
        ("swap", 5, "gap"),
        ("truncate", 9, "truncated"),
    ],
)
def test_a_tampered_export_is_caught(tmp_path, tamper, seq, fault):
    build_chain(10)
    services.checkpoint_create()  # covers all 11 entries
    out = export(tmp_path)
    path = out / "entries.jsonl"
    rows = lines(path)
    if tamper == "edit":
        record = json.loads(rows[4])
        record["payload"]["number"] = 500
        rows[4] = json.dumps(record, ensure_ascii=False) + "\n"
    elif tamper == "delete":
        del rows[4]
    elif tamper == "swap":
        rows[4], rows[5] = rows[5], rows[4]
    elif tamper == "truncate":
        rows = rows[:8]
    path.write_text("".join(rows))

    result = run_tool(out, "--json")

    assert result.returncode == 1
    verdict = json.loads(result.stdout)
    assert (verdict["seq"], verdict["fault"]) == (seq, fault)


def test_a_checkpoint_signed_by_another_key_is_refused(tmp_path):
    build_chain(3)
    services.checkpoint_create()
    out = export(tmp_path)
    body = notes.CheckpointBody(
        origin=settings.AUDIT_LOG_ORIGIN, seq=2, hash="cd" * 32, time="2026-01-01T00:00:00.000000Z"
    )
    forged = notes.sign(body, ed25519.Ed25519PrivateKey.generate())
    with open(out / "checkpoints.jsonl", "a") as stream:
        stream.write(json.dumps({"seq": 2, "hash": "cd" * 32, "kid": "x", "note": forged}) + "\n")

    result = run_tool(out, "--json")

    assert result.returncode == 1
    assert json.loads(result.stdout)["fault"] == "bad_signature"


def test_an_export_cut_short_after_a_published_checkpoint_is_caught(tmp_path):
    build_chain(6)
    published = services.checkpoint_create()
    out = export(tmp_path, "--end-seq", "4")
    note_file = tmp_path / "published.note"
    note_file.write_text(published.note)

    assert run_tool(out).returncode == 0
    result = run_tool(out, "--checkpoint", str(note_file), "--json")

    assert result.returncode == 1
    assert json.loads(result.stdout)["fault"] == "truncated"


def test_an_unreadable_export_is_exit_2_with_one_line(tmp_path):
    result = run_tool(tmp_path / "missing")

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("args", [["--start-seq", "0"], ["--start-seq", "5", "--end-seq", "2"]])
def test_bad_export_arguments_exit_non_zero_with_one_line(tmp_path, args):
    result = subprocess.run(
        [sys.executable, "manage.py", "audit_export", str(tmp_path / "x"), *args],
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "start-seq" in result.stderr
    assert not (tmp_path / "x").exists()
