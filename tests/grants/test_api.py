"""The services' API over HTTP: authentication, introspection, the consent check, revocations."""

import datetime
import json
from urllib.parse import urlencode

import jwt
import pytest
from django.core.cache import cache
from django.utils import timezone

from audit.models import PendingEntry
from consent import selectors as consent_selectors
from consent import services as consent_services
from consent.models import DataAccess, DataAccessBatch
from grants import services
from grants.models import Grant

from .conftest import basic, issue, make_resident

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def introspect(client, caller, token, *, multipart=False, **extra):
    """POST ``token`` as RFC 7662 asks (a urlencoded form), or as a multipart form."""
    if multipart:  # answered by the DRF view rather than grants.api.introspect_directly
        return client.post(
            "/api/v1/introspect", {"token": token}, HTTP_AUTHORIZATION=caller.auth, **extra
        )
    return introspect_form(client, caller, urlencode({"token": token}), **extra)


def introspect_form(client, caller, body: str, **extra):
    """POST ``body``, already urlencoded, to the introspection endpoint."""
    return client.post(
        "/api/v1/introspect",
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=caller.auth,
        **extra,
    )


def check(client, caller, jti, body):
    return client.post(
        f"/api/v1/grants/{jti}/check",
        json.dumps(body) if not isinstance(body, str) else body,
        content_type="application/json",
        HTTP_AUTHORIZATION=caller.auth,
    )


# --- Authentication --------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer abc", "Basic !!!", basic("svc_nobody", "x")])
def test_missing_or_bad_credentials_get_401_json(client, grant, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.post("/api/v1/introspect", {"token": grant.token}, **extra)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Basic")


def test_wrong_secret_gets_401(client, service_a, grant):
    response = client.post(
        "/api/v1/introspect",
        {"token": grant.token},
        HTTP_AUTHORIZATION=basic(service_a.credential.client_id, "wrong"),
    )
    assert response.status_code == 401


def test_failed_authentication_is_rate_limited_per_client(client, service_a, grant, settings):
    settings.GRANTS_AUTH_FAILURE_LIMIT = 3
    bad = basic(service_a.credential.client_id, "wrong")

    def fail(address):
        return client.post(
            "/api/v1/introspect",
            {"token": grant.token},
            HTTP_AUTHORIZATION=bad,
            REMOTE_ADDR=address,
        )

    for i in range(3):
        assert fail(f"10.0.0.{i}").status_code == 401
    # Further failures for that client id wait, from any address...
    response = fail("10.0.0.50")
    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited"
    # ...but whoever knows only the client id cannot lock its service out.
    for multipart in (False, True):
        response = introspect(
            client, service_a, grant.token, REMOTE_ADDR="10.0.0.99", multipart=multipart
        )
        assert response.status_code == 200
        assert response.json()["active"] is True


def test_failed_authentication_is_rate_limited_per_address(client, service_b, grant, settings):
    settings.GRANTS_AUTH_FAILURE_LIMIT = 3

    def guess(i, address):
        return client.post(
            "/api/v1/introspect",
            {"token": grant.token},
            HTTP_AUTHORIZATION=basic(f"svc_guess{i}", "x"),
            REMOTE_ADDR=address,
        )

    for i in range(3):
        assert guess(i, "10.1.1.1").status_code == 401
    assert guess(9, "10.1.1.1").status_code == 429  # a new client id, the same address
    assert guess(9, "10.1.1.2").status_code == 401  # another address
    no_secret = client.post(
        "/api/v1/introspect",
        {"token": grant.token},
        HTTP_AUTHORIZATION="Basic bm9jb2xvbg==",  # "nocolon"
        REMOTE_ADDR="10.1.1.1",
    )
    assert no_secret.status_code == 429
    assert introspect(client, service_b, grant.token, REMOTE_ADDR="10.1.1.1").status_code == 200


def test_rotation_keeps_the_old_secret_for_the_overlap_only(client, service_a, grant):
    new, new_secret = services.credential_issue(
        actor=None, service=service_a.service, overlap=datetime.timedelta(hours=1)
    )
    assert introspect(client, service_a, grant.token).status_code == 200  # old, in overlap
    service_a.credential.refresh_from_db()
    service_a.credential.expires_at = timezone.now() - datetime.timedelta(seconds=1)
    service_a.credential.save()
    assert introspect(client, service_a, grant.token).status_code == 401
    response = client.post(
        "/api/v1/introspect",
        {"token": grant.token},
        HTTP_AUTHORIZATION=basic(new.client_id, new_secret),
    )
    assert response.status_code == 200
    assert PendingEntry.objects.filter(action="credential.issued").count() == 2


def test_revoked_credential_is_refused_at_once(client, service_a, grant):
    services.credential_revoke(actor=None, credential=service_a.credential)
    assert introspect(client, service_a, grant.token).status_code == 401
    assert PendingEntry.objects.filter(action="credential.revoked").count() == 1


def test_secret_is_stored_hashed(service_a):
    service_a.credential.refresh_from_db()
    assert service_a.secret not in service_a.credential.secret_sha256
    assert len(service_a.credential.secret_sha256) == 64


# --- Introspection ---------------------------------------------------------------------------


def test_introspection_of_a_valid_grant(client, service_a, grant, purpose, city_a):
    response = introspect(client, service_a, grant.token)
    assert response.status_code == 200
    body = response.json()
    assert body["active"] is True
    assert body["jti"] == grant.jti
    assert body["sub"] == f"service:{service_a.service.pk}"
    assert body["client_id"] == body["sub"]
    assert body["aud"] == [f"organization:{city_a.pk}"]
    assert body["iss"] == "http://127.0.0.1:8000/consortia/aizu"
    assert body["purpose"] == purpose.pk
    assert body["scope"] == "checkup steps"
    assert body["ticket"] == grant.ticket_id
    assert body["conditions"] == ["aggregate before publication"]
    assert {"exp", "iat", "nbf"} <= body.keys()
    assert response["Cache-Control"] == "no-store"


def test_the_data_holder_named_in_aud_may_introspect(client, holder, grant):
    assert introspect(client, holder, grant.token).json()["active"] is True


def test_another_service_gets_inactive(client, service_b, grant):
    # Neither the grant's subject nor a data holder it names: wrong audience for the caller.
    assert introspect(client, service_b, grant.token).json() == {"active": False}


def _forge(grant, **changes):
    header = jwt.get_unverified_header(grant.token)
    claims = jwt.decode(grant.token, options={"verify_signature": False})
    claims.update(changes)
    return header, claims


def test_tampered_payload_is_inactive(client, service_a, grant):
    head, payload, signature = grant.token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["exp"] += 10 * 365 * 86400
    forged_payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    forged = f"{head}.{forged_payload}.{signature}"
    assert introspect(client, service_a, forged).json() == {"active": False}


def test_token_signed_by_another_key_with_the_same_kid_is_inactive(client, service_a, grant):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    header, claims = _forge(grant)
    forged = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers=header)
    assert introspect(client, service_a, forged).json() == {"active": False}


def test_alg_none_is_inactive(client, service_a, grant):
    header, claims = _forge(grant)
    forged = jwt.encode(claims, None, algorithm="none", headers={"kid": header["kid"]})
    assert introspect(client, service_a, forged).json() == {"active": False}


def test_alg_hs256_with_the_public_key_as_secret_is_inactive(client, service_a, grant):
    # Algorithm confusion: the public key bytes used as an HMAC secret.
    from audit.models import SigningKey

    header, claims = _forge(grant)
    public = SigningKey.objects.get(kid=header["kid"]).public_jwk["x"].encode()
    forged = jwt.encode(claims, public, algorithm="HS256", headers={"kid": header["kid"]})
    assert introspect(client, service_a, forged).json() == {"active": False}


def test_unknown_kid_is_inactive(client, service_a, grant):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    _, claims = _forge(grant)
    forged = jwt.encode(
        claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "nobody"}
    )
    assert introspect(client, service_a, forged).json() == {"active": False}


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "x" * 9000])
def test_malformed_tokens(client, service_a, db, token):
    response = introspect(client, service_a, token)
    if token and len(token) <= 8192:
        assert response.json() == {"active": False}
    else:
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "x" * 9000])
def test_malformed_tokens_in_a_multipart_form(client, service_a, db, token):
    response = introspect(client, service_a, token, multipart=True)
    if token and len(token) <= 8192:
        assert response.json() == {"active": False}
    else:
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


def test_both_form_encodings_get_the_same_answers(client, service_a, service_b, holder, grant):
    for caller in (service_a, service_b, holder):
        urlencoded = introspect(client, caller, grant.token)
        multipart = introspect(client, caller, grant.token, multipart=True)
        assert urlencoded.status_code == multipart.status_code == 200
        assert urlencoded.json() == multipart.json()
        assert urlencoded["Cache-Control"] == multipart["Cache-Control"] == "no-store"
        assert urlencoded["Content-Type"] == multipart["Content-Type"] == "application/json"
    assert introspect(client, service_b, grant.token).json() == {"active": False}


def test_a_deactivated_service_is_refused(client, service_a, grant):
    service_a.service.is_active = False
    service_a.service.save()
    for multipart in (False, True):
        response = introspect(client, service_a, grant.token, multipart=multipart)
        assert response.status_code == 401
        assert response.json()["error"] == "unauthenticated"


def test_claims_of_the_wrong_type_are_inactive_not_an_error(client, service_a, grant):
    from audit.services import sign_jwt

    _, claims = _forge(grant)
    for name, value in (("exp", "tomorrow"), ("nbf", [1]), ("jti", 7), ("sub", None)):
        token = sign_jwt({**claims, name: value}, typ="grant+jwt")
        assert introspect(client, service_a, token).json() == {"active": False}, name


def test_get_is_refused_with_405(client, service_a):
    response = client.get("/api/v1/introspect", HTTP_AUTHORIZATION=service_a.auth)
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_expired_and_not_yet_valid_grants_are_inactive(client, service_a, ticket):
    now = timezone.now()
    future = issue(
        service_a,
        ticket,
        not_before=now + datetime.timedelta(days=1),
        expires_at=now + datetime.timedelta(days=2),
    )
    assert introspect(client, service_a, future.token).json() == {"active": False}
    short = issue(service_a, ticket, expires_at=now + datetime.timedelta(seconds=2))
    assert introspect(client, service_a, short.token).json()["active"] is True
    from grants import selectors

    later = now + datetime.timedelta(seconds=5)
    assert selectors.token_verify(short.token, caller=service_a.service, at=later).reason == (
        "expired"
    )


def test_suspended_then_reinstated_then_revoked(client, service_a, grant):
    services.grant_suspend(actor=None, grant=grant)
    assert introspect(client, service_a, grant.token).json() == {"active": False}
    services.grant_reinstate(actor=None, grant=grant)
    assert introspect(client, service_a, grant.token).json()["active"] is True
    services.grant_revoke(actor=None, grant=grant, reason=Grant.Reason.SECRETARIAT)
    assert introspect(client, service_a, grant.token).json() == {"active": False}
    actions = list(
        PendingEntry.objects.filter(action__startswith="grant.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["grant.issued", "grant.suspended", "grant.reinstated", "grant.revoked"]


def test_revoked_grant_cannot_be_reinstated(grant):
    from django.core.exceptions import ValidationError

    services.grant_revoke(actor=None, grant=grant, reason=Grant.Reason.TICKET_CLOSED)
    with pytest.raises(ValidationError):
        services.grant_reinstate(actor=None, grant=grant)
    with pytest.raises(ValidationError):
        services.grant_revoke(actor=None, grant=grant, reason="because")


# --- The consent check -----------------------------------------------------------------------


def test_check_answers_per_resident_and_records_accesses(
    client, service_a, grant, agreeing, consortium_a, purpose
):
    stranger = make_resident("s@example.jp", consortium_a)
    ids = [r.pseudonymous_id for r in agreeing] + [stranger.pseudonymous_id, "unknown-id"]
    response = check(client, service_a, grant.jti, {"residents": ids})
    assert response.status_code == 200
    body = response.json()
    assert body["grant_active"] is True
    assert body["allowed"] == 3
    assert body["results"] == {
        **{r.pseudonymous_id: True for r in agreeing},
        stranger.pseudonymous_id: False,
        "unknown-id": False,
    }
    batch = DataAccessBatch.objects.get()  # the call's record, in its transaction
    assert batch.ids() == sorted(r.pseudonymous_id for r in agreeing)
    assert batch.batch_sha256 == body["batch_sha256"]
    entries = PendingEntry.objects.filter(action="data.accessed")
    assert entries.count() == 1  # one per call, not one per resident
    payload = json.loads(entries.get().payload)
    assert payload["batch_sha256"] == body["batch_sha256"]
    assert payload["residents"] == 3
    assert (
        consent_services.data_access_batch_digest(
            grant_jti=grant.jti,
            accessed_at=batch.accessed_at,
            pseudonymous_ids=[r.pseudonymous_id for r in agreeing],
        )
        == body["batch_sha256"]
    )


def test_the_residents_see_the_access_at_once_and_after_the_copy(
    client, service_a, grant, agreeing, consortium_a
):
    stranger = make_resident("s@example.jp", consortium_a)
    ids = [r.pseudonymous_id for r in agreeing] + [stranger.pseudonymous_id]
    check(client, service_a, grant.jti, {"residents": ids})
    assert DataAccess.objects.count() == 0  # not copied yet: read from the batch

    def seen(resident):
        accesses = consent_selectors.data_accesses(resident)
        exported = consent_selectors.resident_export(resident)["data_accesses"]
        assert [a["grant_jti"] for a in exported] == [a.grant_jti for a in accesses]
        return [(a.service_name, a.grant_jti, a.purpose_id) for a in accesses]

    expected = [(service_a.service.name, grant.jti, grant.purpose_id)]
    assert seen(agreeing[0]) == expected
    assert seen(stranger) == []
    assert consent_services.data_access_expand() == 1
    assert consent_services.data_access_expand() == 0  # copied once
    assert DataAccess.objects.count() == 3
    assert DataAccessBatch.objects.get().expanded_at is not None
    assert seen(agreeing[0]) == expected  # the copy, not twice
    assert seen(stranger) == []


def test_the_copy_is_queued_when_the_call_commits(
    client, service_a, grant, agreeing, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        check(client, service_a, grant.jti, {"residents": [r.pseudonymous_id for r in agreeing]})
    assert DataAccess.objects.count() == 3  # the task ran (synchronously in the tests)
    assert DataAccessBatch.objects.get().expanded_at is not None


def test_withdrawal_takes_effect_on_the_next_call(client, service_a, grant, agreeing, purpose):
    pid = agreeing[0].pseudonymous_id
    assert check(client, service_a, grant.jti, {"residents": [pid]}).json()["results"][pid]
    consent_services.consent_withdraw(actor=None, resident=agreeing[0], purpose=purpose)
    assert check(client, service_a, grant.jti, {"residents": [pid]}).json()["results"] == {
        pid: False
    }


def test_check_under_a_suspended_grant_allows_nobody(client, service_a, grant, agreeing):
    services.grant_suspend(actor=None, grant=grant)
    ids = [r.pseudonymous_id for r in agreeing]
    body = check(client, service_a, grant.jti, {"residents": ids}).json()
    assert body["grant_active"] is False
    assert not any(body["results"].values())
    assert DataAccess.objects.count() == DataAccessBatch.objects.count() == 0


def test_another_services_grant_is_404(client, service_b, grant, agreeing):
    response = check(client, service_b, grant.jti, {"residents": [agreeing[0].pseudonymous_id]})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    unknown = check(client, service_b, "no-such-jti", {"residents": ["x"]})
    assert unknown.status_code == 404
    assert unknown.json() == response.json()  # missing and forbidden alike
    assert DataAccess.objects.count() == DataAccessBatch.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[]",
        {"residents": "abc"},
        {"residents": []},
        {"residents": [1, 2]},
        {"residents": ["x" * 200]},
        {"people": ["x"]},
        "null",
    ],
)
def test_check_refuses_bad_input_with_json_4xx(client, service_a, grant, body):
    response = check(client, service_a, grant.jti, body)
    assert 400 <= response.status_code < 500
    assert response.json()["error"] in {"malformed_request", "invalid_request"}
    assert DataAccess.objects.count() == DataAccessBatch.objects.count() == 0


def test_check_refuses_more_than_10000_residents(client, service_a, grant):
    response = check(client, service_a, grant.jti, {"residents": ["a"] * 10_001})
    assert response.status_code == 400
    assert response.json()["error"] == "too_many_residents"


def test_check_needs_credentials(client, grant):
    response = client.post(
        f"/api/v1/grants/{grant.jti}/check", {"residents": ["a"]}, content_type="application/json"
    )
    assert response.status_code == 401


def test_accesses_show_on_the_residents_portal_page(client, service_a, grant, agreeing):
    check(client, service_a, grant.jti, {"residents": [agreeing[0].pseudonymous_id]})
    client.force_login(agreeing[0].user)
    page = client.get("/portal/accesses/").content.decode()
    assert "Aizu mobility planner" in page
    assert "会津モビリティ株式会社" in page
    client.force_login(agreeing[1].user)
    other = client.get("/portal/accesses/").content.decode()
    assert "Aizu mobility planner" not in other


# --- Revocations -----------------------------------------------------------------------------


def test_revocation_feed_with_cursor(client, service_a, service_b, grant):
    feed = client.get("/api/v1/revocations", HTTP_AUTHORIZATION=service_a.auth).json()
    assert feed == {"items": [], "next": 0}
    services.grant_suspend(actor=None, grant=grant)
    services.grant_revoke(actor=None, grant=grant, reason=Grant.Reason.TICKET_CLOSED)
    feed = client.get("/api/v1/revocations?since=0", HTTP_AUTHORIZATION=service_a.auth).json()
    assert [(i["jti"], i["status"], i["reason"]) for i in feed["items"]] == [
        (grant.jti, "suspended", "ticket_suspended"),
        (grant.jti, "revoked", "ticket_closed"),
    ]
    after = client.get(
        f"/api/v1/revocations?since={feed['next']}", HTTP_AUTHORIZATION=service_a.auth
    ).json()
    assert after["items"] == [] and after["next"] == feed["next"]
    # Another service hears nothing of these.
    other = client.get("/api/v1/revocations", HTTP_AUTHORIZATION=service_b.auth).json()
    assert other["items"] == []


@pytest.mark.parametrize("since", ["-1", "abc", "1" * 40, "", "1&since=2", "²"])
def test_revocation_feed_refuses_bad_cursor(client, service_a, since):
    response = client.get(f"/api/v1/revocations?since={since}", HTTP_AUTHORIZATION=service_a.auth)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_schema_documents_the_grants_api(client):
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/v1/introspect" in schema["paths"]
    assert "/api/v1/grants/{jti}/check" in schema["paths"]
    assert "401" in schema["paths"]["/api/v1/revocations"]["get"]["responses"]


# --- Bodies and addresses the API does not take ----------------------------------------------
# Found by fuzzing the API from its OpenAPI schema (schemathesis against `make run`): each of
# these answered an HTML page before.


def test_a_form_with_too_many_fields_gets_json_400(client, service_a, grant):
    body = "&".join(f"f{i}=x" for i in range(2_001)) + "&token=" + grant.token
    response = introspect_form(client, service_a, body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "malformed_request"


def test_a_form_over_the_memory_limit_gets_json_413(client, service_a, grant, settings):
    body = urlencode(
        {"token": grant.token, "padding": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}
    )
    response = introspect_form(client, service_a, body)
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


@pytest.mark.parametrize("path", ["/api/v1/grants/{jti}/check", "/api/v1/tickets"])
def test_json_endpoints_refuse_forms_with_415(client, service_a, grant, path):
    response = client.post(
        path.format(jti=grant.jti),
        "residents=a&residents=b",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=service_a.auth,
    )
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
    assert DataAccessBatch.objects.count() == 0
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"][path]["post"]
    assert list(operation["requestBody"]["content"]) == ["application/json"]


@pytest.mark.parametrize(
    "path", ["/api/v1/tickets/null,null", "/api/v1/tickets/abc", "/api/v1/nothing", "/api/v2/"]
)
def test_an_address_the_api_does_not_have_gets_json_404(client, service_a, path):
    for headers in ({"HTTP_AUTHORIZATION": service_a.auth}, {}):
        response = client.get(path, **headers)
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "detail": "Not found."}


def test_the_schema_gives_the_smallest_input_each_endpoint_takes(client):
    schemas = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    residents = schemas["CheckInput"]["properties"]["residents"]
    assert (residents["minItems"], residents["maxItems"]) == (1, 10_000)
    assert residents["items"]["minLength"] == 1
    assert schemas["IntrospectInput"]["properties"]["token"]["minLength"] == 1
    ticket = schemas["TicketInput"]["properties"]
    for name in ("title", "deletion_method", "security_measures"):
        assert ticket[name]["minLength"] == 1, name
    assert schemas["LegalBasisEnum"]["enum"] == ["consent"]
    assert schemas["AnonymisationEnum"]["enum"] == [
        "none",
        "pseudonymised",
        "anonymised",
        "statistical",
    ]
    assert ticket["pia"]["minItems"] == 1
    pia = schemas["PiaRow"]["properties"]
    assert pia["likelihood"] == pia["impact"] == {"$ref": "#/components/schemas/PiaLevelEnum"}
    assert schemas["PiaLevelEnum"]["enum"] == ["low", "medium", "high"]
    revocations = client.get("/api/schema/?format=json").json()["paths"]["/api/v1/revocations"]
    (since,) = revocations["get"]["parameters"]
    assert since["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}


# --- Grants follow their review ticket -------------------------------------------------------


def test_grant_needs_an_approved_ticket_of_the_services_organisation(
    service_a, service_b, file_ticket, ticket
):
    from django.core.exceptions import ValidationError

    draft = file_ticket(title="未審査の申請")
    with pytest.raises(ValidationError, match="approved"):
        issue(service_a, draft)
    with pytest.raises(ValidationError, match="approved"):
        issue(service_b, ticket)  # another organisation's ticket
    with pytest.raises(ValidationError, match="term"):
        issue(service_a, ticket, expires_at=timezone.now() + datetime.timedelta(days=800))
    assert not Grant.objects.exists()


def test_grant_carries_the_tickets_terms(grant, ticket, purpose, city_a):
    claims = jwt.decode(grant.token, options={"verify_signature": False})
    assert claims["ticket"] == ticket.pk
    assert claims["purpose"] == purpose.pk
    assert claims["aud"] == [f"organization:{city_a.pk}"]  # the purpose's controller
    assert claims["conditions"] == ["aggregate before publication"]
    assert claims["data_categories"] == ["checkup", "steps"]


def test_ticket_suspension_resumption_and_closure_reach_the_grant(
    client, service_a, grant, ticket, clerk_a, django_capture_on_commit_callbacks
):
    from review import services as review_services

    with django_capture_on_commit_callbacks(execute=True):
        review_services.ticket_suspend(actor=clerk_a, ticket=ticket)
    grant.refresh_from_db()
    assert grant.status == Grant.Status.SUSPENDED
    assert introspect(client, service_a, grant.token).json() == {"active": False}
    with django_capture_on_commit_callbacks(execute=True):
        review_services.ticket_resume(actor=clerk_a, ticket=ticket)
    grant.refresh_from_db()
    assert grant.status == Grant.Status.ACTIVE
    with django_capture_on_commit_callbacks(execute=True):
        review_services.ticket_close(actor=clerk_a, ticket=ticket)
    grant.refresh_from_db()
    assert (grant.status, grant.status_reason) == ("revoked", "ticket_closed")


def test_the_residents_export_lists_the_accesses(client, service_a, grant, agreeing):
    pid = agreeing[0].pseudonymous_id
    digest = check(client, service_a, grant.jti, {"residents": [pid]}).json()["batch_sha256"]
    client.force_login(agreeing[0].user)
    response = client.get("/portal/export/")
    assert response.status_code == 200
    accesses = json.loads(response.content)["data_accesses"]
    assert [(a["service"], a["grant_jti"], a["batch_sha256"]) for a in accesses] == [
        ("Aizu mobility planner", grant.jti, digest)
    ]
