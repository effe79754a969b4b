import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from audit import keys, services
from audit.models import Entry, SigningKey

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
