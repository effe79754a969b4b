"""
Taking part with a confirmed e-mail address (no portal account), where the consortium allows
it: the flag, the link, the comment, the refusals, and what the log, the counts and the public
result hold (never the address).
"""

import datetime
import json
import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import Entry, PendingEntry
from participation import selectors, services
from participation.models import AgeBand, Channel, Comment, Consultation, EmailParticipant
from participation.tokens import LinkExpired, LinkUsed, make_link_token, read_link_token

from .conftest import after_period, as_resident, make_consultation

pytestmark = pytest.mark.django_db

ADDRESS = "sakura@example.net"


def entries(action: str) -> list[dict]:
    """Return the payloads of ``action``'s audit entries, sealed or still pending."""
    return [
        json.loads(payload) if isinstance(payload, str) else payload
        for model in (Entry, PendingEntry)
        for payload in model.objects.filter(action=action).values_list("payload", flat=True)
    ]


def log_text() -> str:
    """Every audit entry's actor, object and payload, as one text to search."""
    return "\n".join(
        f"{row}"
        for model in (Entry, PendingEntry)
        for row in model.objects.values_list("actor_id", "object_id", "payload")
    )


def allow(consortium, clerk, allowed: bool = True):
    return services.consultation_policy_set(
        actor=clerk, consortium=consortium, email_participants_allowed=allowed
    )


@pytest.fixture
def open_to_email(consortium_a, clerk_a, consultation):
    allow(consortium_a, clerk_a)
    return consultation


@pytest.fixture(autouse=True)
def _mail_after_commit(django_capture_on_commit_callbacks):
    """Run the mail the services send after the commit (the test's transaction never commits)."""
    global _after_commit
    _after_commit = django_capture_on_commit_callbacks


_after_commit = None


def english() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def ask_link(client, consultation, email=ADDRESS):
    with _after_commit(execute=True):
        return client.post(
            reverse("participation:email_start", args=[consultation.pk]), {"email": email}
        )


def mailed_link() -> str:
    return re.search(r"https?://\S+", mail.outbox[-1].body).group(0)


def confirmed(client, consultation, email=ADDRESS) -> Client:
    """Ask for a link with ``client``, open it and confirm; return the client."""
    mail.outbox.clear()
    assert ask_link(client, consultation, email).status_code == 200
    link = mailed_link()
    response = client.post(link)
    assert response.status_code == 302, response.content.decode()[:400]
    return client


def test_the_flag_is_off_by_default_and_its_change_is_logged(consortium_a, clerk_a):
    assert not selectors.email_participation_allowed(consortium_a.pk)
    allow(consortium_a, clerk_a)
    assert selectors.email_participation_allowed(consortium_a.pk)
    (payload,) = entries("consultation_policy.set")
    assert payload["without_account"] is True


def test_another_consortiums_clerk_may_not_set_the_flag(consortium_a, clerk_b):
    with pytest.raises(PermissionDenied):
        allow(consortium_a, clerk_b)
    assert not selectors.email_participation_allowed(consortium_a.pk)


def test_flag_off_every_email_page_answers_as_a_missing_consultation(
    consortium_a, clerk_a, consultation
):
    # A link sent while the flag was on does not work once it is off.
    allow(consortium_a, clerk_a)
    client = Client()
    ask_link(client, consultation)
    link = mailed_link()
    allow(consortium_a, clerk_a, allowed=False)
    missing = 999999
    for url in [
        reverse("participation:email_start", args=[consultation.pk]),
        reverse("participation:email_comment", args=[consultation.pk]),
        link,
    ]:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"email": ADDRESS, "text": "x"}).status_code == 404, url
    for name in ["participation:email_start", "participation:email_comment"]:
        assert client.get(reverse(name, args=[missing])).status_code == 404
    assert EmailParticipant.objects.get().confirmed_at is None
    assert not Comment.objects.exists()
    with pytest.raises(PermissionDenied):
        services.email_participant_request(
            consultation=consultation, email=ADDRESS, site_url="http://testserver"
        )


def test_a_draft_consultation_is_missing_too(consortium_a, clerk_a):
    allow(consortium_a, clerk_a)
    draft = make_consultation(consortium_a, clerk_a, announce=False)
    url = reverse("participation:email_start", args=[draft.pk])
    assert Client().get(url).status_code == 404


def test_the_link_confirms_once_and_the_log_names_the_participant_by_id_only(open_to_email):
    client = Client()
    page = client.get(reverse("participation:email_start", args=[open_to_email.pk]))
    assert page.status_code == 200 and "利用目的案と通知文の全文です。" in page.content.decode()
    response = ask_link(client, open_to_email, " Sakura@Example.NET ")
    assert response.status_code == 200
    (message,) = mail.outbox
    assert message.to == [ADDRESS]
    participant = EmailParticipant.objects.get()
    assert participant.email == ADDRESS and participant.confirmed_at is None
    link = mailed_link()

    # Opening the link (a mail scanner does) confirms nothing; the button does.
    assert client.get(link).status_code == 200
    assert EmailParticipant.objects.get().confirmed_at is None
    response = client.post(link)
    assert response.status_code == 302
    assert response["Location"].startswith(
        reverse("participation:email_comment", args=[open_to_email.pk])
    )
    assert EmailParticipant.objects.get().confirmed_at is not None

    # Used: a clear page, in the visitor's language, not an error.
    for method in ("get", "post"):
        again = getattr(english(), method)(link)
        assert again.status_code == 410
        assert "already been used" in again.content.decode()

    (sent,) = entries("email_participant.link_sent")
    assert sent == {"consultation": open_to_email.pk, "created": True}
    (done,) = entries("email_participant.confirmed")
    assert done == {"consultation": open_to_email.pk, "first": True}
    assert "@" not in log_text() and "sakura" not in log_text().lower()


def test_an_expired_link_gets_a_clear_page_and_a_forged_one_404(open_to_email):
    ask_link(Client(), open_to_email)
    participant = EmailParticipant.objects.get()
    old = make_link_token(
        participant_id=participant.pk,
        consultation_id=open_to_email.pk,
        nonce=participant.link_nonce,
        now=timezone.now() - datetime.timedelta(hours=25),
    )
    url = reverse("participation:email_confirm", args=[old])
    for method in ("get", "post"):
        response = getattr(english(), method)(url)
        assert response.status_code == 410
        assert "expired" in response.content.decode()
    assert EmailParticipant.objects.get().confirmed_at is None
    forged = old[:-3] + ("aaa" if not old.endswith("aaa") else "bbb")
    url = reverse("participation:email_confirm", args=[forged])
    assert Client().get(url).status_code == 404
    assert Client().post(url).status_code == 404
    with pytest.raises(LinkExpired):
        read_link_token(old, now=timezone.now())


def test_repeated_requests_send_one_mail_until_ten_minutes_pass(open_to_email):
    now = timezone.now()
    for _ in range(5):
        with _after_commit(execute=True):
            services.email_participant_request(
                consultation=open_to_email, email=ADDRESS, site_url="http://testserver", now=now
            )
        assert ask_link(Client(), open_to_email).status_code == 200  # the same answer
    assert len(mail.outbox) == 1
    assert len(entries("email_participant.link_sent")) == 1
    first = mailed_link().rsplit("/confirm/", 1)[1].rstrip("/")
    later = now + services.RESEND_AFTER
    with _after_commit(execute=True):
        assert services.email_participant_request(
            consultation=open_to_email, email=ADDRESS, site_url="http://testserver", now=later
        )
    assert len(mail.outbox) == 2
    # The newer link replaces the older one.
    with pytest.raises(LinkUsed):
        services.email_participant_confirm(token=first, now=later)


def test_one_connection_asking_for_many_addresses_is_throttled(open_to_email, settings):
    settings.PASSWORD_RESET_LIMIT_PER_CLIENT = 2
    client = english()
    for number in range(2):
        assert ask_link(client, open_to_email, f"person{number}@example.net").status_code == 200
    response = ask_link(client, open_to_email, "person9@example.net")
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    assert len(mail.outbox) == 2
    assert not EmailParticipant.objects.filter(email="person9@example.net").exists()


def test_a_confirmed_participant_comments_and_sees_it_with_no_age_asked(open_to_email):
    client = confirmed(Client(), open_to_email)
    page = client.get(reverse("participation:email_comment", args=[open_to_email.pk]))
    assert page.status_code == 200
    assert 'name="age_band"' not in page.content.decode()
    question = open_to_email.questions.get()
    response = client.post(
        reverse("participation:email_comment", args=[open_to_email.pk]),
        {"text": "通知文をもっと短くしてください。", "question": question.pk},
    )
    assert response.status_code == 302
    comment = Comment.objects.get()
    assert comment.channel == Channel.EMAIL and comment.age_band == AgeBand.UNKNOWN
    assert comment.email_participant.email == ADDRESS and comment.resident is None
    listing = client.get(reverse("participation:email_my_comments")).content.decode()
    assert "通知文をもっと短くしてください。" in listing
    (payload,) = entries("consultation.comment_submitted")
    assert payload["participant"] == comment.email_participant_id
    assert payload["channel"] == "email"
    assert "@" not in log_text() and "短く" not in log_text()


def test_an_empty_comment_and_one_after_the_period_get_field_errors(open_to_email):
    client = confirmed(english(), open_to_email)
    url = reverse("participation:email_comment", args=[open_to_email.pk])
    response = client.post(url, {"text": "  "})
    assert response.status_code == 400
    assert "Write your comment before sending it." in response.content.decode()
    Consultation.objects.filter(pk=open_to_email.pk).update(
        closes_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    response = client.post(url, {"text": "遅れて送ります。"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "comments can no longer be sent" in text and "遅れて送ります。" in text
    assert not Comment.objects.exists()


def test_an_unconfirmed_address_gets_a_field_error_and_keeps_the_text(open_to_email):
    client = english()
    ask_link(client, open_to_email)  # asked, never opened
    url = reverse("participation:email_comment", args=[open_to_email.pk])
    assert client.get(url).status_code == 302  # sent to ask for a link
    response = client.post(url, {"text": "確認前に書きました。"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "not confirmed on this device" in text and "確認前に書きました。" in text
    assert not Comment.objects.exists()
    with pytest.raises(ValidationError) as refused:
        services.email_comment_submit(
            actor=None,
            consultation=open_to_email,
            participant=EmailParticipant.objects.get(),
            text="確認前",
        )
    assert "text" in refused.value.error_dict
    assert not Comment.objects.exists()


def test_another_participants_comment_cannot_be_read_or_edited(open_to_email):
    sakura = confirmed(Client(), open_to_email)
    sakura.post(
        reverse("participation:email_comment", args=[open_to_email.pk]), {"text": "さくらの意見"}
    )
    theirs = Comment.objects.get()
    other = confirmed(Client(), open_to_email, "kaede@example.net")
    edit = reverse("participation:email_comment_edit", args=[theirs.pk])
    assert other.get(edit).status_code == 404
    assert other.post(edit, {"text": "書き換え"}).status_code == 404
    assert Client().get(edit).status_code == 404  # nobody remembered: as missing
    assert (
        "さくらの意見" not in other.get(reverse("participation:email_my_comments")).content.decode()
    )
    assert Comment.objects.get().text == "さくらの意見"
    with pytest.raises(PermissionDenied):
        services.email_comment_edit(
            actor=None,
            comment=theirs,
            participant=EmailParticipant.objects.get(email="kaede@example.net"),
            text="書き換え",
        )
    # Its author may change it while the period lasts.
    assert sakura.post(edit, {"text": "さくらの意見（修正）"}).status_code == 302
    assert Comment.objects.get().text == "さくらの意見（修正）"


def test_a_confirmation_of_one_consortium_gives_nothing_in_another(
    open_to_email, consortium_b, clerk_b
):
    allow(consortium_b, clerk_b)
    theirs = make_consultation(consortium_b, clerk_b)
    client = confirmed(Client(), open_to_email)
    url = reverse("participation:email_comment", args=[theirs.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"text": "他の協議会へ"}).status_code == 404
    assert not Comment.objects.exists()
    participant = EmailParticipant.objects.get()
    with pytest.raises(PermissionDenied):
        services.email_comment_submit(
            actor=None, consultation=theirs, participant=participant, text="他の協議会へ"
        )
    # The same person may still ask B for a link of their own.
    assert client.get(reverse("participation:email_start", args=[theirs.pk])).status_code == 200


def test_the_same_consortiums_other_consultation_needs_no_new_mail(
    open_to_email, consortium_a, clerk_a
):
    client = confirmed(Client(), open_to_email)
    second = make_consultation(consortium_a, clerk_a)
    response = client.post(
        reverse("participation:email_comment", args=[second.pk]), {"text": "二つ目への意見"}
    )
    assert response.status_code == 302
    assert Comment.objects.get().consultation == second


def test_a_portal_resident_comment_and_the_constraint_allow_one_author_kind(
    open_to_email, resident, clerk_a
):
    confirmed(Client(), open_to_email)
    participant = EmailParticipant.objects.get()
    services.comment_submit(
        actor=as_resident(resident), consultation=open_to_email, resident=resident, text="住民"
    )
    for kind in (
        {"channel": "email", "email_participant": participant, "resident": resident},
        {"channel": "email"},
        {"channel": "portal", "email_participant": participant},
        {"channel": "paper", "email_participant": participant, "entered_by": clerk_a},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Comment.objects.create(consultation=open_to_email, text="x", language="ja", **kind)


def test_counts_open_data_and_the_answer_mail_hold_no_address(
    open_to_email, clerk_a, resident, django_capture_on_commit_callbacks, monkeypatch
):
    from public import selectors as public_selectors

    client = confirmed(Client(), open_to_email)
    url = reverse("participation:email_comment", args=[open_to_email.pk])
    client.post(url, {"text": "一つ目"})
    client.post(url, {"text": "二つ目"})
    services.comment_submit(
        actor=as_resident(resident),
        consultation=open_to_email,
        resident=resident,
        text="住民の意見",
        age_band=AgeBand.FORTIES,
    )
    # One e-mail participant, however many comments; counted under "unknown" age.
    monkeypatch.setattr("participation.selectors.consultations.SMALL_COUNT", 1)
    counts = selectors.participation_counts(open_to_email)
    assert counts.total == 2
    assert {v: n for v, _label, n in counts.by_channel}["email"] == 1
    ages = {v: n for v, _label, n in counts.by_age_band}
    assert (ages["unknown"], ages["40s"]) == (1, 1)
    now = timezone.now()
    assert (
        selectors.participants_between(
            open_to_email.consortium, now - datetime.timedelta(days=1), now + datetime.timedelta(1)
        )
        == 2
    )
    row = public_selectors.consultation_rows(open_to_email.consortium)[0]
    assert (row["channel_email"], row["age_unknown"]) == (1, 1)

    # The period ends; the secretariat answers and publishes; the participant gets the answer.
    at = after_period(open_to_email)
    first, second, by_resident = Comment.objects.order_by("id")
    services.comment_hide(actor=clerk_a, comment=second, reason="重複のため")
    services.answer_save(
        actor=clerk_a,
        consultation=open_to_email,
        comments=[first, by_resident],
        opinion_ja="通知文についての意見",
        response_ja="通知文を見直しました。",
        changed=True,
        now=at,
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.consultation_result_publish(actor=clerk_a, consultation=open_to_email, now=at)
    (answer_mail,) = [m for m in mail.outbox if m.to == [ADDRESS]]
    assert "通知文を見直しました。" in answer_mail.body and "重複のため" in answer_mail.body

    register = Client().get(
        reverse("public:consultation", args=[open_to_email.consortium.slug, open_to_email.pk])
    )
    text = register.content.decode()
    assert register.status_code == 200 and "一つ目" in text and "二つ目" not in text
    assert ADDRESS not in text
    answers = public_selectors.consultation_answer_rows(open_to_email.consortium)
    assert "一つ目" in answers[0]["comments"] and ADDRESS not in json.dumps(answers)
    assert "@" not in log_text()


def test_only_the_consortiums_secretariat_changes_the_flag_in_the_admin(
    consortium_a, clerk_a, clerk_b
):
    policy = allow(consortium_a, clerk_a, allowed=False)
    url = reverse("admin:participation_consultationpolicy_change", args=[policy.pk])
    form = {"email_participants_allowed": "on", "_save": "Save"}
    other = Client()
    other.force_login(clerk_b)
    assert other.get(url).status_code == 404
    assert other.post(url, form).status_code == 404
    assert not selectors.email_participation_allowed(consortium_a.pk)
    clerk = Client()
    clerk.force_login(clerk_a)
    assert clerk.post(url, form).status_code == 302
    assert selectors.email_participation_allowed(consortium_a.pk)
    assert [p["without_account"] for p in entries("consultation_policy.set")] == [False, True]
