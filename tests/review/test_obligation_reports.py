"""The obligations in the decision letter, and the report listing a consortium's obligations."""

import io

import pytest

from audit import reports as audit_reports
from governance import demo
from review import demo as review_demo
from review.models import Obligation, ReviewTicket
from tests.audit.reports_helpers import pdf_text
from tests.governance.test_reports import build

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def approved():
    demo.seed(stdout=io.StringIO())
    review_demo.seed()
    return ReviewTicket.objects.get(title=review_demo.REVIEW_APPROVED_TITLE)


def test_the_demo_approval_carries_structured_obligations(approved):
    kinds = set(approved.obligations.values_list("kind", flat=True))
    assert kinds == {"other", "deletion_certificate", "security_audit", "outcome_report"}
    audit = approved.obligations.get(kind="security_audit")
    assert audit.critical and audit.due_on is not None


def test_the_decision_letter_lists_the_obligations(approved, tmp_path):
    text = pdf_text(build(tmp_path, "governance.decision_letter", "en", ticket=approved.pk))
    assert "Obligations" in text
    assert "security audit" in text and "deletion certificate" in text
    assert approved.obligations.get(kind="security_audit").due_on.isoformat() in text


def test_the_obligations_report_lists_states(approved, tmp_path):
    Obligation.objects.filter(kind="other").update(state="waived", waiver_reason="x")
    text = pdf_text(build(tmp_path, "review.obligations", "ja", consortium=approved.consortium_id))
    assert "データ倫理審査会の承認に付された遵守事項" in text
    assert "アクセスログの監査結果" in text
    assert f"No. {approved.pk}" in text
    # Codes never appear, their words do.
    assert "security_audit" not in text and "periodic_report" not in text


def test_who_may_have_the_obligations_report(approved, clerk_b, superuser):
    assert audit_reports.can_access(
        superuser, "review.obligations", approved.consortium_id, parameters={}
    )
    assert not audit_reports.can_access(
        clerk_b, "review.obligations", approved.consortium_id, parameters={}
    )
