import io

import pytest
from django.core.management import call_command

from audit import services as audit_services
from audit.models import Entry, PendingEntry
from audit.verification import verify_chain
from consent import demo, selectors
from consent.models import ConsentRecord, Notice, Purpose, Resident
from governance.demo import DEMO_SLUG as GOVERNANCE_DEMO_SLUG
from tests.consent.test_selectors import _states_match_the_latest_records

pytestmark = pytest.mark.django_db


def audit_count(**filters) -> int:
    """Count entries, sealed or not (seed_demo seals the chain and checkpoints it)."""
    return Entry.objects.filter(**filters).count() + PendingEntry.objects.filter(**filters).count()


def seed_approved(**options):
    """Seed the consent demo as seed_demo does: its purposes opened under the board's approvals."""
    from governance import demo as governance_demo
    from review import demo as review_demo

    governance_demo.seed()
    review_demo.seed_approvals()
    demo.seed(**options)


def test_without_the_boards_approval_the_purposes_stay_drafts():
    out = io.StringIO()
    demo.seed(stdout=out)
    assert not Purpose.objects.exclude(status="draft").exists()
    assert not Resident.objects.exists()
    assert "approve" in out.getvalue()


def test_seed_is_idempotent_and_tells_the_demo_logins():
    out = io.StringIO()
    seed_approved(stdout=out)
    counts = (
        Purpose.objects.count(),
        Resident.objects.count(),
        ConsentRecord.objects.count(),
        audit_count(),
    )
    demo.seed(stdout=io.StringIO())

    assert counts == (
        Purpose.objects.count(),
        Resident.objects.count(),
        ConsentRecord.objects.count(),
        audit_count(),
    )
    assert demo.DEMO_RESIDENT_EMAIL in out.getvalue()
    assert Purpose.objects.filter(status="open").count() == 4
    for notice in Notice.objects.all():
        assert notice.text_ja and notice.text_en


def test_the_demo_histories():
    seed_approved()
    hanako = Resident.objects.get(user__username=demo.DEMO_RESIDENT_EMAIL)
    health = Purpose.objects.get(code="walking-health-points")
    mobility = Purpose.objects.get(code="on-demand-mobility")

    assert health.current_notice.version == 2
    versions = list(
        ConsentRecord.objects.filter(resident=hanako, purpose=health)
        .order_by("id")
        .values_list("notice__version", flat=True)
    )
    assert versions == [1, 2]  # given, then given again under the new notice
    assert selectors.consent_allows(health, hanako)
    assert not selectors.consent_allows(mobility, hanako)  # withdrawn
    paper = ConsentRecord.objects.filter(method="paper")
    assert paper.count() == 2 and all(r.recorded_by_id and r.paper_reference for r in paper)


def test_seed_demo_uses_the_governance_demo_and_adds_residents_in_bulk(consortium_a):
    call_command("seed_demo", residents=300, stdout=io.StringIO())
    call_command("seed_demo", residents=300, stdout=io.StringIO())  # tops up: nothing to add

    consortium = demo.demo_consortium()
    assert consortium.slug == GOVERNANCE_DEMO_SLUG  # one demo consortium, governance's
    assert set(Purpose.objects.values_list("consortium", flat=True)) == {consortium.pk}
    health = Purpose.objects.get(code="walking-health-points")
    assert health.recipients.filter(memberships__consortium=consortium).count() == 2
    paper = ConsentRecord.objects.filter(method="paper").first()
    assert paper.recorded_by.groups.filter(pk=consortium.secretariat_group_id).exists()
    assert demo.generated_count(consortium) == 300
    generated = Resident.objects.filter(profile__isnull=True)
    records = ConsentRecord.objects.filter(resident__in=generated)
    assert records.exists()
    assert (
        audit_count(action__startswith="consent.", actor_id__in=generated.values("pk"))
        == records.count()
    )
    _states_match_the_latest_records()  # the bulk seeding keeps the current state too
    audit_services.seal()
    assert verify_chain().ok
