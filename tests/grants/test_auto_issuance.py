"""The secretariat's rule that issues a grant when the board approves a review ticket."""

import datetime
import json
from unittest import mock

import jwt
import pytest
from django.db import OperationalError
from django.utils import timezone

from audit.models import PendingEntry
from grants import services
from grants.models import AutoIssuance, Grant, IssuanceRule
from review import services as review_services
from review.models import ReviewTicket

from .conftest import approve
from .test_api import introspect

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client, settings):
    """The admin in English (the platform's default language is Japanese)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def rule_a(consortium_a, clerk_a):
    return services.issuance_rule_set(actor=clerk_a, consortium=consortium_a, enabled=True)


@pytest.fixture
def approve_now(board_a, clerk_a, rep_a, django_capture_on_commit_callbacks):
    """Approve a draft ticket and run what waits for the commit, as a real request would."""

    def run(ticket):
        with django_capture_on_commit_callbacks(execute=True):
            return approve(ticket, board_a, clerk_a, rep_a)

    return run


def payload(entry) -> dict:
    return json.loads(entry.payload)


def test_an_approval_issues_the_grant_to_the_service_the_request_names(
    client, rule_a, service_a, file_ticket, approve_now
):
    ticket = approve_now(file_ticket())
    grant = Grant.objects.get()
    assert (grant.service, grant.ticket_id, grant.status) == (
        service_a.service,
        ticket.pk,
        "active",
    )
    assert grant.algorithm == "EdDSA"
    # Until the end of the approval's term, in the consortium's time zone.
    last_day = timezone.localtime(grant.expires_at - datetime.timedelta(seconds=1)).date()
    assert last_day == ticket.valid_until
    result = AutoIssuance.objects.get()
    assert (result.outcome, result.reason, result.grant, result.ticket_id) == (
        "issued",
        "",
        grant,
        ticket.pk,
    )
    entry = PendingEntry.objects.get(action="grant.issued")
    assert (entry.actor_type, entry.actor_id) == ("system", f"grants.issuancerule:{rule_a.pk}")
    assert payload(entry)["ticket"] == ticket.pk
    # The service can use it at once.
    assert introspect(client, service_a, grant.token).json()["active"] is True


@pytest.mark.parametrize("rule", ["none", "off"])
def test_without_an_enabled_rule_nothing_is_issued(
    rule, consortium_a, clerk_a, service_a, file_ticket, approve_now
):
    if rule == "off":
        services.issuance_rule_set(actor=clerk_a, consortium=consortium_a, enabled=False)
    ticket = approve_now(file_ticket())
    assert ticket.state == "approved"
    assert not Grant.objects.exists()
    assert not AutoIssuance.objects.exists()
    assert not PendingEntry.objects.filter(action__startswith="grant.auto_issue").exists()


def test_another_consortiums_rule_has_no_effect(
    consortium_b, clerk_b, service_a, file_ticket, approve_now
):
    services.issuance_rule_set(actor=clerk_b, consortium=consortium_b, enabled=True)
    approve_now(file_ticket())
    assert not Grant.objects.exists()
    assert not AutoIssuance.objects.exists()


def test_a_missing_service_issues_nothing_and_says_why(
    client, clerk_a, rule_a, service_a, file_ticket, approve_now
):
    ticket = approve_now(file_ticket(service_name="Unregistered service"))
    assert ticket.state == "approved"
    assert not Grant.objects.exists()
    result = AutoIssuance.objects.get()
    assert (result.outcome, result.reason, result.grant) == ("skipped", "no_service", None)
    entry = PendingEntry.objects.get(action="grant.auto_issue_skipped")
    assert payload(entry) == {"ticket": ticket.pk, "reason": "no_service", "result": result.pk}
    assert entry.actor_type == "system"
    # The secretariat reads why in the admin.
    client.force_login(clerk_a)
    page = client.get("/admin/grants/autoissuance/").content.decode()
    assert "No service of the requesting organisation is registered" in page


def test_the_secretariat_issues_a_skipped_grant_from_its_row(
    client, clerk_a, clerk_b, rule_a, service_a, file_ticket, approve_now
):
    """
    Once the cause is mended (here: the service reactivated), the clerk follows the row's link
    to the issue form, which comes with the ticket and its service chosen; the row then shows
    the grant instead of the link.
    """
    service = service_a.service
    services.service_update(
        actor=None, service=service, name=service.name, webhook_url="", is_active=False
    )
    ticket = approve_now(file_ticket())
    assert AutoIssuance.objects.get().reason == "service_inactive"
    services.service_update(
        actor=None, service=service, name=service.name, webhook_url="", is_active=True
    )

    client.force_login(clerk_a)
    link = f"/admin/grants/grant/issue/?ticket={ticket.pk}"
    listing = client.get("/admin/grants/autoissuance/").content.decode()
    assert f'href="{link}"' in listing and "Issue the grant" in listing
    form = client.get(link).content.decode()
    assert f'<option value="{ticket.pk}" selected>' in form
    assert f'<option value="{service.pk}" selected>' in form
    response = client.post(
        "/admin/grants/grant/issue/", {"ticket": ticket.pk, "service": service.pk}
    )
    assert response.status_code == 302
    grant = Grant.objects.get()
    assert (grant.ticket_id, grant.service) == (ticket.pk, service)
    listing = client.get("/admin/grants/autoissuance/").content.decode()
    assert f'href="{link}"' not in listing
    assert f"/admin/grants/grant/{grant.pk}/change/" in listing and grant.jti in listing

    # Another consortium's clerk given the link learns nothing of the ticket or its service.
    client.force_login(clerk_b)
    other = client.get(link).content.decode()
    assert f'<option value="{ticket.pk}"' not in other
    assert f'<option value="{service.pk}"' not in other
    assert ticket.title not in other
    # Nonsense in the link is no error: the form comes with nothing chosen.
    client.force_login(clerk_a)
    for nonsense in ("abc", "-1", "²", "99999999999999999999999", ""):
        page = client.get(f"/admin/grants/grant/issue/?ticket={nonsense}")
        assert page.status_code == 200
        assert f'<option value="{ticket.pk}" selected>' not in page.content.decode()
        assert f'<option value="{service.pk}" selected>' not in page.content.decode()


def test_a_deactivated_service_is_not_given_a_grant(rule_a, service_a, file_ticket, approve_now):
    services.service_update(
        actor=None,
        service=service_a.service,
        name=service_a.service.name,
        webhook_url="",
        is_active=False,
    )
    approve_now(file_ticket())
    assert not Grant.objects.exists()
    assert AutoIssuance.objects.get().reason == "service_inactive"


def test_another_organisations_service_of_the_same_name_is_not_chosen(
    consortium_a, rule_a, company_b, service_b, file_ticket, approve_now
):
    # Company B's service is named as company A's request names its own (unregistered) one.
    approve_now(file_ticket(service_name=service_b.service.name))
    assert not Grant.objects.exists()
    assert AutoIssuance.objects.get().reason == "no_service"


def test_an_es256_rule_signs_with_es256(
    client, consortium_a, clerk_a, service_a, file_ticket, approve_now
):
    services.issuance_rule_set(
        actor=clerk_a, consortium=consortium_a, enabled=True, algorithm="ES256"
    )
    approve_now(file_ticket())
    grant = Grant.objects.get()
    assert grant.algorithm == "ES256"
    assert jwt.get_unverified_header(grant.token)["alg"] == "ES256"
    jwks = client.get("/.well-known/jwks.json").json()
    key = next(k for k in jwks["keys"] if k["kid"] == grant.kid)
    assert key["alg"] == "ES256"
    claims = jwt.decode(
        grant.token,
        jwt.PyJWK(key).key,
        algorithms=["ES256"],
        audience=grant.audience[0],
    )
    assert claims["jti"] == grant.jti
    assert introspect(client, service_a, grant.token).json()["active"] is True


def test_third_party_provision_is_left_to_the_secretariat_unless_the_rule_says_so(
    consortium_a, clerk_a, rule_a, service_a, file_ticket, approve_now
):
    first = approve_now(file_ticket(third_party_provision=True))
    assert not Grant.objects.exists()
    assert AutoIssuance.objects.get(ticket_id=first.pk).reason == "third_party_provision"
    services.issuance_rule_set(
        actor=clerk_a, consortium=consortium_a, enabled=True, third_party_provision=True
    )
    second = approve_now(file_ticket(third_party_provision=True, title="第三者提供あり"))
    assert Grant.objects.get().ticket_id == second.pk


def test_a_proposed_new_purpose_is_left_to_the_secretariat(
    rule_a, service_a, file_ticket, approve_now
):
    ticket = approve_now(
        file_ticket(purpose=None, proposed_purpose_title="歩行データによる健康増進")
    )
    assert ticket.state == "approved"
    assert not Grant.objects.exists()
    assert AutoIssuance.objects.get().reason == "new_purpose"


def test_an_approval_seen_twice_issues_one_grant(
    rule_a, service_a, file_ticket, board_a, clerk_a, rep_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket = approve(file_ticket(), board_a, clerk_a, rep_a)
    for callback in callbacks + callbacks:  # the signal delivered twice
        callback()
    first = services.grant_auto_issue(ticket=ticket)
    assert Grant.objects.count() == 1
    assert AutoIssuance.objects.count() == 1
    assert first.grant == Grant.objects.get()
    assert PendingEntry.objects.filter(action="grant.issued").count() == 1


def test_resuming_a_suspended_ticket_issues_nothing_more(
    rule_a, service_a, file_ticket, approve_now, clerk_a, django_capture_on_commit_callbacks
):
    ticket = approve_now(file_ticket())
    with django_capture_on_commit_callbacks(execute=True):
        review_services.ticket_suspend(actor=clerk_a, ticket=ticket)
    with django_capture_on_commit_callbacks(execute=True):
        review_services.ticket_resume(actor=clerk_a, ticket=ticket)
    assert Grant.objects.get().status == "active"  # reinstated, not issued again


def test_a_failure_in_issuance_leaves_the_approval_standing(
    rule_a, service_a, file_ticket, approve_now
):
    with mock.patch("grants.services.sign_jwt", side_effect=RuntimeError("HSM unavailable")):
        ticket = approve_now(file_ticket())
    ticket.refresh_from_db()
    assert ticket.state == "approved"
    assert PendingEntry.objects.filter(action="ticket.approved").count() == 1
    assert not Grant.objects.exists()
    result = AutoIssuance.objects.get()
    assert (result.outcome, result.reason) == ("failed", "error")
    entry = PendingEntry.objects.get(action="grant.auto_issue_failed")
    assert payload(entry) == {
        "ticket": ticket.pk,
        "reason": "error",
        "result": result.pk,
        "error": "RuntimeError",
    }
    assert not PendingEntry.objects.filter(action="grant.issued").exists()
    # The secretariat can still issue by hand once the cause is fixed.
    grant = services.grant_issue(actor=None, service=service_a.service, ticket=ticket)
    assert grant.status == "active"


def test_even_a_failing_audit_log_does_not_undo_the_approval(
    rule_a, service_a, file_ticket, approve_now
):
    with mock.patch("grants.services.record", side_effect=OperationalError("disk full")):
        ticket = approve_now(file_ticket())
    ticket.refresh_from_db()
    assert ticket.state == "approved"
    assert not Grant.objects.exists()
    assert not AutoIssuance.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_failure_in_issuance_after_a_real_commit_leaves_the_approval_standing(
    consortium_a, clerk_a, service_a, file_ticket, board_a, rep_a
):
    # No test transaction around it: the approval commits and the rule runs after the commit,
    # exactly as when the last reviewer votes on the review page.
    services.issuance_rule_set(actor=clerk_a, consortium=consortium_a, enabled=True)
    with mock.patch("grants.services.sign_jwt", side_effect=RuntimeError("HSM unavailable")):
        ticket = approve(file_ticket(), board_a, clerk_a, rep_a)
    assert ReviewTicket.objects.get(pk=ticket.pk).state == "approved"
    assert not Grant.objects.exists()
    assert AutoIssuance.objects.get().outcome == "failed"
    # Without the failure the same path issues the grant.
    second = approve(file_ticket(title="二件目の申請"), board_a, clerk_a, rep_a)
    assert Grant.objects.get().ticket_id == second.pk


# --- The admin -------------------------------------------------------------------------------


def test_clerk_sets_the_rule_in_the_admin(client, clerk_a, consortium_a):
    client.force_login(clerk_a)
    assert client.get("/admin/grants/issuancerule/add/").status_code == 200
    response = client.post(
        "/admin/grants/issuancerule/add/",
        {"consortium": consortium_a.pk, "enabled": "on", "algorithm": "ES256"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = IssuanceRule.objects.get()
    assert (rule.consortium, rule.enabled, rule.algorithm, rule.third_party_provision) == (
        consortium_a,
        True,
        "ES256",
        False,
    )
    entry = PendingEntry.objects.get(action="grant.issuance_rule_set")
    assert entry.actor_id == str(clerk_a.pk)
    assert payload(entry) == {
        "enabled": True,
        "algorithm": "ES256",
        "third_party_provision": False,
    }
    response = client.post(
        f"/admin/grants/issuancerule/{rule.pk}/change/",
        {"algorithm": "EdDSA", "third_party_provision": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule.refresh_from_db()
    assert (rule.enabled, rule.algorithm, rule.third_party_provision) == (False, "EdDSA", True)
    assert PendingEntry.objects.filter(action="grant.issuance_rule_set").count() == 2
    # One rule per consortium: the add form no longer offers consortium A.
    form = client.get("/admin/grants/issuancerule/add/").content.decode()
    assert f'value="{consortium_a.pk}"' not in form


def test_another_consortiums_clerk_gets_404_and_cannot_set_a_rule_for_it(
    client, clerk_b, consortium_a, rule_a, service_a, file_ticket, approve_now
):
    approve_now(file_ticket(service_name="Unregistered service"))
    result = AutoIssuance.objects.get()
    client.force_login(clerk_b)
    assert client.get(f"/admin/grants/issuancerule/{rule_a.pk}/change/").status_code == 404
    assert client.get(f"/admin/grants/autoissuance/{result.pk}/change/").status_code == 404
    listing = client.get("/admin/grants/autoissuance/").content.decode()
    assert f"/admin/grants/autoissuance/{result.pk}/change/" not in listing
    assert "0 automatic issuances" in listing
    rules = client.get("/admin/grants/issuancerule/").content.decode()
    assert f"/admin/grants/issuancerule/{rule_a.pk}/change/" not in rules
    response = client.post(
        f"/admin/grants/issuancerule/{rule_a.pk}/change/", {"algorithm": "ES256"}
    )
    assert response.status_code == 404
    response = client.post(
        "/admin/grants/issuancerule/add/",
        {"consortium": consortium_a.pk, "enabled": "", "algorithm": "ES256"},
    )
    assert response.status_code == 200  # the form refuses the choice
    rule_a.refresh_from_db()
    assert (rule_a.enabled, rule_a.algorithm) == (True, "EdDSA")
    # A missing one answers the same.
    assert client.get("/admin/grants/issuancerule/999999/change/").status_code == 404


def test_anonymous_visitors_and_residents_are_kept_out(client, rule_a, consortium_a):
    from tests.conftest import make_user

    response = client.get(f"/admin/grants/issuancerule/{rule_a.pk}/change/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(make_user("plain"))
    response = client.get("/admin/grants/issuancerule/")
    assert response.status_code == 302 and "/login/" in response["Location"]
