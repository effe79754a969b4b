"""
The consortium's annual report (年次報告書) for a fiscal year (年度: 1 April to 31 March), put
before the general assembly: members, the board's decisions on uses of residents' data, consent
per purpose, the KPI scorecard with its charts and PDCA reviews, and the audit log's checkpoint.

It shows what the register shows and what the secretariat needs beside it: every indicator,
public or not (marked), and every decision of the year. Counts of residents under 10 are shown
as "fewer than 10", as everywhere. Registered with the audit app's report machinery from
``PublicConfig.ready``.
"""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit import reports
from consent import reports as consent_reports
from consent import selectors as consent_selectors
from governance.models import Consortium

from . import charts, selectors

KIND = "public.annual"
FIRST_MONTH = 4  # Japanese fiscal years (年度) start on 1 April.


def fiscal_year_of(day: datetime.date) -> int:
    return day.year if day.month >= FIRST_MONTH else day.year - 1


def fiscal_year_span(year: int) -> tuple[datetime.date, datetime.date]:
    """Return the first and last day of fiscal year ``year`` (April ``year`` to March next)."""
    return datetime.date(year, FIRST_MONTH, 1), datetime.date(year + 1, FIRST_MONTH, 1) - (
        datetime.timedelta(days=1)
    )


class AnnualForm(reports.ReportParametersForm):
    consortium = forms.ModelChoiceField(label=gettext_lazy("consortium"), queryset=None)
    fiscal_year = forms.IntegerField(
        label=gettext_lazy("fiscal year (from April)"),
        min_value=2000,
        max_value=2100,
        help_text=gettext_lazy("e.g. 2026 for April 2026 to March 2027"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        queryset = Consortium.objects.order_by("name_ja")
        if self.user is not None:
            ids = consent_selectors.secretariat_consortium_ids(self.user)
            if ids is not None:
                queryset = queryset.filter(pk__in=ids)
        self.fields["consortium"].queryset = queryset
        if not self.is_bound:
            self.fields["fiscal_year"].initial = fiscal_year_of(timezone.localdate()) - 1

    def parameters(self):
        data = self.cleaned_data
        return {"fiscal_year": data["fiscal_year"]}, data["consortium"].pk


def shown(count: int | None) -> str:
    return consent_reports.shown(count or 0)


def _members(consortium, start: datetime.date, end: datetime.date) -> dict:
    rows = selectors.member_rows(consortium)
    at_end = [
        row
        for row in rows
        if row["joined_on"] <= end and (row["left_on"] is None or row["left_on"] > end)
    ]
    return {
        "at_end": sorted(at_end, key=lambda row: (row["member_class"], row["name_ja"])),
        "joined": [row for row in rows if start <= row["joined_on"] <= end],
        "left": [row for row in rows if row["left_on"] and start <= row["left_on"] <= end],
    }


def _uses(consortium, since: datetime.datetime, until: datetime.datetime, end: datetime.date):
    tickets = selectors.decided_tickets(consortium).filter(
        decided_at__gte=since, decided_at__lt=until
    )
    rows = selectors.use_rows(tickets, end)
    outcomes: dict[str, int] = {}
    for row in rows:
        outcomes[row["state"]] = outcomes.get(row["state"], 0) + 1
    return rows, outcomes


def _consent(consortium, since: datetime.datetime, until: datetime.datetime) -> list[dict]:
    purposes = list(consent_selectors.purposes_published(consortium))
    counts = consent_reports.monthly_counts([p.pk for p in purposes], since, until)
    at = min(until, timezone.now())
    rows = []
    for purpose in purposes:
        totals = {series: 0 for series in consent_reports.SERIES}
        for (purpose_id, _month), found in counts.items():
            if purpose_id == purpose.pk:
                for series in consent_reports.SERIES:
                    totals[series] += found[series]
        current = consent_selectors.purpose_counts(purpose, at=at)
        rows.append(
            {
                "purpose": consent_reports.localized(purpose, "title"),
                "code": purpose.code,
                **{series: shown(value) for series, value in totals.items()},
                "opted_in": shown(current.opted_in),
                "opted_out": shown(current.opted_out),
            }
        )
    return rows


def _scorecard(consortium, start: datetime.date, end: datetime.date) -> list[dict]:
    """Return every indicator with its values up to the year's end and the year's reviews."""
    sections = []
    cards = selectors.indicator_cards(consortium, public_only=False, until=end)
    for number, card in enumerate(cards, start=1):
        sections.append(
            {
                "card": card,
                "in_year": [m for m in card.measurements if m.measured_on >= start],
                "chart": charts.indicator_svg(card, f"indicator-{number}"),
                "reviews": [
                    review
                    for review in card.reviews
                    if review.period_end >= start and review.period_start <= end
                ],
            }
        )
    return sections


def build(report, *, progress, workdir):
    consortium = Consortium.objects.filter(pk=report.consortium_id).first()
    if consortium is None:
        raise reports.ReportError(_("The record this report is about no longer exists."))
    year = int(report.parameters["fiscal_year"])
    start, end = fiscal_year_span(year)
    zone = timezone.get_default_timezone()
    since = datetime.datetime.combine(start, datetime.time.min, tzinfo=zone)
    until = datetime.datetime.combine(
        end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    members = _members(consortium, start, end)
    progress(20)
    uses, outcomes = _uses(consortium, since, until, end)
    progress(40)
    consent = _consent(consortium, since, until)
    progress(60)
    scorecard = _scorecard(consortium, start, end)
    progress(80)
    return reports.Document(
        template="public/reports/annual.html",
        title=_("Annual report"),
        context={
            "consortium": consent_reports.localized(consortium, "name"),
            "fiscal_year": year,
            "start": start,
            "end": end,
            "members": members,
            "uses": uses,
            "outcomes": sorted(outcomes.items()),
            "consent": consent,
            "scorecard": scorecard,
            "checkpoint": selectors.checkpoint(),
            "small": consent_reports.SMALL_COUNT,
        },
    )


def register() -> None:
    reports.register(
        reports.ReportKind(
            kind=KIND,
            label=gettext_lazy("Annual report of a consortium (fiscal year)"),
            consortia_for=consent_reports.consortia_for,
            form_class=AnnualForm,
            build=build,
        )
    )
