"""
A grant that ends (revoked for any reason but its purpose's closing, or expired) is told to its
service once per resident whose data was released under it, as a Security Event Token with the
reason ``grant_ended``; a suspension tells nothing, and a second run sends nothing more.
"""

import datetime
import json

import jwt
import pytest
from django.utils import timezone

from consent import services as consent_services
from consent.models import RecipientNotice
from grants import services, tasks

from .conftest import SECTOR, issue, make_resident

pytestmark = pytest.mark.django_db


def post_json(client, path, caller, body):
    return client.post(
        path, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=caller.auth
    )


def release(client, caller, grant, purpose, consortium, email):
    """A resident who agreed and whose data ``caller`` received under ``grant``."""
    resident = make_resident(email, consortium)
    consent_services.consent_give(actor=None, resident=resident, purpose=purpose)
    subject = consent_services.pairwise_subject_issue(
        actor=None, resident=resident, sector=SECTOR
    ).subject
    answer = post_json(
        client, f"/api/v1/grants/{grant.jti}/check", caller, {"residents": [subject]}
    )
    assert answer.json()["results"] == {subject: True}
    return resident, subject


@pytest.fixture
def other_grant(service_a, ticket, released):
    """A second grant of the same service, under which another resident's data was released."""
    return issue(service_a, ticket, expires_at=timezone.now() + datetime.timedelta(days=90))


def test_a_revoked_grant_tells_its_service_of_its_residents_only(
    client,
    released,
    grant,
    other_grant,
    purpose,
    service_a,
    consortium_a,
    django_capture_on_commit_callbacks,
):
    resident, subject = released
    other, _ = release(client, service_a, other_grant, purpose, consortium_a, "o@example.jp")
    with django_capture_on_commit_callbacks(execute=True):
        services.grant_revoke(actor=None, grant=grant, reason="secretariat_decision")
    notice = RecipientNotice.objects.get()
    assert notice.resident_id == resident.pk and notice.reason == "grant_ended"
    assert notice.grant_jti == grant.jti and notice.subject == subject
    assert notice.service_id == service_a.service.pk and notice.withdrawal_id is None
    header = jwt.get_unverified_header(notice.token)
    keys = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json())
    claims = jwt.decode(
        notice.token,
        keys[header["kid"]].key,
        algorithms=[header["alg"]],
        audience=service_a.service.subject,
    )
    assert header["typ"] == "secevent+jwt"
    assert claims["sub_id"] == {"format": "opaque", "id": subject}
    (event,) = claims["events"].values()
    assert event["reason"] == "grant_ended" and event["grant"] == grant.jti
    assert event["purpose"] == purpose.code
    assert not RecipientNotice.objects.filter(resident=other).exists()


def test_running_the_task_again_sends_nothing_more(
    client, released, grant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.grant_revoke(actor=None, grant=grant, reason="ticket_closed")
    assert RecipientNotice.objects.count() == 1
    assert tasks.notify_grant_ended(grant.pk) == 0
    assert services.undelivered_sweep(now=timezone.now() + datetime.timedelta(minutes=10)) == {
        "withdrawals": 0,
        "pushes": 0,
        "webhooks": 0,
        "grants_ended": 0,
        "purposes_closed": 0,
    }
    assert RecipientNotice.objects.count() == 1


def test_an_expired_grant_tells_its_service_too(
    client, released, grant, django_capture_on_commit_callbacks
):
    resident, _ = released
    later = grant.expires_at + datetime.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.grants_expire(now=later) == 1
    notice = RecipientNotice.objects.get()
    assert notice.resident_id == resident.pk and notice.reason == "grant_ended"


def test_a_suspended_grant_tells_nothing(
    client, released, grant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.grant_suspend(actor=None, grant=grant)
    assert tasks.notify_grant_ended(grant.pk) == 0
    assert not RecipientNotice.objects.exists()


def test_a_purpose_closed_is_told_once_not_also_as_a_grant_end(
    client, released, purpose, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        consent_services.purpose_close(actor=None, purpose=purpose)
    assert list(RecipientNotice.objects.values_list("reason", flat=True)) == ["purpose_closed"]


def test_a_large_grant_is_told_in_batches_resuming_where_a_run_stopped(
    client, released, grant, purpose, service_a, consortium_a
):
    for i in range(4):
        release(client, service_a, grant, purpose, consortium_a, f"b{i}@example.jp")
    services.grant_revoke(actor=None, grant=grant, reason="secretariat_decision")
    batches = []
    # A first run that stopped after one batch of two.
    with pytest.raises(RuntimeError):

        def stop(n):
            batches.append(n)
            raise RuntimeError("stopped")

        services.grant_ended_notify(grant_id=grant.pk, batch_size=2, progress=stop)
    assert RecipientNotice.objects.count() == 2
    assert (
        services.grant_ended_notify(grant_id=grant.pk, batch_size=2, progress=batches.append) == 3
    )
    assert batches == [2, 2, 1]
    assert RecipientNotice.objects.filter(reason="grant_ended").count() == 5
    assert RecipientNotice.objects.values("resident").distinct().count() == 5


def test_the_sweep_tells_of_a_grant_end_whose_task_was_lost(client, released, grant, monkeypatch):
    monkeypatch.setattr(tasks, "queue", lambda *args: None)
    services.grant_revoke(actor=None, grant=grant, reason="secretariat_decision")
    assert not RecipientNotice.objects.exists()
    later = timezone.now() + datetime.timedelta(minutes=10)
    assert services.undelivered_sweep(now=later)["grants_ended"] == 1
    assert RecipientNotice.objects.get().reason == "grant_ended"


def test_only_the_service_polls_and_confirms_the_notice_and_the_resident_sees_it(
    client, released, grant, service_a, service_b, django_capture_on_commit_callbacks, settings
):
    resident, _ = released
    with django_capture_on_commit_callbacks(execute=True):
        services.grant_revoke(actor=None, grant=grant, reason="secretariat_decision")
    jti = RecipientNotice.objects.get().jti
    assert post_json(client, "/api/v1/events/poll", service_b, {"ack": [jti]}).json() == {
        "sets": {},
        "moreAvailable": False,
    }
    refused = post_json(client, f"/api/v1/events/{jti}/confirm", service_b, {"outcome": "deleted"})
    assert refused.status_code == 404 and refused.json()["error"] == "not_found"
    polled = post_json(client, "/api/v1/events/poll", service_a, {"returnImmediately": True})
    assert list(polled.json()["sets"]) == [jti]
    post_json(client, "/api/v1/events/poll", service_a, {"ack": [jti]})
    done = post_json(client, f"/api/v1/events/{jti}/confirm", service_a, {"outcome": "deleted"})
    assert done.status_code == 200, done.content
    client.force_login(resident.user)
    page = client.get("/portal/accesses/").content.decode()
    assert "利用許可が終了" in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/portal/accesses/").content.decode()
    assert "permission to use the data ended" in page and "deleted your data" in page
    export = json.loads(client.get("/portal/export/").content)
    (notice,) = export["withdrawal_notices"]
    assert notice["reason"] == "grant_ended" and notice["confirmed_at"]


# --- The period the board set --------------------------------------------------------------------


def set_period(consortium, days):
    from review import services as review_services

    board = consortium.ethics_board
    return review_services.ethics_board_set(
        actor=None,
        consortium=consortium,
        name_ja=board.name_ja,
        name_en=board.name_en,
        quorum=board.quorum,
        deletion_confirmation_days=days,
    )


@pytest.mark.parametrize("days", [0, 366])
def test_the_boards_period_is_one_to_365_days(consortium_a, board_a, days):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        set_period(consortium_a, days)
    assert "deletion_confirmation_days" in error.value.message_dict
    consortium_a.ethics_board.refresh_from_db()
    assert consortium_a.ethics_board.deletion_confirmation_days == 30


@pytest.fixture
def week_ticket(consortium_a, board_a, file_ticket, clerk_a, rep_a):
    """A ticket approved while the board gave recipients 7 days to confirm a deletion."""
    from .conftest import approve

    set_period(consortium_a, 7)
    ticket = approve(file_ticket(), board_a, clerk_a, rep_a)
    # A later change of the board's rule does not change the approval already decided.
    set_period(consortium_a, 60)
    return ticket


def test_a_grant_ended_notice_is_due_within_the_period_of_its_ticket(
    client,
    service_a,
    week_ticket,
    purpose,
    consortium_a,
    django_capture_on_commit_callbacks,
):
    week_ticket.refresh_from_db()
    assert week_ticket.deletion_confirmation_days == 7
    grant = issue(service_a, week_ticket, expires_at=timezone.now() + datetime.timedelta(days=90))
    from .oidc_helpers import register

    register(service_a.service, sector=SECTOR)
    resident, _ = release(client, service_a, grant, purpose, consortium_a, "w@example.jp")
    with django_capture_on_commit_callbacks(execute=True):
        services.grant_revoke(actor=None, grant=grant, reason="secretariat_decision")
    notice = RecipientNotice.objects.get()
    assert notice.due_at == notice.created_at + datetime.timedelta(days=7)
    assert not notice.is_overdue(at=notice.created_at + datetime.timedelta(days=6))
    assert notice.is_overdue(at=notice.created_at + datetime.timedelta(days=8))
    (event,) = jwt.decode(notice.token, options={"verify_signature": False})["events"].values()
    assert event["confirm_by"] == int(notice.due_at.timestamp())


def test_a_withdrawal_notice_is_due_within_the_period_of_its_ticket(
    client, service_a, week_ticket, purpose, consortium_a, django_capture_on_commit_callbacks
):
    grant = issue(service_a, week_ticket, expires_at=timezone.now() + datetime.timedelta(days=90))
    from .oidc_helpers import register

    register(service_a.service, sector=SECTOR)
    resident, _ = release(client, service_a, grant, purpose, consortium_a, "w@example.jp")
    long_ago = timezone.now() - datetime.timedelta(days=8)
    consent_services.consent_withdraw(actor=None, resident=resident, purpose=purpose)
    services.withdrawal_notify(resident_id=resident.pk, purpose_id=purpose.pk, at=long_ago)
    notice = RecipientNotice.objects.get()
    assert notice.due_at == notice.created_at + datetime.timedelta(days=7)
    assert notice.is_overdue()


def test_an_overdue_confirmation_opens_an_overdue_obligation_of_the_ticket_once(
    client,
    service_a,
    week_ticket,
    purpose,
    consortium_a,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    from review import services as review_services
    from review.models import Obligation

    grant = issue(service_a, week_ticket, expires_at=timezone.now() + datetime.timedelta(days=90))
    from .oidc_helpers import register

    register(service_a.service, sector=SECTOR)
    for i in range(2):
        release(client, service_a, grant, purpose, consortium_a, f"w{i}@example.jp")
    with django_capture_on_commit_callbacks(execute=True):
        services.grant_revoke(actor=None, grant=grant, reason="secretariat_decision")
    first = RecipientNotice.objects.order_by("pk").first()
    confirmed = post_json(
        client, f"/api/v1/events/{first.jti}/confirm", service_a, {"outcome": "deleted"}
    )
    assert confirmed.status_code == 200
    due = first.due_at
    before = Obligation.objects.filter(ticket=week_ticket).count()
    assert services.overdue_confirmations_follow(now=due - datetime.timedelta(hours=1)) == 0
    assert services.overdue_confirmations_follow(now=due + datetime.timedelta(days=1)) == 1
    obligation = Obligation.objects.get(ticket=week_ticket, from_recipient_notices=True)
    assert obligation.kind == "deletion_certificate" and obligation.state == "overdue"
    assert obligation.owner == week_ticket.requester
    assert obligation.due_on == timezone.localdate(due)
    assert "1" in obligation.text
    assert Obligation.objects.filter(ticket=week_ticket).count() == before + 1
    # Once, however often the daily task runs while it is owed.
    assert services.overdue_confirmations_follow(now=due + datetime.timedelta(days=2)) == 0
    # The daily follow-up escalates it like any other overdue obligation.
    counts = review_services.obligations_follow_up(
        today=timezone.localdate(due) + datetime.timedelta(days=2)
    )
    assert counts["overdue"] >= 1
    obligation.refresh_from_db()
    assert obligation.escalated_for == obligation.due_on
