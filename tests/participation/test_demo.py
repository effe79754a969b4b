"""The participation part of ``seed_demo``: what ``make run`` shows filled."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from consent.demo import DEMO_RESIDENT_EMAIL
from governance.demo import demo_consortium
from participation.demo import CONSULTATION_TITLE
from participation.models import Comment, Consultation, Meeting, Proposal

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_the_demo_has_a_consultation_meetings_and_proposals(demo):
    assert "Participation: a consultation with its result" in demo
    consortium = demo_consortium()
    consultation = Consultation.objects.get(consortium=consortium, title_ja=CONSULTATION_TITLE)
    assert consultation.status == Consultation.Status.ANSWERED
    assert consultation.answers.count() == 3
    channels = sorted(consultation.comments.values_list("channel", flat=True))
    assert channels == ["meeting", "meeting", "meeting", "paper", "portal"]
    assert not consultation.comments.filter(answer__isnull=True).exists()
    held = Meeting.objects.get(consortium=consortium, status=Meeting.Status.MINUTES)
    assert list(held.consultations.all()) == [consultation]
    assert Comment.objects.filter(meeting=held).count() == 3
    assert held.registrations.filter(attended=True).count() == 1 and held.walk_ins == 11
    assert (
        Meeting.objects.filter(consortium=consortium, status=Meeting.Status.ANNOUNCED).count() == 1
    )
    answered = Proposal.objects.get(consortium=consortium, status=Proposal.Status.ANSWERED)
    assert answered.supports.count() == 1
    assert Proposal.objects.filter(consortium=consortium, status="published").count() == 1

    call_command("seed_demo", stdout=StringIO())
    assert Meeting.objects.count() == 2 and Proposal.objects.count() == 2


def test_the_demo_resident_and_the_register_see_the_participation_pages_filled(demo):
    from consent.models import Resident

    slug = demo_consortium().slug
    held = Meeting.objects.get(status=Meeting.Status.MINUTES)
    coming = Meeting.objects.get(status=Meeting.Status.ANNOUNCED)
    resident = Client()
    resident.force_login(Resident.objects.get(user__username=DEMO_RESIDENT_EMAIL).user)
    pages = {
        "/portal/consultations/": CONSULTATION_TITLE,
        "/portal/my-comments/": "土曜日の運行と病院への直通便を計画に加えました。",
        "/portal/proposals/": "会津若松駅前に混雑センサーを",
        "/portal/meetings/": coming.title_ja,
        f"/portal/meetings/{held.pk}/": "土曜運行",
        f"/portal/meetings/{coming.pk}/": "参加を申し込む",
    }
    for url, text in pages.items():
        response = resident.get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url
    public = Client()
    for url, text in {
        f"/register/{slug}/meetings/": held.title_ja,
        f"/register/{slug}/meetings/{held.pk}/": "土曜運行",
        f"/register/{slug}/consultations/": CONSULTATION_TITLE,
        f"/register/{slug}/proposals/": "会津若松駅前に混雑センサーを",
    }.items():
        response = public.get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url
