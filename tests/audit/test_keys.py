import datetime

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.utils import timezone

from audit import keys, notes, selectors, services, tree
from audit.models import Checkpoint, Entry, SigningKey, SigningKeyEvent

from .helpers import as_insider, build_chain, verify_json

pytestmark = pytest.mark.django_db


def test_the_jwks_publishes_active_and_retired_keys_but_not_revoked_ones(client):
    first = services.signing_key_create(actor=None)
    second = services.signing_key_create(actor=None)  # rotation: first is retired
    es256 = services.signing_key_create(actor=None, algorithm="ES256")
    services.signing_key_revoke(actor=None, key=es256)

    response = client.get("/.well-known/jwks.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/jwk-set+json"
    assert "max-age" in response["Cache-Control"]
    published = {key["kid"]: key for key in response.json()["keys"]}
    assert set(published) == {first.kid, second.kid}
    assert published[second.kid] == {
        "kty": "OKP", "crv": "Ed25519", "x": second.public_jwk["x"],
        "use": "sig", "alg": "EdDSA", "kid": second.kid,
    }  # fmt: skip
    assert "d" not in published[first.kid]
    services.seal()
    assert list(Entry.objects.values_list("action", flat=True).order_by("seq")) == [
        "key.created", "key.rotated", "key.created", "key.revoked",
    ]  # fmt: skip


def test_a_token_signed_by_the_platform_verifies_with_pyjwt_against_the_jwks(client):
    token = services.sign_jwt({"sub": "demo", "purpose": 7}, typ="test+jwt")

    header = jwt.get_unverified_header(token)
    jwk_set = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json())
    key = next(k for k in jwk_set.keys if k.key_id == header["kid"])
    claims = jwt.decode(token, key=key.key, algorithms=["EdDSA"])

    assert header["typ"] == "test+jwt"
    assert claims == {"sub": "demo", "purpose": 7}


def test_es256_keys_sign_tokens_that_verify_too(client):
    token = services.sign_jwt({"sub": "demo"}, typ="test+jwt", algorithm="ES256")

    jwk_set = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json())
    key = next(k for k in jwk_set.keys if k.key_id == jwt.get_unverified_header(token)["kid"])

    assert jwt.decode(token, key=key.key, algorithms=["ES256"]) == {"sub": "demo"}


def test_rs256_keys_sign_tokens_that_verify_too(client):
    # The RSA key is loaded without OpenSSL's key check (AES-GCM authenticated it): what it
    # signs must still verify against the published key, token after token.
    tokens = services.sign_jwt_many([{"sub": "a"}, {"sub": "b"}], typ="test+jwt", algorithm="RS256")

    jwk_set = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json())
    key = next(k for k in jwk_set.keys if k.key_id == jwt.get_unverified_header(tokens[0])["kid"])

    assert [jwt.decode(t, key=key.key, algorithms=["RS256"]) for t in tokens] == [
        {"sub": "a"},
        {"sub": "b"},
    ]


def test_private_keys_are_encrypted_at_rest_and_bound_to_their_key_id(settings):
    key = services.signing_key_create(actor=None)
    stored = bytes(SigningKey.objects.get(pk=key.pk).encrypted_private_key)
    raw = key.private_key().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )

    assert raw not in stored
    with pytest.raises(Exception):  # noqa: B017 - any failure to decrypt is the point
        keys.decrypt_private_key(stored, "another-kid")
    settings.SIGNING_KEY_SECRET = "another secret"
    with pytest.raises(Exception):  # noqa: B017
        keys.decrypt_private_key(stored, key.kid)


def test_a_revoked_key_signs_nothing():
    key = services.signing_key_create(actor=None)
    services.signing_key_revoke(actor=None, key=key)
    key.refresh_from_db()

    with pytest.raises(ValueError):
        key.private_key()


def test_the_key_id_is_the_rfc7638_thumbprint():
    # RFC 8037 appendix A.3: the thumbprint of the example Ed25519 key.
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert keys.thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_a_keys_status_and_times_come_from_its_events():
    first = services.signing_key_create(actor=None)
    second = services.signing_key_create(actor=None)
    services.signing_key_set_publish_until(actor=None, key=first, until=None)
    services.signing_key_revoke(actor=None, key=first)

    first.refresh_from_db()
    assert first.status == SigningKey.Status.REVOKED
    assert first.retired_at is not None and first.revoked_at >= first.retired_at
    assert selectors.signing_key_active("EdDSA") == second
    assert [(e.kind, e.reason) for e in SigningKeyEvent.objects.filter(key=first)] == [
        ("retired", "rotated"),
        ("publication", "signatures_expire"),
        ("revoked", "compromised"),
    ]
    assert not SigningKeyEvent.objects.filter(key=second).exists()
    # Revoking twice changes nothing and records nothing more.
    services.signing_key_revoke(actor=None, key=first)
    assert SigningKeyEvent.objects.filter(key=first, kind="revoked").count() == 1
    with pytest.raises(ValueError):
        services.signing_key_revoke(actor=None, key=second, reason="I lost it at the station")


def test_the_newest_publication_end_counts(client):
    old = services.signing_key_create(actor=None)
    services.signing_key_create(actor=None)
    later = timezone.now() + datetime.timedelta(days=30)
    services.signing_key_set_publish_until(actor=None, key=old, until=later)
    assert old.kid in {key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]}

    services.signing_key_set_publish_until(
        actor=None, key=old, until=timezone.now() - datetime.timedelta(seconds=1)
    )

    assert SigningKey.objects.get(pk=old.pk).publish_until < timezone.now()
    assert old.kid not in {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}


def test_a_checkpoint_signed_by_a_revoked_key_after_its_revocation_is_rejected():
    build_chain(2)
    services.checkpoint_create()
    key = selectors.signing_key_active("EdDSA")
    stolen = key.private_key()
    services.signing_key_revoke(actor=None, key=key)
    services.signing_key_create(actor=None)
    build_chain(1)
    assert verify_json()[0] == 0  # its checkpoint from before the revocation still holds

    size = tree.size()
    head = notes.TreeHead(origin=settings.AUDIT_LOG_ORIGIN, size=size, root=tree.root(size))
    with as_insider():
        Checkpoint.objects.create(
            seq=size,
            hash=Entry.objects.get(seq=size).hash,
            root=head.root.hex(),
            time=timezone.now(),
            key=key,
            note=notes.sign_checkpoint(head, stolen),
        )

    code, verdict = verify_json()
    assert code == 1
    assert "revoked_key" in {problem["kind"] for problem in verdict["problems"]}
