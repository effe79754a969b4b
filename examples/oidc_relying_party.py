#!/usr/bin/env python3
"""
A member service that signs residents in with their city account: copy it and adapt it.

Uses a maintained OpenID Connect client library, Authlib (``pip install authlib requests``),
with its JOSE library joserfc for the ID token and the Security Event Tokens. It shows what a
service does:

1. send the resident to the platform's authorization page (authorization code flow, PKCE S256,
   ``state`` and ``nonce``), asking for its purposes as ``purpose:<code>`` scopes;
2. on the callback, exchange the code and verify the ID token against the platform's JWKS
   (RS256, ``iss``, ``aud``, ``nonce``, ``exp``); ``sub`` is this service's own id for the
   resident, and ``purposes`` the purposes the resident agrees to;
3. before using the resident's data, check consent under its grant with that id;
4. poll for withdrawals (RFC 8936), verify each event, delete what it holds about that
   resident, acknowledge and confirm the deletion.

    python examples/oidc_relying_party.py --url http://127.0.0.1:8000 --port 8700 \\
        --client-id ... --client-secret ... --api-client-id svc_... --api-secret ... \\
        --grant JTI --purpose walking-points

Then open http://127.0.0.1:8700/ (register http://127.0.0.1:8700/callback as the client's
redirect URI in the admin; http only with the platform's DEBUG).
"""

import argparse
import secrets
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

CONSENT_WITHDRAWN = "/secevent/consent-withdrawn"


class RelyingParty:
    def __init__(self, url, client_id, client_secret, redirect_uri, api_client_id, api_secret):
        self.url = url.rstrip("/")
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_uri = redirect_uri
        self.api_auth = (api_client_id, api_secret)
        self.metadata = requests.get(
            f"{self.url}/.well-known/openid-configuration", timeout=10
        ).json()
        # What this service holds about its residents, by its own id for them.
        self.held: dict[str, dict] = {}

    def endpoint(self, name: str) -> str:
        """The metadata's endpoint, on the URL this service reaches the platform at."""
        return self.url + urlsplit(self.metadata[name]).path

    def keys(self) -> KeySet:
        return KeySet.import_key_set(requests.get(self.endpoint("jwks_uri"), timeout=10).json())

    def session(self, scope: str = "openid") -> OAuth2Session:
        return OAuth2Session(
            self.client_id,
            self.client_secret,
            scope=scope,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
        )

    def login_url(self, scope: str) -> tuple[str, dict]:
        """Return the authorization URL and what to keep until the callback (a cookie)."""
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        url, state = self.session(scope).create_authorization_url(
            self.endpoint("authorization_endpoint"), code_verifier=verifier, nonce=nonce
        )
        return url, {"state": state, "verifier": verifier, "nonce": nonce, "scope": scope}

    def finish(self, callback_url: str, kept: dict) -> dict:
        """Exchange the code and return the ID token's verified claims."""
        session = self.session(kept["scope"])
        session.state = kept["state"]
        token = session.fetch_token(
            self.endpoint("token_endpoint"),
            authorization_response=callback_url,
            code_verifier=kept["verifier"],
            state=kept["state"],
        )
        id_token = jwt.decode(token["id_token"], self.keys(), algorithms=["RS256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self.metadata["issuer"]},
            aud={"essential": True, "value": self.client_id},
            nonce={"essential": True, "value": kept["nonce"]},
            exp={"essential": True},
        ).validate(id_token.claims)
        claims = dict(id_token.claims)
        self.held.setdefault(claims["sub"], {"purposes": claims.get("purposes", [])})
        return claims

    def allowed(self, grant_jti: str, subjects: list[str]) -> set[str]:
        """Return the residents (by this service's ids) whose data may be used now."""
        answer = requests.post(
            f"{self.url}/api/v1/grants/{grant_jti}/check",
            json={"residents": subjects},
            auth=self.api_auth,
            timeout=10,
        )
        answer.raise_for_status()
        return {sub for sub, ok in answer.json()["results"].items() if ok}

    def handle_withdrawals(self) -> list[str]:
        """Poll, verify, delete, confirm and acknowledge; return the ids whose data was deleted."""
        keys, deleted, acks = self.keys(), [], []
        while True:
            answer = requests.post(
                f"{self.url}/api/v1/events/poll",
                json={"ack": acks, "returnImmediately": True},
                auth=self.api_auth,
                timeout=10,
            ).json()
            acks = []
            for jti, token in answer["sets"].items():
                event = jwt.decode(token, keys, algorithms=["EdDSA", "ES256"])
                claims = event.claims
                if event.header.get("typ") != "secevent+jwt" or claims["jti"] != jti:
                    continue
                if any(uri.endswith(CONSENT_WITHDRAWN) for uri in claims["events"]):
                    subject = claims["sub_id"]["id"]
                    self.held.pop(subject, None)
                    requests.post(
                        f"{self.url}/api/v1/events/{jti}/confirm",
                        json={"outcome": "deleted"},
                        auth=self.api_auth,
                        timeout=10,
                    ).raise_for_status()
                    deleted.append(subject)
                acks.append(jti)
            if not acks:  # the last poll acknowledged what came before and brought nothing new
                return deleted


def serve(rp: RelyingParty, port: int, scope: str, grant: str) -> None:
    pending: dict[str, dict] = {}

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path == "/":
                url, kept = rp.login_url(scope)
                pending[kept["state"]] = kept
                self.send_response(302)
                self.send_header("Location", url)
                self.end_headers()
                return
            if self.path.startswith("/callback"):
                state = dict(p.split("=", 1) for p in urlsplit(self.path).query.split("&"))
                kept = pending.pop(state.get("state", ""), None)
                if kept is None:
                    self.send_error(400, "unknown state")
                    return
                claims = rp.finish(f"http://127.0.0.1:{port}{self.path}", kept)
                ok = claims["sub"] in rp.allowed(grant, [claims["sub"]]) if grant else None
                body = f"signed in as {claims['sub']}; data may be used: {ok}".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_error(404)

    HTTPServer(("127.0.0.1", port), Pages).serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--api-client-id", required=True)
    parser.add_argument("--api-secret", required=True)
    parser.add_argument("--grant", default="")
    parser.add_argument("--purpose", default="")
    args = parser.parse_args()
    rp = RelyingParty(
        args.url,
        args.client_id,
        args.client_secret,
        f"http://127.0.0.1:{args.port}/callback",
        args.api_client_id,
        args.api_secret,
    )
    scope = "openid" + (f" purpose:{args.purpose}" if args.purpose else "")
    serve(rp, args.port, scope, args.grant)


if __name__ == "__main__":
    main()
