"""The portal's sign-in policies: password resets throttled, sign-up that reveals no account."""

import re

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


def sign_up(client, email, consortium, **extra):
    return client.post(
        reverse("consent:signup"),
        {
            "email": email,
            "password": "a long horse battery 42",
            "password_again": "a long horse battery 42",
            "consortium": consortium.pk,
            "language": "en",
        },
        HTTP_ACCEPT_LANGUAGE="en",
        **extra,
    )


def test_sign_up_answers_the_same_for_a_registered_address(client, consortium_a, resident):
    from consent.models import Resident

    new = sign_up(client, "new@example.jp", consortium_a)
    taken = sign_up(client, "Hanako@example.jp", consortium_a)

    def page(response, email):
        html = response.content.decode().replace(email, "ADDRESS")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert new.status_code == taken.status_code == 200
    assert page(new, "new@example.jp") == page(taken, "hanako@example.jp")
    assert "Check your mailbox" in page(taken, "hanako@example.jp")
    assert Resident.objects.count() == 1  # nothing created before the link is followed
    to_new, to_taken = mail.outbox
    assert to_new.to == ["new@example.jp"] and "/portal/signup/" in to_new.body
    assert to_taken.to == ["hanako@example.jp"]
    assert "already has one" in to_taken.body and "/portal/signup/" not in to_taken.body
    assert "/portal/password-reset/" in to_taken.body


def test_a_sign_up_link_works_once(client, consortium_a):
    sign_up(client, "once@example.jp", consortium_a)
    path = re.search(r"https?://testserver(\S+)", mail.outbox[0].body).group(1)

    assert client.post(path).status_code == 302
    client.logout()
    again = client.post(path)

    assert again.status_code == 404
    assert 'href="/portal/signup/"' in again.content.decode()  # "sign up again"


def test_an_unknown_sign_up_link_is_404(client):
    response = client.get("/portal/signup/not-a-token/")

    assert response.status_code == 404


@override_settings(PASSWORD_RESET_LIMIT_PER_EMAIL=2)
def test_sign_up_mail_to_one_address_is_throttled(client, consortium_a):
    for number in range(4):
        sign_up(client, "flood@example.jp", consortium_a, REMOTE_ADDR=f"192.0.2.{number}")

    assert len(mail.outbox) == 2
