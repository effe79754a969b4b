"""
Two live platforms witnessing each other over HTTP (C2SP tlog-witness), and a witness catching
a rewritten log.

Platform A is this test's live server (its own database); platform B is a second Django server
in another process, with an SQLite database, origin, checkpoint key and witness key of its
own, driven through its management commands as its operators would.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.conf import settings
from django.core.management import call_command

from audit import cosignatures, notes, selectors, services, witnessing
from audit.models import Entry, WitnessedCheckpoint

from .helpers import build_chain

B_ORIGIN = "city-b.example/audit-log"
B_WITNESS = "city-b.example/witness"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PlatformB:
    """The second platform: its environment, its commands, its server."""

    def __init__(self, directory: Path, witness_of_b: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DEBUG": "1",
            "VAR_DIR": str(directory),
            "DATABASE_URL": f"sqlite:///{directory / 'b.sqlite3'}",
            "PLATFORM_URL": self.url,
            "AUDIT_LOG_ORIGIN": B_ORIGIN,
            "AUDIT_WITNESS_NAME": B_WITNESS,
            "AUDIT_WITNESSES": witness_of_b,
            "AUDIT_CHECKPOINT_STATE": str(directory / "checkpoint.txt"),
            "AUDIT_WITNESS_KEY_FILE": str(directory / "witness.key"),
        }
        self.server = None

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode:
            raise AssertionError(f"B {args}: {result.stdout}{result.stderr}")
        return result

    def start(self) -> None:
        self.manage("migrate", "-v0")
        self.server = subprocess.Popen(
            [
                sys.executable,
                str(Path(settings.BASE_DIR) / "manage.py"),
                "runserver",
                "--noreload",
                f"127.0.0.1:{self.port}",
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:  # until the server answers (any status)
            try:
                urllib.request.urlopen(f"{self.url}/audit-log/checkpoint", timeout=2)
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                if time.monotonic() > deadline or self.server.poll() is not None:
                    raise AssertionError("platform B did not start") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=20)

    def get(self, path: str) -> str:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return response.read().decode()


@pytest.fixture
def platforms(live_server, settings, tmp_path):
    # A's witness key and the submission prefix B is told to use.
    a_witness = witnessing.witness_verifier_key()
    b = PlatformB(tmp_path / "b", f"{a_witness} {live_server.url}/witness")
    (tmp_path / "b").mkdir()
    b.start()
    try:
        b_witness, b_prefix = b.manage("audit_witness_key").stdout.split()
        b_origin, b_log_key = b.manage("audit_witness_key", "--log").stdout.split()
        # A submits to B, and witnesses B's log (as A's secretariat sets it in the admin).
        settings.AUDIT_WITNESSES = [[b_witness, b_prefix]]
        settings.AUDIT_WITNESS_QUORUM = 1
        services.witnessed_log_save(actor=None, origin=b_origin, verifier_key=b_log_key)
        # B witnesses A's log.
        a_key = services.signing_key_ensure()
        b.manage(
            "audit_witness_log",
            settings.AUDIT_LOG_ORIGIN,
            notes.verifier_key(settings.AUDIT_LOG_ORIGIN, a_key.public_key()),
        )
        yield b, cosignatures.parse_verifier_key(b_witness)
    finally:
        b.stop()


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_two_live_platforms_witness_each_other_and_catch_a_rewritten_log(platforms, client):
    b, b_cosigner = platforms

    # A's checkpoint is submitted to B when it commits (the task), and B's cosignature is
    # served on A's checkpoint.
    build_chain(5)
    checkpoint = services.checkpoint_create()
    assert witnessing.is_witnessed(checkpoint)
    served = client.get("/audit-log/checkpoint").content.decode()
    assert served.startswith(checkpoint.note)
    assert set(cosignatures.cosignatures(served, [b_cosigner])) == {B_WITNESS}
    # The next one goes from the size B cosigned, with a consistency proof.
    build_chain(3)
    second = services.checkpoint_create()
    assert witnessing.is_witnessed(second)
    assert witnessing.last_cosigned_size(witnessing.configured_witnesses()[0], 100) == second.seq
    out = StringIO()
    call_command("audit_verify", "--no-seal", stdout=out)
    assert "2 witnessed" in out.getvalue()

    # B signs its checkpoints and submits them to A, which cosigns them.
    b.manage("audit_checkpoint")
    assert "witnessed" in b.manage("audit_witness").stdout
    third_log = ed25519.Ed25519PrivateKey.generate().public_key()  # B's log grows meanwhile
    b.manage(
        "audit_witness_log",
        "city-c.example/log",
        notes.verifier_key("city-c.example/log", third_log),
    )
    b.manage("audit_checkpoint")
    b.manage("audit_witness")
    a_state = WitnessedCheckpoint.objects.filter(log__origin=B_ORIGIN).order_by("-id").first()
    b_served = b.get("/audit-log/checkpoint")
    b_head = notes.parse_tree_head(notes.parse_note(b_served).text)
    assert (a_state.size, a_state.root) == (b_head.size, b_head.root.hex())
    a_cosigner = cosignatures.parse_verifier_key(witnessing.witness_verifier_key())
    assert set(cosignatures.cosignatures(b_served, [a_cosigner])) == {a_cosigner.name}

    # B's operator rewrites B's log: a fresh history under the same key and origin, longer
    # than what A cosigned, signed after the signer's own record is removed.
    Path(b.env["AUDIT_CHECKPOINT_STATE"]).unlink()
    b.manage(
        "shell",
        "-c",
        "from django.db import connection\n"
        "c = connection.cursor()\n"
        "for t in ('audit_cosignature', 'audit_checkpoint', 'audit_tile', 'audit_entry'):\n"
        "    c.execute(f'DELETE FROM {t}')\n"
        "from audit import actions, services\n"
        "actions.declare({'test.rewritten': []})\n"
        "for n in range(12):\n"
        "    services.record(actor=None, action='test.rewritten', object_id=str(n))\n"
        "services.seal()\n",
    )
    b.manage("audit_checkpoint")
    refused = b.manage("audit_witness", check=False)
    assert refused.returncode == 1
    assert "422" in refused.stdout + refused.stderr
    # A kept what it cosigned, and recorded the evidence in its own log.
    assert WitnessedCheckpoint.objects.filter(log__origin=B_ORIGIN).order_by("-id").first() == (
        a_state
    )
    services.seal()
    evidence = Entry.objects.get(action="witness.inconsistency")
    assert evidence.data == {
        "origin": B_ORIGIN,
        "size": 12,
        "cosigned_size": a_state.size,
        "fault": "inconsistent",
    }
    assert selectors.checkpoint_latest_merkle().seq == second.seq
