"""The review ticket's workflow: every allowed and forbidden transition, through the services."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import PendingEntry
from review import selectors, services
from review.models import ReviewRound, ReviewTicket
from review.signals import ticket_status_changed

pytestmark = pytest.mark.django_db
State = ReviewTicket.State


def refreshed(ticket):
    return ReviewTicket.objects.get(pk=ticket.pk)


def test_a_representative_files_a_draft(make_ticket, requester_a, category_a):
    ticket = make_ticket()
    assert ticket.state == State.DRAFT
    assert ticket.round == 0
    assert list(ticket.categories.all()) == [category_a]
    entry = PendingEntry.objects.get(action="ticket.created")
    assert entry.object_id == str(ticket.pk)
    assert "オンデマンド" not in entry.payload  # ids and facts only


def test_someone_else_cannot_file_for_the_requester(make_ticket, other_member_a):
    with pytest.raises(PermissionDenied):
        make_ticket(actor=other_member_a.representative)
    assert not ReviewTicket.objects.exists()


def test_a_non_member_cannot_file(make_ticket, consortium_a, city_a):
    with pytest.raises(ValidationError, match="current member"):
        make_ticket(requester=city_a)
    assert not ReviewTicket.objects.exists()


def test_a_purpose_is_chosen_or_proposed(make_ticket):
    with pytest.raises(ValidationError, match="existing purpose or describe"):
        make_ticket(purpose=None)
    ticket = make_ticket(
        purpose=None,
        proposed_purpose_title="歩数による健康ポイント",
        proposed_purpose_explanation="歩数に応じてポイントを付与",
    )
    assert ticket.purpose_title() == "歩数による健康ポイント"


def test_a_purpose_of_another_consortium_is_refused(make_ticket, purpose_a, consortium_b):
    purpose_a.consortium = consortium_b
    purpose_a.save()
    with pytest.raises(ValidationError, match="purpose of this consortium"):
        make_ticket()


@pytest.mark.parametrize(
    "pia",
    [
        "not a list",
        [{"risk": "x"}],
        [{"risk": "x", "likelihood": "sometimes", "impact": "high", "mitigation": "y"}],
        [{"risk": " ", "likelihood": "low", "impact": "high", "mitigation": "y"}],
    ],
)
def test_a_malformed_pia_is_refused(make_ticket, pia):
    with pytest.raises(ValidationError):
        make_ticket(pia=pia)
    assert not ReviewTicket.objects.exists()


def test_cross_border_needs_its_details(make_ticket):
    with pytest.raises(ValidationError, match="countries and the safeguards"):
        make_ticket(cross_border_transfer=True)


def test_recipients_must_be_members(make_ticket, city_a):
    with pytest.raises(ValidationError, match="current members"):
        make_ticket(recipients=[city_a])
    assert not ReviewTicket.objects.exists()


def test_submit_opens_round_one_with_its_due_date(make_ticket, rep_a, board_a):
    ticket = services.ticket_submit(
        actor=rep_a, ticket=make_ticket(), today=datetime.date(2026, 5, 1)
    )
    assert ticket.state == State.SUBMITTED
    assert ticket.round == 1
    assert ticket.due_on == datetime.date(2026, 5, 15)
    review_round = ReviewRound.objects.get(ticket=ticket)
    assert review_round.request["title"] == "オンデマンド交通の配車最適化"
    assert PendingEntry.objects.filter(action="ticket.submitted").count() == 1


def test_an_incomplete_draft_cannot_be_submitted(make_ticket, rep_a, board_a):
    ticket = make_ticket(security_measures="", pia=[])
    with pytest.raises(ValidationError) as error:
        services.ticket_submit(actor=rep_a, ticket=ticket)
    assert set(error.value.message_dict) == {"security_measures", "pia"}
    assert refreshed(ticket).state == State.DRAFT
    assert not ReviewRound.objects.exists()


def test_only_the_requester_submits(make_ticket, clerk_a, reviewer_a, board_a):
    ticket = make_ticket()
    for actor in (clerk_a, reviewer_a):
        with pytest.raises(PermissionDenied):
            services.ticket_submit(actor=actor, ticket=ticket)
    assert refreshed(ticket).state == State.DRAFT


def test_a_submitted_ticket_is_no_longer_editable(make_ticket, rep_a, board_a):
    ticket = services.ticket_submit(actor=rep_a, ticket=make_ticket())
    with pytest.raises(services.TransitionError, match="submitted cannot be edited"):
        services.ticket_update(actor=rep_a, ticket=ticket, title="changed")
    with pytest.raises(services.TransitionError):
        services.ticket_submit(actor=rep_a, ticket=ticket)
    assert refreshed(ticket).title != "changed"


def test_review_starts_only_with_a_quorum_of_reviewers(make_ticket, rep_a, board_a, clerk_a):
    ticket = services.ticket_submit(actor=rep_a, ticket=make_ticket())
    services.reviewer_assign(actor=clerk_a, ticket=ticket, reviewer=board_a.legal)
    services.reviewer_assign(actor=clerk_a, ticket=ticket, reviewer=board_a.security)
    with pytest.raises(ValidationError, match="at least 3 reviewers"):
        services.ticket_review_start(actor=clerk_a, ticket=ticket)
    services.reviewer_assign(actor=clerk_a, ticket=ticket, reviewer=board_a.data)
    ticket = services.ticket_review_start(actor=clerk_a, ticket=ticket)
    assert ticket.state == State.IN_REVIEW


def test_only_the_secretariat_assigns_and_starts(make_ticket, rep_a, board_a, clerk_b):
    ticket = services.ticket_submit(actor=rep_a, ticket=make_ticket())
    for actor in (clerk_b, rep_a, board_a.legal):
        with pytest.raises(PermissionDenied):
            services.reviewer_assign(actor=actor, ticket=ticket, reviewer=board_a.legal)
        with pytest.raises(PermissionDenied):
            services.ticket_review_start(actor=actor, ticket=ticket)
    assert not ticket.assignments.exists()


def test_only_board_members_are_assigned(make_ticket, rep_a, board_a, clerk_a, reviewer_b):
    ticket = services.ticket_submit(actor=rep_a, ticket=make_ticket())
    with pytest.raises(ValidationError, match="current member of this consortium's"):
        services.reviewer_assign(actor=clerk_a, ticket=ticket, reviewer=reviewer_b)
    services.reviewer_assign(actor=clerk_a, ticket=ticket, reviewer=board_a.legal)
    with pytest.raises(ValidationError, match="already assigned"):
        services.reviewer_assign(actor=clerk_a, ticket=ticket, reviewer=board_a.legal)


def test_a_draft_gets_no_reviewers(make_ticket, board_a, clerk_a):
    with pytest.raises(services.TransitionError):
        services.reviewer_assign(actor=clerk_a, ticket=make_ticket(), reviewer=board_a.legal)


def test_a_vote_needs_a_declaration_and_an_open_review(make_ticket, rep_a, board_a, clerk_a):
    ticket = services.ticket_submit(actor=rep_a, ticket=make_ticket())
    services.reviewer_assign(actor=clerk_a, ticket=ticket, reviewer=board_a.legal)
    with pytest.raises(ValidationError, match="Declare your conflicts"):
        services.review_vote_cast(actor=board_a.legal, ticket=ticket, choice="approve")
    services.conflict_declare(actor=board_a.legal, ticket=ticket, has_conflict=False)
    with pytest.raises(services.TransitionError, match="cannot be voted on"):
        services.review_vote_cast(actor=board_a.legal, ticket=ticket, choice="approve")
    with pytest.raises(ValidationError, match="already declared"):
        services.conflict_declare(actor=board_a.legal, ticket=ticket, has_conflict=True)


def test_an_unassigned_board_member_cannot_vote(in_review, board_a):
    ticket = in_review()
    with pytest.raises(PermissionDenied):
        services.review_vote_cast(actor=board_a.resident, ticket=ticket, choice="approve")


def test_one_vote_per_round(in_review, board_a):
    ticket = in_review()
    services.review_vote_cast(actor=board_a.legal, ticket=ticket, choice="approve")
    with pytest.raises(ValidationError, match="already voted"):
        services.review_vote_cast(actor=board_a.legal, ticket=ticket, choice="reject")


def test_approval_with_conditions_needs_them_written(in_review, board_a):
    ticket = in_review()
    with pytest.raises(ValidationError, match="Write the conditions"):
        services.review_vote_cast(
            actor=board_a.legal, ticket=ticket, choice="approve_with_conditions"
        )
    assert not ticket.votes.exists()


def test_unanimous_approval_carries_conditions_and_term(in_review, board_a, rep_a):
    ticket = in_review()
    day = datetime.date(2026, 7, 1)
    services.review_vote_cast(
        actor=board_a.legal,
        ticket=ticket,
        choice="approve_with_conditions",
        conditions="年1回の監査報告",
    )
    services.review_vote_cast(actor=board_a.security, ticket=ticket, choice="approve")
    assert refreshed(ticket).state == State.IN_REVIEW  # two of three: not yet decided
    mail.outbox.clear()
    services.review_vote_cast(actor=board_a.data, ticket=ticket, choice="approve", today=day)
    ticket = refreshed(ticket)
    assert ticket.state == State.APPROVED
    assert ticket.conditions == "年1回の監査報告"
    assert (ticket.valid_from, ticket.valid_until) == (day, datetime.date(2027, 7, 1))
    assert PendingEntry.objects.filter(action="ticket.approved", actor_type="system").count() == 1
    assert selectors.ticket_approved(ticket.pk).pk == ticket.pk


def test_the_requester_is_told_after_the_commit(
    in_review, board_a, rep_a, django_capture_on_commit_callbacks
):
    ticket = in_review()
    services.review_vote_cast(actor=board_a.legal, ticket=ticket, choice="approve")
    services.review_vote_cast(actor=board_a.security, ticket=ticket, choice="approve")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.review_vote_cast(actor=board_a.data, ticket=ticket, choice="approve")
    assert [m.to for m in mail.outbox] == [["rep_a@example.jp"]]
    assert f"#{ticket.pk}" in mail.outbox[0].subject


def test_changes_requested_then_resubmitted_keeps_rounds(in_review, board_a, rep_a):
    ticket = in_review()
    for reviewer in (board_a.legal, board_a.security, board_a.data):
        services.review_vote_cast(actor=reviewer, ticket=ticket, choice="request_changes")
    ticket = refreshed(ticket)
    assert ticket.state == State.CHANGES_REQUESTED
    with pytest.raises(services.TransitionError):
        services.review_vote_cast(actor=board_a.legal, ticket=ticket, choice="approve")
    services.ticket_update(actor=rep_a, ticket=ticket, retention_days=90)
    ticket = services.ticket_resubmit(actor=rep_a, ticket=ticket)
    assert (ticket.state, ticket.round) == (State.IN_REVIEW, 2)
    assert list(ticket.rounds.values_list("number", "outcome")) == [
        (1, "changes_requested"),
        (2, ""),
    ]
    diff = selectors.round_diff(ticket)
    assert [(d["field"], d["before"], d["after"]) for d in diff] == [
        ("retention_days", "365", "90")
    ]
    # The same reviewers vote again in round 2.
    for reviewer in (board_a.legal, board_a.security, board_a.data):
        services.review_vote_cast(actor=reviewer, ticket=ticket, choice="approve")
    assert refreshed(ticket).state == State.APPROVED


def test_only_changes_requested_can_be_resubmitted(in_review, rep_a):
    ticket = in_review()
    with pytest.raises(services.TransitionError):
        services.ticket_resubmit(actor=rep_a, ticket=ticket)


def test_the_decision_services_are_the_rules_alone(in_review, clerk_a):
    ticket = in_review()
    day = datetime.date(2026, 7, 1)
    with pytest.raises(PermissionDenied):
        services.ticket_approve(
            actor=clerk_a, ticket=ticket, conditions="", valid_from=day, valid_until=day
        )
    with pytest.raises(PermissionDenied):
        services.ticket_reject(actor=clerk_a, ticket=ticket)
    with pytest.raises(PermissionDenied):
        services.ticket_request_changes(actor=clerk_a, ticket=ticket)
    assert refreshed(ticket).state == State.IN_REVIEW


@pytest.fixture
def approved(in_review, board_a):
    ticket = in_review()
    for reviewer in (board_a.legal, board_a.security, board_a.data):
        services.review_vote_cast(actor=reviewer, ticket=ticket, choice="approve")
    return refreshed(ticket)


@pytest.fixture
def heard():
    events = []

    def receiver(sender, ticket, old, new, **kwargs):
        events.append((ticket.pk, old, new))

    ticket_status_changed.connect(receiver)
    yield events
    ticket_status_changed.disconnect(receiver)


def test_suspend_resume_close_send_the_signal_after_commit(
    approved, clerk_a, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_suspend(actor=clerk_a, ticket=approved)
    assert heard == [(approved.pk, "approved", "suspended")]
    with pytest.raises(services.TransitionError):
        services.ticket_suspend(actor=clerk_a, ticket=approved)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_resume(actor=clerk_a, ticket=approved)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_close(actor=clerk_a, ticket=approved)
    assert heard[1:] == [
        (approved.pk, "suspended", "approved"),
        (approved.pk, "approved", "closed"),
    ]
    assert refreshed(approved).state == State.CLOSED
    with pytest.raises(services.TransitionError):
        services.ticket_close(actor=clerk_a, ticket=approved)
    with pytest.raises(services.TransitionError):
        services.ticket_resume(actor=clerk_a, ticket=approved)


def test_approval_sends_the_signal_after_commit(
    in_review, board_a, heard, django_capture_on_commit_callbacks
):
    ticket = in_review()
    for reviewer in (board_a.legal, board_a.security):
        services.review_vote_cast(actor=reviewer, ticket=ticket, choice="approve")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.review_vote_cast(actor=board_a.data, ticket=ticket, choice="approve")
    assert heard == []  # not before the commit
    for callback in callbacks:
        callback()
    assert heard == [(ticket.pk, "in_review", "approved")]


def test_no_signal_when_the_transaction_rolls_back(approved, clerk_a, heard):
    # Without the commit the callbacks never run: the grants app hears nothing.
    services.ticket_suspend(actor=clerk_a, ticket=approved)
    assert heard == []


def test_only_the_secretariat_suspends_and_resumes(approved, rep_a, board_a, clerk_b):
    for actor in (rep_a, board_a.legal, clerk_b):
        with pytest.raises(PermissionDenied):
            services.ticket_suspend(actor=actor, ticket=approved)
    assert refreshed(approved).state == State.APPROVED


def test_resuming_after_the_term_is_refused(approved, clerk_a):
    services.ticket_suspend(actor=clerk_a, ticket=approved)
    with pytest.raises(services.TransitionError, match="term ended"):
        services.ticket_resume(
            actor=clerk_a,
            ticket=approved,
            today=approved.valid_until + datetime.timedelta(days=1),
        )


def test_the_requester_withdraws_but_others_cannot_close(make_ticket, rep_a, other_member_a):
    ticket = make_ticket()
    with pytest.raises(PermissionDenied):
        services.ticket_close(actor=other_member_a.representative, ticket=ticket)
    services.ticket_close(actor=rep_a, ticket=ticket)
    assert refreshed(ticket).state == State.CLOSED


def test_ticket_approved_answers_only_approved_tickets_in_term(
    approved, make_ticket, requester_a, other_member_a
):
    draft = make_ticket()
    with pytest.raises(ReviewTicket.DoesNotExist):
        selectors.ticket_approved(draft.pk)
    with pytest.raises(ReviewTicket.DoesNotExist):
        selectors.ticket_approved(approved.pk, requester=other_member_a.organization)
    with pytest.raises(ReviewTicket.DoesNotExist):
        selectors.ticket_approved(
            approved.pk, day=approved.valid_until + datetime.timedelta(days=1)
        )
    with pytest.raises(ReviewTicket.DoesNotExist):
        selectors.ticket_approved("x")
    found = selectors.ticket_approved(approved.pk, requester=requester_a, day=approved.valid_from)
    assert found.is_active_on(approved.valid_from)


def test_a_service_files_and_submits_for_its_organisation(
    consortium_a, requester_a, purpose_a, board_a
):
    from audit.services import Actor

    ticket = services.ticket_create(
        actor=Actor.service("svc-1"),
        consortium=consortium_a,
        requester=requester_a,
        title="API",
        service_name="svc",
        purpose=purpose_a,
        retention_days=30,
        deletion_method="消去",
        security_measures="TLS",
        pia=[{"risk": "r", "likelihood": "low", "impact": "low", "mitigation": "m"}],
    )
    services.ticket_submit(actor=Actor.service("svc-1"), ticket=ticket)
    assert refreshed(ticket).filed_by is None
    entry = PendingEntry.objects.get(action="ticket.submitted")
    assert (entry.actor_type, entry.actor_id) == ("service", "svc-1")


def test_the_ticket_entries_written_before_the_move_are_read_with_the_later_ones(
    make_ticket, rep_a, board_a
):
    """Entries from before the review had an app of its own name the ticket by its former label."""
    from audit import services as audit_services

    ticket = make_ticket()
    audit_services.record(
        actor=None,
        action="ticket.created",
        object_type="governance.reviewticket",
        object_id=str(ticket.pk),
        consortium=ticket.consortium_id,
        payload={},
    )
    services.ticket_submit(actor=rep_a, ticket=ticket)
    audit_services.seal()
    entries = list(selectors.ticket_entries(ticket).values_list("object_type", "action"))
    assert entries == [
        ("review.reviewticket", "ticket.created"),
        ("governance.reviewticket", "ticket.created"),
        ("review.reviewticket", "ticket.submitted"),
    ]
