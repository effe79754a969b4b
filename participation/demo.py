"""
Demo data of the participation app, run by ``seed_demo`` after the consent demo (registered in
``AppConfig.ready()`` with ``governance.demo.register_part``); idempotent.

A consultation on next year's plan, commented on in the portal, at a meeting and on paper, with
its result published; the meeting that discussed it, held, with its minutes; a coming meeting
to register for; two residents' proposals, supported, one of them answered.
"""

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from audit.services import Actor
from consent import services as consent_services
from consent.demo import DEMO_RESIDENT_EMAIL, DEMO_RESIDENT_PASSWORD
from consent.models import Resident
from governance.demo import demo_consortium

from . import services
from .models import Channel, Consultation, Meeting, Proposal, Question

CONSULTATION_TITLE = "令和9年度事業計画（案）への意見募集"
SECOND_RESIDENT_EMAIL = "taro@example.jp"


def _write(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def seed(*, stdout=None) -> None:
    """Create the demo's consultation, meetings and proposals once."""
    consortium = demo_consortium()
    hanako = Resident.objects.filter(user__username=DEMO_RESIDENT_EMAIL).first()
    clerk = (
        consortium.secretariat_group.user_set.filter(is_staff=True, is_active=True)
        .order_by("pk")
        .first()
        if consortium
        else None
    )
    if hanako is None or clerk is None:
        _write(stdout, "Participation: no demo residents yet; nothing to take part in.\n")
        return
    if Consultation.objects.filter(consortium=consortium, title_ja=CONSULTATION_TITLE).exists():
        _write(stdout, "Participation: the demo consultation exists already; nothing changed.\n")
        return
    _build(consortium, clerk, hanako)
    _write(
        stdout,
        "Participation: a consultation with its result, a meeting with minutes, a coming "
        "meeting and proposals created.\n"
        f"  A second demo resident: {SECOND_RESIDENT_EMAIL} / {DEMO_RESIDENT_PASSWORD}\n",
    )


@transaction.atomic
def _build(consortium, clerk, hanako) -> None:
    now = timezone.now()
    days = datetime.timedelta(days=1)
    user = get_user_model().objects.create_user(
        username=SECOND_RESIDENT_EMAIL, email=SECOND_RESIDENT_EMAIL, password=DEMO_RESIDENT_PASSWORD
    )
    taro = consent_services.resident_register(
        actor=None,
        consortia=[consortium],
        user=user,
        full_name="会津 太郎",
        contact_email=SECOND_RESIDENT_EMAIL,
    )

    # The consultation: open from 40 days ago to 10 days ago.
    consultation = services.consultation_save(
        actor=clerk,
        consultation=Consultation(
            consortium=consortium,
            subject=Consultation.Subject.PLAN,
            title_ja=CONSULTATION_TITLE,
            title_en="Consultation on the draft plan for 2027",
            body_ja=(
                "令和9年度は、オンデマンド交通の運行区域を北会津地区に広げ、"
                "見守りタグの電池交換を年1回に減らす計画です。"
            ),
            body_en=(
                "In 2027 the on-demand buses will also serve Kita-Aizu, and the watch-over "
                "tags' batteries will be changed once a year."
            ),
            opens_at=now - 40 * days,
            closes_at=now - 10 * days,
        ),
    )
    services.question_save(
        actor=clerk,
        question=Question(
            consultation=consultation,
            number=1,
            text_ja="運行区域の拡大について、ご意見をお聞かせください。",
            text_en="What do you think of the wider service area?",
        ),
    )
    services.consultation_announce(actor=clerk, consultation=consultation, now=now - 41 * days)

    # The meeting that discussed it, 25 days ago at the city hall.
    starts = (now - 25 * days).replace(hour=18, minute=30, second=0, microsecond=0)
    meeting = services.meeting_save(
        actor=clerk,
        meeting=Meeting(
            consortium=consortium,
            title_ja="令和9年度事業計画（案）の説明会",
            title_en="Meeting on the draft plan for 2027",
            agenda_ja="1. 事業計画（案）の説明\n2. 質疑応答・意見交換",
            agenda_en="1. The draft plan\n2. Questions and views",
            place="会津若松市役所 栄町第二庁舎 会議室",
            starts_at=starts,
            ends_at=starts + datetime.timedelta(hours=2),
            capacity=40,
        ),
        consultations=[consultation],
    )
    services.meeting_announce(actor=clerk, meeting=meeting, now=now - 39 * days)
    registration = services.meeting_register(
        actor=Actor.resident(hanako.pseudonymous_id),
        meeting=meeting,
        resident=hanako,
        now=now - 30 * days,
    )
    services.meeting_register(
        actor=Actor.resident(taro.pseudonymous_id),
        meeting=meeting,
        resident=taro,
        now=now - 29 * days,
    )
    services.meeting_attendance_record(
        actor=clerk, meeting=meeting, present=[registration], walk_ins=11, now=starts
    )

    # Comments: in the portal, at the meeting, on paper.
    question = consultation.questions.get()
    portal = services.comment_submit(
        actor=Actor.resident(hanako.pseudonymous_id),
        consultation=consultation,
        resident=hanako,
        text="北会津まで広がるのは助かります。土曜日も運行してほしいです。",
        question=question,
        age_band="40s",
        now=now - 35 * days,
    )
    spoken = [
        ("病院への直通便を増やしてほしい。", "70_plus"),
        ("予約を電話でも受け付けてほしい。", "60s"),
        ("見守りタグの電池交換を年1回にすると、電池切れが心配です。", "undeclared"),
    ]
    at_meeting = [
        services.comment_enter_offline(
            actor=clerk,
            consultation=consultation,
            channel=Channel.MEETING,
            text=text,
            age_band=age,
            meeting=meeting,
        )
        for text, age in spoken
    ]
    paper = services.comment_enter_offline(
        actor=clerk,
        consultation=consultation,
        channel=Channel.PAPER,
        text="電話予約の窓口があると、スマートフォンのない高齢者も使えます。",
        age_band="70_plus",
        received_at=now - 20 * days,
    )
    services.meeting_minutes_publish(
        actor=clerk,
        meeting=meeting,
        minutes_ja=(
            "出席者12名（申込者1名、当日参加11名、事務局を除く）。事務局が事業計画（案）を説明した。"
            "運行区域の拡大に賛成の意見が多く、土曜運行、病院への直通便、電話予約の要望があった。"
            "見守りタグの電池交換の頻度について懸念が示され、事務局が検討すると答えた。"
        ),
        minutes_en=(
            "12 attended (1 registered, 11 without registering, not counting the secretariat). "
            "Most welcomed the wider area; Saturday service, direct trips to the hospital and "
            "booking by telephone were asked for. Concern about changing the tags' batteries "
            "only once a year; the secretariat will look into it."
        ),
        now=starts + datetime.timedelta(days=1),
    )

    # The answers and the result, after the period.
    after = now - 9 * days
    services.answer_save(
        actor=clerk,
        consultation=consultation,
        comments=[portal, at_meeting[0]],
        opinion_ja="運行日・行き先を増やしてほしいとのご意見",
        opinion_en="More days and destinations",
        response_ja="土曜日の運行と病院への直通便を計画に加えました。",
        response_en="Saturday service and direct trips to the hospital are now in the plan.",
        changed=True,
        now=after,
    )
    services.answer_save(
        actor=clerk,
        consultation=consultation,
        comments=[at_meeting[1], paper],
        opinion_ja="電話でも予約できるようにしてほしいとのご意見",
        opinion_en="Booking by telephone",
        response_ja="コールセンターでの電話予約を令和9年10月から始めます。",
        response_en="Bookings by telephone start in October 2027 at the call centre.",
        changed=True,
        now=after,
    )
    services.answer_save(
        actor=clerk,
        consultation=consultation,
        comments=[at_meeting[2]],
        opinion_ja="見守りタグの電池切れを心配するご意見",
        opinion_en="Worry about flat tag batteries",
        response_ja="電池残量が少ないタグは保護者にお知らせする仕組みを設けるため、計画は変えません。",
        response_en="Guardians will be told when a tag's battery runs low; the plan stays.",
        changed=False,
        now=after,
    )
    services.consultation_result_publish(
        actor=clerk,
        consultation=consultation,
        result_ja="5件のご意見をいただき、計画に2点を加えました。",
        result_en="Five comments were received; two points were added to the plan.",
        now=now - 8 * days,
    )

    # A coming meeting to register for, online.
    coming = (now + 14 * days).replace(hour=19, minute=0, second=0, microsecond=0)
    services.meeting_announce(
        actor=clerk,
        meeting=services.meeting_save(
            actor=clerk,
            meeting=Meeting(
                consortium=consortium,
                title_ja="センサーの設置場所を一緒に考える意見交換会",
                title_en="Where should the sensors go? An online meeting",
                agenda_ja="1. 混雑センサーの候補地\n2. 意見交換",
                agenda_en="1. Candidate places for crowd sensors\n2. Views",
                format=Meeting.Format.ONLINE,
                online_url="https://meet.example.jp/aizu-sensors",
                starts_at=coming,
                ends_at=coming + datetime.timedelta(hours=1, minutes=30),
                capacity=100,
            ),
        ),
        now=now,
    )

    # Proposals: one answered, one waiting for its answer.
    station = services.proposal_submit(
        actor=Actor.resident(taro.pseudonymous_id),
        consortium=consortium,
        author=taro,
        kind=Proposal.Kind.SENSOR,
        title="会津若松駅前に混雑センサーを",
        body="朝夕の駅前の混雑を測り、バスの本数やオンデマンド交通の配車に生かしてください。",
        now=now - 30 * days,
    )
    services.support_add(
        actor=Actor.resident(hanako.pseudonymous_id), proposal=station, resident=hanako
    )
    services.proposal_answer(
        actor=clerk,
        proposal=station,
        outcome=Proposal.Outcome.ACCEPTED,
        reasons_ja="令和9年度事業計画に、駅前への混雑センサー2台の設置を入れました。",
        reasons_en="Two crowd sensors at the station are in the 2027 plan.",
        now=now - 8 * days,
    )
    library = services.proposal_submit(
        actor=Actor.resident(hanako.pseudonymous_id),
        consortium=consortium,
        author=hanako,
        kind=Proposal.Kind.DATA_USE,
        title="図書館の混雑状況をポータルで公開",
        body="図書館の入館者数（個人が分からない形）を公開し、空いている時間を知りたいです。",
        now=now - 5 * days,
    )
    services.support_add(
        actor=Actor.resident(taro.pseudonymous_id), proposal=library, resident=taro
    )
