"""Audit actions in words in templates: ``{{ entry.action|action_label }}``."""

from django import template
from django.apps import apps

from audit import actions

register = template.Library()


@register.filter
def action_label(action: str) -> str:
    """Return what the audit action ``action`` means, in the active language."""
    return str(actions.label(action))


@register.filter
def object_label(object_type: str) -> str:
    """
    Return the name of the kind of record an entry is about ("data-use request" for
    ``review.reviewticket``), in the active language; the code for a model that is gone.
    """
    app_label, _, model_name = (object_type or "").partition(".")
    try:
        model = apps.get_model(app_label, model_name)
    except (LookupError, ValueError):
        return object_type
    return str(model._meta.verbose_name)
