"""
A receipt carries its decision's inclusion proof (C2SP tlog-proof) once a signed checkpoint
covers the decision's audit entry, and the standalone verifier checks it offline.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from audit import notes
from audit import services as audit_services
from consent import services

from .conftest import as_resident
from .test_receipts import download

pytestmark = pytest.mark.django_db
TOOL = Path(settings.BASE_DIR) / "tools" / "verify_audit_export.py"


def check(path: Path, *extra: str) -> subprocess.CompletedProcess:
    key = audit_services.signing_key_ensure()
    vkey = notes.verifier_key(settings.AUDIT_LOG_ORIGIN, key.public_key())
    return subprocess.run(
        [sys.executable, str(TOOL), "proof", "receipt", str(path), "--key", vkey, *extra],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )


def test_a_receipt_carries_its_proof_once_a_checkpoint_covers_it(purpose, resident, tmp_path):
    record = services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)
    audit_services.seal()
    before = download(resident, record)["receipt"]["auditLog"]
    assert before["proof"] is None and before["seq"] is not None  # recorded, not yet covered

    audit_services.checkpoint_create()
    document = download(resident, record)
    log = document["receipt"]["auditLog"]
    assert log["origin"] == settings.AUDIT_LOG_ORIGIN
    assert log["proof"].startswith("c2sp.org/tlog-proof@v1\nextra ")
    assert f"\nindex {log['seq'] - 1}\n" in log["proof"]
    # Stable: a later checkpoint does not change the proof of a covered entry.
    services.consent_withdraw(actor=as_resident(resident), resident=resident, purpose=purpose)
    audit_services.seal()
    audit_services.checkpoint_create()
    assert download(resident, record)["receipt"]["auditLog"] == log

    receipt = tmp_path / "receipt.json"
    receipt.write_text(json.dumps(document, ensure_ascii=False))
    result = check(receipt)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"receipt {record.receipt_id} is entry {log['seq']} (consent.given)" in result.stdout
    # The JWS alone carries the same proof.
    jws = tmp_path / "receipt.jwt"
    jws.write_text(document["jws"])
    assert check(jws).returncode == 0


def test_a_receipt_with_another_entry_or_a_forged_proof_fails(purpose, resident, tmp_path):
    record = services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)
    audit_services.seal()
    audit_services.checkpoint_create()
    document = download(resident, record)
    proof = document["receipt"]["auditLog"]["proof"]

    # The proof of this decision, presented with another receipt id.
    document["receipt"]["consentReceiptID"] = "00000000-0000-0000-0000-000000000000"
    (tmp_path / "other.json").write_text(json.dumps(document))
    result = check(tmp_path / "other.json", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["fault"] == "proof_mismatch"

    # A proof hash changed.
    lines = proof.split("\n")
    lines[3] = "A" * 43 + "="
    (tmp_path / "forged.tlog-proof").write_text("\n".join(lines))
    result = check(tmp_path / "forged.tlog-proof", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["fault"] == "inclusion_failed"


def test_the_history_page_says_the_decisions_are_in_the_public_log(resident):
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(resident.user)
    html = client.get(reverse("consent:history")).content.decode()
    assert "公開監査ログ" in html and "誰でもプラットフォームに問い合わせずに確かめられます" in html
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("consent:history")).content.decode()
    assert "public audit log, by its receipt number" in html
