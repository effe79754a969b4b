from io import StringIO

import pytest
from django.core.management import call_command

from audit.models import Checkpoint, Entry, PendingEntry

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_leaves_a_verifiable_chain(client):
    call_command("seed_demo", stdout=StringIO())
    entries = Entry.objects.count() + PendingEntry.objects.count()
    checkpoints = Checkpoint.objects.count()

    call_command("seed_demo", stdout=StringIO())

    assert Entry.objects.count() + PendingEntry.objects.count() == entries
    assert Checkpoint.objects.count() == checkpoints >= 1
    assert client.get("/.well-known/jwks.json").json()["keys"]
    assert client.get("/api/v1/audit/checkpoints/latest").status_code == 200
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert out.getvalue().startswith("OK")


def test_seed_demo_refuses_a_negative_resident_count():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--residents"):
        call_command("seed_demo", "--residents", "-1", stdout=StringIO())
