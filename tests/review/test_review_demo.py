"""The demo's review tickets: one approved with conditions for a year, one in review."""

import datetime

import pytest
from django.utils import timezone

from audit.models import PendingEntry
from governance import demo as governance_demo
from review import demo
from review.models import ReviewTicket

pytestmark = pytest.mark.django_db


def add_mobility_purpose(consortium):
    """The on-demand mobility purpose, as consent's demo makes it in the demo consortium."""
    from consent.models import DataCategory, Purpose

    city = consortium.memberships.get(organization__name_ja="会津若松市").organization
    purpose = Purpose.objects.create(
        consortium=consortium,
        code="on-demand-mobility",
        title_ja="オンデマンド交通の運行計画",
        title_en="Planning on-demand buses",
        explanation_ja="乗車履歴と年代から運行ルートを決めます。",
        explanation_en="Ride history and age band decide the routes.",
        controller=city,
        retention_days=730,
    )
    purpose.categories.add(
        DataCategory.objects.create(code="trip-history", name_ja="乗車履歴", name_en="Trips"),
        DataCategory.objects.create(code="age-band", name_ja="年代", name_en="Age band"),
    )
    return purpose


def test_seed_review_after_consent_and_again(capsys):
    import io

    governance_demo.seed()
    out = io.StringIO()
    demo.seed(stdout=out)  # before consent's purposes exist: nothing, and says why
    assert "seed consent first" in out.getvalue()
    assert not ReviewTicket.objects.exists()
    add_mobility_purpose(governance_demo.demo_consortium())
    demo.seed()
    approved = ReviewTicket.objects.get(title=demo.REVIEW_APPROVED_TITLE)
    assert approved.state == ReviewTicket.State.APPROVED
    assert approved.purpose.code == "on-demand-mobility"
    assert "広告" in approved.conditions and "四半期" in approved.conditions
    assert approved.valid_from == timezone.localdate()
    assert approved.valid_until - approved.valid_from == datetime.timedelta(days=365)
    pending = ReviewTicket.objects.get(title=demo.REVIEW_IN_REVIEW_TITLE)
    assert pending.state == ReviewTicket.State.IN_REVIEW
    entries = PendingEntry.objects.count()
    demo.seed()
    assert ReviewTicket.objects.count() == 2
    assert PendingEntry.objects.count() == entries
