"""Template filters of the consent app."""

from django import template
from django.utils.translation import get_language

from ..models import localized

register = template.Library()


@register.filter
def pick(value: dict, language: str | None = None) -> str:
    """Return the ``language`` entry of a {"ja": ..., "en": ...} mapping, Japanese by default."""
    language = (language or get_language() or "ja")[:2]
    if not isinstance(value, dict):
        return value
    return value.get(language) or value.get("ja", "")


@register.filter
def local(obj, field: str) -> str:
    """Return ``obj.<field>_en`` in English, else ``obj.<field>_ja``."""
    return localized(obj, field)
