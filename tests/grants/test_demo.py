"""The demo: an active grant for the demo mobility service, whose secret works on the API."""

import base64
import re
from io import StringIO

import pytest
from django.core.management import call_command

from grants.models import Grant, ServiceCredential

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_a_working_credential_and_grant_once(client):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    client_id = re.search(r"client id (\S+)", text).group(1)
    secret = re.search(r"client secret (\S+)", text).group(1)
    grant = Grant.objects.get()
    assert grant.status == Grant.Status.ACTIVE and grant.is_active()
    auth = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    body = client.post("/api/v1/introspect", {"token": grant.token}, HTTP_AUTHORIZATION=auth)
    assert body.json()["active"] is True

    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert secret not in again.getvalue()
    assert "Issue a new client secret" in again.getvalue()
    assert Grant.objects.count() == 1
    assert ServiceCredential.objects.count() == 1
