"""The secretariat invites its consortium's people by e-mail and deactivates their accounts."""

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from audit.models import Entry, PendingEntry
from governance import selectors, services
from governance.models import Account

from ..conftest import make_user

pytestmark = pytest.mark.django_db
PASSWORD = "a long passphrase of my own 2026"
ADD = "admin:governance_account_add"
LIST = "admin:governance_account_changelist"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what follows each commit (the invitation mail, the log's sealing) as it would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def logged(action: str) -> list[dict]:
    """Return the payloads of ``action``'s audit entries, sealed or still pending."""
    return [
        json.loads(payload) if isinstance(payload, str) else payload
        for model in (Entry, PendingEntry)
        for payload in model.objects.filter(action=action).values_list("payload", flat=True)
    ]


def signs_in(username: str, password: str) -> bool:
    """Sign in through the admin's login page, as the person would."""
    response = Client().post(reverse("admin:login"), {"username": username, "password": password})
    return response.status_code == 302


@pytest.fixture
def invite(committed):
    return lambda client, clerk, consortium, **fields: _invite(
        committed, client, clerk, consortium, **fields
    )


def _invite(committed, client, clerk, consortium, **fields):
    client.force_login(clerk)
    data = {
        "consortium": consortium.pk,
        "username": "sato.hanako",
        "last_name": "佐藤",
        "first_name": "花子",
        "email": "hanako.sato@city.example.jp",
        "staff": "on",
    } | fields
    with committed():
        return client.post(reverse(ADD), data)


def link_in(message) -> str:
    return re.search(r"https?://\S+/accounts/invitation/\S+/", message.body).group(0)


def test_an_invited_clerk_sets_their_own_password_and_signs_in(
    invite, client, consortium_a, clerk_a
):
    response = invite(client, clerk_a, consortium_a)

    assert response.status_code == 302, response.text
    account = Account.objects.get()
    person = account.user
    assert account.consortium == consortium_a and account.state == Account.State.INVITED
    assert person.is_staff and not person.has_usable_password()
    # The log names the account by its ids, never by the name or address typed in.
    assert logged("account.invited") == [{"user_id": person.pk, "staff": True}]
    (message,) = mail.outbox
    assert message.to == ["hanako.sato@city.example.jp"]
    assert "sato.hanako" in message.body

    client.logout()
    url = link_in(message).split("testserver", 1)[1]
    page = client.get(url, follow=True)
    assert page.status_code == 200 and "sato.hanako" in page.text
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else url
    mismatch = client.post(form_url, {"new_password1": PASSWORD, "new_password2": PASSWORD + "x"})
    assert mismatch.status_code == 200 and "errorlist" in mismatch.text
    person.refresh_from_db()
    assert not person.has_usable_password()

    done = client.post(form_url, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("governance:invitation_done")
    assert client.get(done["Location"]).status_code == 200
    account.refresh_from_db()
    assert account.state == Account.State.ACTIVE
    assert logged("account.activated") == [{"user_id": person.pk}]
    assert signs_in("sato.hanako", PASSWORD)

    # The link works once.
    client.logout()
    again = client.get(url, follow=True)
    assert "expired or was already used" in again.text or "期限が切れているか" in again.text


def test_a_taken_user_name_is_a_field_error_with_what_was_typed_kept(
    invite, client, consortium_a, clerk_a
):
    make_user("sato.hanako")

    response = invite(client, clerk_a, consortium_a, username="Sato.Hanako")

    assert response.status_code == 200
    assert "errorlist" in response.text and "hanako.sato@city.example.jp" in response.text
    assert not Account.objects.exists() and not mail.outbox
    assert not logged("account.invited")


def test_a_deactivated_person_can_no_longer_sign_in_nor_keep_a_session(
    invite, client, consortium_a, clerk_a
):
    invite(client, clerk_a, consortium_a)
    account = Account.objects.get()
    services.account_activate(user=account.user, password=PASSWORD)
    person = get_user_model().objects.get(username="sato.hanako")
    person.groups.add(consortium_a.secretariat_group)  # a new clerk of A
    person_client = Client()
    person_client.force_login(person)
    assert person_client.get(reverse("admin:index")).status_code == 200

    response = client.post(
        reverse(LIST), {"action": "deactivate", "_selected_action": [account.pk]}, follow=True
    )

    assert response.status_code == 200
    account.refresh_from_db()
    assert account.state == Account.State.DEACTIVATED and not account.user.is_active
    assert logged("account.deactivated") == [{"user_id": account.user_id}]
    assert not signs_in("sato.hanako", PASSWORD)
    # The session held before is refused at its next request.
    assert person_client.get(reverse("admin:index")).status_code == 302


def test_another_consortiums_clerk_sees_and_changes_nothing(
    invite, committed, client, consortium_a, consortium_b, clerk_a, clerk_b
):
    invite(Client(), clerk_a, consortium_a)
    account = Account.objects.get()
    client.force_login(clerk_b)

    assert "sato.hanako" not in client.get(reverse(LIST)).text
    change = reverse("admin:governance_account_change", args=[account.pk])
    assert client.get(change).status_code == 404
    client.post(reverse(LIST), {"action": "deactivate", "_selected_action": [account.pk]})
    with committed():
        client.post(
            reverse(LIST), {"action": "resend_invitation", "_selected_action": [account.pk]}
        )
    account.refresh_from_db()
    assert account.state == Account.State.INVITED and len(mail.outbox) == 1
    # Nor can B's clerk invite someone into A.
    response = invite(client, clerk_b, consortium_a, username="intruder")
    assert response.status_code == 200 and not Account.objects.filter(user__username="intruder")
    # The invited person is one of A's people, offered to A's clerk only.
    assert selectors.people_visible_to(clerk_a).filter(pk=account.user_id).exists()
    assert not selectors.people_visible_to(clerk_b).filter(pk=account.user_id).exists()
    client.logout()
    assert client.get(reverse(LIST)).status_code == 302


def test_the_invitation_can_be_sent_again_until_the_password_is_set(
    invite, committed, client, consortium_a, clerk_a
):
    invite(client, clerk_a, consortium_a)
    account = Account.objects.get()

    with committed():
        client.post(
            reverse(LIST), {"action": "resend_invitation", "_selected_action": [account.pk]}
        )
    assert len(mail.outbox) == 2
    services.account_activate(user=account.user, password=PASSWORD)
    response = client.post(
        reverse(LIST),
        {"action": "resend_invitation", "_selected_action": [account.pk]},
        follow=True,
    )
    assert len(mail.outbox) == 2
    assert "errorlist" in response.text or "messagelist" in response.text


def test_the_link_page_sets_no_password_for_an_account_the_secretariat_did_not_open(
    client, consortium_a
):
    resident_like = make_user("someone")
    resident_like.set_password("old password 1234")
    resident_like.save()
    url = reverse(
        "governance:invitation",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(resident_like.pk)),
            "token": default_token_generator.make_token(resident_like),
        },
    )

    page = client.get(url, follow=True)
    assert page.status_code == 200 and 'name="new_password1"' not in page.text
    resident_like.refresh_from_db()
    assert resident_like.check_password("old password 1234")
    assert get_user_model().objects.filter(username="someone").get().is_active
