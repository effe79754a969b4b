"""
Open meetings through their services and pages: announcement, registration and cancellation,
attendance at the door, comments collected at the meeting, minutes; who may do what.
"""

import datetime
import json

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import Entry, PendingEntry
from participation import selectors, services
from participation.models import Comment, Meeting, Registration

from .conftest import as_resident, make_meeting

pytestmark = pytest.mark.django_db


def entries(action: str) -> list[dict]:
    """Return the payloads of ``action``'s audit entries, sealed or still pending."""
    return [
        json.loads(payload) if isinstance(payload, str) else payload
        for model in (Entry, PendingEntry)
        for payload in model.objects.filter(action=action).values_list("payload", flat=True)
    ]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def register(meeting, resident, **extra):
    return services.meeting_register(
        actor=as_resident(resident), meeting=meeting, resident=resident, **extra
    )


def started(meeting) -> datetime.datetime:
    return meeting.starts_at + datetime.timedelta(minutes=5)


@pytest.fixture
def meeting(consortium_a, clerk_a, consultation):
    return make_meeting(consortium_a, clerk_a, consultations=[consultation])


# --- Services ----------------------------------------------------------------------------------


def test_a_meeting_is_drafted_announced_and_the_log_keeps_no_text(meeting, consultation):
    assert meeting.status == Meeting.Status.ANNOUNCED
    assert entries("meeting.created") == [
        {"format": "in_person", "capacity": 30, "consultations": [consultation.pk], "proposals": []}
    ]
    (announced,) = entries("meeting.announced")
    assert announced["capacity"] == 30 and "市役所" not in str(announced)
    with pytest.raises(ValidationError, match="already been announced"):
        services.meeting_announce(actor=None, meeting=meeting)


def test_a_meeting_needs_its_place_or_its_link(consortium_a, clerk_a):
    with pytest.raises(ValidationError) as refused:
        make_meeting(consortium_a, clerk_a, place=" ", announce=False)
    assert "place" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        make_meeting(consortium_a, clerk_a, format="online", place="", announce=False)
    assert "online_url" in refused.value.message_dict
    assert not Meeting.objects.exists()


def test_another_consortiums_clerk_may_not_announce_or_record(meeting, clerk_b):
    with pytest.raises(PermissionDenied):
        services.meeting_attendance_record(
            actor=clerk_b, meeting=meeting, present=[], now=started(meeting)
        )
    with pytest.raises(PermissionDenied):
        services.meeting_minutes_publish(actor=clerk_b, meeting=meeting, minutes_ja="議事録")
    assert Meeting.objects.get().status == Meeting.Status.ANNOUNCED


def test_a_resident_registers_once_and_cancels(meeting, resident):
    register(meeting, resident)
    with pytest.raises(ValidationError, match="already registered"):
        register(meeting, resident)
    assert entries("meeting.registered") == [{"resident": resident.pseudonymous_id}]
    services.meeting_cancel_registration(
        actor=as_resident(resident), meeting=meeting, resident=resident
    )
    assert not Registration.objects.exists()
    with pytest.raises(ValidationError, match="not registered"):
        services.meeting_cancel_registration(
            actor=as_resident(resident), meeting=meeting, resident=resident
        )
    assert len(entries("meeting.registration_cancelled")) == 1


def test_a_full_meeting_refuses_the_next_resident(consortium_a, clerk_a, resident, other_resident):
    meeting = make_meeting(consortium_a, clerk_a, capacity=1)
    register(meeting, resident)
    with pytest.raises(ValidationError, match="full"):
        register(meeting, other_resident)
    assert Registration.objects.count() == 1


def test_registering_or_cancelling_after_the_start_is_refused(meeting, resident, other_resident):
    register(meeting, resident)
    with pytest.raises(ValidationError, match="registration is closed"):
        register(meeting, other_resident, now=started(meeting))
    with pytest.raises(ValidationError, match="no longer be cancelled"):
        services.meeting_cancel_registration(
            actor=as_resident(resident), meeting=meeting, resident=resident, now=started(meeting)
        )
    assert Registration.objects.count() == 1


def test_a_resident_of_another_consortium_may_not_register(meeting, resident_b):
    with pytest.raises(PermissionDenied):
        register(meeting, resident_b)
    assert not Registration.objects.exists()


def test_a_draft_meeting_takes_no_registration(consortium_a, clerk_a, resident):
    meeting = make_meeting(consortium_a, clerk_a, announce=False)
    with pytest.raises(ValidationError):
        register(meeting, resident)


def hold(meeting, clerk, present=(), walk_ins=3):
    return services.meeting_attendance_record(
        actor=clerk, meeting=meeting, present=present, walk_ins=walk_ins, now=started(meeting)
    )


def test_attendance_is_recorded_after_the_start(meeting, clerk_a, resident, other_resident):
    mine = register(meeting, resident)
    register(meeting, other_resident)
    with pytest.raises(ValidationError, match="once the meeting has started"):
        services.meeting_attendance_record(actor=clerk_a, meeting=meeting, present=[mine])
    with pytest.raises(ValidationError):
        hold(meeting, clerk_a, walk_ins=-1)
    hold(meeting, clerk_a, present=[mine], walk_ins=4)
    assert Meeting.objects.get().status == Meeting.Status.HELD
    assert list(Registration.objects.order_by("pk").values_list("attended", flat=True)) == [
        True,
        False,
    ]
    assert entries("meeting.attendance_recorded") == [
        {"registered": 2, "present": 1, "walk_ins": 4}
    ]


def test_comments_collected_at_the_meeting_count_under_the_meeting_channel(
    meeting, clerk_a, consultation
):
    with pytest.raises(ValidationError, match="attendance"):
        services.comment_enter_offline(
            actor=clerk_a,
            consultation=consultation,
            channel="meeting",
            text="駅前にもセンサーを。",
            meeting=meeting,
        )
    hold(meeting, clerk_a)
    for text in ["駅前にもセンサーを。", "保存期間を短く。"]:
        services.comment_enter_offline(
            actor=clerk_a, consultation=consultation, channel="meeting", text=text, meeting=meeting
        )
    comments = Comment.objects.filter(meeting=meeting)
    assert [c.channel for c in comments] == ["meeting", "meeting"]
    assert {c.submitted_at for c in comments} == {meeting.starts_at}
    assert entries("consultation.comment_submitted")[0]["meeting"] == meeting.pk
    counts = dict(
        (value, count)
        for value, _label, count in selectors.participation_counts(consultation).by_channel
    )
    assert "meeting" in counts
    with pytest.raises(ValidationError) as refused:
        services.comment_enter_offline(
            actor=clerk_a, consultation=consultation, channel="paper", text="x", meeting=meeting
        )
    assert "channel" in refused.value.message_dict


def test_a_meeting_comment_goes_only_to_a_consultation_it_discussed(
    consortium_a, clerk_a, consultation
):
    other = make_meeting(consortium_a, clerk_a)
    hold(other, clerk_a)
    with pytest.raises(ValidationError) as refused:
        services.comment_enter_offline(
            actor=clerk_a, consultation=consultation, channel="meeting", text="x", meeting=other
        )
    assert "meeting" in refused.value.message_dict
    assert not Comment.objects.exists()


def test_minutes_follow_a_held_meeting_are_not_empty_and_registered_residents_are_told(
    meeting, clerk_a, resident, django_capture_on_commit_callbacks
):
    register(meeting, resident)
    with pytest.raises(ValidationError, match="Record the attendance"):
        services.meeting_minutes_publish(actor=clerk_a, meeting=meeting, minutes_ja="議事録")
    hold(meeting, clerk_a)
    with pytest.raises(ValidationError) as refused:
        services.meeting_minutes_publish(actor=clerk_a, meeting=meeting, minutes_ja="  ")
    assert "minutes_ja" in refused.value.message_dict
    assert Meeting.objects.get().status == Meeting.Status.HELD
    with django_capture_on_commit_callbacks(execute=True):
        services.meeting_minutes_publish(
            actor=clerk_a, meeting=meeting, minutes_ja="駅前の設置に賛成多数。"
        )
    assert Meeting.objects.get().status == Meeting.Status.MINUTES
    assert entries("meeting.minutes_published") == [
        {"consultations": list(meeting.consultations.values_list("pk", flat=True)), "proposals": []}
    ]
    assert [m.to for m in mail.outbox] == [[resident.profile.contact_email]]
    assert "駅前" not in mail.outbox[0].body
    with pytest.raises(ValidationError, match="already published"):
        services.meeting_minutes_publish(actor=clerk_a, meeting=meeting, minutes_ja="再")


def test_a_meeting_links_only_its_consortiums_consultations(consortium_b, clerk_b, consultation):
    with pytest.raises(ValidationError) as refused:
        make_meeting(consortium_b, clerk_b, consultations=[consultation], announce=False)
    assert "consultations" in refused.value.message_dict


# --- The portal --------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, meeting):
    for method, url in [
        ("get", reverse("participation:meetings")),
        ("get", reverse("participation:meeting", args=[meeting.pk])),
        ("post", reverse("participation:meeting", args=[meeting.pk])),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("consent:signin")), url
    assert not Registration.objects.exists()


def test_a_resident_registers_and_cancels_in_the_portal(meeting, resident):
    client = signed_in(resident.user)
    listing = client.get(reverse("participation:meetings")).content.decode()
    assert "センサーの設置場所についての意見交換会" in listing
    url = reverse("participation:meeting", args=[meeting.pk])
    page = client.get(url).content.decode()
    assert "市役所 第1会議室" in page and "残り30席" in page
    assert client.post(url, {"action": "register"}).status_code == 302
    second = client.post(url, {"action": "register"}, follow=True).content.decode()
    assert "この説明会にはすでに申し込んでいます。" in second
    assert Registration.objects.count() == 1
    assert "申込済み" in client.get(reverse("participation:meetings")).content.decode()
    client.post(url, {"action": "cancel"})
    assert not Registration.objects.exists()


def test_a_full_meeting_says_so_in_the_portal(consortium_a, clerk_a, resident, other_resident):
    meeting = make_meeting(consortium_a, clerk_a, capacity=1)
    register(meeting, other_resident)
    url = reverse("participation:meeting", args=[meeting.pk])
    page = signed_in(resident.user).post(url, {"action": "register"}, follow=True)
    assert "定員に達しました" in page.content.decode()
    assert Registration.objects.count() == 1


def test_the_online_link_is_for_registered_residents(consortium_a, clerk_a, resident):
    meeting = make_meeting(
        consortium_a, clerk_a, format="online", place="", online_url="https://meet.example.jp/x"
    )
    client = signed_in(resident.user)
    url = reverse("participation:meeting", args=[meeting.pk])
    assert "https://meet.example.jp/x" not in client.get(url).content.decode()
    register(meeting, resident)
    assert "https://meet.example.jp/x" in client.get(url).content.decode()


def test_another_consortiums_resident_gets_404(meeting, resident_b):
    client = signed_in(resident_b.user)
    url = reverse("participation:meeting", args=[meeting.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "register"}).status_code == 404
    listing = client.get(reverse("participation:meetings")).content.decode()
    assert "センサーの設置場所" not in listing
    assert not Registration.objects.exists()


def test_a_draft_meeting_is_not_in_the_portal(consortium_a, clerk_a, resident):
    meeting = make_meeting(consortium_a, clerk_a, announce=False)
    client = signed_in(resident.user)
    assert client.get(reverse("participation:meeting", args=[meeting.pk])).status_code == 404


# --- The secretariat's admin -----------------------------------------------------------------


def test_the_secretariat_records_attendance_and_publishes_minutes(
    meeting, clerk_a, resident, monkeypatch
):
    registration = register(meeting, resident)
    client = signed_in(clerk_a)
    change = reverse("admin:participation_meeting_change", args=[meeting.pk])
    assert client.get(change).status_code == 200
    monkeypatch.setattr(timezone, "now", lambda: meeting.starts_at + datetime.timedelta(minutes=10))
    attendance = reverse("admin:participation_meeting_attendance", args=[meeting.pk])
    assert client.get(attendance).status_code == 200
    done = client.post(attendance, {"present": [registration.pk], "walk_ins": "2"})
    assert done.status_code == 302
    assert (Meeting.objects.get().walk_ins, Registration.objects.get().attended) == (2, True)
    minutes = reverse("admin:participation_meeting_minutes", args=[meeting.pk])
    refused = client.post(minutes, {"minutes_ja": "", "minutes_en": ""})
    assert refused.status_code == 200
    assert "議事録を書いてから公開してください。" in refused.content.decode()
    assert Meeting.objects.get().status == Meeting.Status.HELD
    client.post(minutes, {"minutes_ja": "賛成多数。", "minutes_en": ""})
    assert Meeting.objects.get().status == Meeting.Status.MINUTES


def test_another_consortiums_clerk_gets_404_in_the_admin(meeting, clerk_b):
    client = signed_in(clerk_b)
    for name in ["change", "attendance", "minutes"]:
        url = reverse(f"admin:participation_meeting_{name}", args=[meeting.pk])
        assert client.get(url).status_code == 404, name
        assert client.post(url, {"minutes_ja": "x", "walk_ins": "1"}).status_code == 404, name
    listing = client.get(reverse("admin:participation_meeting_changelist")).content.decode()
    assert "センサーの設置場所" not in listing
    assert Meeting.objects.get().status == Meeting.Status.ANNOUNCED


# --- The public register ---------------------------------------------------------------------


def test_meetings_and_minutes_are_on_the_register_and_in_its_open_data(
    client, consortium_a, meeting, clerk_a
):
    draft = make_meeting(consortium_a, clerk_a, announce=False, title_ja="非公開の下書き")
    listing = reverse("public:meetings", kwargs={"slug": consortium_a.slug, "lang": "ja"})
    shown = client.get(listing).content.decode()
    assert "センサーの設置場所についての意見交換会" in shown and "非公開の下書き" not in shown
    detail = reverse(
        "public:meeting", kwargs={"slug": consortium_a.slug, "meeting_id": draft.pk, "lang": "ja"}
    )
    assert client.get(detail).status_code == 404
    hold(meeting, clerk_a, walk_ins=5)
    services.meeting_minutes_publish(actor=clerk_a, meeting=meeting, minutes_ja="駅前に設置。")
    detail = reverse(
        "public:meeting", kwargs={"slug": consortium_a.slug, "meeting_id": meeting.pk, "lang": "ja"}
    )
    page = client.get(detail).content.decode()
    assert "駅前に設置。" in page and "議事録公開" in page
    download = reverse(
        "public:download", kwargs={"slug": consortium_a.slug, "key": "meetings", "fmt": "json"}
    )
    [row] = client.get(download).json()["rows"]
    assert (row["id"], row["status"], row["attended"], row["minutes_ja"]) == (
        meeting.pk,
        "minutes",
        5,
        "駅前に設置。",
    )
    csv_body = client.get(
        reverse(
            "public:download", kwargs={"slug": consortium_a.slug, "key": "meetings", "fmt": "csv"}
        )
    ).content.decode("utf-8-sig")
    assert "駅前に設置。" in csv_body
