#!/usr/bin/env python3
"""
A member service's client for the platform's grants API: copy it and adapt it.

Needs only the Python standard library and PyJWT with cryptography (``pip install
pyjwt[crypto]``). It shows the four things a service does:

1. verify a grant offline against the platform's JWKS (no call per request);
2. introspect a grant (RFC 7662) when it must know the grant is not suspended or revoked now;
3. check, before releasing data, which residents' consent covers the grant's purpose;
4. follow revocations with a cursor, to drop cached grants.

    python examples/service_client.py --url http://127.0.0.1:8000 \\
        --client-id svc_... --client-secret ... --grant eyJ... --residents ID1 ID2
"""

import argparse
import base64
import binascii
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import jwt

COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", re.ASCII)


def is_compact_jws(token: str) -> bool:
    """
    Return True if ``token`` is a compact JWS in the one spelling of its bytes: three base64url
    segments without padding that re-encode to themselves. PyJWT also accepts "=" appended and
    other last characters; a cache or deny-list keyed on the string would miss those spellings.
    """
    if not COMPACT_JWS.fullmatch(token):
        return False
    for segment in token.split("."):
        try:
            raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        except (binascii.Error, ValueError):
            return False
        if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != segment:
            return False
    return True


class GrantsClient:
    def __init__(self, base_url: str, client_id: str, client_secret: str):
        self.base_url = base_url.rstrip("/")
        # RFC 6749 §2.3.1: form-urlencode both parts, then HTTP Basic.
        pair = f"{urllib.parse.quote(client_id)}:{urllib.parse.quote(client_secret)}"
        self.authorization = "Basic " + base64.b64encode(pair.encode()).decode()
        self._jwks: dict | None = None
        self._jwks_at = 0.0

    # --- HTTP ---------------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, form=None, body=None, auth=True) -> dict:
        headers = {"Accept": "application/json"}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = self.authorization
        request = urllib.request.Request(
            self.base_url + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            # Every API error is JSON: {"error": "<stable code>", "detail": "..."}.
            problem = json.load(error)
            raise RuntimeError(f"{error.code} {problem['error']}: {problem['detail']}") from None

    # --- 1. Offline verification --------------------------------------------------------------

    def jwks(self, *, max_age: float = 300) -> dict:
        """The platform's public keys, cached for ``max_age`` seconds (its Cache-Control)."""
        if self._jwks is None or time.monotonic() - self._jwks_at > max_age:
            self._jwks = self._call("GET", "/.well-known/jwks.json", auth=False)
            self._jwks_at = time.monotonic()
        return self._jwks

    def verify_offline(self, token: str, *, audience: str | None = None) -> dict:
        """
        Return the grant's claims if its signature, validity window and audience hold.
        The algorithm is the key's (from the JWKS), never the token's own ``alg``. Key what you
        cache on the returned ``jti``, not on the token string: an ES256 signature has a twin
        ``(r, n - s)`` that verifies too (the platform's introspection refuses it).
        """
        if not is_compact_jws(token):
            raise jwt.DecodeError("not a compact JWS in its one spelling")
        kid = jwt.get_unverified_header(token).get("kid")
        jwk = next((k for k in self.jwks()["keys"] if k["kid"] == kid), None)
        if jwk is None:  # a key made since the last fetch, or one withdrawn
            jwk = next((k for k in self.jwks(max_age=0)["keys"] if k["kid"] == kid), None)
        if jwk is None:
            raise jwt.InvalidTokenError(f"no published key {kid!r}")
        options = {"require": ["exp", "nbf", "iat", "jti", "sub", "iss"]}
        if audience is None:
            options["verify_aud"] = False
        return jwt.decode(
            token,
            key=jwt.PyJWK.from_dict(jwk),
            algorithms=[jwk["alg"]],
            audience=audience,
            options=options,
            leeway=30,
        )

    # --- 2. Introspection ---------------------------------------------------------------------

    def introspect(self, token: str) -> dict:
        """RFC 7662: {"active": false} for anything not valid right now for this caller."""
        return self._call("POST", "/api/v1/introspect", form={"token": token})

    # --- 3. The consent check -----------------------------------------------------------------

    def allowed_residents(self, jti: str, residents: list[str]) -> set[str]:
        """Return the residents whose data may flow now under grant ``jti`` (10,000 a call)."""
        allowed: set[str] = set()
        for start in range(0, len(residents), 10_000):
            answer = self._call(
                "POST",
                f"/api/v1/grants/{urllib.parse.quote(jti)}/check",
                body={"residents": residents[start : start + 10_000]},
            )
            allowed.update(pid for pid, ok in answer["results"].items() if ok)
        return allowed

    # --- 4. Revocations -----------------------------------------------------------------------

    def revocations(self, since: int = 0):
        """Yield (cursor, jti, status, reason) of every status change after ``since``."""
        while True:
            page = self._call("GET", f"/api/v1/revocations?since={since}")
            for item in page["items"]:
                yield item["cursor"], item["jti"], item["status"], item["reason"]
            if not page["items"]:
                return
            since = page["next"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--grant", required=True, help="the grant (JWT) the platform issued")
    parser.add_argument("--residents", nargs="*", default=[], help="pseudonymous ids")
    args = parser.parse_args()

    client = GrantsClient(args.url, args.client_id, args.client_secret)
    try:
        claims = client.verify_offline(args.grant)
    except jwt.PyJWTError as error:
        print(f"offline verification failed: {error}")
        return 1
    print("offline:", json.dumps(claims, ensure_ascii=False))
    print("introspection:", json.dumps(client.introspect(args.grant), ensure_ascii=False))
    if args.residents:
        allowed = client.allowed_residents(claims["jti"], args.residents)
        for pid in args.residents:
            print(f"{pid}: {'may flow' if pid in allowed else 'no'}")
    for cursor, jti, status, reason in client.revocations():
        print(f"revocation #{cursor}: {jti} {status} ({reason})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
