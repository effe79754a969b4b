"""``audit_export`` and the standalone ``tools/verify_audit_export.py`` on good and bad exports."""

import base64
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


def run_tool(export_dir, *extra: str) -> subprocess.CompletedProcess:
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


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


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
        rows[4] = canonical(record) + "\n"
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
        stream.write(canonical({"seq": 2, "hash": "cd" * 32, "kid": "x", "note": forged}) + "\n")

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


# --- Canonical lines, trusted keys, anchors, witnesses, proofs --------------------------------


def log_vkey() -> str:
    key = services.signing_key_ensure()
    return notes.verifier_key(settings.AUDIT_LOG_ORIGIN, key.public_key())


@pytest.mark.parametrize(
    "rewrite",
    [
        # A member given twice: json.loads keeps the last, so the hash would still match.
        lambda line: line.replace('{"action"', '{"action":"forged","action"', 1),
        # Spaces, and members out of order: the same object, other bytes.
        lambda line: line.replace('","', '", "', 1),
        lambda line: json.dumps(dict(reversed(list(json.loads(line).items())))) + "\n",
        lambda line: line.rstrip("\n") + " \n",
    ],
    ids=["member-twice", "spacing", "order", "trailing-space"],
)
def test_a_line_not_byte_identical_to_its_canonical_form_is_refused(tmp_path, rewrite):
    build_chain(6)
    out = export(tmp_path)
    rows = lines(out / "entries.jsonl")
    rows[2] = rewrite(rows[2])
    (out / "entries.jsonl").write_text("".join(rows))

    result = run_tool(out, "--json", "--key", log_vkey())

    assert result.returncode == 1
    assert (json.loads(result.stdout)["fault"], json.loads(result.stdout)["seq"]) == (
        "not_canonical",
        3,
    )


def test_keys_come_from_outside_the_export_and_the_fallback_is_loud(tmp_path):
    build_chain(4)
    services.checkpoint_create()
    out = export(tmp_path)
    jwks = tmp_path / "published-jwks.json"
    jwks.write_text(json.dumps({"keys": [services.signing_key_ensure().jwk]}))

    for given in (["--jwks", str(jwks)], ["--key", log_vkey()]):
        result = run_tool(out, *given)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "WARNING" not in result.stderr
    fallback = run_tool(out)
    assert fallback.returncode == 0
    assert "WARNING: no --jwks or --key given" in fallback.stderr
    assert "keys taken from the export itself" in fallback.stdout

    # An export whose keys and checkpoints were replaced together passes on its own keys only.
    forger = ed25519.Ed25519PrivateKey.generate()
    other = notes.verifier_key(settings.AUDIT_LOG_ORIGIN, forger.public_key())
    result = run_tool(out, "--json", "--key", other)
    assert result.returncode == 1
    assert json.loads(result.stdout)["fault"] == "bad_signature"


def test_a_partial_export_is_checked_against_the_checkpoint_before_it(tmp_path):
    build_chain(6)
    services.checkpoint_create()  # size 7 (with the key's entry)
    build_chain(10)
    services.checkpoint_create()  # size 17
    out = export(tmp_path, "--start-seq", "12", "--end-seq", "17")

    result = run_tool(out, "--key", log_vkey())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "anchored at its first entry and the checkpoint of size 7" in result.stdout
    assert "2 checkpoint(s) verified" not in result.stdout  # 7 is the anchor's, 17 the export's

    anchor = json.loads((out / "anchor.json").read_text())
    # Frontier hashes that do not lead to a tree consistent with the checkpoint before.
    anchor["frontier"][0] = base64.b64encode(bytes(32)).decode()
    (out / "anchor.json").write_text(json.dumps(anchor))
    result = run_tool(out, "--json", "--key", log_vkey())
    assert result.returncode == 1
    assert json.loads(result.stdout)["fault"] in ("checkpoint_mismatch", "unanchored")

    (out / "anchor.json").unlink()
    result = run_tool(out, "--json", "--key", log_vkey())
    assert json.loads(result.stdout)["fault"] == "unanchored"


def test_cosignatures_in_the_export_are_counted_for_the_witnesses_given(tmp_path, settings):
    from audit import cosignatures

    build_chain(3)
    checkpoint = services.checkpoint_create()
    witness_key = ed25519.Ed25519PrivateKey.generate()
    cosigner = cosignatures.Cosigner("witness.example/w1", witness_key.public_key())
    signature = cosignatures.cosign(
        notes.parse_note(checkpoint.note).text,
        name=cosigner.name,
        private_key=witness_key,
        timestamp=1_800_000_000,
    )
    services.cosignature_store(
        checkpoint=checkpoint,
        witness=cosigner.name,
        key_id=signature.key_id.hex(),
        timestamp=1_800_000_000,
        line=signature.line(),
    )
    out = export(tmp_path)

    result = run_tool(out, "--key", log_vkey(), "--witness", cosigner.vkey())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cosigned by witness.example/w1 up to size 4" in result.stdout
    stranger = cosignatures.Cosigner(
        "witness.example/w1", ed25519.Ed25519PrivateKey.generate().public_key()
    )
    result = run_tool(out, "--key", log_vkey(), "--witness", stranger.vkey())
    assert result.returncode == 0 and "cosigned by" not in result.stdout


def test_inclusion_and_consistency_proofs_verify_offline(tmp_path, client):
    build_chain(5)
    old = services.checkpoint_create()
    build_chain(4)
    new = services.checkpoint_create()
    out = export(tmp_path)
    (tmp_path / "old.note").write_text(old.note)
    (tmp_path / "new.note").write_text(new.note)
    (tmp_path / "entry.json").write_text(lines(out / "entries.jsonl")[2])
    inclusion = client.get(f"/api/v1/audit/proofs/inclusion?index=2&size={new.seq}").content
    (tmp_path / "inclusion.json").write_bytes(inclusion)
    consistency = client.get(f"/api/v1/audit/proofs/consistency?from={old.seq}&to={new.seq}")
    (tmp_path / "consistency.json").write_bytes(consistency.content)
    key = ["--key", log_vkey()]

    result = run_tool(
        "proof", "inclusion", "--checkpoint", str(tmp_path / "new.note"),
        "--proof", str(tmp_path / "inclusion.json"), "--entry", str(tmp_path / "entry.json"), *key,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    result = run_tool(
        "proof", "consistency", "--old", str(tmp_path / "old.note"),
        "--new", str(tmp_path / "new.note"), "--proof", str(tmp_path / "consistency.json"), *key,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr

    # Another entry against the same proof, and the proof against a swapped pair, fail.
    (tmp_path / "entry.json").write_text(lines(out / "entries.jsonl")[3])
    result = run_tool(
        "proof", "inclusion", "--checkpoint", str(tmp_path / "new.note"),
        "--proof", str(tmp_path / "inclusion.json"), "--entry", str(tmp_path / "entry.json"),
        "--json", *key,
    )  # fmt: skip
    assert result.returncode == 1
    assert json.loads(result.stdout)["fault"] == "proof_mismatch"
    result = run_tool(
        "proof", "consistency", "--old", str(tmp_path / "new.note"),
        "--new", str(tmp_path / "old.note"), "--proof", str(tmp_path / "consistency.json"), *key,
    )  # fmt: skip
    assert result.returncode == 1
