"""
The OpenID Provider for member services: discovery, the authorization code flow with PKCE,
ID tokens signed RS256 by the platform's key with a pairwise ``sub``, refresh rotation, and the
refusals OAuth 2.0 and OpenID Connect name for what a client must not do.
"""

import datetime

import jwt
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit import keys
from audit.models import PendingEntry
from consent import pairwise
from consent.models import PairwiseSubject
from grants import services
from grants.models import Grant

from .conftest import issue, make_resident, make_service
from .oidc_helpers import exchange, form_fields, query, register, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def rp(service_a, grant):
    """Service A's OpenID client (service A holds a grant in force)."""
    return register(service_a.service)


@pytest.fixture
def citizen(consortium_a, client):
    resident = make_resident("citizen@example.jp", consortium_a)
    client.force_login(resident.user)
    return resident


def jwks(client) -> jwt.PyJWKSet:
    return jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json())


def verify_id_token(client, token: str, rp) -> dict:
    header = jwt.get_unverified_header(token)
    key = jwks(client)[header["kid"]]
    return jwt.decode(
        token, key.key, algorithms=["RS256"], audience=rp.client_id, issuer="http://127.0.0.1:8000"
    )


def test_discovery_names_the_endpoints_and_what_is_supported(client):
    metadata = client.get("/.well-known/openid-configuration").json()
    assert metadata["issuer"] == "http://127.0.0.1:8000"
    assert metadata["authorization_endpoint"] == "http://127.0.0.1:8000/oidc/authorize"
    assert metadata["token_endpoint"] == "http://127.0.0.1:8000/oidc/token"
    assert metadata["jwks_uri"] == "http://127.0.0.1:8000/.well-known/jwks.json"
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["subject_types_supported"] == ["pairwise"]
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert "implicit" not in metadata["grant_types_supported"]


def test_sign_in_gives_an_rs256_id_token_with_a_pairwise_subject(client, rp, citizen):
    answer = sign_in(client, rp, state="s-42", nonce="n-42")
    assert answer["state"] == "s-42"
    assert answer["iss"] == "http://127.0.0.1:8000"
    tokens = exchange(client, rp, answer["code"])
    assert tokens.status_code == 200, tokens.content
    body = tokens.json()
    assert body["expires_in"] == 300  # short-lived access tokens
    claims = verify_id_token(client, body["id_token"], rp)
    assert claims["nonce"] == "n-42"
    expected = pairwise.subject_for("mobility.example.jp", citizen.pseudonymous_id)
    assert claims["sub"] == expected != citizen.pseudonymous_id
    assert citizen.pseudonymous_id not in body["id_token"]
    # The platform's JWKS publishes the RSA key beside the EdDSA ones.
    kinds = {key["kty"] for key in client.get("/.well-known/jwks.json").json()["keys"]}
    assert {"RSA", "OKP"} <= kinds
    info = client.get("/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert info.status_code == 200
    assert info.json() == {"sub": expected}
    assert PairwiseSubject.objects.get(resident=citizen).subject == expected
    actions = list(PendingEntry.objects.values_list("action", flat=True))
    assert "oidc.authorized" in actions and "oidc.token_issued" in actions


def test_audit_entries_name_neither_the_resident_nor_the_subject_together(client, rp, citizen):
    answer = sign_in(client, rp)
    exchange(client, rp, answer["code"])
    subject = pairwise.subject_for("mobility.example.jp", citizen.pseudonymous_id)
    entries = PendingEntry.objects.filter(action__startswith="oidc.") | PendingEntry.objects.filter(
        action="resident.pairwise_subject_issued"
    )
    assert entries.count() >= 3
    for entry in entries:
        assert subject not in str(entry.payload)
        assert citizen.pseudonymous_id not in str(entry.payload)


@pytest.fixture
def second_rp(consortium_a, requester_a, file_ticket, board_a, clerk_a, rep_a):
    """Another service of company A with its own approved use, client and sector."""
    from .conftest import approve

    other = make_service(consortium_a, requester_a, "Aizu bus timetable")
    ticket = approve(file_ticket(service_name="Aizu bus timetable"), board_a, clerk_a, rep_a)
    issue(other, ticket, expires_at=timezone.now() + datetime.timedelta(days=30))
    return register(
        other.service, sector="bus.example.jp", redirect_uri="https://bus.example.jp/cb"
    )


def test_two_services_get_different_unlinkable_subjects(client, rp, second_rp, citizen):
    subjects = []
    for party in (rp, second_rp):
        body = exchange(client, party, sign_in(client, party)["code"]).json()
        subjects.append(verify_id_token(client, body["id_token"], party)["sub"])
    assert subjects[0] != subjects[1]
    assert citizen.pseudonymous_id not in subjects
    # Keyed: without the platform's secret neither follows from the other or from the id.
    assert subjects[0] == pairwise.subject_for("mobility.example.jp", citizen.pseudonymous_id)
    import hashlib

    unkeyed = hashlib.sha256(b"bus.example.jp\x00" + citizen.pseudonymous_id.encode()).digest()
    assert subjects[1] != jwt.utils.base64url_encode(unkeyed).decode()


def test_a_service_without_an_approved_use_gets_no_sign_in(client, citizen, service_b):
    with pytest.raises(ValidationError):
        register(service_b.service, sector="energy.example.jp")


def test_stable_subject_across_sign_ins(client, rp, citizen):
    subjects = set()
    for _ in range(2):
        answer = sign_in(client, rp)
        body = exchange(client, rp, answer["code"]).json()
        subjects.add(verify_id_token(client, body["id_token"], rp)["sub"])
    assert len(subjects) == 1


def test_refresh_tokens_rotate_and_a_reused_one_is_refused(client, rp, citizen):
    body = exchange(client, rp, sign_in(client, rp)["code"]).json()
    first = body["refresh_token"]
    renewed = client.post(
        "/oidc/token",
        {"grant_type": "refresh_token", "refresh_token": first},
        HTTP_AUTHORIZATION=rp.basic,
    )
    assert renewed.status_code == 200, renewed.content
    assert renewed.json()["refresh_token"] != first
    again = client.post(
        "/oidc/token",
        {"grant_type": "refresh_token", "refresh_token": first},
        HTTP_AUTHORIZATION=rp.basic,
    )
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_client_secret_is_stored_hashed(rp):
    rp.client.application.refresh_from_db()
    assert rp.secret not in rp.client.application.client_secret
    assert rp.client.application.client_secret.startswith("pbkdf2_") or "$" in (
        rp.client.application.client_secret
    )


# --- Refusals ----------------------------------------------------------------------------------


def test_wrong_redirect_uri_is_refused_without_redirecting(client, rp, citizen):
    page = client.get(rp.authorize_url(redirect_uri="https://rp.example.jp/callback/other"))
    assert page.status_code == 400
    assert b"invalid_request" in page.content or b"Mismatching redirect URI" in page.content
    # A prefix or a loopback port trick does not match either.
    for uri in ("https://rp.example.jp/callback?x=1", "https://rp.example.jp/callbac"):
        assert client.get(rp.authorize_url(redirect_uri=uri)).status_code == 400


def test_authorization_without_pkce_is_refused(client, rp, citizen):
    answer = client.get(rp.authorize_url(code_challenge=None, code_challenge_method=None))
    assert answer.status_code == 302
    error = query(answer["Location"])
    assert error["error"] == "invalid_request"
    assert answer["Location"].startswith(rp.redirect_uri)


def test_plain_pkce_method_is_refused(client, rp, citizen):
    page = client.get(rp.authorize_url(code_challenge_method="plain", code_challenge="p" * 43))
    data = {**form_fields(page.content.decode()), "allow": "true"}
    answer = client.post("/oidc/authorize", data)
    assert answer.status_code == 302
    assert query(answer["Location"])["error"] == "invalid_request"
    assert "code" not in query(answer["Location"])


def test_implicit_flow_is_refused(client, rp, citizen):
    for response_type in ("token", "id_token", "id_token token", "code id_token"):
        answer = client.get(rp.authorize_url(response_type=response_type))
        assert answer.status_code in (302, 400)
        if answer.status_code == 302:
            location = answer["Location"]
            assert "error=" in location and "access_token" not in location


def test_unknown_client_is_refused(client, rp, citizen):
    page = client.get(rp.authorize_url(client_id="no-such-client"))
    assert page.status_code == 400
    assert b"invalid_client" in page.content or b"invalid_request" in page.content


def test_wrong_verifier_is_refused(client, rp, citizen):
    code = sign_in(client, rp)["code"]
    answer = exchange(client, rp, code, code_verifier="x" * 50)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_replayed_code_is_refused(client, rp, citizen):
    code = sign_in(client, rp)["code"]
    assert exchange(client, rp, code).status_code == 200
    again = exchange(client, rp, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_another_clients_code_is_refused(client, rp, second_rp, citizen):
    code = sign_in(client, rp)["code"]
    stolen = exchange(client, second_rp, code, redirect_uri=rp.redirect_uri)
    assert stolen.status_code == 400
    assert stolen.json()["error"] == "invalid_grant"
    stolen = exchange(client, second_rp, code)
    assert stolen.json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_refused(client, rp, citizen):
    code = sign_in(client, rp)["code"]
    rp.secret = "wrong"
    answer = exchange(client, rp, code)
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_id_token_aud_is_the_client(client, rp, citizen):
    body = exchange(client, rp, sign_in(client, rp)["code"]).json()
    header = jwt.get_unverified_header(body["id_token"])
    key = jwks(client)[header["kid"]]
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(body["id_token"], key.key, algorithms=["RS256"], audience="another-client")


def test_access_token_of_a_revoked_client_gets_no_userinfo(client, rp, citizen):
    body = exchange(client, rp, sign_in(client, rp)["code"]).json()
    services.openid_client_secret_rotate(actor=None, client=rp.client)
    info = client.get("/oidc/userinfo", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert info.status_code == 401
    assert body["access_token"]


def test_a_staff_account_cannot_sign_in_to_a_service(client, rp, clerk_a):
    client.force_login(clerk_a)
    page = client.get(rp.authorize_url())
    assert page.status_code == 403


def test_signed_out_resident_is_sent_to_the_portal_sign_in(client, rp):
    page = client.get(rp.authorize_url())
    assert page.status_code == 302
    assert page["Location"].startswith("/portal/signin/?next=")


# --- Registration -----------------------------------------------------------------------------


def test_only_a_service_with_an_approved_use_may_have_a_client(service_b):
    with pytest.raises(ValidationError) as caught:
        register(service_b.service)
    assert "service" in caught.value.message_dict


def test_a_client_stops_when_its_services_grants_end(client, rp, citizen, grant):
    services.grant_revoke(actor=None, grant=grant, reason=Grant.Reason.SECRETARIAT)
    page = client.get(rp.authorize_url())
    assert page.status_code == 400


def test_redirect_uris_are_checked_at_registration(service_a, grant):
    for bad in ("rp.example.jp/callback", "https://rp.example.jp/cb#frag", "ftp://x.jp/cb"):
        with pytest.raises(ValidationError):
            services.openid_client_register(
                actor=None,
                service=service_a.service,
                redirect_uris=[bad],
                sector_identifier="mobility.example.jp",
            )


def test_rs256_key_rotation_keeps_recent_id_tokens_verifiable(client, rp, citizen):
    body = exchange(client, rp, sign_in(client, rp)["code"]).json()
    old_kid = jwt.get_unverified_header(body["id_token"])["kid"]
    services.signing_key_rotate(actor=None, algorithm=keys.RS256)
    kids = {key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]}
    assert old_kid in kids
    body = exchange(client, rp, sign_in(client, rp)["code"]).json()
    assert jwt.get_unverified_header(body["id_token"])["kid"] != old_kid
