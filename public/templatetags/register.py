"""Filters of the register's pages: a row's value in the page's language, labels, hidden counts."""

from django import template
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from governance.models import Membership, Organization, Resolution, Role
from grants.models import Grant
from participation.models import Consultation, Proposal
from review.models import Obligation, ReviewTicket

from .. import selectors

register = template.Library()


def _english() -> bool:
    return (get_language() or "ja").startswith("en")


@register.filter
def loc(row: dict, field: str):
    """Return ``row``'s ``field`` in the page's language (``field_en``, else ``field_ja``)."""
    if _english() and row.get(f"{field}_en"):
        return row[f"{field}_en"]
    return row.get(f"{field}_ja", "")


@register.filter
def loc_attr(obj, field: str):
    """Return ``obj``'s ``field`` in the page's language (``field_en``, else ``field_ja``)."""
    if _english() and getattr(obj, f"{field}_en", ""):
        return getattr(obj, f"{field}_en")
    return getattr(obj, f"{field}_ja", "")


@register.filter
def joined(values) -> str:
    """Join names as the page's language lists them (、 in Japanese, commas in English)."""
    values = list(values)
    if not values:
        return "—"
    return ", ".join(values) if _english() else "、".join(values)


@register.filter
def count(value) -> str:
    """Return a count, or "fewer than 10" for a hidden one (None)."""
    if value is None:
        return _("fewer than %(n)d") % {"n": selectors.SMALL_COUNT}
    return f"{value:,}"


def _choices(kind: str) -> dict:
    return {
        "state": {
            **dict(ReviewTicket.State.choices),
            selectors.EXPIRED: pgettext("ticket state", "expired"),
        },
        "anonymisation": dict(ReviewTicket.Anonymisation.choices),
        "member_class": dict(Membership.MemberClass.choices),
        "organization_kind": dict(Organization.Kind.choices),
        "role": dict(Role.Kind.choices),
        "expertise": dict(Role.Expertise.choices),
        "outcome": dict(Resolution.Outcome.choices),
        "resolution_kind": dict(Resolution.Kind.choices),
        "grant_status": dict(Grant.Status.choices),
        "obligation_state": dict(Obligation.State.choices),
        "obligation_kind": dict(Obligation.Kind.choices),
        "consultation_subject": dict(Consultation.Subject.choices),
        "proposal_kind": dict(Proposal.Kind.choices),
        "proposal_outcome": dict(Proposal.Outcome.choices),
        "consultation_phase": {
            "upcoming": pgettext("consultation", "announced"),
            "open": pgettext("consultation", "open for comments"),
            "closed": pgettext("consultation", "closed, being answered"),
            "answered": pgettext("consultation", "result published"),
        },
    }[kind]


@register.filter
def label(value, kind: str) -> str:
    """Return the translated label of a stored choice ``value`` of ``kind``."""
    return str(_choices(kind).get(value, value))


@register.simple_tag(takes_context=True)
def rurl(context, name: str, **kwargs) -> str:
    """Reverse a register page in the page's language (keyword arguments only)."""
    from django.urls import reverse

    return reverse(f"public:{name}", kwargs={**kwargs, "lang": context["lang"]})
