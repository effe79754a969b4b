from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit import services as audit_services
from audit.models import PendingEntry
from audit.verification import verify_chain
from consent import selectors, services
from consent.models import ConsentRecord, Notice, Purpose, ResidentProfile
from consent.signals import purpose_closed

from .conftest import as_resident, make_purpose, make_resident

pytestmark = pytest.mark.django_db


def test_opt_in_is_required_and_giving_allows(purpose, resident):
    assert selectors.consent_allows(purpose, resident) is False  # no record, no consent

    consent = services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)

    assert consent.decision == ConsentRecord.Decision.GIVEN
    assert consent.notice == purpose.current_notice
    assert consent.method == ConsentRecord.Method.PORTAL
    assert selectors.consent_allows(purpose, resident) is True


def test_withdrawal_takes_effect_at_once_and_records_are_appended(purpose, resident):
    actor = as_resident(resident)
    services.consent_give(actor=actor, resident=resident, purpose=purpose)
    services.consent_withdraw(actor=actor, resident=resident, purpose=purpose)

    assert selectors.consent_allows(purpose, resident) is False
    decisions = list(
        ConsentRecord.objects.filter(resident=resident)
        .order_by("id")
        .values_list("decision", flat=True)
    )
    assert decisions == ["given", "withdrawn"]


def test_repeating_the_decision_in_force_adds_nothing(purpose, resident):
    actor = as_resident(resident)
    first = services.consent_give(actor=actor, resident=resident, purpose=purpose)
    again = services.consent_give(actor=actor, resident=resident, purpose=purpose)

    assert again.pk == first.pk
    assert ConsentRecord.objects.count() == 1
    assert PendingEntry.objects.filter(action="consent.given").count() == 1


def test_a_changed_purpose_publishes_a_new_notice_and_asks_again(
    purpose, resident, company_a, steps
):
    actor = as_resident(resident)
    services.consent_give(actor=actor, resident=resident, purpose=purpose)
    first_notice = purpose.current_notice

    # Fewer data categories: what is collected changed, so the notice changes.
    services.purpose_save(actor=None, purpose=purpose, categories=[steps], recipients=[company_a])
    purpose.refresh_from_db()

    assert purpose.current_notice.version == 2
    assert purpose.current_notice.sha256 != first_notice.sha256
    assert "健診結果" not in purpose.current_notice.text_ja
    assert selectors.consent_allows(purpose, resident) is False  # consent did not carry over

    again = services.consent_give(actor=actor, resident=resident, purpose=purpose)
    assert again.notice.version == 2
    assert selectors.consent_allows(purpose, resident) is True


def test_saving_an_unchanged_purpose_keeps_its_notice(purpose, steps, checkup, company_a):
    services.purpose_save(
        actor=None, purpose=purpose, categories=[steps, checkup], recipients=[company_a]
    )
    assert Notice.objects.filter(purpose=purpose).count() == 1


def test_a_new_recipient_makes_a_new_notice(purpose, steps, checkup, company_a, city_a):
    services.purpose_save(
        actor=None, purpose=purpose, categories=[steps, checkup], recipients=[company_a, city_a]
    )
    purpose.refresh_from_db()
    assert purpose.current_notice.version == 2
    assert len(purpose.current_notice.terms["recipients"]) == 2


def test_notice_texts_name_data_recipients_and_sensitivity(purpose):
    notice = purpose.current_notice
    assert "歩数" in notice.text_ja and "会津モビリティ株式会社" in notice.text_ja
    assert "要配慮個人情報" in notice.text_ja
    assert "Walking steps" in notice.text_en and "Aizu Mobility" in notice.text_en
    assert len(notice.sha256) == 64


def test_consent_expires(consortium_a, city_a, steps, resident):
    purpose = make_purpose(consortium_a, city_a, [steps], code="short", consent_valid_days=30)
    given_at = timezone.now()
    consent = services.consent_give(
        actor=as_resident(resident), resident=resident, purpose=purpose, now=given_at
    )

    assert consent.expires_at == given_at + timedelta(days=30)
    assert selectors.consent_allows(purpose, resident, at=given_at + timedelta(days=29))
    assert not selectors.consent_allows(purpose, resident, at=given_at + timedelta(days=31))
    # Once expired, giving again records a new consent.
    later = services.consent_give(
        actor=as_resident(resident),
        resident=resident,
        purpose=purpose,
        now=given_at + timedelta(days=31),
    )
    assert later.pk != consent.pk


def test_a_closed_purpose_allows_nothing_and_takes_no_consent(purpose, resident):
    services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)
    services.purpose_close(actor=None, purpose=purpose)
    purpose.refresh_from_db()

    assert selectors.consent_allows(purpose, resident) is False
    with pytest.raises(ValidationError):
        services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)
    # Withdrawing stays possible.
    services.consent_withdraw(actor=as_resident(resident), resident=resident, purpose=purpose)


def test_closing_a_purpose_announces_it_after_the_commit(
    purpose, django_capture_on_commit_callbacks
):
    heard = []

    def hear(sender, purpose, **kwargs):
        heard.append(purpose.pk)

    purpose_closed.connect(hear)
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            services.purpose_close(actor=None, purpose=purpose)
        assert heard == []  # not before the commit
        for callback in callbacks:
            callback()
        assert heard == [purpose.pk]
        with pytest.raises(ValidationError):  # closing twice is refused, and announces nothing
            services.purpose_close(actor=None, purpose=purpose)
        assert heard == [purpose.pk]
    finally:
        purpose_closed.disconnect(hear)


def test_a_draft_purpose_takes_no_consent(consortium_a, city_a, steps, resident):
    draft = make_purpose(consortium_a, city_a, [steps], code="draft", publish=False)
    assert draft.status == Purpose.Status.DRAFT
    with pytest.raises(ValidationError):
        services.consent_give(actor=as_resident(resident), resident=resident, purpose=draft)
    assert ConsentRecord.objects.count() == 0


def test_a_resident_of_another_consortium_cannot_consent(purpose, consortium_b):
    outsider = make_resident("b@example.jp", consortium_b)
    with pytest.raises(ValidationError):
        services.consent_give(actor=as_resident(outsider), resident=outsider, purpose=purpose)
    assert ConsentRecord.objects.count() == 0


def test_paper_consent_names_the_staff_member_and_the_form(purpose, resident, clerk_a):
    consent = services.consent_record_paper(
        actor=clerk_a,
        resident=resident,
        purpose=purpose,
        decision=ConsentRecord.Decision.GIVEN,
        paper_reference="AIZU-2026-0042",
    )

    assert consent.method == ConsentRecord.Method.PAPER
    assert consent.recorded_by == clerk_a
    assert consent.paper_reference == "AIZU-2026-0042"
    entry = PendingEntry.objects.get(action="consent.given")
    assert (entry.actor_type, entry.actor_id) == ("user", str(clerk_a.pk))
    assert entry.data["paper_reference"] == "AIZU-2026-0042"
    assert selectors.consent_allows(purpose, resident)


def test_paper_consent_needs_a_staff_member_and_a_form_reference(purpose, resident, clerk_a):
    with pytest.raises(ValidationError):
        services.consent_record_paper(
            actor=clerk_a,
            resident=resident,
            purpose=purpose,
            decision="given",
            paper_reference="  ",
        )
    with pytest.raises(ValidationError):
        services.consent_record_paper(
            actor=resident.user,
            resident=resident,
            purpose=purpose,
            decision="given",
            paper_reference="X-1",
        )
    assert ConsentRecord.objects.count() == 0


def test_withdraw_all(consortium_a, city_a, steps, purpose, resident):
    second = make_purpose(consortium_a, city_a, [steps], code="mobility")
    actor = as_resident(resident)
    services.consent_give(actor=actor, resident=resident, purpose=purpose)
    services.consent_give(actor=actor, resident=resident, purpose=second)

    withdrawn = services.consent_withdraw_all(actor=actor, resident=resident)

    assert len(withdrawn) == 2
    assert not selectors.consent_allows(purpose, resident)
    assert not selectors.consent_allows(second, resident)
    assert services.consent_withdraw_all(actor=actor, resident=resident) == []


def test_erasure_removes_personal_details_and_keeps_the_chain(purpose, resident):
    actor = as_resident(resident)
    services.consent_give(actor=actor, resident=resident, purpose=purpose)
    user_id = resident.user_id

    services.resident_erase(actor=actor, resident=resident)
    resident.refresh_from_db()

    assert resident.is_erased and resident.user is None
    assert not ResidentProfile.objects.filter(resident=resident).exists()
    assert not get_user_model().objects.filter(pk=user_id).exists()
    assert not selectors.consent_allows(purpose, resident)
    assert ConsentRecord.objects.filter(resident=resident).count() == 2  # kept, withdrawn last
    assert PendingEntry.objects.filter(action="resident.erased").count() == 1
    audit_services.seal()
    assert verify_chain().ok
    with pytest.raises(ValidationError):
        services.consent_give(actor=actor, resident=resident, purpose=purpose)


def test_every_decision_is_audited_with_the_pseudonymous_id_only(purpose, resident, clerk_a):
    actor = as_resident(resident)
    services.consent_give(actor=actor, resident=resident, purpose=purpose)
    services.consent_withdraw(actor=actor, resident=resident, purpose=purpose)
    services.consent_record_paper(
        actor=clerk_a, resident=resident, purpose=purpose, decision="given", paper_reference="P-1"
    )
    services.resident_erase(actor=actor, resident=resident)

    decisions = PendingEntry.objects.filter(action__startswith="consent.")
    assert decisions.count() == ConsentRecord.objects.count() == 4
    for entry in decisions:
        assert entry.data["resident"] == resident.pseudonymous_id
        assert entry.consortium_id == purpose.consortium_id
    portal = PendingEntry.objects.filter(action="consent.given", actor_type="resident").get()
    assert portal.actor_id == resident.pseudonymous_id
    everything = " ".join(e.payload + e.actor_id + e.object_id for e in PendingEntry.objects.all())
    for personal in ("hanako", "example.jp", "会津 花子"):
        assert personal not in everything
    audit_services.seal()
    assert verify_chain().ok
