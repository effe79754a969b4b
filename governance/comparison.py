"""Article-by-article comparison of two bylaw versions (新旧対照表)."""

import difflib
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import BylawArticle, BylawVersion

ADDED, REMOVED, CHANGED, UNCHANGED = "added", "removed", "changed", "unchanged"


@dataclass
class ArticleChange:
    """One article's fate between two versions, with the changed text marked up."""

    number: int
    status: str
    old: BylawArticle | None
    new: BylawArticle | None
    changed_fields: list[str] = field(default_factory=list)
    old_html: dict[str, SafeString] = field(default_factory=dict)
    new_html: dict[str, SafeString] = field(default_factory=dict)


FIELDS = ["title_ja", "text_ja", "title_en", "text_en"]


def highlight(old: str, new: str) -> tuple[SafeString, SafeString]:
    """
    Return (old, new) as HTML with what was removed in <del> and what was added in <ins>.

    Compared character by character, which suits Japanese text (no spaces between words).
    """
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    old_parts, new_parts = [], []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            old_parts.append(escape(old[a1:a2]))
            new_parts.append(escape(new[b1:b2]))
            continue
        if a2 > a1:
            old_parts.append(f"<del>{escape(old[a1:a2])}</del>")
        if b2 > b1:
            new_parts.append(f"<ins>{escape(new[b1:b2])}</ins>")
    return mark_safe("".join(old_parts)), mark_safe("".join(new_parts))  # noqa: S308 (escaped)


def compare_versions(old: BylawVersion, new: BylawVersion) -> list[ArticleChange]:
    """Return the changes from ``old`` to ``new``, article by article in number order."""
    old_articles = {article.number: article for article in old.articles.all()}
    new_articles = {article.number: article for article in new.articles.all()}
    changes = []
    for number in sorted(old_articles.keys() | new_articles.keys()):
        before, after = old_articles.get(number), new_articles.get(number)
        if before is None:
            changes.append(ArticleChange(number, ADDED, None, after))
            continue
        if after is None:
            changes.append(ArticleChange(number, REMOVED, before, None))
            continue
        change = ArticleChange(number, UNCHANGED, before, after)
        for name in FIELDS:
            old_value, new_value = getattr(before, name), getattr(after, name)
            if old_value != new_value:
                change.changed_fields.append(name)
            change.old_html[name], change.new_html[name] = highlight(old_value, new_value)
        if change.changed_fields:
            change.status = CHANGED
        changes.append(change)
    return changes


def rule_changes(old: BylawVersion, new: BylawVersion) -> list[tuple[str, object, object]]:
    """Return (label, old value, new value) for each structured rule that differs."""
    from .services.bylaws import RULE_FIELDS

    changed = []
    for name in sorted(RULE_FIELDS):
        field_ = BylawVersion._meta.get_field(name)
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            if field_.choices:
                before = dict(field_.flatchoices).get(before, before)
                after = dict(field_.flatchoices).get(after, after)
            changed.append((field_.verbose_name, before, after))
    return changed
