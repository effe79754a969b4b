"""Bylaw versions: drafts, adoption by resolution, the version in force, and comparison."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from governance import comparison, selectors, services
from governance.models import BylawArticle, BylawVersion, Resolution, Vote

from .conftest import ASSEMBLY_DAY, FOUNDED, close

pytestmark = pytest.mark.django_db
FOR, AGAINST, ABSTAIN = Vote.Choice.FOR, Vote.Choice.AGAINST, Vote.Choice.ABSTAIN


@pytest.fixture
def amendment_draft(founding_bylaws, clerk_a):
    draft = services.bylaw_version_create(
        actor=clerk_a,
        consortium=founding_bylaws.consortium,
        title_ja="会津協議会規約（改正案）",
        title_en="Bylaws (amended)",
        based_on=founding_bylaws,
    )
    services.bylaw_article_set(
        actor=clerk_a,
        version=draft,
        number=2,
        title_ja="目的",
        text_ja="本会は地域の持続的な発展を目的とする。",
    )
    services.bylaw_article_set(
        actor=clerk_a, version=draft, number=3, title_ja="秘密保持", text_ja="会員は秘密を守る。"
    )
    return draft


def amend(propose, draft, effective_on):
    return propose("bylaw_amendment", bylaw_version=draft, amendment_effective_on=effective_on)


def vote_all(vote, resolution, members, choices):
    for member, choice in zip(members, choices, strict=True):
        vote(resolution, member, choice)


def test_a_new_version_copies_the_rules_and_articles_it_is_based_on(
    founding_bylaws, amendment_draft
):
    assert amendment_draft.number == 2
    assert amendment_draft.is_draft
    assert list(amendment_draft.articles.values_list("number", flat=True)) == [1, 2, 3]
    assert amendment_draft.special_majority_numerator == founding_bylaws.special_majority_numerator


def test_an_adopted_version_cannot_change(founding_bylaws, clerk_a):
    with pytest.raises(ValidationError, match="adopted and can no longer change"):
        services.bylaw_article_set(
            actor=clerk_a, version=founding_bylaws, number=1, title_ja="名称", text_ja="改ざん"
        )
    with pytest.raises(ValidationError, match="adopted and can no longer change"):
        services.bylaw_version_update(actor=clerk_a, version=founding_bylaws, quorum_numerator=1)
    with pytest.raises(ValidationError, match="adopted and can no longer change"):
        services.bylaw_article_delete(actor=clerk_a, article=founding_bylaws.articles.first())
    assert founding_bylaws.articles.get(number=1).text_ja == "本会は…と称する。"


def test_only_the_first_version_is_established_without_a_resolution(amendment_draft, clerk_a):
    with pytest.raises(ValidationError, match="must be adopted by a general assembly resolution"):
        services.bylaw_version_establish(
            actor=clerk_a,
            version=amendment_draft,
            adopted_on=ASSEMBLY_DAY,
            effective_on=ASSEMBLY_DAY,
        )
    assert BylawVersion.objects.get(pk=amendment_draft.pk).is_draft


def test_a_special_majority_of_two_thirds_carries_an_amendment_from_its_date(
    add_member, attend, vote, propose, clerk_a, amendment_draft, founding_bylaws
):
    members = [add_member() for _ in range(3)]
    for member in members:
        attend(member)
    effective = ASSEMBLY_DAY + datetime.timedelta(days=11)
    resolution = amend(propose, amendment_draft, effective)
    vote_all(vote, resolution, members, [FOR, FOR, AGAINST])  # exactly two thirds

    closed = close(resolution, clerk_a)

    assert closed.outcome == Resolution.Outcome.CARRIED
    version = BylawVersion.objects.get(pk=amendment_draft.pk)
    assert (version.status, version.adopted_on, version.effective_on) == (
        BylawVersion.Status.ADOPTED,
        ASSEMBLY_DAY,
        effective,
    )
    assert version.adopted_by == closed
    consortium = founding_bylaws.consortium
    assert (
        selectors.bylaw_in_force(consortium, effective - datetime.timedelta(days=1))
        == founding_bylaws
    )
    assert selectors.bylaw_in_force(consortium, effective) == version
    assert selectors.bylaw_in_force(consortium, FOUNDED - datetime.timedelta(days=1)) is None


def test_below_two_thirds_an_amendment_is_rejected_and_stays_a_draft(
    add_member, attend, vote, propose, clerk_a, amendment_draft
):
    members = [add_member() for _ in range(5)]
    for member in members:
        attend(member)
    resolution = amend(propose, amendment_draft, ASSEMBLY_DAY)
    # 3 of 5 is a simple majority but less than two thirds.
    vote_all(vote, resolution, members, [FOR, FOR, FOR, AGAINST, AGAINST])

    assert close(resolution, clerk_a).outcome == Resolution.Outcome.REJECTED
    assert BylawVersion.objects.get(pk=amendment_draft.pk).is_draft


def test_an_amendment_cannot_take_effect_before_its_adoption(propose, amendment_draft, clerk_a):
    with pytest.raises(ValidationError, match="cannot take effect before its adoption"):
        amend(propose, amendment_draft, ASSEMBLY_DAY - datetime.timedelta(days=1))
    assert not Resolution.objects.exists()

    resolution = amend(propose, amendment_draft, ASSEMBLY_DAY)  # the day itself is fine
    assert resolution.amendment_effective_on == ASSEMBLY_DAY


def test_the_database_refuses_a_version_in_force_before_adoption(founding_bylaws):
    with pytest.raises(IntegrityError), transaction.atomic():
        BylawVersion.objects.filter(pk=founding_bylaws.pk).update(
            effective_on=FOUNDED - datetime.timedelta(days=1)
        )


def test_an_amendment_names_a_draft_of_its_own_consortium(
    propose, founding_bylaws, consortium_b, clerk_b
):
    with pytest.raises(ValidationError, match="already adopted"):
        amend(propose, founding_bylaws, ASSEMBLY_DAY)
    foreign = services.bylaw_version_create(
        actor=clerk_b, consortium=consortium_b, title_ja="柏の葉規約", title_en="Bylaws"
    )
    with pytest.raises(ValidationError, match="this consortium's bylaws"):
        amend(propose, foreign, ASSEMBLY_DAY)
    with pytest.raises(ValidationError, match="Only a bylaw amendment names"):
        propose("budget", bylaw_version=foreign)


def test_comparison_shows_added_removed_and_changed_articles(
    founding_bylaws, amendment_draft, clerk_a
):
    services.bylaw_article_delete(actor=clerk_a, article=amendment_draft.articles.get(number=1))

    changes = comparison.compare_versions(founding_bylaws, amendment_draft)

    assert [(c.number, c.status) for c in changes] == [(1, "removed"), (2, "changed"), (3, "added")]
    changed = changes[1]
    assert changed.changed_fields == ["text_ja"]
    assert changed.new_html["text_ja"] == "本会は地域の<ins>持続的な</ins>発展を目的とする。"
    assert changed.old_html["text_ja"] == "本会は地域の発展を目的とする。"


def test_the_admin_comparison_can_show_the_changed_articles_only(
    client, founding_bylaws, amendment_draft, clerk_a
):
    client.force_login(clerk_a)
    url = reverse("admin:governance_bylawversion_compare", args=[amendment_draft.pk])

    everything = client.get(url, {"with": founding_bylaws.pk}).text
    changes_only = client.get(url, {"with": founding_bylaws.pk, "show": "changes"}).text

    # Article 1 (名称) is the same in both versions: listed in full, left out of "changes only",
    # which says how many articles it leaves out and keeps its box ticked.
    assert "本会は…と称する。" in everything and "本会は…と称する。" not in changes_only
    assert "<ins>持続的な</ins>" in changes_only and "会員は秘密を守る。" in changes_only
    assert 'id="id_show" checked' in changes_only and 'id="id_show" checked' not in everything
    assert "1 unchanged article is not shown." in changes_only or (
        "変更のない条 1 件は表示していません。" in changes_only
    )


def test_comparison_escapes_the_articles_text(founding_bylaws, amendment_draft, clerk_a):
    services.bylaw_article_set(
        actor=clerk_a,
        version=amendment_draft,
        number=2,
        title_ja="目的",
        text_ja="<script>alert(1)</script>",
    )

    change = comparison.compare_versions(founding_bylaws, amendment_draft)[1]

    assert "<script>" not in change.new_html["text_ja"]
    assert "&lt;script&gt;" in change.new_html["text_ja"]


def test_rule_changes_are_listed(founding_bylaws, amendment_draft, clerk_a):
    services.bylaw_version_update(
        actor=clerk_a,
        version=amendment_draft,
        special_majority_numerator=3,
        special_majority_denominator=4,
    )

    labels = [
        str(label)
        for label, _old, _new in comparison.rule_changes(
            founding_bylaws, BylawVersion.objects.get(pk=amendment_draft.pk)
        )
    ]

    assert labels == ["special majority denominator", "special majority numerator"]


def test_a_special_majority_must_lie_between_half_and_whole(amendment_draft, clerk_a):
    with pytest.raises(ValidationError):
        services.bylaw_version_update(
            actor=clerk_a,
            version=amendment_draft,
            special_majority_numerator=1,
            special_majority_denominator=3,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        BylawVersion.objects.filter(pk=amendment_draft.pk).update(
            quorum_numerator=3, quorum_denominator=2
        )


def test_article_numbers_are_unique_within_a_version(amendment_draft):
    with pytest.raises(IntegrityError), transaction.atomic():
        BylawArticle.objects.create(version=amendment_draft, number=2, title_ja="重複", text_ja="x")


def test_an_amendment_takes_effect_after_every_version_already_adopted(
    add_member, attend, vote, propose, clerk_a, amendment_draft, founding_bylaws
):
    member = add_member()
    attend(member)
    first = amend(propose, amendment_draft, ASSEMBLY_DAY + datetime.timedelta(days=30))
    vote(first, member, FOR)
    close(first, clerk_a)
    later_draft = services.bylaw_version_create(
        actor=clerk_a,
        consortium=founding_bylaws.consortium,
        title_ja="再改正案",
        title_en="Second amendment",
        based_on=amendment_draft,
    )

    with pytest.raises(ValidationError, match="must take effect after that day"):
        amend(propose, later_draft, ASSEMBLY_DAY + datetime.timedelta(days=10))
    with pytest.raises(ValidationError, match="must take effect after that day"):
        amend(propose, later_draft, ASSEMBLY_DAY + datetime.timedelta(days=30))
    second = amend(propose, later_draft, ASSEMBLY_DAY + datetime.timedelta(days=31))
    assert second.amendment_effective_on == ASSEMBLY_DAY + datetime.timedelta(days=31)


def test_the_text_under_vote_is_frozen(add_member, attend, vote, propose, clerk_a, amendment_draft):
    member = add_member()
    attend(member)
    resolution = amend(propose, amendment_draft, ASSEMBLY_DAY)
    services.bylaw_article_set(  # no vote yet: a typo may still be corrected
        actor=clerk_a,
        version=amendment_draft,
        number=3,
        title_ja="秘密保持",
        text_ja="会員は秘密を守らなければならない。",
    )
    vote(resolution, member, FOR)

    with pytest.raises(ValidationError, match="Members are voting on version 2"):
        services.bylaw_article_set(
            actor=clerk_a, version=amendment_draft, number=3, title_ja="秘密保持", text_ja="改変"
        )
    with pytest.raises(ValidationError, match="Members are voting on version 2"):
        services.bylaw_version_update(
            actor=clerk_a, version=amendment_draft, associates_may_vote=True
        )
    assert amendment_draft.articles.get(number=3).text_ja == "会員は秘密を守らなければならない。"
