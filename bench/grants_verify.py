"""
Benchmark: offline verification of a grant, as a service does it (PyJWT against the JWKS key,
claims checked), beside raw Ed25519 verification of the same signature (cryptography alone).

    .venv/bin/python bench/grants_verify.py [--seconds 3]

Needs no database: the grant is signed here with a fresh Ed25519 key in the platform's format.
Aim: at least 0.7 of the raw rate.
"""

import argparse
import base64
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def rate(function, seconds: float) -> float:
    """Calls per second of ``function`` over about ``seconds`` (after a warm-up)."""
    for _ in range(200):
        function()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(500):
            function()
        count += 500
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()

    private = Ed25519PrivateKey.generate()
    public = private.public_key()
    raw_public = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw_public), "kid": "k1", "alg": "EdDSA"}
    now = int(time.time())
    claims = {
        "iss": "http://127.0.0.1:8000/consortia/aizu-wakamatsu",
        "sub": "service:1",
        "aud": ["organization:1"],
        "iat": now,
        "nbf": now,
        "exp": now + 86400,
        "jti": str(uuid.uuid4()),
        "purpose": 2,
        "purpose_code": "on-demand-mobility",
        "data_categories": ["location", "trips"],
        "ticket": 1,
        "conditions": ["集計単位は50人以上とする", "第三者への再提供を禁止する"],
    }
    token = jwt.encode(
        claims, private, algorithm="EdDSA", headers={"kid": "k1", "typ": "grant+jwt"}
    )
    signing_input, _, signature = token.rpartition(".")
    signature_bytes = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    message = signing_input.encode()

    key = jwt.PyJWK.from_dict(jwk)  # parsed once, as a client caching the JWKS does

    def offline():
        jwt.decode(
            token,
            key=key,
            algorithms=["EdDSA"],
            audience="organization:1",
            options={"require": ["exp", "nbf", "iat", "jti", "sub", "iss"]},
        )

    def raw():
        public.verify(signature_bytes, message)

    raw_rate = rate(raw, args.seconds)
    offline_rate = rate(offline, args.seconds)
    print(f"token: {len(token)} bytes, PyJWT {jwt.__version__}")
    print(f"baseline: raw Ed25519 verification       {raw_rate:10,.0f} /s")
    print(f"offline grant verification (PyJWT+claims) {offline_rate:10,.0f} /s")
    print(f"ratio: {offline_rate / raw_rate:.2f} (aim >= 0.70)")


if __name__ == "__main__":
    main()
