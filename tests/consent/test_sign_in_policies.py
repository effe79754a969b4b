"""The portal's sign-in policies: password resets throttled, sign-up that reveals no account."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_counters():
    cache.clear()
    yield
    cache.clear()


def reset(client, email, **extra):
    return client.post(reverse("consent:password_reset"), {"email": email}, **extra)


@override_settings(PASSWORD_RESET_LIMIT_PER_EMAIL=3)
def test_resets_for_one_address_stop_sending_mail_but_answer_the_same(client, resident):
    answers = [reset(client, "hanako@example.jp", REMOTE_ADDR=f"192.0.2.{n}") for n in range(5)]

    assert len(mail.outbox) == 3
    assert {(a.status_code, a["Location"]) for a in answers} == {
        (302, reverse("consent:password_reset_done"))
    }


@override_settings(PASSWORD_RESET_LIMIT_PER_CLIENT=4)
def test_resets_from_one_client_are_refused_beyond_the_limit(client, resident):
    for number in range(4):
        assert reset(client, f"someone{number}@example.jp").status_code == 302

    refused = reset(client, "hanako@example.jp", HTTP_ACCEPT_LANGUAGE="en")
    other_client = reset(client, "hanako@example.jp", REMOTE_ADDR="192.0.2.50")

    assert refused.status_code == 429
    assert "Too many requests" in refused.content.decode()
    assert 'value="hanako@example.jp"' in refused.content.decode()  # what was typed is kept
    assert other_client.status_code == 302
    assert len(mail.outbox) == 1  # only the other client's
