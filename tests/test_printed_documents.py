"""
Every kind of report, built from the demo consortium in Japanese and in English, reads as words:
no audit action code, no bare record id, no purpose or category slug.
"""

import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit import actions, reports
from consent import services as consent_services
from consent.models import ConsentRecord, DataCategory, Purpose
from governance import demo as governance_demo
from governance.models import BylawVersion, GeneralAssembly
from grants.models import Grant
from public.reports import fiscal_year_of
from review import demo as review_demo
from review.models import ReviewTicket
from tests.audit.reports_helpers import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


def demo_texts(tmp_path) -> tuple[dict, set[str]]:
    """
    Return {(kind, language): the text of the report built from the demo's records}, and the
    slugs of the demo's purposes and data categories.
    """
    call_command("seed_demo", stdout=io.StringIO())
    consortium = governance_demo.demo_consortium()
    # The demo's service receives the data of the residents who agreed to its purpose.
    grant = Grant.objects.select_related("service__organization").get(consortium=consortium)
    agreed = ConsentRecord.objects.filter(
        purpose=grant.purpose, decision=ConsentRecord.Decision.GIVEN
    ).values_list("resident__pseudonymous_id", flat=True)
    consent_services.data_access_record_batch(
        actor=None,
        purpose=grant.purpose,
        organization=grant.service.organization,
        service_name=grant.service.name,
        grant_jti=grant.jti,
        pseudonymous_ids=list(agreed),
        accessed_at=timezone.now(),
    )
    today = timezone.localdate()
    period = {"start": "2024-04-01", "end": today.isoformat()}
    approved = ReviewTicket.objects.get(title=review_demo.REVIEW_APPROVED_TITLE)
    parameters = {
        "audit.period": period,
        "consent.statistics": {**period, "consortium": consortium.pk},
        "grants.provision_record": {**period, "consortium": consortium.pk},
        "public.annual": {
            "consortium": consortium.pk,
            "fiscal_year": fiscal_year_of(today),
        },
        "governance.minutes": {
            "assembly": GeneralAssembly.objects.filter(consortium=consortium)
            .order_by("held_on")
            .first()
            .pk
        },
        "governance.bylaws": {
            "version": BylawVersion.objects.filter(consortium=consortium)
            .order_by("number")
            .last()
            .pk
        },
        "governance.decision_letter": {"ticket": approved.pk},
        "review.obligations": {"consortium": consortium.pk},
        "review.requester_letter": {"ticket": approved.pk},
    }
    texts = {}
    for kind in reports.kinds():
        for language in ("ja", "en"):
            out = tmp_path / f"{kind.kind}-{language}.pdf"
            arguments = ["--kind", kind.kind, "--language", language, "--out", str(out)]
            for name, value in parameters[kind.kind].items():
                arguments += ["--param", f"{name}={value}"]
            call_command("audit_report", *arguments, stdout=io.StringIO())
            texts[kind.kind, language] = pdf_text(out.read_bytes())
    slugs = set(Purpose.objects.values_list("code", flat=True)) | set(
        DataCategory.objects.values_list("code", flat=True)
    )
    return texts, slugs


def test_no_report_prints_an_action_code_a_slug_or_a_bare_id(tmp_path):
    texts, slugs = demo_texts(tmp_path)
    codes = set(actions.declared())
    consortium = governance_demo.demo_consortium()
    for (kind, language), text in sorted(texts.items()):
        where = f"{kind} ({language})"
        found = sorted(code for code in codes if code in text)
        assert not found, f"{where} prints the action codes {found}"
        # Hyphenated slugs may be broken at the end of a line ("evacuation- support").
        joined = text.replace("- ", "-")
        found = sorted(slug for slug in slugs if re.search(rf"(?<![\w-]){slug}(?![\w-])", joined))
        assert not found, f"{where} prints the slugs {found}"
        # A model's code (review.reviewticket) or a consortium named by its number.
        assert not re.search(
            r"\b(audit|consent|governance|grants|review|public)\.[a-z]+\b", text
        ), where
        name = consortium.name_ja if language == "ja" else consortium.name_en
        assert not re.search(rf"{re.escape(name)}\s*\(\d+\)", text), where
        assert "変更後" not in text, where
    # In words instead: the actions, the consortium, the footer's entry.
    assert "議案への会員の投票" in texts["audit.period", "ja"]
    assert "Member voted on a resolution" in texts["audit.period", "en"]
    assert "Aizuwakamatsu Smart City Council" in texts["audit.period", "en"]
    # Every report's verification footer names its entry in words.
    assert '"Report produced"' in texts["consent.statistics", "en"]
    assert "Board member voted" in texts["governance.decision_letter", "en"]
