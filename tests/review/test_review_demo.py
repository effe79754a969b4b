"""
The demo's review tickets: the approvals that let the demo's purposes open (the mobility
company's, with conditions for a year, and the city's), and one request in review.
"""

import datetime

import pytest
from django.utils import timezone

from audit.models import PendingEntry
from consent import demo as consent_demo
from consent.models import Purpose
from governance import demo as governance_demo
from review import demo
from review.models import ReviewTicket

pytestmark = pytest.mark.django_db


def test_seed_review_before_governance_says_why(capsys):
    import io

    out = io.StringIO()
    demo.seed(stdout=out)
    assert "seed governance first" in out.getvalue()
    assert not ReviewTicket.objects.exists()


def test_seed_approves_each_demo_purpose_before_it_opens_and_again():
    governance_demo.seed()
    demo.seed_approvals()
    # The purposes are drafts, each covered by an approval in force.
    assert set(Purpose.objects.values_list("status", flat=True)) == {"draft"}
    for purpose in Purpose.objects.all():
        covering = ReviewTicket.objects.filter(purpose=purpose, state="approved")
        assert covering.exists(), purpose.code
    approved = ReviewTicket.objects.get(title=demo.REVIEW_APPROVED_TITLE)
    assert approved.purpose.code == "on-demand-mobility"
    assert "広告" in approved.conditions and "四半期" in approved.conditions
    assert approved.valid_from == timezone.localdate()
    assert approved.valid_until - approved.valid_from == datetime.timedelta(days=365)

    consent_demo.seed()
    assert set(Purpose.objects.values_list("status", flat=True)) == {"open"}
    mobility = Purpose.objects.get(code="on-demand-mobility")
    assert mobility.current_notice.approval_ticket == approved.pk

    demo.seed()
    pending = ReviewTicket.objects.get(title=demo.REVIEW_IN_REVIEW_TITLE)
    assert pending.state == ReviewTicket.State.IN_REVIEW
    tickets, entries = ReviewTicket.objects.count(), PendingEntry.objects.count()
    assert tickets == 5
    demo.seed_approvals()
    demo.seed()
    assert ReviewTicket.objects.count() == tickets
    assert PendingEntry.objects.count() == entries
