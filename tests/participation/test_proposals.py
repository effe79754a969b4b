"""Proposals and supports through the services: who may do what, and what the log keeps."""

import json

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import Entry, PendingEntry
from participation import services
from participation.models import Proposal, Support

from .conftest import as_resident

pytestmark = pytest.mark.django_db


def propose(consortium, resident, **extra) -> Proposal:
    return services.proposal_submit(
        actor=as_resident(resident),
        consortium=consortium,
        author=resident,
        kind=extra.pop("kind", Proposal.Kind.SENSOR),
        title=extra.pop("title", "駅前に混雑センサーを"),
        body=extra.pop("body", "朝の駅前の混雑を測り、バスの本数に生かしてください。"),
        **extra,
    )


def entries(action: str) -> list[dict]:
    """Return the payloads of ``action``'s audit entries, sealed or still pending."""
    return [
        json.loads(payload) if isinstance(payload, str) else payload
        for model in (Entry, PendingEntry)
        for payload in model.objects.filter(action=action).values_list("payload", flat=True)
    ]


def test_a_resident_proposes_and_the_log_keeps_ids_only(consortium_a, resident):
    proposal = propose(consortium_a, resident)
    assert (proposal.status, proposal.author, proposal.consortium) == (
        "published",
        resident,
        consortium_a,
    )
    assert entries("proposal.submitted") == [{"kind": "sensor", "author": resident.pseudonymous_id}]


def test_an_empty_proposal_is_refused_field_by_field(consortium_a, resident):
    with pytest.raises(ValidationError) as refused:
        propose(consortium_a, resident, kind="", title=" ", body="")
    assert set(refused.value.error_dict) == {"kind", "title", "body"}
    assert not Proposal.objects.exists()


def test_a_resident_of_another_consortium_may_not_propose_or_support(
    consortium_a, resident, resident_b
):
    with pytest.raises(PermissionDenied):
        propose(consortium_a, resident_b)
    proposal = propose(consortium_a, resident)
    with pytest.raises(PermissionDenied):
        services.support_add(actor=as_resident(resident_b), proposal=proposal, resident=resident_b)
    assert not Support.objects.exists()


def test_one_support_per_resident_withdrawable_and_not_ones_own(
    consortium_a, resident, other_resident
):
    proposal = propose(consortium_a, resident)
    actor = as_resident(other_resident)
    services.support_add(actor=actor, proposal=proposal, resident=other_resident)
    with pytest.raises(ValidationError, match="already support"):
        services.support_add(actor=actor, proposal=proposal, resident=other_resident)
    with pytest.raises(ValidationError, match="your own"):
        services.support_add(actor=as_resident(resident), proposal=proposal, resident=resident)
    assert proposal.supports.count() == 1
    services.support_withdraw(actor=actor, proposal=proposal, resident=other_resident)
    assert proposal.supports.count() == 0
    with pytest.raises(ValidationError):
        services.support_withdraw(actor=actor, proposal=proposal, resident=other_resident)
    assert entries("proposal.supported") == [{"resident": other_resident.pseudonymous_id}]
    assert len(entries("proposal.support_withdrawn")) == 1


def test_hiding_needs_a_reason_and_stops_supports(consortium_a, clerk_a, resident, other_resident):
    proposal = propose(consortium_a, resident)
    with pytest.raises(ValidationError):
        services.proposal_hide(actor=clerk_a, proposal=proposal, reason=" ")
    services.proposal_hide(actor=clerk_a, proposal=proposal, reason="個人名が含まれています。")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.hidden_reason) == ("hidden", "個人名が含まれています。")
    assert entries("proposal.hidden")[0] == {}
    with pytest.raises(PermissionDenied):
        services.support_add(
            actor=as_resident(other_resident), proposal=proposal, resident=other_resident
        )
    with pytest.raises(ValidationError):
        services.proposal_answer(
            actor=clerk_a, proposal=proposal, outcome="declined", reasons_ja="理由"
        )


def test_the_secretariat_answers_with_outcome_and_reasons(
    consortium_a, clerk_a, clerk_b, resident, draft_purpose
):
    proposal = propose(consortium_a, resident)
    with pytest.raises(ValidationError) as refused:
        services.proposal_answer(actor=clerk_a, proposal=proposal, outcome="", reasons_ja="")
    assert set(refused.value.error_dict) == {"outcome", "reasons_ja"}
    with pytest.raises(PermissionDenied):
        services.proposal_answer(
            actor=clerk_b, proposal=proposal, outcome="accepted", reasons_ja="採用します。"
        )
    answered = services.proposal_answer(
        actor=clerk_a,
        proposal=proposal,
        outcome="accepted",
        reasons_ja="来年度の計画に入れます。",
        purpose=draft_purpose,
        indicator_code="bus-crowding",
    )
    assert (answered.status, answered.outcome, answered.answered_by) == (
        "answered",
        "accepted",
        clerk_a,
    )
    assert answered.purpose == draft_purpose and answered.indicator_code == "bus-crowding"
    assert entries("proposal.answered")[0] == {
        "outcome": "accepted",
        "ticket": None,
        "purpose": draft_purpose.pk,
        "indicator_linked": True,
    }


def test_the_author_is_told_when_answered(
    consortium_a, clerk_a, resident, django_capture_on_commit_callbacks
):
    proposal = propose(consortium_a, resident)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_answer(
            actor=clerk_a, proposal=proposal, outcome="declined", reasons_ja="予算がありません。"
        )
    [message] = mail.outbox
    assert message.to == ["hanako@example.jp"]
    assert "予算" not in message.body  # the answer itself is read in the portal, signed in
