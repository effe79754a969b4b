"""
Key material for the platform's signing keys: generation, JWK form, encryption at rest.

Private keys are stored encrypted with AES-256-GCM under a key derived (HKDF-SHA256) from
``settings.SIGNING_KEY_SECRET``; the key id is bound to the ciphertext as associated data, so a
ciphertext copied onto another key row does not decrypt.
"""

import base64
import hashlib
import json
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

EDDSA = "EdDSA"
ES256 = "ES256"
# OpenID Connect Discovery §3 requires RS256 for ID tokens; the platform's own statements
# (checkpoints, receipts, grants) keep EdDSA or ES256.
RS256 = "RS256"
ALGORITHMS = (EDDSA, ES256, RS256)
RSA_KEY_BITS = 2048

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate(algorithm: str) -> PrivateKey:
    """Return a new private key for ``algorithm`` (``EdDSA``: Ed25519; ``ES256``: P-256)."""
    if algorithm == EDDSA:
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == ES256:
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == RS256:
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    raise ValueError(f"unsupported algorithm {algorithm!r}")


def public_jwk(public_key: PublicKey) -> dict:
    """Return the public key as a JWK's key members (RFC 8037 for OKP, RFC 7518 for EC, RSA)."""
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}
    if isinstance(public_key, rsa.RSAPublicKey):
        numbers = public_key.public_numbers()
        return {"e": b64url(_unsigned(numbers.e)), "kty": "RSA", "n": b64url(_unsigned(numbers.n))}
    numbers = public_key.public_numbers()
    return {
        "crv": "P-256",
        "kty": "EC",
        "x": b64url(numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.y.to_bytes(32, "big")),
    }


def _unsigned(number: int) -> bytes:
    """Return ``number`` big-endian in as few octets as it needs (RFC 7518 §6.3.1)."""
    return number.to_bytes((number.bit_length() + 7) // 8 or 1, "big")


# The members RFC 7638 §3.2 hashes for each key type, in lexicographic order.
THUMBPRINT_MEMBERS = {
    "OKP": ("crv", "kty", "x"),
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
}


def thumbprint(jwk: dict) -> str:
    """Return the RFC 7638 JWK thumbprint, used as the key id."""
    required = THUMBPRINT_MEMBERS[jwk["kty"]]
    text = json.dumps({k: jwk[k] for k in required}, sort_keys=True, separators=(",", ":"))
    return b64url(hashlib.sha256(text.encode()).digest())


def public_key_from_jwk(jwk: dict) -> PublicKey:
    if jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519":
        return ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    if jwk["kty"] == "EC" and jwk["crv"] == "P-256":
        numbers = ec.EllipticCurvePublicNumbers(
            int.from_bytes(b64url_decode(jwk["x"]), "big"),
            int.from_bytes(b64url_decode(jwk["y"]), "big"),
            ec.SECP256R1(),
        )
        return numbers.public_key()
    if jwk["kty"] == "RSA":
        numbers = rsa.RSAPublicNumbers(
            int.from_bytes(b64url_decode(jwk["e"]), "big"),
            int.from_bytes(b64url_decode(jwk["n"]), "big"),
        )
        return numbers.public_key()
    raise ValueError("unsupported JWK")


def _wrapping_key() -> AESGCM:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"audit.signing-key.at-rest.v1"
    ).derive(settings.SIGNING_KEY_SECRET.encode())
    return AESGCM(derived)


def encrypt_private_key(private_key: PrivateKey, kid: str) -> bytes:
    der = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    nonce = os.urandom(12)
    return nonce + _wrapping_key().encrypt(nonce, der, kid.encode())


def decrypt_private_key(blob: bytes, kid: str) -> PrivateKey:
    blob = bytes(blob)
    der = _wrapping_key().decrypt(blob[:12], blob[12:], kid.encode())
    # The platform generated the key and AES-GCM has just authenticated it (with its kid), so
    # OpenSSL's RSA key check, which costs tens of milliseconds on every RS256 ID token signed,
    # would find nothing new.
    return serialization.load_der_private_key(
        der, password=None, unsafe_skip_rsa_key_validation=True
    )
