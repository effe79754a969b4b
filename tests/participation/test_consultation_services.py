"""Consultations through their services: comments, moderation, answers, result, precondition."""

import json

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import Entry, PendingEntry
from consent import services as consent_services
from consent.models import Purpose
from participation import selectors, services
from participation.models import AgeBand, Channel, Comment, Consultation

from .conftest import after_period, as_resident, make_consultation


def entries(action: str) -> list[dict]:
    """Return the payloads of ``action``'s audit entries, sealed or still pending."""
    return [
        json.loads(payload) if isinstance(payload, str) else payload
        for model in (Entry, PendingEntry)
        for payload in model.objects.filter(action=action).values_list("payload", flat=True)
    ]


def comment(consultation, resident, text="保存期間が長すぎます。", **extra):
    return services.comment_submit(
        actor=as_resident(resident),
        consultation=consultation,
        resident=resident,
        text=text,
        **extra,
    )


def test_a_resident_comments_within_the_period_and_the_log_holds_no_text(consultation, resident):
    question = consultation.questions.get()
    made = comment(consultation, resident, question=question, age_band=AgeBand.THIRTIES)
    assert made.channel == Channel.PORTAL and made.status == Comment.Status.PUBLISHED
    (payload,) = entries("consultation.comment_submitted")
    assert payload == {
        "consultation": consultation.pk,
        "question": 1,
        "resident": resident.pseudonymous_id,
        "channel": "portal",
    }
    assert "保存期間" not in str(payload)


@pytest.mark.parametrize("text", ["", "   \n "])
def test_an_empty_comment_is_refused_and_nothing_is_saved(consultation, resident, text):
    with pytest.raises(ValidationError) as error:
        comment(consultation, resident, text=text)
    assert "text" in error.value.message_dict
    assert not Comment.objects.exists()
    assert not entries("consultation.comment_submitted")


def test_a_comment_after_the_period_is_refused(consultation, resident):
    with pytest.raises(ValidationError) as error:
        comment(consultation, resident, now=after_period(consultation))
    assert "ended" in error.value.message_dict["text"][0]
    assert not Comment.objects.exists()


def test_a_comment_before_the_period_is_refused(consortium_a, clerk_a, resident):
    import datetime

    from django.utils import timezone

    now = timezone.now()
    upcoming = make_consultation(
        consortium_a,
        clerk_a,
        opens_at=now + datetime.timedelta(days=2),
        closes_at=now + datetime.timedelta(days=9),
    )
    with pytest.raises(ValidationError):
        comment(upcoming, resident)
    assert not Comment.objects.exists()


def test_a_draft_consultation_takes_no_comment(consortium_a, clerk_a, resident):
    draft = make_consultation(consortium_a, clerk_a, announce=False)
    with pytest.raises(ValidationError):
        comment(draft, resident)


def test_another_consortiums_resident_may_not_comment(consultation, resident_b):
    with pytest.raises(PermissionDenied):
        comment(consultation, resident_b)
    assert not Comment.objects.exists()


def test_a_question_of_another_consultation_is_refused(
    consultation, consortium_a, clerk_a, resident
):
    other = make_consultation(consortium_a, clerk_a)
    with pytest.raises(ValidationError) as error:
        comment(consultation, resident, question=other.questions.get())
    assert "question" in error.value.message_dict


def test_a_resident_edits_only_their_own_comment(consultation, resident, other_resident):
    made = comment(consultation, resident)
    with pytest.raises(PermissionDenied):
        services.comment_edit(
            actor=as_resident(other_resident), comment=made, resident=other_resident, text="x"
        )
    edited = services.comment_edit(
        actor=as_resident(resident), comment=made, resident=resident, text="短くしてください。"
    )
    assert edited.text == "短くしてください。" and edited.edited_at


def test_hiding_needs_a_reason_and_the_secretariat(consultation, resident, clerk_a, clerk_b):
    made = comment(consultation, resident)
    with pytest.raises(ValidationError) as error:
        services.comment_hide(actor=clerk_a, comment=made, reason=" ")
    assert "hidden_reason" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        services.comment_hide(actor=clerk_b, comment=made, reason="個人名を含むため")
    hidden = services.comment_hide(actor=clerk_a, comment=made, reason="個人名を含むため")
    assert hidden.status == Comment.Status.HIDDEN
    assert entries("consultation.comment_hidden") == [{"consultation": consultation.pk}]
    with pytest.raises(ValidationError):
        services.comment_edit(
            actor=as_resident(resident), comment=made, resident=resident, text="書き直し"
        )
    restored = services.comment_restore(actor=clerk_a, comment=made)
    assert restored.status == Comment.Status.PUBLISHED and restored.hidden_reason == ""


def test_offline_comments_record_their_channel_and_staff(consultation, clerk_a, clerk_b):
    made = services.comment_enter_offline(
        actor=clerk_a,
        consultation=consultation,
        channel=Channel.MEETING,
        text="センサーの設置場所を公開してほしい。",
        age_band=AgeBand.SEVENTY_PLUS,
    )
    assert made.entered_by == clerk_a and made.resident is None
    with pytest.raises(ValidationError) as error:
        services.comment_enter_offline(
            actor=clerk_a, consultation=consultation, channel=Channel.PORTAL, text="x"
        )
    assert "channel" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        services.comment_enter_offline(
            actor=clerk_b, consultation=consultation, channel=Channel.PAPER, text="x"
        )
    with pytest.raises(ValidationError) as error:
        services.comment_enter_offline(
            actor=clerk_a,
            consultation=consultation,
            channel=Channel.PAPER,
            text="x",
            received_at=after_period(consultation),
        )
    assert "received_at" in error.value.message_dict


def test_answers_and_result_wait_for_the_period_and_cover_every_comment(
    consultation, resident, other_resident, clerk_a
):
    first = comment(consultation, resident)
    second = comment(consultation, other_resident, text="賛成です。")
    with pytest.raises(ValidationError):
        services.answer_save(
            actor=clerk_a,
            consultation=consultation,
            comments=[first],
            opinion_ja="保存期間",
            response_ja="短縮します。",
        )
    after = after_period(consultation)
    services.answer_save(
        actor=clerk_a,
        consultation=consultation,
        comments=[first],
        opinion_ja="保存期間が長すぎるとの意見",
        response_ja="1年に短縮しました。",
        changed=True,
        now=after,
    )
    with pytest.raises(ValidationError) as error:
        services.consultation_result_publish(actor=clerk_a, consultation=consultation, now=after)
    assert "1" in error.value.messages[0]
    assert Consultation.objects.get().status == Consultation.Status.ANNOUNCED
    services.comment_hide(actor=clerk_a, comment=second, reason="趣旨が不明なため")
    mail.outbox.clear()
    with pytest.raises(ValidationError) as error:
        services.answer_save(
            actor=clerk_a,
            consultation=consultation,
            comments=[second],
            opinion_ja="x",
            response_ja="y",
            now=after,
        )
    assert "comments" in error.value.message_dict
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        published = services.consultation_result_publish(
            actor=clerk_a, consultation=consultation, now=after
        )
    assert published.status == Consultation.Status.ANSWERED
    # Both authors are told (the hidden comment's too: its reason is in the portal).
    assert sorted(m.to[0] for m in mail.outbox) == ["hanako@example.jp", "taro@example.jp"]
    assert entries("consultation.result_published") == [{"answers": 1, "opinions": 2}]
    rows = selectors.result_rows(published)
    assert rows[0]["comments"] == ["保存期間が長すぎます。"] and rows[0]["changed"]


def test_a_consultation_on_another_consortiums_purpose_is_refused(
    consortium_b, clerk_b, draft_purpose
):
    with pytest.raises(ValidationError) as error:
        make_consultation(consortium_b, clerk_b, purpose=draft_purpose)
    assert "purpose" in error.value.message_dict


def test_the_policy_makes_a_published_result_a_precondition_of_opening(
    consortium_a, clerk_a, resident, draft_purpose
):
    # Without a policy the purpose opens as before.
    assert not selectors.purpose_consultation_required(draft_purpose)
    services.consultation_policy_set(
        actor=clerk_a, consortium=consortium_a, required_for_sensitive=True
    )
    with pytest.raises(ValidationError) as error:
        consent_services.purpose_publish(actor=clerk_a, purpose=draft_purpose)
    assert "consultation" in error.value.messages[0]
    assert Purpose.objects.get(pk=draft_purpose.pk).status == Purpose.Status.DRAFT
    consultation = make_consultation(consortium_a, clerk_a, purpose=draft_purpose)
    made = comment(consultation, resident)
    after = after_period(consultation)
    services.answer_save(
        actor=clerk_a,
        consultation=consultation,
        comments=[made],
        opinion_ja="保存期間",
        response_ja="原案どおりとします。理由：…",
        now=after,
    )
    # Announced but not answered: still refused.
    with pytest.raises(ValidationError):
        consent_services.purpose_publish(actor=clerk_a, purpose=draft_purpose)
    services.consultation_result_publish(actor=clerk_a, consultation=consultation, now=after)
    opened = consent_services.purpose_publish(actor=clerk_a, purpose=draft_purpose)
    assert opened.status == Purpose.Status.OPEN


def test_the_policy_by_kind(consortium_a, clerk_a, city_a, steps, company_a):
    from .conftest import make_purpose

    plain = make_purpose(consortium_a, city_a, [steps], code="plain", publish=False)
    shared = make_purpose(consortium_a, city_a, [steps], [company_a], code="shared", publish=False)
    services.consultation_policy_set(
        actor=clerk_a, consortium=consortium_a, required_for_third_party=True
    )
    assert not selectors.purpose_consultation_required(plain)
    assert selectors.purpose_consultation_required(shared)
    services.consultation_policy_set(actor=clerk_a, consortium=consortium_a, required_for_all=True)
    assert selectors.purpose_consultation_required(plain)


def test_counts_by_channel_and_age_band_hide_small_numbers(consultation, clerk_a, resident):
    comment(consultation, resident, age_band=AgeBand.THIRTIES)
    comment(consultation, resident, text="もう一つ", age_band=AgeBand.THIRTIES)
    for _ in range(10):
        services.comment_enter_offline(
            actor=clerk_a,
            consultation=consultation,
            channel=Channel.PAPER,
            text="紙の意見",
            age_band=AgeBand.SEVENTY_PLUS,
        )
    counts = selectors.participation_counts(consultation)
    assert counts.total == 11
    channels = {value: count for value, _label, count in counts.by_channel}
    assert channels == {
        "portal": None,
        "email": None,
        "meeting": None,
        "paper": 10,
        "counter": None,
    }
    ages = {value: count for value, _label, count in counts.by_age_band}
    assert ages["70_plus"] == 10 and ages["30s"] is None


def test_a_comment_names_the_part_of_the_notice_it_is_on_and_the_log_its_name_only(
    consultation, resident, clerk_a
):
    made = comment(consultation, resident, notice_section="retention")
    offline = services.comment_enter_offline(
        actor=clerk_a,
        consultation=consultation,
        channel="paper",
        text="期間が長い。",
        notice_section="retention",
    )
    assert (made.notice_section, offline.notice_section) == ("retention", "retention")
    assert [p["notice_section"] for p in entries("consultation.comment_submitted")] == [
        "retention",
        "retention",
    ]
    with pytest.raises(ValidationError) as refused:
        comment(consultation, resident, notice_section="elsewhere")
    assert "notice_section" in refused.value.message_dict
    assert Comment.objects.count() == 2
