"""
The consent app's report: consent statistics of a consortium (同意状況の統計).

Per purpose, by month (Japan time): consents given (opted in), declined (a refusal with no
consent before it: opted out) and withdrawn (a refusal after a consent), counted by the
database; and the current state at the end of the period. Every count below 10 is shown as
"fewer than 10", so that no resident can be singled out (the same rule as the admin).
Registered with the audit app's report machinery from ``ConsentConfig.ready``.
"""

import datetime

from django import forms
from django.db import connection
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from audit import reports
from config.forms import JapaneseDateField

from . import selectors
from .models import ConsentRecord, Purpose

KIND = "consent.statistics"
SMALL_COUNT = 10
SERIES = ("given", "declined", "withdrawn")
COLOURS = {"given": "#2b6cb0", "declined": "#a0aec0", "withdrawn": "#c05621"}


def consortia_for(user):
    ids = selectors.secretariat_consortium_ids(user)
    return reports.ALL if ids is None else ids


def shown(count: int) -> str:
    """Return ``count`` as text, or "fewer than 10" when it is that small."""
    if count < SMALL_COUNT:
        return _("fewer than %(n)d") % {"n": SMALL_COUNT}
    return f"{count:,}"


def localized(obj, field: str) -> str:
    if (get_language() or "ja").startswith("en") and getattr(obj, f"{field}_en", ""):
        return getattr(obj, f"{field}_en")
    return getattr(obj, f"{field}_ja")


class StatisticsForm(reports.ReportParametersForm):
    consortium = forms.ModelChoiceField(label=gettext_lazy("consortium"), queryset=None)
    start = JapaneseDateField(label=gettext_lazy("first day"))
    end = JapaneseDateField(label=gettext_lazy("last day"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from django.apps import apps

        consortium_model = apps.get_model("governance", "Consortium")
        queryset = consortium_model.objects.order_by("name_ja")
        if self.user is not None:
            ids = selectors.secretariat_consortium_ids(self.user)
            if ids is not None:
                queryset = queryset.filter(pk__in=ids)
        self.fields["consortium"].queryset = queryset

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", gettext_lazy("The last day must not be before the first day."))
        return data

    def parameters(self):
        data = self.cleaned_data
        return (
            {"start": data["start"].isoformat(), "end": data["end"].isoformat()},
            data["consortium"].pk,
        )


def _month_sql() -> str:
    if connection.vendor == "postgresql":
        return "to_char(decided_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM')"
    return "strftime('%%Y-%%m', decided_at, '+9 hours')"


def monthly_counts(purpose_ids: list[int], since, until) -> dict:
    """
    Return {(purpose id, 'YYYY-MM'): {given, declined, withdrawn}} for decisions in
    [since, until), one aggregate query: each record is classed by the resident's decision
    before it on the same purpose (a window over the whole history, so a withdrawal in the
    period after a consent before it counts as withdrawn).
    """
    if not purpose_ids:
        return {}
    table = ConsentRecord._meta.db_table
    placeholders = ", ".join(["%s"] * len(purpose_ids))
    query = f"""
        SELECT purpose_id, month,
               SUM(CASE WHEN decision = 'given' THEN 1 ELSE 0 END),
               SUM(CASE WHEN decision = 'withdrawn' AND (previous IS NULL OR previous <> 'given')
                        THEN 1 ELSE 0 END),
               SUM(CASE WHEN decision = 'withdrawn' AND previous = 'given' THEN 1 ELSE 0 END)
        FROM (
            SELECT purpose_id, decision, decided_at, {_month_sql()} AS month,
                   LAG(decision) OVER (PARTITION BY purpose_id, resident_id ORDER BY id)
                       AS previous
            FROM {table} WHERE purpose_id IN ({placeholders}) AND decided_at < %s
        ) AS history
        WHERE decided_at >= %s
        GROUP BY purpose_id, month
    """
    with connection.cursor() as cursor:
        # The backend's own form of a time (UTC text on SQLite), as the ORM would send it.
        adapt = connection.ops.adapt_datetimefield_value
        cursor.execute(query, [*purpose_ids, adapt(until), adapt(since)])
        return {
            (purpose_id, month): {"given": g, "declined": d, "withdrawn": w}
            for purpose_id, month, g, d, w in cursor.fetchall()
        }


def months_between(start: datetime.date, end: datetime.date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def chart_svg(months: list[str], rows: dict[str, dict]) -> str:
    """
    Return an SVG bar chart of one purpose's monthly counts. A count below 10 is drawn as an
    empty outlined bar labelled "<10", never at its true height.
    """
    width, height, left, bottom, top = 480, 160, 36, 24, 10
    plot_h = height - bottom - top
    peak = max([rows.get(m, {}).get(s, 0) for m in months for s in SERIES] + [SMALL_COUNT])
    slot = (width - left - 8) / max(len(months), 1)
    bar = max(min(slot / 4, 18), 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 4}" y2="{top + plot_h}" '
        'stroke="#333" stroke-width="0.8"/>',
        f'<text x="{left - 4}" y="{top + 8}" font-size="8" text-anchor="end">{peak:,}</text>',
    ]
    for index, month in enumerate(months):
        x0 = left + index * slot + (slot - 3 * bar) / 2
        for offset, series in enumerate(SERIES):
            value = rows.get(month, {}).get(series, 0)
            x = x0 + offset * bar
            if value < SMALL_COUNT:
                parts.append(
                    f'<rect x="{x:.1f}" y="{top + plot_h - 6}" width="{bar - 1:.1f}" height="6" '
                    f'fill="none" stroke="{COLOURS[series]}" stroke-width="0.6"/>'
                )
            else:
                h = plot_h * value / peak
                parts.append(
                    f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar - 1:.1f}" '
                    f'height="{h:.1f}" fill="{COLOURS[series]}"/>'
                )
        if len(months) <= 12 or index % max(len(months) // 12, 1) == 0:
            parts.append(
                f'<text x="{x0 + 1.5 * bar:.1f}" y="{height - 8}" font-size="7" '
                f'text-anchor="middle">{month}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def build(report, *, progress, workdir):
    from django.apps import apps

    consortium = (
        apps.get_model("governance", "Consortium").objects.filter(pk=report.consortium_id).first()
    )
    if consortium is None:
        raise reports.ReportError(_("The record this report is about no longer exists."))
    start = datetime.date.fromisoformat(report.parameters["start"])
    end = datetime.date.fromisoformat(report.parameters["end"])
    zone = timezone.get_default_timezone()
    since = datetime.datetime.combine(start, datetime.time.min, tzinfo=zone)
    until = datetime.datetime.combine(
        end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    purposes = list(
        Purpose.objects.filter(consortium=consortium)
        .exclude(status=Purpose.Status.DRAFT)
        .order_by("code")
    )
    counts = monthly_counts([p.pk for p in purposes], since, until)
    progress(50)
    months = months_between(start, end)
    sections = []
    for purpose in purposes:
        rows = {month: counts.get((purpose.pk, month), {}) for month in months}
        totals = {s: sum(r.get(s, 0) for r in rows.values()) for s in SERIES}
        current = selectors.purpose_counts(purpose, at=min(until, timezone.now()))
        sections.append(
            {
                "title": localized(purpose, "title"),
                "code": purpose.code,
                "status": purpose.get_status_display(),
                "months": [
                    {"month": m, **{s: shown(rows[m].get(s, 0)) for s in SERIES}} for m in months
                ],
                "totals": {s: shown(v) for s, v in totals.items()},
                "current": {
                    "opted_in": shown(current.opted_in),
                    "opted_out": shown(current.opted_out),
                    "ask_again": shown(current.ask_again),
                },
                "chart": chart_svg(months, rows),
            }
        )
    progress(80)
    return reports.Document(
        template="consent/reports/statistics.html",
        title=_("Consent statistics"),
        context={
            "consortium": localized(consortium, "name"),
            "start": start,
            "end": end,
            "sections": sections,
            "small": SMALL_COUNT,
        },
    )


def register() -> None:
    reports.register(
        reports.ReportKind(
            kind=KIND,
            label=gettext_lazy("Consent statistics of a consortium"),
            consortia_for=consortia_for,
            form_class=StatisticsForm,
            build=build,
        )
    )
