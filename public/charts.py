"""SVG charts of the scorecard: an indicator's values against its baseline and target."""

import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 320, 180
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28


def indicator_svg(card, chart_id: str) -> SafeString:
    """
    Return an SVG line chart of ``card``'s values (solid) from its baseline, with the target as
    a dashed line and a marked point; scaled to its box, named for screen readers.
    """
    indicator = card.indicator
    points = [(indicator.baseline_on, float(indicator.baseline_value))] + [
        (m.measured_on, float(m.value)) for m in card.measurements
    ]
    target = (indicator.target_on, float(indicator.target_value))
    first = min(day for day, _value in [*points, target])
    last = max(day for day, _value in [*points, target])
    days = max((last - first).days, 1)
    low = min(value for _day, value in [*points, target])
    high = max(value for _day, value in [*points, target])
    if high == low:
        high, low = high + 1, low - 1
    pad = (high - low) * 0.1
    low, high = low - pad, high + pad

    def x(day: datetime.date) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (day - first).days / days

    def y(value: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (high - value) / (high - low)

    title = _("%(name)s: values against the target") % {"name": indicator.name(None)}
    description = _(
        "Baseline %(baseline)s on %(baseline_on)s; target %(target)s by %(target_on)s; latest "
        "%(latest)s."
    ) % {
        "baseline": indicator.baseline_value,
        "baseline_on": indicator.baseline_on,
        "target": indicator.target_value,
        "target_on": indicator.target_on,
        "latest": card.latest.value if card.latest else "—",
    }
    line = " ".join(f"{x(day):.1f},{y(value):.1f}" for day, value in points)
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" '
        'stroke="#4a4a4a" stroke-width="1"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#4a4a4a" '
        'stroke-width="1"/>',
        f'<text x="{LEFT - 4}" y="{y(high - pad) + 4:.1f}" font-size="10" text-anchor="end" '
        f'fill="#1a1a1a">{high - pad:,.0f}</text>',
        f'<text x="{LEFT - 4}" y="{y(low + pad) + 4:.1f}" font-size="10" text-anchor="end" '
        f'fill="#1a1a1a">{low + pad:,.0f}</text>',
        f'<line x1="{LEFT}" y1="{y(target[1]):.1f}" x2="{WIDTH - RIGHT}" y2="{y(target[1]):.1f}" '
        'stroke="#8a3a00" stroke-width="1.5" stroke-dasharray="5 4"/>',
        f'<circle cx="{x(target[0]):.1f}" cy="{y(target[1]):.1f}" r="4" fill="none" '
        'stroke="#8a3a00" stroke-width="2"/>',
        f'<polyline points="{line}" fill="none" stroke="#0b5cad" stroke-width="2.5"/>',
    ]
    for day, value in points:
        parts.append(f'<circle cx="{x(day):.1f}" cy="{y(value):.1f}" r="3" fill="#0b5cad"/>')
    parts.append(
        f'<text x="{LEFT}" y="{HEIGHT - 8}" font-size="10" fill="#1a1a1a">{first:%Y-%m}</text>'
    )
    parts.append(
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" font-size="10" text-anchor="end" '
        f'fill="#1a1a1a">{last:%Y-%m}</text>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text escaped or a number)
