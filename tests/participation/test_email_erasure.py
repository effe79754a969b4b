"""
Erasing an e-mail participant's address (APPI Art. 22): by the participant on their pages, and
by the daily task and ``participation_erase_addresses`` once it is no longer needed. The
comments stay; no mail goes to the erased address; the log names ids only.
"""

import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from participation import services, tasks
from participation.models import Comment, Consultation, EmailParticipant
from participation.schedules import ensure_schedules

from . import test_email_participants as base
from .conftest import after_period, make_consultation
from .test_email_participants import (
    ADDRESS,
    allow,
    ask_link,
    confirmed,
    english,
    entries,
    log_text,
)

_mail_after_commit = base._mail_after_commit  # the autouse fixture that runs on_commit mail

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def open_to_email(consortium_a, clerk_a, consultation):
    allow(consortium_a, clerk_a)
    return consultation


def comment(client, consultation, text="意見です。"):
    response = client.post(
        reverse("participation:email_comment", args=[consultation.pk]), {"text": text}
    )
    assert response.status_code == 302, response.content.decode()[:400]
    return Comment.objects.latest("id")


def publish(consultation, clerk, at=None):
    """End the period (moved into the past), answer every comment and publish the result."""
    at = at or timezone.now()
    Consultation.objects.filter(pk=consultation.pk).update(
        opens_at=at - 40 * DAY, closes_at=at - datetime.timedelta(minutes=1)
    )
    comments = list(consultation.comments.filter(status=Comment.Status.PUBLISHED))
    if comments:
        services.answer_save(
            actor=clerk,
            consultation=consultation,
            comments=comments,
            opinion_ja="意見の要旨",
            response_ja="回答です。",
            changed=False,
            now=at,
        )
    with base._after_commit(execute=True):
        return services.consultation_result_publish(actor=clerk, consultation=consultation, now=at)


def test_the_participant_erases_their_address_and_the_log_holds_ids_only(open_to_email):
    client = confirmed(english(), open_to_email)
    kept = comment(client, open_to_email, "通知文を短くしてください。")
    participant = EmailParticipant.objects.get()
    listing = client.get(reverse("participation:email_my_comments")).content.decode()
    url = reverse("participation:email_erase", args=[participant.pk])
    assert url in listing

    # The page says what erasing means, and erases nothing until the button.
    page = client.get(url)
    text = page.content.decode()
    assert page.status_code == 200
    assert "will not be mailed to you" in text and "without your address" in text
    assert EmailParticipant.objects.get().email == ADDRESS

    response = client.post(url)
    assert response.status_code == 302
    erased = EmailParticipant.objects.get()
    assert erased.email is None and erased.erased_at is not None and erased.link_nonce == ""
    assert Comment.objects.get() == kept and kept.email_participant_id == erased.pk
    assert "erased" in client.get(response["Location"]).content.decode()

    # The session no longer holds them: their pages are gone, here and on any device.
    assert client.get(url).status_code == 404
    listing = client.get(reverse("participation:email_my_comments")).content.decode()
    assert "通知文を短く" not in listing
    comment_url = reverse("participation:email_comment", args=[open_to_email.pk])
    assert client.get(comment_url).status_code == 302  # asked for a link again
    assert client.post(comment_url, {"text": "消去後"}).status_code == 400
    assert Comment.objects.count() == 1

    (payload,) = entries("email_participant.erased")
    assert payload == {"reason": "participant", "opinions": 1}
    assert "@" not in log_text() and "sakura" not in log_text().lower()


def test_another_participant_or_a_stranger_cannot_erase_an_address(open_to_email):
    confirmed(Client(), open_to_email)
    sakura = EmailParticipant.objects.get()
    url = reverse("participation:email_erase", args=[sakura.pk])
    other = confirmed(Client(), open_to_email, "kaede@example.net")
    for client in (other, Client()):
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    missing = reverse("participation:email_erase", args=[999999])
    assert other.post(missing).status_code == 404
    assert EmailParticipant.objects.get(pk=sakura.pk).email == ADDRESS
    assert not entries("email_participant.erased")


def test_erasing_twice_is_harmless(open_to_email):
    client = confirmed(Client(), open_to_email)
    participant = EmailParticipant.objects.get()
    url = reverse("participation:email_erase", args=[participant.pk])
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 404  # no longer theirs to erase
    actor = services.email_actor(participant)
    assert not services.email_participant_erase(actor=actor, participant=participant)
    assert len(entries("email_participant.erased")) == 1


def test_the_answer_mail_skips_an_erased_participant(open_to_email, clerk_a):
    sakura = confirmed(Client(), open_to_email)
    first = comment(sakura, open_to_email, "さくらの意見")
    kaede = confirmed(Client(), open_to_email, "kaede@example.net")
    comment(kaede, open_to_email, "かえでの意見")
    participant = first.email_participant
    assert sakura.post(reverse("participation:email_erase", args=[participant.pk])).status_code
    mail.outbox.clear()
    publish(open_to_email, clerk_a, after_period(open_to_email))
    assert [m.to for m in mail.outbox] == [["kaede@example.net"]]
    # The erased participant's comment is still counted and public.
    register = Client().get(
        reverse("public:consultation", args=[open_to_email.consortium.slug, open_to_email.pk])
    )
    assert "さくらの意見" in register.content.decode()


def test_the_same_address_asked_again_makes_a_new_participant(open_to_email):
    client = confirmed(Client(), open_to_email)
    old = comment(client, open_to_email, "前の意見")
    client.post(reverse("participation:email_erase", args=[old.email_participant_id]))
    again = confirmed(Client(), open_to_email)
    new = EmailParticipant.objects.get(email=ADDRESS)
    assert new.pk != old.email_participant_id and new.is_confirmed
    listing = again.get(reverse("participation:email_my_comments")).content.decode()
    assert "前の意見" not in listing
    assert Comment.objects.get().email_participant_id == old.email_participant_id


def test_a_link_sent_before_the_erasure_confirms_nothing(open_to_email):
    client = Client()
    ask_link(client, open_to_email)
    link = base.mailed_link()
    participant = EmailParticipant.objects.get()
    services.email_participant_erase(
        actor=services.email_actor(participant), participant=participant
    )
    assert client.post(link).status_code == 410  # its nonce is gone
    assert EmailParticipant.objects.get().confirmed_at is None


# --- Automatic erasure ---------------------------------------------------------------------


def test_the_task_erases_exactly_the_addresses_past_retention(consortium_a, clerk_a, settings):
    settings.PARTICIPATION_EMAIL_RETENTION_DAYS = 30
    allow(consortium_a, clerk_a)
    now = timezone.now()
    answered_long_ago, answered_lately, awaiting_result, still_open = (
        make_consultation(consortium_a, clerk_a) for _ in range(4)
    )
    people = {}
    for name, where in [
        ("done", [answered_long_ago]),
        ("done_twice", [answered_long_ago, answered_long_ago]),
        ("lately", [answered_lately]),
        ("one_done_one_waiting", [answered_long_ago, awaiting_result]),
        ("open", [still_open]),
        ("silent", []),  # confirmed, never commented
    ]:
        client = confirmed(Client(), still_open, f"{name}@example.net")
        for consultation in where:
            comment(client, consultation, f"{name}の意見")
        people[name] = EmailParticipant.objects.get(email=f"{name}@example.net")
    for name in ("never", "never_lately", "fresh"):  # asked a link, never opened it
        ask_link(Client(), still_open, f"{name}@example.net")
        people[name] = EmailParticipant.objects.get(email=f"{name}@example.net")

    # Sixty days pass (moved into the past rather than waited for), except for "fresh".
    EmailParticipant.objects.exclude(pk=people["fresh"].pk).update(
        created_at=now - 60 * DAY, link_sent_at=now - 60 * DAY
    )
    EmailParticipant.objects.filter(confirmed_at__isnull=False).update(confirmed_at=now - 60 * DAY)
    # Its link expired 29.5 days ago: within the retention.
    EmailParticipant.objects.filter(pk=people["never_lately"].pk).update(
        link_sent_at=now - datetime.timedelta(days=30, hours=12)
    )
    publish(answered_long_ago, clerk_a, now - 31 * DAY)
    publish(answered_lately, clerk_a, now - 5 * DAY)
    Consultation.objects.filter(pk=awaiting_result.pk).update(
        opens_at=now - 60 * DAY, closes_at=now - 50 * DAY
    )

    mail.outbox.clear()
    out = io.StringIO()
    call_command("participation_erase_addresses", "--dry-run", stdout=out)
    assert out.getvalue().strip() == "4 address(es) would be erased."
    assert not EmailParticipant.objects.filter(email__isnull=True).exists()

    assert tasks.erase_expired_addresses() == 4
    erased = set(EmailParticipant.objects.filter(email__isnull=True).values_list("pk", flat=True))
    assert erased == {people[name].pk for name in ("done", "done_twice", "silent", "never")}
    kept = set(EmailParticipant.objects.filter(email__isnull=False).values_list("email", flat=True))
    assert kept == {
        f"{name}@example.net"
        for name in ("lately", "one_done_one_waiting", "open", "never_lately", "fresh")
    }
    assert Comment.objects.count() == 7  # every comment stays
    logged = entries("email_participant.erased")
    assert sorted(p["reason"] for p in logged) == ["retention"] * 4
    assert sorted(p["opinions"] for p in logged) == [0, 0, 1, 2]
    assert not mail.outbox and "@" not in log_text()

    # A second run erases nothing more and logs nothing more.
    out = io.StringIO()
    call_command("participation_erase_addresses", stdout=out)
    assert out.getvalue().strip() == "0 address(es) erased."
    assert len(entries("email_participant.erased")) == 4

    # With a shorter retention, the later result is past it too.
    out = io.StringIO()
    call_command("participation_erase_addresses", "--days", "4", stdout=out)
    assert out.getvalue().strip() == "2 address(es) erased."
    assert EmailParticipant.objects.get(pk=people["lately"].pk).email is None
    assert EmailParticipant.objects.get(pk=people["never_lately"].pk).email is None


@pytest.mark.parametrize("days", ["-1", "abc", "1.5", "99999999", ""])
def test_the_command_refuses_bad_input_in_one_line(days):
    with pytest.raises(CommandError) as refused:
        call_command("participation_erase_addresses", "--days", days)
    assert "\n" not in str(refused.value) and "--days" in str(refused.value)


def test_the_command_exits_1_on_bad_input(capsys):
    with pytest.raises(SystemExit) as exited:
        from django.core.management import ManagementUtility

        ManagementUtility(["manage.py", "participation_erase_addresses", "--days", "x"]).execute()
    assert exited.value.code == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_the_daily_schedule_is_ensured():
    from django_q.models import Schedule

    ensure_schedules()
    ensure_schedules()  # idempotent
    (schedule,) = Schedule.objects.filter(func="participation.tasks.erase_expired_addresses")
    assert schedule.schedule_type == Schedule.DAILY and schedule.repeats == -1
