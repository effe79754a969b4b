"""Bylaw versions and their articles. Adoption by resolution happens in ``resolution_close``."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from ..models import BylawArticle, BylawVersion, Consortium, Resolution, Vote
from ._common import ActorLike, iso, record, set_fields

RULE_FIELDS = {
    "quorum_numerator",
    "quorum_denominator",
    "proxies_counted",
    "majority_basis",
    "special_majority_numerator",
    "special_majority_denominator",
    "associates_may_vote",
    "admission_requires_resolution",
}
VERSION_FIELDS = {"title_ja", "title_en"} | RULE_FIELDS


def _refuse_unless_draft(version: BylawVersion) -> None:
    # Members vote on a fixed text: once votes are recorded on it, it is frozen like an
    # adopted one (a rejected draft can be edited again and proposed anew).
    if Vote.objects.filter(
        resolution__bylaw_version=version, resolution__status=Resolution.Status.OPEN
    ).exists():
        raise ValidationError(
            _("Members are voting on version %(number)s; its text and rules can no longer change.")
            % {"number": version.number}
        )
    if not version.is_draft:
        raise ValidationError(
            _(
                "Version %(number)s has been adopted and can no longer change. Create a new "
                "draft version based on it and have the general assembly adopt it."
            )
            % {"number": version.number}
        )


@transaction.atomic
def bylaw_version_create(
    *,
    actor: ActorLike,
    consortium: Consortium,
    title_ja: str,
    title_en: str,
    based_on: BylawVersion | None = None,
    **rules,
) -> BylawVersion:
    """
    Create a draft bylaw version, numbered after the last; with ``based_on``, copy that
    version's rules and articles as the starting point of an amendment.
    """
    Consortium.objects.select_for_update().get(pk=consortium.pk)
    if based_on is not None and based_on.consortium_id != consortium.pk:
        raise ValidationError({"based_on": _("Choose a version of this consortium's bylaws.")})
    if set(rules) - RULE_FIELDS:
        raise TypeError(f"unknown bylaw rules {sorted(set(rules) - RULE_FIELDS)}")
    inherited = {field: getattr(based_on, field) for field in RULE_FIELDS} if based_on else {}
    last = BylawVersion.objects.filter(consortium=consortium).aggregate(n=Max("number"))["n"]
    version = BylawVersion(
        consortium=consortium,
        number=(last or 0) + 1,
        title_ja=title_ja,
        title_en=title_en,
        based_on=based_on,
        **(inherited | rules),
    )
    version.full_clean()
    version.save()
    if based_on is not None:
        BylawArticle.objects.bulk_create(
            BylawArticle(
                version=version,
                number=article.number,
                title_ja=article.title_ja,
                title_en=article.title_en,
                text_ja=article.text_ja,
                text_en=article.text_en,
            )
            for article in based_on.articles.all()
        )
    record(
        actor=actor,
        action="bylaw.version_created",
        obj=version,
        consortium=consortium,
        payload={
            "number": version.number,
            "based_on_id": getattr(based_on, "pk", None),
            "articles": version.articles.count(),
        },
    )
    return version


@transaction.atomic
def bylaw_version_update(*, actor: ActorLike, version: BylawVersion, **fields) -> BylawVersion:
    """Change a draft version's titles or rules."""
    version = BylawVersion.objects.select_for_update().get(pk=version.pk)
    _refuse_unless_draft(version)
    changed = set_fields(version, fields, VERSION_FIELDS)
    version.full_clean()
    version.save()
    record(
        actor=actor,
        action="bylaw.version_updated",
        obj=version,
        consortium=version.consortium_id,
        payload={"number": version.number, "changed": changed},
    )
    return version


@transaction.atomic
def bylaw_version_establish(
    *,
    actor: ActorLike,
    version: BylawVersion,
    adopted_on: datetime.date,
    effective_on: datetime.date,
) -> BylawVersion:
    """
    Record the founding bylaws (設立時規約), adopted by the founding assembly before the
    platform kept the consortium's assemblies. Only the consortium's first adopted version may
    be established this way; every later version is adopted by a resolution.
    """
    version = BylawVersion.objects.select_for_update().get(pk=version.pk)
    _refuse_unless_draft(version)
    if BylawVersion.objects.filter(
        consortium_id=version.consortium_id, status=BylawVersion.Status.ADOPTED
    ).exists():
        raise ValidationError(
            _(
                "This consortium already has adopted bylaws: a new version must be adopted by a "
                "general assembly resolution (a bylaw amendment)."
            )
        )
    if effective_on < adopted_on:
        raise ValidationError(
            {"effective_on": _("Bylaws cannot take effect before they are adopted.")}
        )
    if not version.articles.exists():
        raise ValidationError(_("Add the articles before adopting the bylaws."))
    version.status = BylawVersion.Status.ADOPTED
    version.adopted_on = adopted_on
    version.effective_on = effective_on
    version.full_clean()
    version.save()
    record(
        actor=actor,
        action="bylaw.established",
        obj=version,
        consortium=version.consortium_id,
        payload={
            "number": version.number,
            "adopted_on": iso(adopted_on),
            "effective_on": iso(effective_on),
        },
    )
    return version


@transaction.atomic
def bylaw_article_set(
    *,
    actor: ActorLike,
    version: BylawVersion,
    number: int,
    title_ja: str,
    text_ja: str,
    title_en: str = "",
    text_en: str = "",
    article: BylawArticle | None = None,
) -> BylawArticle:
    """
    Write article ``number`` of a draft version (create it, or replace its title and text).
    Pass ``article`` to renumber an existing article.
    """
    version = BylawVersion.objects.select_for_update().get(pk=version.pk)
    _refuse_unless_draft(version)
    if article is None:
        article = BylawArticle.objects.filter(version=version, number=number).first()
    elif article.version_id != version.pk:
        raise ValidationError(_("This article belongs to another version."))
    created = article is None
    if created:
        article = BylawArticle(version=version)
    changed = set_fields(
        article,
        {
            "number": number,
            "title_ja": title_ja,
            "title_en": title_en,
            "text_ja": text_ja,
            "text_en": text_en,
        },
        {"number", "title_ja", "title_en", "text_ja", "text_en"},
    )
    article.full_clean()
    article.save()
    record(
        actor=actor,
        action="bylaw.article_set",
        obj=article,
        consortium=version.consortium_id,
        payload={
            "version_id": version.pk,
            "number": article.number,
            "created": created,
            "changed": changed,
        },
    )
    return article


@transaction.atomic
def bylaw_article_delete(*, actor: ActorLike, article: BylawArticle) -> None:
    """Remove an article from a draft version."""
    version = BylawVersion.objects.select_for_update().get(pk=article.version_id)
    _refuse_unless_draft(version)
    article_id, number = article.pk, article.number
    article.delete()
    record(
        actor=actor,
        action="bylaw.article_deleted",
        object_type="governance.bylawarticle",
        object_id=article_id,
        consortium=version.consortium_id,
        payload={"version_id": version.pk, "number": number},
    )
