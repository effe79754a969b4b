"""
Dates as Japanese clerks type them: Western (2027-03-31, 2027/3/31, 2027.03.31, 20270331,
2027年3月31日) or by the Japanese era (令和8年4月1日, 令和元年5月1日, R8.4.1, H31/4/30),
in full-width or half-width digits, with or without separators.
"""

import datetime
import re
import unicodedata

# 元号: name, initial, first day. A date must fall on or after its era's first day and
# before the next era's.
ERAS = [
    ("令和", "R", datetime.date(2019, 5, 1)),
    ("平成", "H", datetime.date(1989, 1, 8)),
    ("昭和", "S", datetime.date(1926, 12, 25)),
    ("大正", "T", datetime.date(1912, 7, 30)),
]

_WESTERN = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_WESTERN_PACKED = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_ERA = re.compile(
    r"^(令和|平成|昭和|大正|[RHST])\s*(元|\d{1,2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$"
)
_ERA_PACKED = re.compile(r"^(令和|平成|昭和|大正|[RHST])(\d{2})(\d{2})(\d{2})$")


def parse_date(text: str) -> datetime.date | None:
    """Return the date ``text`` names in any of the accepted forms, or None."""
    text = unicodedata.normalize("NFKC", str(text or "")).strip().upper()
    if not text:
        return None
    for pattern in (_WESTERN, _WESTERN_PACKED):
        if match := pattern.match(text):
            return _date(*(int(part) for part in match.groups()))
    for pattern in (_ERA, _ERA_PACKED):
        if match := pattern.match(text):
            era, year, month, day = match.groups()
            return _era_date(era, 1 if year == "元" else int(year), int(month), int(day))
    return None


def _date(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _era_date(era: str, year: int, month: int, day: int) -> datetime.date | None:
    for index, (name, initial, first) in enumerate(ERAS):
        if era in (name, initial):
            found = _date(first.year + year - 1, month, day)
            following = ERAS[index - 1][2] if index else None
            if found is None or found < first or (following and found >= following):
                return None
            return found
    return None


def wareki(date: datetime.date) -> str:
    """Return ``date`` in the Japanese era's form, e.g. 令和9年3月31日 (元年 for the first)."""
    for name, _initial, first in ERAS:
        if date >= first:
            year = date.year - first.year + 1
            return f"{name}{'元' if year == 1 else year}年{date.month}月{date.day}日"
    return f"{date.year}年{date.month}月{date.day}日"
