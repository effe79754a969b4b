"""Personas and data of the consent tests: residents, categories, an open purpose."""

import pytest
from django.contrib.auth import get_user_model

from audit.services import Actor
from consent import services
from consent.models import DataCategory, Purpose
from tests.conftest import approve_purpose

PASSWORD = "correct horse battery staple"


def make_resident(email: str, consortium, *, name: str = ""):
    user = get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)
    return services.resident_register(
        actor=None, consortia=[consortium], user=user, full_name=name, contact_email=email
    )


def as_resident(resident) -> Actor:
    return Actor.resident(resident.pseudonymous_id)


@pytest.fixture
def resident(consortium_a):
    """A resident of consortium A with a portal account."""
    return make_resident("hanako@example.jp", consortium_a, name="会津 花子")


@pytest.fixture
def other_resident(consortium_a):
    """Another resident of consortium A, who must never see the first one's records."""
    return make_resident("taro@example.jp", consortium_a, name="会津 太郎")


@pytest.fixture
def steps(db) -> DataCategory:
    return services.data_category_save(
        actor=None,
        category=DataCategory(code="steps", name_ja="歩数", name_en="Walking steps"),
    )


@pytest.fixture
def checkup(db) -> DataCategory:
    return services.data_category_save(
        actor=None,
        category=DataCategory(
            code="checkup", name_ja="健診結果", name_en="Health check-up results", sensitive=True
        ),
    )


def make_purpose(
    consortium,
    controller,
    categories,
    recipients=(),
    *,
    code="health-points",
    publish=True,
    actor=None,
    **extra,
) -> Purpose:
    purpose = Purpose(
        consortium=consortium,
        code=code,
        title_ja="歩いて健康ポイント",
        title_en="Walking health points",
        explanation_ja="歩数に応じて地域ポイントを付与します。",
        explanation_en="We give local points for the steps you walk.",
        controller=controller,
        retention_days=365,
        **extra,
    )
    purpose = services.purpose_save(
        actor=actor, purpose=purpose, categories=categories, recipients=recipients
    )
    if publish:
        approve_purpose(purpose)
        purpose = services.purpose_publish(actor=actor, purpose=purpose)
    return purpose


@pytest.fixture
def purpose(consortium_a, city_a, company_a, steps, checkup) -> Purpose:
    """An open purpose of consortium A: steps and check-up results, given to company A."""
    return make_purpose(consortium_a, city_a, [steps, checkup], [company_a])
