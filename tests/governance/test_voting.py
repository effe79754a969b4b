"""Quorum, majorities and vote eligibility, computed from the bylaws in force."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from governance import services
from governance.models import BylawVersion, Resolution, Vote

from .conftest import ASSEMBLY_DAY, close

pytestmark = pytest.mark.django_db

FOR, AGAINST, ABSTAIN = Vote.Choice.FOR, Vote.Choice.AGAINST, Vote.Choice.ABSTAIN


def set_rules(version: BylawVersion, **rules) -> None:
    # Test set-up: change the founding version's rules in place (services refuse once adopted).
    BylawVersion.objects.filter(pk=version.pk).update(**rules)


def test_exactly_half_present_meets_a_one_half_quorum(add_member, attend, vote, propose, clerk_a):
    members = [add_member() for _ in range(4)]
    attend(members[0])
    attend(members[1])
    resolution = propose()
    vote(resolution, members[0], FOR)
    vote(resolution, members[1], FOR)

    closed = close(resolution, clerk_a)

    assert closed.outcome == Resolution.Outcome.CARRIED
    assert (closed.regular_members, closed.members_present) == (4, 2)


def test_one_below_half_present_is_no_quorum(add_member, attend, vote, propose, clerk_a):
    members = [add_member() for _ in range(5)]
    attend(members[0])
    attend(members[1])
    resolution = propose()
    vote(resolution, members[0], FOR)
    vote(resolution, members[1], FOR)

    assert close(resolution, clerk_a).outcome == Resolution.Outcome.NO_QUORUM


def test_a_tie_is_rejected_and_one_more_for_carries(add_member, attend, vote, propose, clerk_a):
    members = [add_member() for _ in range(4)]
    for member in members:
        attend(member)
    tie, majority = propose(), propose()
    for resolution, choices in [
        (tie, [FOR, FOR, AGAINST, AGAINST]),
        (majority, [FOR, FOR, FOR, AGAINST]),
    ]:
        for member, choice in zip(members, choices, strict=True):
            vote(resolution, member, choice)

    assert close(tie, clerk_a).outcome == Resolution.Outcome.REJECTED
    assert close(majority, clerk_a).outcome == Resolution.Outcome.CARRIED


def test_abstentions_do_not_count_against_a_majority_of_votes_cast(
    add_member, attend, vote, propose, clerk_a
):
    members = [add_member() for _ in range(4)]
    for member in members:
        attend(member)
    resolution = propose()
    for member, choice in zip(members, [FOR, ABSTAIN, ABSTAIN, ABSTAIN], strict=True):
        vote(resolution, member, choice)

    closed = close(resolution, clerk_a)

    assert closed.outcome == Resolution.Outcome.CARRIED
    assert (closed.votes_for, closed.votes_against, closed.votes_abstain) == (1, 0, 3)


def test_abstentions_count_as_not_in_favour_when_the_majority_is_of_members_present(
    add_member, attend, vote, propose, clerk_a, founding_bylaws
):
    set_rules(founding_bylaws, majority_basis=BylawVersion.MajorityBasis.PRESENT)
    members = [add_member() for _ in range(4)]
    for member in members:
        attend(member)
    resolution = propose()
    for member, choice in zip(members, [FOR, FOR, ABSTAIN, AGAINST], strict=True):
        vote(resolution, member, choice)

    assert close(resolution, clerk_a).outcome == Resolution.Outcome.REJECTED


def test_all_abstaining_rejects(add_member, attend, vote, propose, clerk_a):
    members = [add_member() for _ in range(2)]
    for member in members:
        attend(member)
    resolution = propose()
    for member in members:
        vote(resolution, member, ABSTAIN)

    assert close(resolution, clerk_a).outcome == Resolution.Outcome.REJECTED


def test_proxies_count_towards_quorum_when_the_bylaws_say_so(
    add_member, attend, vote, propose, clerk_a, founding_bylaws
):
    members = [add_member() for _ in range(4)]
    attend(members[0])
    attend(members[1], "proxy", proxy_holder="議長 山田")
    resolution = propose()
    vote(resolution, members[0], FOR)
    vote(resolution, members[1], FOR)

    assert close(resolution, clerk_a).outcome == Resolution.Outcome.CARRIED


def test_proxies_neither_count_nor_vote_when_the_bylaws_say_not(
    add_member, attend, vote, propose, clerk_a, founding_bylaws
):
    set_rules(founding_bylaws, proxies_counted=False)
    members = [add_member() for _ in range(4)]
    attend(members[0])
    attend(members[1], "proxy")
    resolution = propose()
    vote(resolution, members[0], FOR)

    with pytest.raises(ValidationError, match="proxy cannot vote"):
        vote(resolution, members[1], FOR)
    assert close(resolution, clerk_a).outcome == Resolution.Outcome.NO_QUORUM


def test_associates_vote_only_where_the_bylaws_let_them(
    add_member, attend, vote, propose, clerk_a, founding_bylaws
):
    regular, associate, observer = add_member(), add_member("associate"), add_member("observer")
    for member in (regular, associate, observer):
        attend(member)
    resolution = propose()

    with pytest.raises(ValidationError, match="only regular members vote"):
        vote(resolution, associate, FOR)
    with pytest.raises(ValidationError, match="only regular members vote"):
        vote(resolution, observer, FOR)
    assert not Vote.objects.exists()

    set_rules(founding_bylaws, associates_may_vote=True)
    vote(resolution, associate, AGAINST)
    with pytest.raises(ValidationError, match="regular and associate members"):
        vote(resolution, observer, FOR)
    assert Vote.objects.get().membership == associate


def test_associates_do_not_count_towards_the_quorum(add_member, attend, vote, propose, clerk_a):
    regulars = [add_member() for _ in range(3)]
    associates = [add_member("associate") for _ in range(3)]
    attend(regulars[0])
    for associate in associates:
        attend(associate)
    resolution = propose()
    vote(resolution, regulars[0], FOR)

    closed = close(resolution, clerk_a)

    assert closed.outcome == Resolution.Outcome.NO_QUORUM
    assert (closed.regular_members, closed.members_present) == (3, 1)


def test_a_member_who_left_before_the_assembly_neither_votes_nor_counts(
    add_member, attend, vote, propose, clerk_a
):
    staying = [add_member() for _ in range(2)]
    leaver = add_member()
    services.membership_leave(
        actor=clerk_a, membership=leaver, left_on=ASSEMBLY_DAY - datetime.timedelta(days=1)
    )

    with pytest.raises(ValidationError, match="not a member on the assembly date"):
        attend(leaver)
    for member in staying:
        attend(member)
    resolution = propose()
    with pytest.raises(ValidationError, match="not a member on the assembly date"):
        vote(resolution, leaver, FOR)
    vote(resolution, staying[0], FOR)

    closed = close(resolution, clerk_a)
    assert closed.regular_members == 2
    assert closed.outcome == Resolution.Outcome.CARRIED


def test_an_absent_or_unrecorded_member_cannot_vote(add_member, attend, vote, propose):
    absent, unrecorded = add_member(), add_member()
    attend(absent, "absent")
    resolution = propose()

    with pytest.raises(ValidationError, match="recorded as absent"):
        vote(resolution, absent, FOR)
    with pytest.raises(ValidationError, match="Record this member's attendance"):
        vote(resolution, unrecorded, FOR)


def test_a_member_of_another_consortium_cannot_vote(
    add_member, attend, vote, propose, consortium_b
):
    outsider = add_member(consortium=consortium_b)
    resolution = propose()

    with pytest.raises(ValidationError, match="Only members of this consortium"):
        vote(resolution, outsider, FOR)


def test_one_vote_per_member_in_the_service_and_the_database(add_member, attend, vote, propose):
    member = add_member()
    attend(member)
    resolution = propose()
    vote(resolution, member, FOR)

    with pytest.raises(ValidationError, match="already voted"):
        vote(resolution, member, AGAINST)
    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(resolution=resolution, membership=member, choice=AGAINST)
    assert Vote.objects.get().choice == FOR


def test_closing_freezes_the_vote(add_member, attend, vote, propose, clerk_a):
    first, second = add_member(), add_member()
    attend(first)
    attend(second)
    resolution = propose()
    cast = vote(resolution, first, FOR)
    close(resolution, clerk_a)

    with pytest.raises(ValidationError, match="closed"):
        vote(resolution, second, FOR)
    with pytest.raises(ValidationError, match="closed"):
        services.resolution_vote_change(actor=clerk_a, vote=cast, choice=AGAINST)
    with pytest.raises(ValidationError, match="closed"):
        close(resolution, clerk_a)
    with pytest.raises(ValidationError, match="frozen"):
        attend(second, "absent")
    assert Vote.objects.count() == 1
    assert Resolution.objects.get().votes_for == 1


def test_a_vote_cannot_close_before_the_assembly_day(add_member, attend, propose, clerk_a):
    resolution = propose()

    with pytest.raises(ValidationError, match="on or after that day"):
        services.resolution_close(
            actor=clerk_a, resolution=resolution, today=ASSEMBLY_DAY - datetime.timedelta(days=1)
        )
    assert Resolution.objects.get().is_open


def test_a_vote_can_be_corrected_while_open(add_member, attend, vote, propose, clerk_a):
    member = add_member()
    attend(member)
    resolution = propose()
    cast = vote(resolution, member, FOR)

    services.resolution_vote_change(actor=clerk_a, vote=cast, choice=AGAINST)

    assert close(resolution, clerk_a).outcome == Resolution.Outcome.REJECTED


def test_no_bylaws_in_force_means_no_vote(consortium_b, clerk_b, superuser):
    assembly = services.assembly_create(
        actor=clerk_b,
        consortium=consortium_b,
        title_ja="設立前総会",
        held_on=ASSEMBLY_DAY,
        online=True,
    )
    resolution = services.resolution_propose(
        actor=clerk_b, assembly=assembly, kind="other", title_ja="議案"
    )

    with pytest.raises(ValidationError, match="No bylaws are in force"):
        services.resolution_close(actor=clerk_b, resolution=resolution, today=ASSEMBLY_DAY)


def test_votes_pin_the_assembly_date_and_the_voters_class(
    add_member, attend, vote, propose, clerk_a, assembly
):
    member = add_member()
    attend(member)
    resolution = propose()

    services.assembly_update(
        actor=clerk_a, assembly=assembly, held_on=ASSEMBLY_DAY + datetime.timedelta(days=1)
    )  # no votes yet: the date may move
    vote(resolution, member, FOR)

    with pytest.raises(ValidationError, match="date can no longer change"):
        services.assembly_update(actor=clerk_a, assembly=assembly, held_on=ASSEMBLY_DAY)
    with pytest.raises(ValidationError, match="close those votes"):
        services.membership_update(actor=clerk_a, membership=member, member_class="observer")
    member.refresh_from_db()
    assert member.member_class == "regular"
