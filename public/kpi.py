"""
The values the platform computes for its own indicators, from its own records: consent rate
and residents reached per purpose, decisions of the board and the median days to a decision,
residents' records released in the month, the people who took part in the consortium's
consultations and the share of the board's conditions (obligations) met on time, both in the
last twelve months. A count of residents under 10 is never
published, so an indicator that would rest on one has no value that day.
"""

import datetime
import statistics
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from consent import selectors as consent_selectors
from participation import selectors as participation_selectors
from review import selectors as review_selectors

from .models import Indicator
from .selectors import SMALL_COUNT

TWO_PLACES = Decimal("0.01")


def _decimal(value) -> Decimal:
    return Decimal(str(value)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def compute(indicator: Indicator, today: datetime.date) -> Decimal | None:
    """Return ``indicator``'s value on ``today`` from the platform's records, or None."""
    source = indicator.source
    if source in Indicator.PURPOSE_SOURCES:
        counts = consent_selectors.purpose_counts(indicator.purpose)
        asked = counts.opted_in + counts.opted_out + counts.ask_again
        if source == Indicator.Source.RESIDENTS_REACHED:
            return _decimal(counts.opted_in) if counts.opted_in >= SMALL_COUNT else None
        if asked < SMALL_COUNT:
            return None
        return _decimal(Decimal(100) * counts.opted_in / asked)
    if source == Indicator.Source.DECISIONS:
        return _decimal(review_selectors.tickets_decided(indicator.consortium).count())
    if source == Indicator.Source.DECISION_DAYS:
        days = review_selectors.decision_lead_days(indicator.consortium)
        return _decimal(statistics.median(days)) if days else None
    if source == Indicator.Source.DATA_RELEASES:
        month = today.replace(day=1)
        released = sum(
            row["residents"]
            for row in consent_selectors.access_counts_by_month(indicator.consortium)
            if row["month"] == month
        )
        return _decimal(released) if released >= SMALL_COUNT else None
    if source == Indicator.Source.PARTICIPANTS:
        # The twelve months that end with ``today`` (a day in the platform's time zone).
        until = timezone.make_aware(
            datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time.min)
        )
        since = until - datetime.timedelta(days=365)
        people = participation_selectors.participants_between(indicator.consortium, since, until)
        return _decimal(people) if people >= SMALL_COUNT else None
    if source == Indicator.Source.OBLIGATIONS_ON_TIME:
        due, on_time = review_selectors.obligations_met_on_time(
            indicator.consortium, today - datetime.timedelta(days=364), today
        )
        return _decimal(Decimal(100) * on_time / due) if due else None
    return None
