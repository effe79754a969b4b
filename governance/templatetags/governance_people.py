from django import template

from governance.people import person_name as _person_name

register = template.Library()


@register.filter
def person_name(user) -> str:
    """Name a user family name first (see governance.people.person_name)."""
    return _person_name(user)
