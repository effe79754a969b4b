"""
The soak test's load: a city's mix of users at set rates (Locust, headless).

    SOAK_FIXTURE=fixture.json SOAK_LOG=requests.jsonl SOAK_MIX='{"resident": [4, 0.3], ...}' \\
        locust -f bench/soak/locustfile.py --headless --host http://127.0.0.1:8390 ...

Each kind of user is a class with ``fixed_count`` users, each running its task at a constant
throughput (``SOAK_MIX``: kind -> [users, tasks per second per user]). Every request is written
to ``SOAK_LOG`` (one JSON object per line: kind, start, duration, status, error) and so is every
write the client saw committed (``"fact"`` lines: a consent decision, a vote, an access batch,
a report), which ``invariants`` then looks for in the database.

The clients stand behind a reverse proxy as the platform is deployed: ``X-Forwarded-Proto:
https`` and ``X-Forwarded-For`` (one address per user) from the proxy the platform trusts, so
that Secure cookies, CSRF's origin check and the per-address sign-in limits work as in
production.
"""

import base64
import hashlib
import html
import http.cookiejar
import itertools
import json
import os
import random
import re
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

from locust import HttpUser, constant_throughput, events, task

FIXTURE = json.loads(open(os.environ["SOAK_FIXTURE"]).read())  # noqa: SIM115
LOG = open(os.environ["SOAK_LOG"], "a", buffering=1)  # noqa: SIM115 - lives with the process
DEFAULT_MIX = {
    "resident": [4, 0.3],
    "service": [2, 0.5],
    "board": [3, 0.1],
    "secretariat": [1, 1 / 30],
    "oidc": [2, 0.1],
}
MIX = {**DEFAULT_MIX, **json.loads(os.environ.get("SOAK_MIX", "{}"))}
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
VOTE_RECORDED = ("Your vote is recorded.", "投票を記録しました。")
ALREADY_VOTED = ("You have already voted in this round.", "このラウンドではすでに投票しています。")
REPORT_QUEUED = re.compile(r"(?:is queued \(report no\. |作成を受け付けました（報告書 No\.)(\d+)")
_addresses = itertools.count(1)
_residents = itertools.count()
_oidc_residents = itertools.count()
_board = itertools.count()
# Tickets whose three votes the clients saw committed (approved by the board's rule).
decided_tickets: list[int] = []


def write(line: dict) -> None:
    LOG.write(json.dumps(line, separators=(",", ":")) + "\n")


def fact(kind: str, **data) -> None:
    """Note a write the client saw committed."""
    write({"fact": kind, "t": time.time(), **data})


@events.request.add_listener
def log_request(request_type, name, response_time, response, exception, start_time=None, **_kw):
    status = getattr(response, "status_code", 0) or 0
    write(
        {
            "k": name,
            "t": start_time or time.time() - response_time / 1000,
            "ms": round(response_time, 1),
            "s": status,
            "e": type(exception).__name__ if exception else "",
        }
    )


def _secure_cookies_over_loopback(policy, cookie, request) -> bool:
    return True


# TLS ends at the proxy the clients stand in for: send the Secure cookies over loopback too.
# On the class, since requests copies each session's jar (and its policy) for every request.
http.cookiejar.DefaultCookiePolicy.return_ok_secure = _secure_cookies_over_loopback


class CityUser(HttpUser):
    abstract = True
    language = "en"

    def on_start(self):
        number = next(_addresses)
        self.client.headers.update(
            {
                "X-Forwarded-Proto": "https",
                "X-Forwarded-For": f"10.77.{number // 250}.{number % 250 + 1}",
                "Origin": "https://" + urlsplit(self.host).netloc,
                "Accept-Language": self.language,
            }
        )

    def csrf(self) -> str:
        return self.client.cookies.get("csrftoken", "")

    def post_form(self, path: str, data: dict, name: str):
        return self.client.post(
            path,
            data={**data, "csrfmiddlewaretoken": self.csrf()},
            headers={"Referer": "https://" + urlsplit(self.host).netloc + path},
            allow_redirects=False,
            name=name,
        )

    def expect(self, response, *statuses) -> bool:
        """Mark ``response`` failed unless its status is one of ``statuses``."""
        ok = response.status_code in statuses
        if not ok:
            response.failure(f"status {response.status_code}")
        else:
            response.success()
        return ok


def rate(kind: str):
    return constant_throughput(MIX[kind][1])


# --- Residents: sign in, look at the portal, agree or decline -------------------------------------


class Resident(CityUser):
    fixed_count = MIX["resident"][0]
    wait_time = rate("resident")
    language = "ja"
    decisions_per_sign_in = 8

    def on_start(self):
        super().on_start()
        residents = FIXTURE["residents"]
        self.me = residents[next(_residents) % len(residents)]
        self.signed_in = False
        self.decisions = 0

    def sign_in(self) -> None:
        self.client.get("/portal/signin/", name="portal.signin_page")
        with self.client.post(
            "/portal/signin/",
            data={
                "email": self.me["email"],
                "password": FIXTURE["password"],
                "csrfmiddlewaretoken": self.csrf(),
            },
            allow_redirects=False,
            name="portal.signin",
            catch_response=True,
        ) as response:
            self.signed_in = self.expect(response, 302)

    @task
    def decide(self):
        if not self.signed_in or self.decisions >= self.decisions_per_sign_in:
            if self.signed_in:
                self.post_form("/portal/signout/", {}, "portal.signout")
            self.decisions = 0
            self.sign_in()
            return
        with self.client.get(
            "/portal/", name="portal.page", allow_redirects=False, catch_response=True
        ) as page:
            if not self.expect(page, 200):
                self.signed_in = page.status_code != 302
                return
        # Half the decisions on the purpose the service holds a grant for: its checks then
        # release data, and withdrawals send notices to it.
        purpose = random.choice(FIXTURE["purposes"])
        if random.random() < 0.5:
            purpose = FIXTURE["oidc"]["purpose_id"]
        given = random.random() < 0.6
        path = f"/portal/purposes/{purpose}/{'agree' if given else 'decline'}/"
        with self.client.post(
            path,
            data={"csrfmiddlewaretoken": self.csrf()},
            allow_redirects=False,
            name="portal.decide",
            catch_response=True,
        ) as response:
            if self.expect(response, 302):
                self.decisions += 1
                if response.headers.get("Location", "").endswith("#messages"):
                    fact(
                        "consent",
                        resident=self.me["id"],
                        purpose=purpose,
                        decision="given" if given else "withdrawn",
                    )


# --- Services: introspection, and the consent check with batches of residents --------------------


class Service(CityUser):
    fixed_count = MIX["service"][0]
    wait_time = rate("service")
    batch = 50

    def on_start(self):
        super().on_start()
        service = FIXTURE["service"]
        pair = f"{service['client_id']}:{service['client_secret']}"
        self.client.headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        # The residents as the service knows them: the pairwise ids its OpenID client received
        # (those who signed in at it), and others' ids, which it cannot use (``unknown``).
        self.known = [resident["sub"] for resident in FIXTURE["oidc_residents"]]
        self.others = [resident["sub"] for resident in FIXTURE["residents"]]

    @task(2)
    def introspect(self):
        with self.client.post(
            "/api/v1/introspect",
            data={"token": FIXTURE["service"]["grant_token"]},
            name="api.introspect",
            catch_response=True,
        ) as response:
            if self.expect(response, 200) and not response.json().get("active"):
                response.failure("grant not active")

    @task(1)
    def check(self):
        others = random.sample(self.others, min(self.batch, len(self.others)))
        sample = (self.known + others)[: self.batch]
        with self.client.post(
            f"/api/v1/grants/{FIXTURE['service']['grant_jti']}/check",
            json={"residents": sample},
            name="api.check",
            catch_response=True,
        ) as response:
            if self.expect(response, 200):
                batch = response.json().get("batch_sha256")
                if batch:
                    fact("access_batch", sha256=batch)


# --- The board: each expert votes on the tickets in review, in order ------------------------------


class BoardMember(CityUser):
    fixed_count = MIX["board"][0]
    wait_time = rate("board")

    def on_start(self):
        super().on_start()
        board = FIXTURE["board"]
        self.username = board[next(_board) % len(board)]
        self.tickets = list(FIXTURE["tickets"])
        self.signed_in = False

    def sign_in(self) -> None:
        self.client.get("/review/signin/", name="review.signin_page")
        with self.client.post(
            "/review/signin/",
            data={
                "username": self.username,
                "password": FIXTURE["staff_password"],
                "csrfmiddlewaretoken": self.csrf(),
            },
            allow_redirects=False,
            name="review.signin",
            catch_response=True,
        ) as response:
            self.signed_in = self.expect(response, 302)

    @task
    def vote(self):
        if not self.signed_in:
            self.sign_in()
            return
        if not self.tickets:
            return
        ticket = self.tickets[0]
        with self.client.post(
            f"/review/{ticket}/vote/",
            data={"choice": "approve", "reason": "", "csrfmiddlewaretoken": self.csrf()},
            allow_redirects=False,
            name="review.vote",
            catch_response=True,
        ) as response:
            if not self.expect(response, 302):
                return
            if "/signin/" in response.headers.get("Location", ""):
                self.signed_in = False
                return
        with self.client.get(
            f"/review/{ticket}/", name="review.ticket", catch_response=True
        ) as page:
            if not self.expect(page, 200):
                return
            if any(text in page.text for text in VOTE_RECORDED):
                fact("vote", ticket=ticket, reviewer=self.username)
                self.tickets.pop(0)
                if "/decision/" in page.text:
                    decided_tickets.append(ticket)
            elif any(text in page.text for text in ALREADY_VOTED):
                self.tickets.pop(0)  # its commit was not seen (a fault); not counted


# --- The secretariat: decision letters (PDF reports built by the task clusters) ------------------


class Secretariat(BoardMember):
    fixed_count = MIX["secretariat"][0]
    wait_time = rate("secretariat")

    def on_start(self):
        CityUser.on_start(self)
        self.username = FIXTURE["secretariat"]
        self.signed_in = False
        self.languages = itertools.cycle(["ja", "en"])

    @task
    def vote(self):  # the secretariat does not vote: it asks for letters
        self.request_letter()

    def request_letter(self):
        if not self.signed_in:
            self.sign_in()
            return
        ticket = random.choice(decided_tickets[-5:] or [FIXTURE["demo_ticket"]])
        with self.client.post(
            f"/review/{ticket}/letter/",
            data={"language": next(self.languages), "csrfmiddlewaretoken": self.csrf()},
            allow_redirects=False,
            name="report.request",
            catch_response=True,
        ) as response:
            if not self.expect(response, 302):
                return
        with self.client.get("/review/reports/", name="report.list", catch_response=True) as page:
            if self.expect(page, 200):
                queued = REPORT_QUEUED.search(page.text)
                if queued:
                    fact("report", report=int(queued.group(1)))


# --- Sign-in at a service through the platform's OpenID Provider ---------------------------------


class OpenIDSignIn(CityUser):
    fixed_count = MIX["oidc"][0]
    wait_time = rate("oidc")
    language = "ja"

    def on_start(self):
        super().on_start()
        residents = FIXTURE["oidc_residents"]
        self.me = residents[next(_oidc_residents) % len(residents)]
        self.oidc = FIXTURE["oidc"]
        self.signed_in = False

    def sign_in(self) -> None:
        self.client.get("/portal/signin/", name="portal.signin_page")
        with self.client.post(
            "/portal/signin/",
            data={
                "email": self.me["email"],
                "password": FIXTURE["password"],
                "csrfmiddlewaretoken": self.csrf(),
            },
            allow_redirects=False,
            name="portal.signin",
            catch_response=True,
        ) as response:
            self.signed_in = self.expect(response, 302)

    @task
    def sign_in_at_service(self):
        if not self.signed_in:
            self.sign_in()
            return
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.oidc["client_id"],
                "redirect_uri": self.oidc["redirect_uri"],
                "scope": f"openid purpose:{self.oidc['purpose_code']}",
                "state": secrets.token_hex(8),
                "nonce": secrets.token_hex(8),
                "code_challenge": challenge.rstrip(b"=").decode(),
                "code_challenge_method": "S256",
            }
        )
        with self.client.get(
            "/oidc/authorize?" + query,
            allow_redirects=False,
            name="oidc.authorize",
            catch_response=True,
        ) as answer:
            if not self.expect(answer, 200, 302):
                return
        if answer.status_code == 200:  # the consent page, on the first sign-in
            fields = {name: html.unescape(value) for name, value in HIDDEN.findall(answer.text)}
            fields.update({"allow": "true", f"purpose-{self.oidc['purpose_id']}": "agree"})
            with self.client.post(
                "/oidc/authorize",
                data=fields,
                allow_redirects=False,
                name="oidc.consent",
                catch_response=True,
            ) as answer:
                if not self.expect(answer, 302):
                    return
                fact(
                    "consent",
                    resident=self.me["id"],
                    purpose=self.oidc["purpose_id"],
                    decision="given",
                )
        location = answer.headers.get("Location", "")
        code = parse_qs(urlsplit(location).query).get("code", [""])[0]
        if not code:
            self.signed_in = "/signin/" not in location
            return
        basic = f"{self.oidc['client_id']}:{self.oidc['client_secret']}"
        with self.client.post(
            "/oidc/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.oidc["redirect_uri"],
                "code_verifier": verifier,
            },
            headers={"Authorization": "Basic " + base64.b64encode(basic.encode()).decode()},
            name="oidc.token",
            catch_response=True,
        ) as tokens:
            if not self.expect(tokens, 200):
                return
            access = tokens.json()["access_token"]
        with self.client.get(
            "/oidc/userinfo",
            headers={"Authorization": f"Bearer {access}"},
            name="oidc.userinfo",
            catch_response=True,
        ) as info:
            self.expect(info, 200)
        if random.random() < 0.3:
            # Later, in the portal, the resident withdraws: the service, which received their
            # data, is sent a withdrawal notice; the next sign-in asks again.
            purpose = self.oidc["purpose_id"]
            with self.client.post(
                f"/portal/purposes/{purpose}/decline/",
                data={"csrfmiddlewaretoken": self.csrf()},
                allow_redirects=False,
                name="portal.decide",
                catch_response=True,
            ) as response:
                if self.expect(response, 302) and response.headers.get("Location", "").endswith(
                    "#messages"
                ):
                    fact("consent", resident=self.me["id"], purpose=purpose, decision="withdrawn")
