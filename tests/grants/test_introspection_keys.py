"""Introspection with the process's key cache: a revoked key stops verifying at once."""

import pytest
from django.core.cache import cache

from audit import services as audit_services
from audit.models import SigningKey
from grants import selectors
from grants.models import Grant

from .test_api import introspect

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def test_a_revoked_key_stops_verifying_at_once(client, service_a, grant):
    assert introspect(client, service_a, grant.token).json()["active"] is True  # key now cached
    key = SigningKey.objects.get(kid=grant.kid)
    audit_services.signing_key_revoke(actor=None, key=key)
    grant.refresh_from_db()
    assert grant.status == Grant.Status.ACTIVE  # only the key changed
    assert introspect(client, service_a, grant.token).json() == {"active": False}
    assert selectors.token_verify(grant.token, caller=service_a.service).reason == "unknown_kid"


def test_a_revoked_keys_forgeries_are_refused_as_unknown(client, service_a, grant):
    introspect(client, service_a, grant.token)
    audit_services.signing_key_revoke(actor=None, key=SigningKey.objects.get(kid=grant.kid))
    head, payload, signature = grant.token.split(".")
    tampered = f"{head}.{payload}.{signature[:-4]}AAAA"
    assert selectors.token_verify(tampered, caller=service_a.service).reason == "unknown_kid"


def test_a_valid_introspection_asks_the_database_once(
    client, service_a, grant, django_assert_num_queries
):
    introspect(client, service_a, grant.token)  # the key is read once per process
    with django_assert_num_queries(1):  # the credential, its service, the grant, its key
        assert introspect(client, service_a, grant.token).json()["active"] is True


def test_a_connection_dropped_by_the_server_is_replaced(
    postgres_only, transactional_db, client, service_a, grant
):
    """The introspection query skips Django's per-request ping; a dead connection is retried."""
    import psycopg
    from django.conf import settings
    from django.db import connection

    assert introspect(client, service_a, grant.token).json()["active"] is True
    pid = connection.connection.info.backend_pid
    params = settings.DATABASES["default"]
    with psycopg.connect(
        host=params["HOST"], port=params["PORT"] or 5432, user=params["USER"],
        dbname=connection.settings_dict["NAME"], autocommit=True,
    ) as other:  # fmt: skip
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    response = introspect(client, service_a, grant.token)
    assert response.status_code == 200
    assert response.json()["active"] is True
    assert connection.connection.info.backend_pid != pid
