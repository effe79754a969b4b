"""Plain language in the portal: periods as people say them, lists as each language joins them,
and a history that tells agreeing, declining and withdrawing apart."""

import pytest
from django.urls import reverse
from django.utils import translation

from consent import services
from consent.selectors import decision_kinds
from consent.templatetags.consent_tags import names, period

from .conftest import as_resident
from .test_portal import signed_in


@pytest.mark.parametrize(
    ("days", "ja", "en"),
    [
        (1825, "5年", "5 years"),
        (365, "1年", "1 year"),
        (548, "1年6か月", "1 year and 6 months"),
        (90, "3か月", "3 months"),
        (30, "1か月", "1 month"),
        (14, "14日", "14 days"),
        (1, "1日", "1 day"),
    ],
)
def test_periods_in_years_and_months(days, ja, en):
    with translation.override("ja"):
        assert period(days) == ja
    with translation.override("en"):
        assert period(days) == en


def test_lists_joined_as_each_language_does():
    items = [{"name": {"ja": name, "en": name}} for name in ("A", "B", "C")]
    with translation.override("ja"):
        assert names(items) == "A、B、C"
        assert names(items[:2]) == "A、B"
    with translation.override("en"):
        assert names(items) == "A, B, and C"
        assert names(items[:2]) == "A and B"
        assert names(items[:1]) == "A"


def test_history_tells_agreed_declined_and_withdrew_apart(purpose, resident):
    actor = as_resident(resident)
    declined = services.consent_withdraw(actor=actor, resident=resident, purpose=purpose)
    given = services.consent_give(actor=actor, resident=resident, purpose=purpose)
    withdrew = services.consent_withdraw(actor=actor, resident=resident, purpose=purpose)
    assert decision_kinds(resident) == {
        declined.pk: "declined",
        given.pk: "agreed",
        withdrew.pk: "withdrew",
    }
    html = signed_in(resident).get(reverse("consent:history")).content.decode()
    assert (
        html.index("同意をやめました")
        < html.index("同意しました")
        < html.index("同意しませんでした")
    )


def test_decision_confirmation_is_sent_to_the_live_region(purpose, resident):
    client = signed_in(resident)
    response = client.post(reverse("consent:give", args=[purpose.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("consent:portal") + "#messages"
    html = client.get(reverse("consent:portal")).content.decode()
    live = html[html.index('id="messages"') :]
    assert 'role="status"' in html[html.index('<div class="messages"') :][:80]
    assert live.index("歩いて健康ポイント") < live.index(f'id="purpose-{purpose.pk}"')
