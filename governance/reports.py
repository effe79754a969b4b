"""
The governance app's reports: general assembly minutes (議事録) and the bylaws as a document.

Registered with the audit app's report machinery from ``GovernanceConfig.ready``; built by its
django-q2 task. Only clerks of the consortium (``consortia_administered_by``) may request or
download them. The ethics board's decision letter is the review app's (``review/reports.py``).
"""

from django import forms
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from audit import reports

from . import selectors
from .models import (
    Attendance,
    BylawVersion,
    Consortium,
    GeneralAssembly,
    Resolution,
    Role,
    Vote,
)
from .people import person_name

MINUTES = "governance.minutes"
BYLAWS = "governance.bylaws"


def consortia_for(user):
    if user.is_superuser:
        return reports.ALL
    return list(selectors.consortia_administered_by(user).values_list("pk", flat=True))


def localized(obj, field: str) -> str:
    """Return ``obj.<field>_en`` in an English report when it is filled, else the Japanese."""
    if (get_language() or "ja").startswith("en"):
        english = getattr(obj, f"{field}_en", "")
        if english:
            return english
    return getattr(obj, f"{field}_ja")


def _scoped(queryset, user, consortium_field: str = "consortium"):
    # A command runs as the system (user None) and sees every consortium.
    if user is None or user.is_superuser:
        return queryset
    return queryset.filter(**{f"{consortium_field}__in": selectors.consortia_administered_by(user)})


class MinutesForm(reports.ReportParametersForm):
    assembly = forms.ModelChoiceField(
        label=gettext_lazy("general assembly"), queryset=GeneralAssembly.objects.none()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assembly"].queryset = _scoped(
            GeneralAssembly.objects.select_related("consortium").order_by("-held_on"), self.user
        )

    def parameters(self):
        assembly = self.cleaned_data["assembly"]
        return {"assembly": assembly.pk}, assembly.consortium_id


class BylawsForm(reports.ReportParametersForm):
    version = forms.ModelChoiceField(
        label=gettext_lazy("bylaw version"), queryset=BylawVersion.objects.none()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = _scoped(
            BylawVersion.objects.select_related("consortium").order_by("consortium", "-number"),
            self.user,
        )

    def parameters(self):
        version = self.cleaned_data["version"]
        return {"version": version.pk}, version.consortium_id


def describe_minutes(parameters: dict) -> str:
    assembly = GeneralAssembly.objects.filter(pk=parameters["assembly"]).first()
    if assembly is None:
        return ""
    return f"{localized(assembly, 'title')} ({assembly.held_on:%Y-%m-%d})"


def describe_bylaws(parameters: dict) -> str:
    version = BylawVersion.objects.filter(pk=parameters["version"]).first()
    if version is None:
        return ""
    return _("%(title)s, version %(number)s") % {
        "title": localized(version, "title"),
        "number": version.number,
    }


def consortium_names(ids) -> dict[int, str]:
    """The consortia's names for the audit app's reports and lists, in the active language."""
    return {c.pk: localized(c, "name") for c in Consortium.objects.filter(pk__in=list(ids))}


def _fetch(model, report, key):
    """Return the report's object, of the consortium the report was requested for."""
    try:
        return model.objects.select_related("consortium").get(
            pk=report.parameters[key], consortium_id=report.consortium_id
        )
    except (model.DoesNotExist, KeyError, TypeError, ValueError):
        raise reports.ReportError(_("The record this report is about no longer exists.")) from None


def _bylaws_summary(version: BylawVersion | None) -> dict | None:
    if version is None:
        return None
    return {
        "title": localized(version, "title"),
        "number": version.number,
        "effective_on": version.effective_on,
        "adopted_on": version.adopted_on,
        "quorum": f"{version.quorum_numerator}/{version.quorum_denominator}",
        "special": f"{version.special_majority_numerator}/{version.special_majority_denominator}",
        "proxies_counted": version.proxies_counted,
        "majority_basis": version.get_majority_basis_display(),
        "associates_may_vote": version.associates_may_vote,
    }


def build_minutes(report, *, progress, workdir):
    assembly = _fetch(GeneralAssembly, report, "assembly")
    consortium = assembly.consortium
    in_force = selectors.bylaw_in_force(consortium, assembly.held_on)
    attendances = list(
        Attendance.objects.filter(assembly=assembly)
        .select_related("membership__organization")
        .order_by("membership__organization__name_ja")
    )
    counts = {status: 0 for status in Attendance.Status.values}
    for attendance in attendances:
        counts[attendance.status] += 1
    progress(30)
    items = []
    resolutions = list(
        Resolution.objects.filter(assembly=assembly)
        .select_related("bylaws_applied", "bylaw_version")
        .order_by("number")
    )
    for resolution in resolutions:
        votes = list(
            Vote.objects.filter(resolution=resolution)
            .select_related("membership__organization")
            .order_by("membership__organization__name_ja")
        )
        if resolution.is_open:
            # Not closed yet: the count so far, marked provisional, never a recorded outcome.
            tally = selectors.resolution_tally(resolution, in_force) if in_force else None
            figures = {
                "for": tally.votes_for if tally else 0,
                "against": tally.votes_against if tally else 0,
                "abstain": tally.votes_abstain if tally else 0,
                "regular_members": tally.regular_members if tally else None,
                "members_present": tally.members_present if tally else None,
                "outcome": tally.outcome if tally else "",
            }
        else:
            figures = {
                "for": resolution.votes_for,
                "against": resolution.votes_against,
                "abstain": resolution.votes_abstain,
                "regular_members": resolution.regular_members,
                "members_present": resolution.members_present,
                "outcome": resolution.outcome,
            }
        items.append(
            {
                "number": resolution.number,
                "title": localized(resolution, "title"),
                "kind": resolution.get_kind_display(),
                "text": resolution.text,
                "open": resolution.is_open,
                "outcome_label": Resolution.Outcome(figures["outcome"]).label
                if figures["outcome"]
                else "",
                "special": resolution.kind in Resolution.SPECIAL_KINDS,
                "figures": figures,
                "amendment": localized(resolution.bylaw_version, "title")
                if resolution.bylaw_version
                else "",
                "amendment_effective_on": resolution.amendment_effective_on,
                "votes": [
                    {
                        "member": localized(vote.membership.organization, "name"),
                        "choice": vote.get_choice_display(),
                    }
                    for vote in votes
                ],
            }
        )
    progress(70)
    chair = selectors.roles_on(consortium, assembly.held_on, Role.Kind.CHAIR).first()
    return reports.Document(
        template="governance/reports/minutes.html",
        title=_("Minutes of the general assembly"),
        context={
            "consortium": localized(consortium, "name"),
            "assembly": {
                "title": localized(assembly, "title"),
                "held_on": assembly.held_on,
                "place": assembly.place,
                "online": assembly.online,
                "agenda": assembly.agenda,
                "kind": assembly.get_kind_display(),
            },
            "attendances": [
                {
                    "member": localized(a.membership.organization, "name"),
                    "class": a.membership.get_member_class_display(),
                    "status": a.get_status_display(),
                    "proxy_holder": a.proxy_holder,
                }
                for a in attendances
            ],
            "present": counts[Attendance.Status.PRESENT],
            "proxy": counts[Attendance.Status.PROXY],
            "absent": counts[Attendance.Status.ABSENT],
            "bylaws": _bylaws_summary(in_force),
            "resolutions": items,
            "chair": person_name(chair.user) if chair and chair.user else "",
        },
    )


def build_bylaws(report, *, progress, workdir):
    version = _fetch(BylawVersion, report, "version")
    articles = [
        {
            "number": article.number,
            "title": localized(article, "title"),
            "text": localized(article, "text"),
        }
        for article in version.articles.order_by("number")
    ]
    progress(60)
    return reports.Document(
        template="governance/reports/bylaws.html",
        title=localized(version, "title"),
        context={
            "consortium": localized(version.consortium, "name"),
            "version": _bylaws_summary(version),
            "status": version.get_status_display(),
            "draft": version.status == BylawVersion.Status.DRAFT,
            "articles": articles,
        },
    )


def register() -> None:
    reports.set_consortium_names(consortium_names)
    reports.register(
        reports.ReportKind(
            kind=MINUTES,
            label=gettext_lazy("Minutes of a general assembly"),
            consortia_for=consortia_for,
            form_class=MinutesForm,
            build=build_minutes,
            describe=describe_minutes,
        )
    )
    reports.register(
        reports.ReportKind(
            kind=BYLAWS,
            label=gettext_lazy("Bylaws (any version)"),
            consortia_for=consortia_for,
            form_class=BylawsForm,
            build=build_bylaws,
            describe=describe_bylaws,
        )
    )
