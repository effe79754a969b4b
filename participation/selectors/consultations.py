"""Read queries about consultations: the portal's, the secretariat's and the public register's."""

import dataclasses
import datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from consent.models import Purpose, Resident
from consent.reports import SMALL_COUNT
from governance.models import Consortium

from ..models import (
    AgeBand,
    Answer,
    Channel,
    Comment,
    Consultation,
    ConsultationPolicy,
    EmailParticipant,
)

# The consultations residents and the public see: announced, or with their result published.
VISIBLE = [Consultation.Status.ANNOUNCED, Consultation.Status.ANSWERED]


def purpose_consultation_required(purpose: Purpose) -> bool:
    """Return True if ``purpose``'s consortium asks for a consultation before it opens."""
    policy = ConsultationPolicy.objects.filter(consortium_id=purpose.consortium_id).first()
    if policy is None:
        return False
    if policy.required_for_all:
        return True
    if policy.required_for_sensitive and purpose.categories.filter(sensitive=True).exists():
        return True
    return policy.required_for_third_party and purpose.recipients.exists()


def may_comment(resident: Resident | None, consultation: Consultation) -> bool:
    """Return True if ``resident`` may take part: a resident of its consortium, not erased."""
    return (
        resident is not None
        and not resident.is_erased
        and resident.consortia.filter(pk=consultation.consortium_id).exists()
    )


def email_participation_allowed(consortium_id: int) -> bool:
    """Return True if the consortium lets people comment with a confirmed e-mail address."""
    return ConsultationPolicy.objects.filter(
        consortium_id=consortium_id, email_participants_allowed=True
    ).exists()


def access_consultation_for_email(
    consultation_id: int, participant: EmailParticipant | None = None
) -> Consultation:
    """
    Return one announced or answered consultation whose consortium lets people take part by
    e-mail, and, given a ``participant``, of the participant's consortium; 404 for any other,
    as for a missing one (so the e-mail pages of a consortium that does not allow it, or a
    confirmation for another consortium, answer as a consultation that does not exist).
    """
    found = (
        Consultation.objects.filter(
            pk=consultation_id,
            status__in=VISIBLE,
            consortium__consultation_policy__email_participants_allowed=True,
        )
        .select_related("consortium")
        .first()
    )
    if found is None or (
        participant is not None and participant.consortium_id != found.consortium_id
    ):
        raise Http404("no such consultation")
    return found


def may_comment_by_email(participant: EmailParticipant, consultation: Consultation) -> bool:
    """Return True if the participant's consortium is the consultation's and still allows it."""
    return participant.consortium_id == consultation.consortium_id and (
        email_participation_allowed(consultation.consortium_id)
    )


def email_link_unused(link) -> bool:
    """Return True if a confirmation ``link`` (``tokens.Link``) is still its participant's."""
    participant = EmailParticipant.objects.filter(pk=link.participant_id).first()
    return bool(participant and participant.link_nonce and participant.link_nonce == link.nonce)


def email_participants_by_ids(ids) -> QuerySet[EmailParticipant]:
    """
    Return the confirmed participants among ``ids`` (those a browser session holds), with their
    consortium; an erased one is no longer anyone's, on any device.
    """
    return EmailParticipant.objects.filter(
        pk__in=list(ids), confirmed_at__isnull=False, erased_at__isnull=True
    ).select_related("consortium")


def email_participants_past_retention(
    *, now: datetime.datetime, days: int, link_max_age: int
) -> QuerySet[EmailParticipant]:
    """
    Return the participants whose address is no longer needed (APPI Art. 22), ``days`` after
    its last use, and who asked no link in those days:

    - confirmed: every consultation they commented on has had its result published (the
      answers mailed) more than ``days`` ago; one who never commented, confirmed that long ago;
    - never confirmed: their last link expired (``link_max_age`` seconds) more than ``days`` ago.
    """
    cutoff = now - datetime.timedelta(days=days)
    link_cutoff = cutoff - datetime.timedelta(seconds=link_max_age)
    # A comment whose answer is still to be mailed, or was mailed within the retention.
    still_needed = Comment.objects.filter(email_participant=OuterRef("pk")).filter(
        ~Q(consultation__status=Consultation.Status.ANSWERED)
        | Q(consultation__answered_at__isnull=True)
        | Q(consultation__answered_at__gte=cutoff)
    )
    return (
        EmailParticipant.objects.filter(erased_at__isnull=True)
        .filter(Q(link_sent_at__lt=cutoff) | Q(link_sent_at__isnull=True, created_at__lt=cutoff))
        .filter(
            Q(confirmed_at__isnull=False, confirmed_at__lt=cutoff) & ~Exists(still_needed)
            | Q(confirmed_at__isnull=True)
            & (
                Q(link_sent_at__lt=link_cutoff)
                | Q(link_sent_at__isnull=True, created_at__lt=link_cutoff)
            )
        )
        .order_by("pk")
    )


def comments_of_email_participants(participants) -> QuerySet[Comment]:
    """Return the participants' own comments, newest first, with their consultation and answer."""
    return (
        Comment.objects.filter(email_participant__in=list(participants))
        .select_related("consultation", "question", "answer")
        .order_by("-submitted_at", "-id")
    )


def access_own_email_comment(participants, comment_id: int) -> Comment:
    """Return one of the participants' own comments; 404 for anyone else's, as for a missing one."""
    found = comments_of_email_participants(participants).filter(pk=comment_id).first()
    if found is None:
        raise Http404("no such comment")
    return found


def consultations_for_resident(resident: Resident) -> QuerySet[Consultation]:
    """Return the announced and answered consultations of the resident's consortia."""
    return (
        Consultation.objects.filter(consortium__in=resident.consortia.all(), status__in=VISIBLE)
        .select_related("consortium")
        .order_by("-opens_at", "-id")
    )


def access_consultation_for_resident(resident: Resident, consultation_id: int) -> Consultation:
    """Return one consultation the resident may see; 404 for any other, as for a missing one."""
    found = consultations_for_resident(resident).filter(pk=consultation_id).first()
    if found is None:
        raise Http404("no such consultation")
    return found


def comments_of_resident(resident: Resident) -> QuerySet[Comment]:
    """Return the resident's own comments, newest first, with their consultation and answer."""
    return (
        Comment.objects.filter(resident=resident)
        .select_related("consultation", "question", "answer")
        .order_by("-submitted_at", "-id")
    )


def access_own_comment(resident: Resident, comment_id: int) -> Comment:
    """Return one of the resident's own comments; 404 for anyone else's, as for a missing one."""
    found = comments_of_resident(resident).filter(pk=comment_id).first()
    if found is None:
        raise Http404("no such comment")
    return found


def consultations_public(consortium: Consortium) -> QuerySet[Consultation]:
    """Return a consortium's consultations as the public register lists them."""
    return (
        Consultation.objects.filter(consortium=consortium, status__in=VISIBLE)
        .annotate(comment_count=Count("comments"))
        .order_by("-opens_at", "-id")
    )


def public_consultation(consortium: Consortium, consultation_id: int) -> Consultation:
    """Return one consultation of the public register, with its questions and answers; or 404."""
    found = (
        consultations_public(consortium)
        .filter(pk=consultation_id)
        .prefetch_related(
            "questions",
            Prefetch(
                "answers",
                queryset=Answer.objects.prefetch_related(
                    Prefetch(
                        "comments",
                        queryset=Comment.objects.filter(status=Comment.Status.PUBLISHED)
                        .select_related("question")
                        .order_by("submitted_at", "id"),
                    )
                ),
            ),
        )
        .first()
    )
    if found is None:
        raise Http404("no such consultation")
    return found


def result_rows(consultation: Consultation) -> list[dict]:
    """
    Return the published result as rows: each answer with the comments it answers (their
    text: comments are published with the result, without their author) — empty until the
    result is published.
    """
    if consultation.status != Consultation.Status.ANSWERED:
        return []
    rows = []
    for answer in consultation.answers.prefetch_related("comments").order_by("number"):
        rows.append(
            {
                "number": answer.number,
                "opinion_ja": answer.opinion_ja,
                "opinion_en": answer.opinion_en,
                "response_ja": answer.response_ja,
                "response_en": answer.response_en,
                "changed": answer.changed,
                "comments": [
                    comment.text
                    for comment in answer.comments.all()
                    if comment.status == Comment.Status.PUBLISHED
                ],
            }
        )
    return rows


@dataclasses.dataclass
class ParticipationCounts:
    """参加状況: participants by channel and by declared age band; small counts hidden."""

    total: int | None
    by_channel: list[tuple[str, str, int | None]]
    by_age_band: list[tuple[str, str, int | None]]


def _hidden_if_small(count: int) -> int | None:
    return None if count < SMALL_COUNT else count


def participation_counts(consultation: Consultation) -> ParticipationCounts:
    """
    Count who took part without identifying anyone: a resident who commented in the portal
    counts once however many comments they sent (with the age band of their latest), so does
    a participant by e-mail (age band "unknown": they are not asked), each comment entered
    offline counts as one participant (nobody is known by name there). Counts
    under ``SMALL_COUNT`` (consent's reports' rule) are None (shown as "fewer than 10").
    """
    comments = Comment.objects.filter(consultation=consultation).order_by("submitted_at", "id")
    participants: dict = {}
    for channel, resident_id, email_participant_id, age_band, pk in comments.values_list(
        "channel", "resident_id", "email_participant_id", "age_band", "pk"
    ):
        if resident_id:
            key = ("resident", resident_id)
        elif email_participant_id:
            key = ("email", email_participant_id)
        else:
            key = ("offline", pk)
        participants[key] = (channel, age_band)
    by_channel = {value: 0 for value in Channel.values}
    by_age = {value: 0 for value in AgeBand.values}
    for channel, age_band in participants.values():
        by_channel[channel] += 1
        by_age[age_band] += 1
    return ParticipationCounts(
        total=_hidden_if_small(len(participants)),
        by_channel=[
            (value, label, _hidden_if_small(by_channel[value])) for value, label in Channel.choices
        ],
        by_age_band=[
            (value, label, _hidden_if_small(by_age[value])) for value, label in AgeBand.choices
        ],
    )


def participants_between(consortium, since, until) -> int:
    """
    Count the people who took part in the consortium's consultations with a comment received
    in [since, until), as ``participation_counts`` does: a resident or an e-mail participant
    once however many comments they sent, each comment entered offline as one participant.
    """
    comments = Comment.objects.filter(
        consultation__consortium=consortium, submitted_at__gte=since, submitted_at__lt=until
    )
    residents = comments.filter(resident__isnull=False).values("resident_id").distinct().count()
    by_email = (
        comments.filter(email_participant__isnull=False)
        .values("email_participant_id")
        .distinct()
        .count()
    )
    offline = comments.filter(resident__isnull=True, email_participant__isnull=True).count()
    return residents + by_email + offline
