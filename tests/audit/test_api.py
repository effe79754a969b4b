import base64
import re

import pytest

from audit import merkle, notes, selectors, services

from .helpers import build_chain

pytestmark = pytest.mark.django_db
URL = "/api/v1/audit/checkpoints/latest"


def test_without_a_checkpoint_the_api_answers_json_404(client):
    response = client.get(URL)

    assert response.status_code == 404
    assert response.json()["error"] == "no_checkpoint"


def test_the_latest_checkpoint_is_public_and_verifies_with_the_jwks(client):
    build_chain(3)
    services.checkpoint_create()
    build_chain(2)
    latest = services.checkpoint_create()

    data = client.get(URL).json()

    assert (data["seq"], data["hash"], data["note"]) == (latest.seq, latest.hash, latest.note)
    jwk = next(
        k for k in client.get("/.well-known/jwks.json").json()["keys"] if k["kid"] == data["kid"]
    )
    from audit.keys import public_key_from_jwk

    head = notes.open_checkpoint(data["note"], public_key_from_jwk(jwk))
    assert head.size == latest.seq
    # The root is the RFC 6962 root of the first seq entries' leaf data.
    leaves = [merkle.leaf_hash(row.text().encode()) for row in selectors.chain_rows()]
    assert head.root == merkle.root(leaves[: head.size])
    assert data["root"] == base64.b64encode(head.root).decode()


def test_other_methods_get_a_json_error(client):
    response = client.post(URL)

    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_the_openapi_schema_and_docs_are_served_offline(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert b"/api/v1/audit/checkpoints/latest" in schema.content
    assert docs.status_code == 200
    # Everything the page loads comes from this site (the sidecar's copy of Swagger UI), and
    # nothing is inline, as the Content-Security-Policy requires.
    html = docs.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert sources and all(source.startswith("/") for source in sources)
    assert "<style" not in html
    assert re.search(r"<script>\s*\S", html) is None
