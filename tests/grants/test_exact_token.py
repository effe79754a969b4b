"""
One string for one grant: introspection answers active only for the exact compact form the
platform issued, so that a cache or deny-list keyed on the token string cannot be sidestepped by
another spelling of the same signature.
"""

import base64
import datetime

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from django.core.cache import cache
from django.utils import timezone

from audit import keys
from grants import selectors

from .conftest import issue
from .test_api import introspect

pytestmark = pytest.mark.django_db

# The order of P-256's group (FIPS 186-4 D.1.2.3).
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    selectors._VERIFIED.clear()
    yield
    cache.clear()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _other_last_character(segment: str) -> str:
    """The same bytes with the unused low bits of the last base64url character set."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    unused_bits = {2: 4, 3: 2}[len(segment) % 4]
    last = alphabet.index(segment[-1])
    assert last % (1 << unused_bits) == 0
    return segment[:-1] + alphabet[last + 1]


def _pyjwt_accepts(grant, token) -> bool:
    algorithm, public_key = selectors._verifier(grant.kid)
    try:
        jwt.decode(token, public_key, algorithms=[algorithm], options={"verify_aud": False})
    except jwt.PyJWTError:
        return False
    return True


@pytest.fixture
def es256_grant(service_a, ticket):
    return issue(
        service_a,
        ticket,
        expires_at=timezone.now() + datetime.timedelta(days=90),
        algorithm=keys.ES256,
    )


def variants(token: str) -> dict[str, str]:
    head, payload, signature = token.split(".")
    return {
        "padding appended": token + "==",
        "one padding character": token + "=",
        "signature's unused bits set": f"{head}.{payload}.{_other_last_character(signature)}",
        "white space around": f" {token}\n",
    }


@pytest.mark.parametrize("multipart", [False, True])
def test_only_the_issued_string_is_active(client, service_a, grant, multipart):
    assert introspect(client, service_a, grant.token, multipart=multipart).json()["active"]

    for name, variant in variants(grant.token).items():
        answer = introspect(client, service_a, variant, multipart=multipart).json()
        assert answer == {"active": False}, name


def test_pyjwt_alone_accepts_appended_padding(grant):
    # Why the platform compares strings: the library a service verifies with offline takes it.
    assert _pyjwt_accepts(grant, grant.token + "==")


def test_another_valid_es256_signature_of_the_same_grant_is_inactive(
    client, service_a, es256_grant
):
    # ECDSA signatures are malleable: (r, n - s) verifies wherever (r, s) does.
    head, payload, signature = es256_grant.token.split(".")
    raw = base64.urlsafe_b64decode(signature + "==")
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    assert decode_dss_signature(encode_dss_signature(r, s)) == (r, s)
    twin = f"{head}.{payload}.{_b64(r.to_bytes(32, 'big') + (P256_ORDER - s).to_bytes(32, 'big'))}"
    assert _pyjwt_accepts(es256_grant, twin)

    assert introspect(client, service_a, es256_grant.token).json()["active"]
    assert introspect(client, service_a, twin).json() == {"active": False}
    assert introspect(client, service_a, twin, multipart=True).json() == {"active": False}


def test_the_verdict_names_the_refusal(service_a, grant):
    verdict = selectors.token_verify(grant.token + "==", caller=service_a.service)

    assert not verdict.active
    assert verdict.reason == "malformed"


def test_a_twin_signature_is_refused_as_not_issued(service_a, es256_grant):
    head, payload, signature = es256_grant.token.split(".")
    raw = base64.urlsafe_b64decode(signature + "==")
    s = int.from_bytes(raw[32:], "big")
    twin = f"{head}.{payload}.{_b64(raw[:32] + (P256_ORDER - s).to_bytes(32, 'big'))}"

    verdict = selectors.token_verify(twin, caller=service_a.service)

    assert (verdict.active, verdict.reason) == (False, "not_issued")
