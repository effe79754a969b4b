"""Template filters of the consent app."""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext

from ..models import localized

register = template.Library()

# A month as the calendar averages it (365.25 / 12): retention periods are set in days by the
# secretariat and read by residents in years and months.
DAYS_PER_MONTH = 30.4375


@register.filter
def pick(value: dict, language: str | None = None) -> str:
    """Return the ``language`` entry of a {"ja": ..., "en": ...} mapping, Japanese by default."""
    language = (language or get_language() or "ja")[:2]
    if not isinstance(value, dict):
        return value
    return value.get(language) or value.get("ja", "")


# Readings written as publishers (and Aozora Bunko) write them: 漢字《かんじ》, or ｜base《reading》
# when the base is not a run of kanji (｜ＡＩ《エーアイ》).
_RUBY_RE = re.compile(
    r"(?:[｜|]([^｜|《》\n]+)|([\u3005\u3006\u4e00-\u9fff\uf900-\ufaff]+))《([^《》\n]+)》"
)


@register.filter
def ruby_marks(text: str) -> SafeString:
    """
    Return ``text`` escaped, with each reading written 漢字《かんじ》 as furigana
    (``<ruby>漢字<rt>かんじ</rt></ruby>``): the secretariat's Easy Japanese notices use them.
    Escaping comes first, so the text can add no markup but these.
    """

    def ruby(match: re.Match) -> str:
        base = match.group(1) or match.group(2)
        return f"<ruby>{base}<rp>(</rp><rt>{match.group(3)}</rt><rp>)</rp></ruby>"

    return mark_safe(_RUBY_RE.sub(ruby, escape(text or "")))


@register.filter
def local(obj, field: str) -> str:
    """Return ``obj.<field>_en`` in English, else ``obj.<field>_ja``."""
    return localized(obj, field)


@register.filter
def period(days) -> str:
    """
    Return a number of days as a person says it: "5 years", "1 year and 6 months", "3 months";
    periods shorter than four weeks stay in days.
    """
    try:
        days = int(days)
    except (TypeError, ValueError):
        return ""
    if days < 28:
        return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    years, months = divmod(round(days / DAYS_PER_MONTH), 12)
    year_text = ngettext("%(count)d year", "%(count)d years", years) % {"count": years}
    month_text = ngettext("%(count)d month", "%(count)d months", months) % {"count": months}
    if not months:
        return year_text
    if not years:
        return month_text
    return gettext("%(years)s and %(months)s") % {"years": year_text, "months": month_text}


@register.filter
def names(items, language: str | None = None) -> str:
    """
    Join the localised names of ``items`` (dicts with a {"ja", "en"} ``name``) as the language
    joins a list: 「A、B、C」 in Japanese, "A, B and C" in English.
    """
    parts = [pick(item.get("name", ""), language) for item in items or []]
    return join_words(parts)


def join_words(parts: list[str]) -> str:
    """Join words as the current language lists them."""
    parts = [part for part in parts if part]
    if len(parts) < 2:
        return "".join(parts)
    if (get_language() or "ja").startswith("ja"):
        return "、".join(parts)
    if len(parts) == 2:
        return gettext("%(first)s and %(last)s") % {"first": parts[0], "last": parts[1]}
    return gettext("%(first)s and %(last)s") % {
        "first": ", ".join(parts[:-1]) + ",",
        "last": parts[-1],
    }


@register.filter
def has_sensitive(terms: dict) -> bool:
    """Return True if the notice's terms include special-care-required data (要配慮個人情報)."""
    return any(category.get("sensitive") for category in (terms or {}).get("categories", []))


@register.simple_tag
def portal_links() -> list[dict]:
    """Return the portal menu's links that other apps registered (``consent.portal_links``)."""
    from django.urls import reverse

    from .. import portal_links as registry

    return [
        {"url": reverse(name), "name": name.rsplit(":", 1)[-1], "label": label}
        for name, label in registry.links()
    ]
