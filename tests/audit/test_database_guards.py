"""
On PostgreSQL the database itself defends the audit log (audit.roles, migration audit 0007).

Each attack of a database insider who holds the platform's own role (``DATABASE_URL``) is
refused, and what an insider with the owner's rights can still do is caught by audit_verify.
"""

import json
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit import chain, keys, notes, roles, selectors, services, tree
from audit.models import Checkpoint, Entry, PendingEntry, SigningKey, SigningKeyEvent

from .helpers import build_chain, owner_sql, verify_json

pytestmark = pytest.mark.usefixtures("postgres_only")

REFUSED = "permission denied|append-only|must be owner|only moves forward"


@pytest.fixture(autouse=True)
def _as_the_runtime_role():
    if not roles.separated():
        pytest.skip("needs the platform to run as its runtime role (DATABASE_OWNER_URL set)")


def refused(statement: str, params=None) -> None:
    """Assert the runtime role's ``statement`` is refused, leaving the transaction usable."""
    with (
        connection.cursor() as cursor,
        pytest.raises(DatabaseError, match=REFUSED),
        transaction.atomic(),
    ):
        cursor.execute(statement, params)


def test_the_log_verifies_with_the_designed_roles():
    build_chain(3)
    services.checkpoint_create()
    code, verdict = verify_json()
    assert (code, verdict["problems"]) == (0, [])


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE audit_entry DISABLE TRIGGER USER",
        "ALTER TABLE audit_pending DISABLE TRIGGER ALL",
        "ALTER TABLE audit_checkpoint DISABLE TRIGGER USER",
        "DROP TRIGGER audit_entry_append_only_rows ON audit_entry",
        "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RETURN OLD; END $$",
    ],
)
def test_the_runtime_role_cannot_lift_the_triggers(statement):
    refused(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entry SET payload = '{}' WHERE seq = 2",
        "UPDATE audit_entry SET seq = 99 WHERE seq = 2",
        "DELETE FROM audit_entry WHERE seq >= 2",
        "INSERT INTO audit_entry SELECT * FROM audit_entry WHERE seq = 1",
        "DELETE FROM audit_tile",
        "UPDATE audit_tile SET hashes = ''",
        "DELETE FROM audit_checkpoint",
        "UPDATE audit_checkpoint SET seq = 1",
        "DELETE FROM audit_signingkey",
        "UPDATE audit_signingkey SET public_jwk = '{}'",
        "TRUNCATE audit_entry, audit_pending",
        "TRUNCATE audit_checkpoint CASCADE",
    ],
)
def test_rewriting_the_log_after_a_checkpoint_is_refused(statement):
    build_chain(3)
    services.checkpoint_create()

    refused(statement)

    assert Entry.objects.count() == 4 and Checkpoint.objects.count() == 1
    assert verify_json()[0] == 0


def test_the_session_settings_of_old_open_no_way():
    services.record(actor=None, action="test.recorded")
    with connection.cursor() as cursor:
        cursor.execute("SET audit.allow_truncate = 'on'")
        cursor.execute("SELECT set_config('audit.sealing', 'on', true)")
    refused("TRUNCATE audit_entry, audit_pending")
    refused("DELETE FROM audit_pending")
    refused("DELETE FROM audit_checkpoint")
    # The committed entry is still there, and sealed as any other.
    assert PendingEntry.objects.get().action == "test.recorded"
    assert services.seal() == 1
    assert not PendingEntry.objects.exists()


def test_pending_entries_cannot_be_changed_before_their_seal():
    services.record(actor=None, action="test.recorded")
    refused("UPDATE audit_pending SET action = 'x.y'")
    refused("DELETE FROM audit_pending")
    assert PendingEntry.objects.get().action == "test.recorded"


def test_the_owner_cannot_delete_pending_entries_either():
    """The sealer's one DELETE per batch is checked once per statement, and anyone else's is
    refused, even when it matches no row."""
    services.record(actor=None, action="test.recorded")
    for statement in ("DELETE FROM audit_pending", "DELETE FROM audit_pending WHERE id < 0"):
        with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
            owner_sql(statement)
    assert PendingEntry.objects.get().action == "test.recorded"
    assert services.seal() == 1
    assert not PendingEntry.objects.exists()


def test_a_batch_is_sealed_in_order_across_tiles():
    """One seal of 300 entries (one INSERT and one DELETE for the batch) crosses a full tile."""
    services.record_many(
        services.EntrySpec(action="test.recorded", payload={"n": n}) for n in range(300)
    )
    assert services.seal() == 300
    assert list(Entry.objects.values_list("seq", flat=True)) == list(range(1, 301))
    assert [json.loads(p)["n"] for p in Entry.objects.values_list("payload", flat=True)] == list(
        range(300)
    )
    assert not PendingEntry.objects.exists()
    assert verify_json()[0] == 0


def test_the_runtime_role_cannot_seal_but_through_the_sealing_function():
    services.record(actor=None, action="test.recorded")
    refused(
        "INSERT INTO audit_entry (seq, time, actor_type, actor_id, action, object_type, "
        "object_id, consortium_id, payload, prev_hash, hash) VALUES "
        "(1, now(), 'system', '', 'test.forged', '', '', NULL, '{}', %s, %s)",
        [chain.GENESIS_HASH, "0" * 64],
    )
    refused("ALTER FUNCTION audit_seal(integer, bigint[]) OWNER TO CURRENT_USER")
    assert services.seal() == 1
    assert verify_json()[0] == 0


def test_a_backdated_pending_row_is_sealed_at_the_sealers_time():
    build_chain(2)
    head = Entry.objects.order_by("-seq").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_pending (written_at, actor_type, actor_id, action, object_type, "
            "object_id, consortium_id, payload) VALUES "
            "('2020-01-01T00:00:00Z', 'system', '', 'test.forged', '', '', NULL, '{}')"
        )
    assert services.seal() == 1

    forged = Entry.objects.get(action="test.forged")
    assert forged.time >= head.time
    assert forged.written_at.year == 2020
    assert verify_json()[0] == 0


def _insert_key_row(private_key) -> int:
    """Insert a signing key row by hand, as the runtime role may, and return its id."""
    jwk = keys.public_jwk(private_key.public_key())
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_signingkey (kid, algorithm, generation, public_jwk, "
            "encrypted_private_key, created_at) VALUES (%s, 'EdDSA', 1000, %s, %s, now()) "
            "RETURNING id",
            [keys.thumbprint(jwk), json.dumps(jwk), b"x"],
        )
        return cursor.fetchone()[0]


def _insert_checkpoint(key_id: int, private_key) -> None:
    size = tree.size()
    head = notes.TreeHead(origin=settings.AUDIT_LOG_ORIGIN, size=size, root=tree.root(size))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_checkpoint (seq, hash, root, time, key_id, note) "
            "VALUES (%s, %s, %s, now(), %s, %s)",
            [
                size,
                Entry.objects.get(seq=size).hash,
                head.root.hex(),
                key_id,
                notes.sign_checkpoint(head, private_key),
            ],
        )


def test_a_signing_key_row_inserted_by_hand_is_never_published_nor_trusted(client):
    build_chain(3)
    services.checkpoint_create()
    forger = ed25519.Ed25519PrivateKey.generate()
    key_id = _insert_key_row(forger)
    _insert_checkpoint(key_id, forger)

    published = {key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]}
    assert SigningKey.objects.get(pk=key_id).kid not in published
    assert selectors.signing_key_verifier(SigningKey.objects.get(pk=key_id).kid) is None
    code, verdict = verify_json()
    assert code == 1
    assert "unpublished_key" in {problem["kind"] for problem in verdict["problems"]}


def test_a_checkpoint_signed_by_a_revoked_key_after_its_revocation_is_caught():
    build_chain(3)
    services.checkpoint_create()
    key = selectors.signing_key_active("EdDSA")
    private_key = key.private_key()  # the thief's copy
    services.signing_key_revoke(actor=None, key=key)
    services.signing_key_create(actor=None)
    services.seal()
    # The revocation stays: its event can be neither changed nor taken back.
    refused("DELETE FROM audit_signingkeyevent WHERE key_id = %s", [key.pk])
    refused("UPDATE audit_signingkeyevent SET at = now() + interval '1 day'")
    assert SigningKey.objects.get(pk=key.pk).status == SigningKey.Status.REVOKED

    _insert_checkpoint(key.pk, private_key)

    code, verdict = verify_json()
    assert code == 1
    assert "revoked_key" in {problem["kind"] for problem in verdict["problems"]}


def _rotated_and_revoked() -> SigningKey:
    """Make a key, rotate it (a retired event) and revoke the new one; return the revoked."""
    services.signing_key_create(actor=None)
    revoked = services.signing_key_create(actor=None)
    services.signing_key_revoke(actor=None, key=revoked)
    services.seal()
    return revoked


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_signingkey SET created_at = now()",
        "UPDATE audit_signingkey SET generation = generation + 10",
        "UPDATE audit_signingkey SET kid = 'forged' WHERE id = %(revoked)s",
        "DELETE FROM audit_signingkey WHERE id = %(revoked)s",
        "UPDATE audit_signingkeyevent SET kind = 'retired' WHERE key_id = %(revoked)s",
        "UPDATE audit_signingkeyevent SET until = now() + interval '10 years'",
        "DELETE FROM audit_signingkeyevent",
        "TRUNCATE audit_signingkeyevent",
        "TRUNCATE audit_signingkey CASCADE",
    ],
)
def test_a_keys_row_and_its_events_are_never_changed(statement):
    revoked = _rotated_and_revoked()
    events = list(SigningKeyEvent.objects.values_list("key_id", "kind", "at", "until"))

    refused(statement, {"revoked": revoked.pk} if "%(" in statement else None)

    assert SigningKey.objects.get(pk=revoked.pk).status == SigningKey.Status.REVOKED
    assert list(SigningKeyEvent.objects.values_list("key_id", "kind", "at", "until")) == events
    assert [key.status for key in SigningKey.objects.order_by("generation")] == [
        SigningKey.Status.RETIRED,
        SigningKey.Status.REVOKED,
    ]
    assert verify_json()[0] == 0


@pytest.mark.parametrize(
    "table, trigger",
    [
        ("audit_entry", "audit_entry_append_only_rows"),
        ("audit_pending", "audit_pending_append_only_delete"),
        ("audit_signingkey", "audit_signingkey_append_only_rows"),
        ("audit_signingkeyevent", "audit_signingkeyevent_append_only_rows"),
        ("audit_signingkeyevent", "audit_signingkeyevent_append_only_truncate"),
    ],
)
def test_a_trigger_disabled_by_the_owner_is_caught(table, trigger):
    build_chain(3)
    owner_sql(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
    code, verdict = verify_json()
    owner_sql(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")

    assert code == 1
    assert verdict["first_fault"] == "trigger_missing"
    assert trigger in verdict["problems"][0]["detail"]
    assert verify_json()[0] == 0


@pytest.mark.parametrize(
    "grant, named",
    [
        ("UPDATE ON audit_entry", "UPDATE audit_entry"),
        ("UPDATE ON audit_signingkeyevent", "UPDATE audit_signingkeyevent"),
        ("DELETE ON audit_signingkeyevent", "DELETE audit_signingkeyevent"),
        # A privilege on one column is one on the table: a key's row is never updated.
        ("UPDATE (created_at) ON audit_signingkey", "UPDATE audit_signingkey"),
    ],
)
def test_a_role_given_more_than_designed_is_caught(grant, named):
    build_chain(3)
    runtime = connection.ops.quote_name(settings.DATABASE_RUNTIME_ROLE)
    owner_sql(f"GRANT {grant} TO {runtime}")
    code, verdict = verify_json()
    owner_sql(f"REVOKE {grant} FROM {runtime}")

    assert code == 1
    assert verdict["first_fault"] == "excess_privilege"
    assert named in verdict["problems"][0]["detail"]
    assert verify_json()[0] == 0


def test_sealing_in_sql_gives_the_bytes_python_would():
    """The sealing function's canonical text is chain.entry_text's, for any characters."""
    odd = 'quote " backslash \\ tab \t newline \n bell \x07 del \x7f 日本語 ＡＢＣ 🙂'
    services.record(
        actor=services.Actor.system(odd[:60]),
        action="test.changed",
        object_type="t",
        object_id="\x1f",
        consortium=2**40,
        payload={"to": odd},
    )
    services.seal()
    entry = Entry.objects.get()
    assert entry.hash == chain.entry_hash(
        seq=1,
        time=chain.format_time(entry.time),
        actor_type=entry.actor_type,
        actor_id=entry.actor_id,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        consortium_id=entry.consortium_id,
        payload=entry.payload,
        prev_hash=chain.GENESIS_HASH,
    )
    assert entry.time <= timezone.now()
    assert verify_json()[0] == 0


@pytest.mark.parametrize("kind", ["retired", "revoked", "publication"])
def test_a_key_event_inserted_by_hand_without_its_entry_is_caught(kind):
    """The runtime role may INSERT key events; one that its service did not write is named."""
    build_chain(3)
    key = services.signing_key_create(actor=None)
    services.seal()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_signingkeyevent (key_id, kind, at, until, reason) "
            "VALUES (%s, %s, now(), NULL, 'rotated') RETURNING id",
            [key.pk, kind],
        )
        (event_id,) = cursor.fetchone()
    assert verify_json()[0] == 1

    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("audit_verify", "--no-seal", stdout=out)

    assert exit_.value.code == 1
    assert f"unrecorded_key_event: signing key event {event_id} ({kind}" in out.getvalue()
