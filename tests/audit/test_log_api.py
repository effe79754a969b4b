"""
The public log: the checkpoint, C2SP tlog-tiles tiles and entry bundles, the proofs API, the
checkpoint history, and ``audit_publish_tiles``; no sign-in, JSON errors with stable codes.
"""

import base64
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit import merkle, notes, selectors, services, tree

from .helpers import build_chain

pytestmark = pytest.mark.django_db


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def bulk_chain(count: int) -> None:
    services.record_many(
        services.EntrySpec(action="test.recorded", object_id=str(n), payload={"n": n})
        for n in range(count)
    )
    services.seal()


def leaf_hashes() -> list[bytes]:
    return [merkle.leaf_hash(row.text().encode()) for row in selectors.chain_rows()]


def checkpointed(count: int):
    build_chain(count)
    return services.checkpoint_create()


def test_the_checkpoint_is_served_as_text(client):
    assert client.get("/audit-log/checkpoint").status_code == 404
    checkpoint = checkpointed(3)

    response = client.get("/audit-log/checkpoint")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == checkpoint.note
    assert response["Cache-Control"] == "public, max-age=5"
    head = notes.open_checkpoint(response.content.decode(), checkpoint.key.public_key())
    assert head.root == merkle.root(leaf_hashes()[: head.size])


def test_inclusion_proofs_verify_against_the_signed_root(client):
    checkpoint = checkpointed(20)
    head = notes.open_checkpoint(checkpoint.note, checkpoint.key.public_key())
    leaves = leaf_hashes()

    for index in (0, 7, head.size - 1):
        response = client.get(f"/api/v1/audit/proofs/inclusion?index={index}&size={head.size}")
        assert response.status_code == 200
        data = response.json()
        assert (data["index"], data["size"]) == (index, head.size)
        assert b64(data["leaf_hash"]) == leaves[index]
        merkle.verify_inclusion(
            index, head.size, leaves[index], [b64(p) for p in data["proof"]], head.root
        )


def test_consistency_proofs_verify_between_two_checkpoints(client):
    first = checkpointed(5)
    bulk_chain(300)
    second = services.checkpoint_create()
    key = second.key.public_key()
    old = notes.open_checkpoint(first.note, first.key.public_key())
    new = notes.open_checkpoint(second.note, key)

    response = client.get(f"/api/v1/audit/proofs/consistency?from={old.size}&to={new.size}")

    assert response.status_code == 200
    data = response.json()
    assert (data["from"], data["to"]) == (old.size, new.size)
    merkle.verify_consistency(
        old.size, new.size, [b64(p) for p in data["proof"]], old.root, new.root
    )


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("index=0", 400, "invalid_parameter"),
        ("index=a&size=3", 400, "invalid_parameter"),
        ("index=-1&size=3", 400, "invalid_parameter"),
        ("index=1&index=2&size=3", 400, "invalid_parameter"),
        ("index=%C2%B2&size=3", 400, "invalid_parameter"),
        ("index=0&size=0", 400, "invalid_parameter"),
        ("index=3&size=3", 400, "invalid_range"),
        ("index=0&size=99999999999999999999999", 400, "invalid_parameter"),
        ("index=0&size=9223372036854775807", 404, "beyond_checkpoint"),
        ("index=0&size=1000", 404, "beyond_checkpoint"),
    ],
)
def test_bad_inclusion_queries_get_json_errors(client, query, status, code):
    checkpointed(3)
    response = client.get(f"/api/v1/audit/proofs/inclusion?{query}")
    assert response.status_code == status
    assert response.json()["error"] == code


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("from=1", 400, "invalid_parameter"),
        ("from=0&to=3", 400, "invalid_parameter"),
        ("from=x&to=3", 400, "invalid_parameter"),
        ("from=3&to=2", 400, "invalid_range"),
        ("from=1&to=1000", 404, "beyond_checkpoint"),
    ],
)
def test_bad_consistency_queries_get_json_errors(client, query, status, code):
    checkpointed(3)
    response = client.get(f"/api/v1/audit/proofs/consistency?{query}")
    assert response.status_code == status
    assert response.json()["error"] == code


def test_proofs_before_any_checkpoint_are_404(client):
    build_chain(3)
    response = client.get("/api/v1/audit/proofs/inclusion?index=0&size=1")
    assert (response.status_code, response.json()["error"]) == (404, "no_checkpoint")


def test_the_checkpoint_history(client):
    first = checkpointed(2)
    second = checkpointed(2)

    everything = client.get("/api/v1/audit/checkpoints").json()
    since = client.get(f"/api/v1/audit/checkpoints?since={first.seq + 1}").json()

    assert [c["note"] for c in everything["checkpoints"]] == [first.note, second.note]
    assert everything["next"] is None
    assert [c["seq"] for c in since["checkpoints"]] == [second.seq]
    assert since["checkpoints"][0]["root"] == base64.b64encode(bytes.fromhex(second.root)).decode()
    bad = client.get("/api/v1/audit/checkpoints?since=x")
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_parameter")
    beyond = client.get(f"/api/v1/audit/checkpoints?since={second.seq + 1}")
    assert (beyond.status_code, beyond.json()["error"]) == (404, "beyond_checkpoint")


def test_the_latest_checkpoint_carries_the_merkle_root(client):
    checkpoint = checkpointed(2)
    data = client.get("/api/v1/audit/checkpoints/latest").json()
    assert b64(data["root"]) == tree.root(checkpoint.seq)


def test_tiles_and_entry_bundles_are_served_as_tlog_tiles_says(client):
    bulk_chain(600)
    checkpoint = services.checkpoint_create()
    size = checkpoint.seq  # 601: the key's creation too
    leaves = leaf_hashes()
    assert size == 601

    full = client.get("/audit-log/tile/0/000")
    assert full.status_code == 200
    assert full["Content-Type"] == "application/octet-stream"
    assert full["Cache-Control"] == "public, max-age=31536000, immutable"
    assert full.content == b"".join(leaves[:256])
    partial = client.get("/audit-log/tile/0/002.p/89")
    assert partial.content == b"".join(leaves[512:601])
    level1 = client.get("/audit-log/tile/1/000.p/2")
    assert level1.content == merkle.root(leaves[:256]) + merkle.root(leaves[256:512])
    bundle = client.get("/audit-log/tile/entries/001")
    entries = tree.parse_entry_bundle(bundle.content)
    assert [merkle.leaf_hash(e) for e in entries] == leaves[256:512]
    assert bundle["Cache-Control"] == "public, max-age=31536000, immutable"
    assert (
        len(tree.parse_entry_bundle(client.get("/audit-log/tile/entries/002.p/89").content)) == 89
    )


@pytest.mark.parametrize(
    "path",
    [
        "/audit-log/tile/0/002",  # not full at the checkpoint's size
        "/audit-log/tile/0/002.p/90",  # wider than the checkpoint covers
        "/audit-log/tile/0/003.p/1",
        "/audit-log/tile/1/000",
        "/audit-log/tile/00/000",  # leading zero in the level
        "/audit-log/tile/0/0",  # not three digits
        "/audit-log/tile/0/x000/000",  # not the canonical encoding
        "/audit-log/tile/0/000.p/0",
        "/audit-log/tile/0/000.p/256",
        "/audit-log/tile/0/000.p/08",
        "/audit-log/tile/64/000",
        "/audit-log/tile/entries/003",
        "/audit-log/tile/0/x999/x999/x999/x999/x999/x999/x999/999",
        "/audit-log/tile/0/0a0",
        "/audit-log/tile/0/%EF%BC%90%EF%BC%90%EF%BC%90",  # fullwidth digits
        "/audit-log/tile/0/000.p/x",
        "/audit-log/tile/x/000",
    ],
)
def test_tiles_outside_the_newest_checkpoint_are_404(client, path):
    bulk_chain(600)
    services.checkpoint_create()
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_the_tiles_are_published_for_a_static_host(tmp_path):
    tmp_path = tmp_path / "site"
    bulk_chain(600)
    checkpoint = services.checkpoint_create()
    out = StringIO()

    call_command("audit_publish_tiles", str(tmp_path), stdout=out)

    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert files == [
        "checkpoint",
        "tile/0/000",
        "tile/0/001",
        "tile/0/002.p/89",
        "tile/1/000.p/2",
        "tile/entries/000",
        "tile/entries/001",
        "tile/entries/002.p/89",
    ]
    assert (tmp_path / "checkpoint").read_text() == checkpoint.note
    assert (tmp_path / "tile/0/001").read_bytes() == tree.tile_bytes(0, 1)
    # Published again: the full tiles are kept, the rest rewritten.
    call_command("audit_publish_tiles", str(tmp_path), stdout=out)
    assert "0 file(s) written" not in out.getvalue().splitlines()[0]
    assert out.getvalue().splitlines()[1].startswith("OK: checkpoint of 601 entries, 0 file(s)")


def test_publishing_before_any_checkpoint_fails_with_one_line(tmp_path):
    build_chain(1)
    with pytest.raises(CommandError, match="no checkpoint"):
        call_command("audit_publish_tiles", str(tmp_path))


def test_the_tile_counts_of_the_spec():
    """tlog-tiles: a tree of 70,000 is 273 full level-0 tiles, one partial of 112, one full
    level-1 tile, one partial level-1 tile of 17 and one partial level-2 tile of 1."""
    from audit.publish import tiles_of

    tiles = [t for t in tiles_of(70_000) if t[0] is not None]
    assert len([t for t in tiles if t[0] == 0 and t[2] == 256]) == 273
    assert [t for t in tiles if t[0] == 0 and t[2] < 256] == [(0, 273, 112)]
    assert [t for t in tiles if t[0] == 1] == [(1, 0, 256), (1, 1, 17)]
    assert [t for t in tiles if t[0] == 2] == [(2, 0, 1)]
    assert [t for t in tiles_of(256) if t[0] is not None] == [(0, 0, 256), (1, 0, 1)]


def test_the_log_endpoints_are_in_the_openapi_schema(client):
    schema = client.get("/api/schema/").content.decode()
    for path in (
        "/api/v1/audit/proofs/inclusion",
        "/api/v1/audit/proofs/consistency",
        "/api/v1/audit/checkpoints:",
        "/api/v1/audit/checkpoints/latest",
    ):
        assert path in schema
