"""Filters of the register's pages: a row's value in the page's language, labels, hidden counts."""

from django import template
from django.conf import settings
from django.utils.translation import get_language, pgettext, pgettext_lazy

from governance.models import Membership, Organization, Resolution, Role
from grants.models import Grant
from participation.models import Consultation, Meeting, Proposal
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
        return pgettext("register", "fewer than %(n)d") % {"n": selectors.SMALL_COUNT}
    return f"{value:,}"


# Each kind's labels, translated when shown (lazy): built once, not for every label a page shows.
CHOICES = {
    "state": {
        **dict(ReviewTicket.State.choices),
        selectors.EXPIRED: pgettext_lazy("ticket state", "expired"),
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
    "meeting_format": dict(Meeting.Format.choices),
    "meeting_status": dict(Meeting.Status.choices),
    "consultation_phase": {
        "upcoming": pgettext_lazy("consultation", "announced"),
        "open": pgettext_lazy("consultation", "open for comments"),
        "closed": pgettext_lazy("consultation", "closed, being answered"),
        "answered": pgettext_lazy("consultation", "result published"),
    },
}


@register.filter
def label(value, kind: str) -> str:
    """Return the translated label of a stored choice ``value`` of ``kind``."""
    return str(CHOICES[kind].get(value, value))


@register.simple_tag(takes_context=True)
def rurl(context, name: str, **kwargs) -> str:
    """Reverse a register page in the page's language (keyword arguments only)."""
    from django.urls import reverse

    return reverse(f"public:{name}", kwargs={**kwargs, "lang": context["lang"]})


# Words of the register that a reader of やさしい日本語 may not know, each with a plain
# explanation, shown under the pages that use them (in Easy Japanese only: the other
# languages' readers have the ordinary terms).
TERMS = {
    "consortium": (
        pgettext_lazy("term", "Consortium (協議会)"),
        pgettext_lazy(
            "term",
            "A group of the city, companies, universities and residents' groups that work "
            "together to make the town better.",
        ),
    ),
    "board": (
        pgettext_lazy("term", "Data-ethics board (データ倫理審査会)"),
        pgettext_lazy(
            "term",
            "Experts in law, security and data ethics, and a residents' representative, who "
            "check whether a use of residents' data is right and decide on it.",
        ),
    ),
    "sensitive": (
        pgettext_lazy("term", "Special-care-required personal data (要配慮個人情報)"),
        pgettext_lazy(
            "term",
            "Data such as illness, disability or a criminal record, which could bring unfair "
            "treatment if others knew it. The law asks for special care with it.",
        ),
    ),
    "third_party": (
        pgettext_lazy("term", "Third-party provision (第三者提供)"),
        pgettext_lazy("term", "Giving the data collected to another company or organisation."),
    ),
    "retention": (
        pgettext_lazy("term", "Retention (保存期間)"),
        pgettext_lazy("term", "How many days the data are kept. After that they are deleted."),
    ),
    "anonymisation": (
        pgettext_lazy("term", "Anonymisation (匿名加工)"),
        pgettext_lazy("term", "Changing the data so that no one can tell whose data they are."),
    ),
    "obligation": (
        pgettext_lazy("term", "Obligation (義務)"),
        pgettext_lazy(
            "term",
            "What the board told the requester to do as a condition. Its state says whether "
            "it was done.",
        ),
    ),
    "grant": (
        pgettext_lazy("term", "Data-use permit (データ利用許可)"),
        pgettext_lazy(
            "term",
            "The signed permit a service needs to receive data. It can be stopped at any time.",
        ),
    ),
    "audit_log": (
        pgettext_lazy("term", "Audit log (監査ログ)"),
        pgettext_lazy(
            "term",
            "The record of everything decided on this platform. Nothing in it can be changed "
            "or deleted afterwards.",
        ),
    ),
    "checkpoint": (
        pgettext_lazy("term", "Checkpoint (チェックポイント)"),
        pgettext_lazy(
            "term",
            "The platform's signature on the audit log as it was at one time. With it, "
            "anyone can check that the log was not changed.",
        ),
    ),
    "bylaws": (
        pgettext_lazy("term", "Bylaws (規約)"),
        pgettext_lazy(
            "term",
            "The consortium's rules. The general assembly of the members decides to change them.",
        ),
    ),
    "kpi": (
        pgettext_lazy("term", "KPI (重要業績評価指標)"),
        pgettext_lazy("term", "A number that shows how close the consortium is to its goal."),
    ),
    "pdca": (
        pgettext_lazy("term", "PDCA"),
        pgettext_lazy(
            "term",
            "Plan, do, check the result, and act to do better; then the same again.",
        ),
    ),
}


@register.inclusion_tag("public/_terms.html", takes_context=True)
def easy_terms(context, *keys: str) -> dict:
    """Explain the register's words ``keys`` under a page read in やさしい日本語."""
    if context.get("lang") != settings.EASY_JAPANESE:
        return {"terms": []}
    return {"terms": [TERMS[key] for key in keys]}
