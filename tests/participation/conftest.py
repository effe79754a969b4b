"""Personas and data of the participation tests: residents of A and B, a consultation of A."""

import datetime

import pytest
from django.utils import timezone

from participation import services
from participation.models import Consultation, Question
from tests.conftest import approve_purpose
from tests.consent import conftest as consent_fixtures
from tests.consent.conftest import PASSWORD, as_resident, make_purpose, make_resident
from tests.governance import conftest as governance_fixtures

__all__ = ["PASSWORD", "as_resident", "make_purpose", "make_resident"]

_english = governance_fixtures._english  # autouse: assert on the English messages
resident = consent_fixtures.resident
other_resident = consent_fixtures.other_resident
steps = consent_fixtures.steps
checkup = consent_fixtures.checkup


@pytest.fixture
def resident_b(consortium_b):
    """A resident of consortium B, who may take part in none of A's consultations."""
    return make_resident("jiro@example.jp", consortium_b, name="柏 次郎")


@pytest.fixture
def draft_purpose(consortium_a, city_a, company_a, steps, checkup):
    """
    A draft purpose of A with special-care-required data given to a third party, which the
    data-ethics board has approved (what opening it waits for is the consultation).
    """
    purpose = make_purpose(consortium_a, city_a, [steps, checkup], [company_a], publish=False)
    approve_purpose(purpose)
    return purpose


def make_consultation(consortium, actor, *, purpose=None, announce=True, now=None, **extra):
    now = now or timezone.now()
    consultation = Consultation(
        consortium=consortium,
        subject=Consultation.Subject.PURPOSE if purpose else Consultation.Subject.PLAN,
        purpose=purpose,
        title_ja="歩いて健康ポイントの利用目的案への意見募集",
        title_en="Consultation on the walking health points purpose",
        body_ja="利用目的案と通知文の全文です。",
        body_en="The draft purpose and its notice in full.",
        links="https://example.jp/draft.pdf",
        opens_at=extra.pop("opens_at", now - datetime.timedelta(days=1)),
        closes_at=extra.pop("closes_at", now + datetime.timedelta(days=30)),
        **extra,
    )
    consultation = services.consultation_save(actor=actor, consultation=consultation)
    services.question_save(
        actor=actor,
        question=Question(
            consultation=consultation,
            number=1,
            text_ja="データの保存期間は適切ですか。",
            text_en="Is the retention period right?",
        ),
    )
    if announce:
        consultation = services.consultation_announce(
            actor=actor, consultation=consultation, now=now
        )
    return consultation


@pytest.fixture
def consultation(consortium_a, clerk_a, draft_purpose):
    """An announced consultation of A on the draft purpose, open for thirty days from yesterday."""
    return make_consultation(consortium_a, clerk_a, purpose=draft_purpose)


def after_period(consultation) -> datetime.datetime:
    return consultation.closes_at + datetime.timedelta(minutes=1)


def make_meeting(consortium, actor, *, announce=True, now=None, consultations=(), **extra):
    """A meeting of ``consortium`` at the city hall, tomorrow at ten, for ``capacity`` people."""
    from participation.models import Meeting

    now = now or timezone.now()
    starts_at = extra.pop("starts_at", now + datetime.timedelta(days=1))
    meeting = Meeting(
        consortium=consortium,
        title_ja=extra.pop("title_ja", "センサーの設置場所についての意見交換会"),
        title_en="Meeting on where sensors go",
        agenda_ja="1. 計画の説明\n2. 質疑応答",
        agenda_en="1. The plan\n2. Questions",
        format=extra.pop("format", Meeting.Format.IN_PERSON),
        place=extra.pop("place", "市役所 第1会議室"),
        starts_at=starts_at,
        ends_at=extra.pop("ends_at", starts_at + datetime.timedelta(hours=2)),
        capacity=extra.pop("capacity", 30),
        **extra,
    )
    meeting = services.meeting_save(actor=actor, meeting=meeting, consultations=consultations)
    if announce:
        meeting = services.meeting_announce(actor=actor, meeting=meeting, now=now)
    return meeting
