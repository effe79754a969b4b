"""
The API against its own OpenAPI schema: schemathesis generates requests from the schema, valid
ones and invalid ones, sends them to the live test server as a service would, and checks every
answer (never a 5xx; only the documented statuses, media types and bodies; what the schema
accepts is accepted, what it refuses is refused).

The seed is fixed (Hypothesis' ``derandomize``) and the examples per operation are bounded, so a
run is the same every time and takes seconds; FUZZ_EXAMPLES raises the bound for a longer search.
"""

import os

import jsonschema_rs
import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import positive_data_acceptance

from config.ids import ID_MAX

from .test_api import introspect
from .test_tickets_api import post, request_body

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))


@pytest.fixture
def server(request, django_db_setup):
    from django.conf import settings as django_settings

    if django_settings.MEDIA_URL is None:
        django_settings.MEDIA_URL = "/private-media-not-served/"
    return request.getfixturevalue("live_server")


@pytest.fixture
def api_schema(server, service_a):
    config = schemathesis.Config.from_dict(
        {
            # NUL is refused everywhere before any view (tests/grants/test_hostile_input.py): a
            # rule of the whole API that the schema does not repeat on every string.
            "generation": {"allow-x00": False},
            # The service's credentials, for the operations the schema says need them (invalid
            # requests may then leave them out).
            "auth": {
                "openapi": {
                    "clientCredentials": {
                        "username": service_a.credential.client_id,
                        "password": service_a.secret,
                    }
                }
            },
        }
    )
    return schemathesis.openapi.from_url(f"{server.url}/api/schema/?format=json", config=config)


def operations(schema):
    for result in schema.get_all_operations():
        yield result.ok()


def known_references(case, references: dict) -> None:
    """
    Point a valid ticket's ids and codes at things that exist (the schema cannot know which
    do), so that what the server then refuses is a disagreement with the schema, not an unknown
    reference.
    """
    body = case.body
    if case.operation.label != "POST /api/v1/tickets" or not isinstance(body, dict):
        return
    if isinstance(body.get("categories"), list):
        codes = references["categories"]
        body["categories"] = [codes[i % len(codes)] for i in range(len(body["categories"]))]
    if isinstance(body.get("purpose"), int):
        body["purpose"] = references["purpose"]
    if isinstance(body.get("recipients"), list):
        body["recipients"] = [references["recipient"]] * len(body["recipients"])


# Relations between query parameters that OpenAPI 3.0 cannot state: a valid-looking request
# that breaks one is refused with 400 invalid_range, as docs/transparency-log.md says.
RANGES = {
    "GET /api/v1/audit/proofs/consistency": lambda query: query["from"] <= query["to"],
    "GET /api/v1/audit/proofs/inclusion": lambda query: query["index"] < query["size"],
}


def range_refusal(case, response) -> bool:
    """Whether ``response`` is the documented refusal of a request that breaks a relation."""
    holds = RANGES.get(case.operation.label)
    if holds is None or response.status_code != 400:
        return False
    try:
        if holds(case.query or {}):
            return False
    except (KeyError, TypeError):  # an invalid request, which the other checks judge
        return False
    return response.json().get("error") == "invalid_range"


def fuzz(operation, mode, *, base_url: str, references: dict) -> str | None:
    """Run ``operation``'s generated cases; return the shrunk failure's report, or None."""

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        cache.clear()  # no rate limit between examples
        if mode == GenerationMode.POSITIVE:
            known_references(case, references)
        response = case.call(base_url=base_url)
        excluded = [positive_data_acceptance] if range_refusal(case, response) else []
        case.validate_response(response, excluded_checks=excluded)

    try:
        run()
    except FailureGroup as failure:
        return f"{operation.label}: {failure}"
    except Unsatisfiable:
        return None  # nothing of this kind to generate (no invalid form of a request without input)
    return None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_agrees_with_the_schema(
    server, api_schema, service_a, grant, purpose, steps, checkup, mode
):
    references = {
        "categories": [steps.code, checkup.code],
        "purpose": purpose.pk,
        "recipient": service_a.service.organization_id,
    }
    labels, failures = [], []
    for operation in operations(api_schema):
        labels.append(operation.label)
        failure = fuzz(
            operation,
            mode,
            base_url=server.url,
            references=references,
        )
        if failure:
            failures.append(failure)
    assert {
        "POST /api/v1/introspect",
        "POST /api/v1/grants/{jti}/check",
        "GET /api/v1/revocations",
        "POST /api/v1/tickets",
        "GET /api/v1/tickets/{ticket_id}",
        "GET /api/v1/audit/checkpoints/latest",
    } <= set(labels), labels  # and every operation added since
    assert not failures, "\n\n".join(failures)


# --- What the fuzzing found, each as it was found --------------------------------------------


@pytest.fixture
def openapi(client):
    return client.get("/api/schema/?format=json").json()


def accepts(openapi, component: str, value) -> bool:
    """Whether the schema's ``component`` takes ``value`` (OpenAPI 3.0 is JSON Schema here)."""
    schema = {"$ref": f"#/components/schemas/{component}", "components": openapi["components"]}
    return jsonschema_rs.validator_for(schema).is_valid(value)


@pytest.mark.django_db
def test_every_cursor_the_schema_takes_is_taken(client, openapi, service_a):
    (since,) = openapi["paths"]["/api/v1/revocations"]["get"]["parameters"]
    assert since["schema"]["maximum"] == ID_MAX
    auth = {"HTTP_AUTHORIZATION": service_a.auth}

    assert client.get(f"/api/v1/revocations?since={ID_MAX}", **auth).status_code == 200
    for refused in (ID_MAX + 1, 2**64, "1" * 5000):
        response = client.get(f"/api/v1/revocations?since={refused}", **auth)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


@pytest.mark.django_db
@pytest.mark.parametrize("token", [" ", "\t\n"])
def test_a_token_of_white_space_only_is_inactive(client, service_a, token):
    # The schema asks for one character at least; the token is taken as sent, so it is
    # simply not a grant.
    response = introspect(client, service_a, token)

    assert response.status_code == 200
    assert response.json() == {"active": False}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes",
    [
        {"purpose": None, "proposed_purpose_title": ""},  # neither purpose
        {"proposed_purpose_title": "新しい目的"},  # both
        {"anonymisation_details": " \u3000"},  # processing not described
        {"cross_border_transfer": True},  # transfer without its details
        {"cross_border_transfer": True, "cross_border_details": "\x1c"},
        {"deletion_method": "  "},
    ],
)
def test_the_schema_states_the_tickets_requirements_across_fields(
    client, openapi, service_a, purpose, board_a, changes
):
    body = request_body(purpose, changes)
    if body["purpose"] is None:
        del body["purpose"]  # (null is allowed too; JSON Schema here does not read nullable)
    assert accepts(openapi, "TicketInput", request_body(purpose, {"purpose": 1}))

    assert not accepts(openapi, "TicketInput", body)
    response = post(client, service_a, body)
    assert response.status_code == 400, response.json()
    assert response.json()["error"] == "invalid_request"
