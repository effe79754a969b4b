"""
Migrations audit 0010-0012 turn the status columns of existing signing keys into events: after
them every key reads the status and times it had, so what the JWKS and audit_verify read is
unchanged.
"""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from audit import roles, selectors
from audit.models import SigningKey, SigningKeyEvent

BEFORE = [("audit", "0009_signingkey_rs256")]
UTC = datetime.UTC


def migrate(targets, *, grant: bool = False):
    """Migrate to ``targets`` as the schema's owner; return the models of that state."""
    with roles.as_owner():
        MigrationExecutor(connection).migrate(targets)
        if grant:  # tables made again get the runtime role's designed privileges back
            roles.grant_runtime()
    return MigrationExecutor(connection)._create_project_state(with_applied_migrations=True).apps


@pytest.mark.django_db(transaction=True)
def test_existing_keys_keep_their_status_and_times_as_events():
    if connection.vendor != "postgresql":
        # Production's keys live on PostgreSQL; on SQLite each backward step rebuilds tables.
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    retired_at = datetime.datetime(2026, 3, 1, tzinfo=UTC)
    revoked_at = datetime.datetime(2026, 4, 1, tzinfo=UTC)
    until = datetime.datetime(2026, 9, 1, tzinfo=UTC)
    try:
        old = migrate(BEFORE)
        OldKey = old.get_model("audit", "SigningKey")
        rows = [
            ("EdDSA", "retired", retired_at, None, until),
            ("EdDSA", "revoked", retired_at, revoked_at, None),
            ("EdDSA", "active", None, None, None),
            ("ES256", "revoked", None, revoked_at, None),
        ]
        for number, (algorithm, status, retired, revoked, publish) in enumerate(rows):
            OldKey.objects.create(
                kid=f"kid-{number}",
                algorithm=algorithm,
                status=status,
                public_jwk={"kty": "OKP"},
                encrypted_private_key=b"x",
                retired_at=retired,
                revoked_at=revoked,
                publish_until=publish,
            )

        migrate(leaves, grant=True)

        keys = {key.kid: key for key in SigningKey.objects.all()}
        assert [
            (
                keys[f"kid-{n}"].generation,
                keys[f"kid-{n}"].status,
                keys[f"kid-{n}"].retired_at,
                keys[f"kid-{n}"].revoked_at,
                keys[f"kid-{n}"].publish_until,
            )
            for n in range(len(rows))
        ] == [
            (1, "retired", retired_at, None, until),
            (2, "revoked", retired_at, revoked_at, None),
            (3, "active", None, None, None),
            (1, "revoked", None, revoked_at, None),
        ]
        assert set(SigningKeyEvent.objects.values_list("reason", flat=True)) == {"migrated"}
        assert selectors.signing_key_active("EdDSA").kid == "kid-2"
        assert selectors.signing_key_revocations() == {
            keys["kid-1"].pk: revoked_at,
            keys["kid-3"].pk: revoked_at,
        }
    finally:
        migrate(leaves, grant=True)
