"""
Consultations (意見募集): the secretariat opens one, residents comment in the portal, staff enter
comments collected offline, the secretariat moderates and answers, then publishes the result.

Every function is atomic, takes keyword-only arguments with the actor first, and writes one
audit entry with ids only: never a comment's text, a reason for hiding it, or an age band.
Actors: the staff user for the secretariat, ``Actor.resident(pid)`` for a resident in the
portal, None for the system (demo data).
"""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.chain import format_time
from audit.services import record
from consent.models import Purpose, Resident
from governance.models import Consortium
from governance.selectors import require_secretariat

from .. import selectors
from ..models import (
    OFFLINE_CHANNELS,
    AgeBand,
    Answer,
    Channel,
    Comment,
    Consultation,
    ConsultationPolicy,
    Meeting,
    NoticeSection,
    Question,
)

logger = logging.getLogger(__name__)

# Long enough for a considered opinion, short enough to be read.
COMMENT_MAX_LENGTH = 4000


def _clean_text(text: str, field: str = "text") -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: _("Write your comment before sending it.")})
    if len(text) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {
                field: _("A comment may be at most %(max)d characters long (it has %(n)d).")
                % {"max": COMMENT_MAX_LENGTH, "n": len(text)}
            }
        )
    return text


def _check_question(consultation: Consultation, question: Question | None) -> None:
    if question is not None and question.consultation_id != consultation.pk:
        raise ValidationError({"question": _("Choose one of this consultation's questions.")})


def _check_notice_section(consultation: Consultation, section: str) -> None:
    if not section:
        return
    if consultation.subject != Consultation.Subject.PURPOSE:
        raise ValidationError(
            {"notice_section": _("This consultation is not on a notice: leave the part empty.")}
        )
    if section not in NoticeSection.values:
        raise ValidationError({"notice_section": _("Choose a part of the notice.")})


def _check_age_band(age_band: str) -> None:
    if age_band not in AgeBand.values:
        raise ValidationError({"age_band": _("Choose an age band, or “prefer not to say”.")})


# --- The policy --------------------------------------------------------------------------------


@transaction.atomic
def consultation_policy_set(
    *,
    actor,
    consortium: Consortium,
    required_for_all: bool = False,
    required_for_sensitive: bool = False,
    required_for_third_party: bool = False,
    email_participants_allowed: bool = False,
) -> ConsultationPolicy:
    """
    Set which of ``consortium``'s purposes may open only after a consultation's result, and
    whether people without a portal account may comment with a confirmed e-mail address.
    """
    require_secretariat(actor, consortium)
    policy, _created = ConsultationPolicy.objects.select_for_update().get_or_create(
        consortium=consortium
    )
    policy.required_for_all = required_for_all
    policy.required_for_sensitive = required_for_sensitive
    policy.required_for_third_party = required_for_third_party
    policy.email_participants_allowed = email_participants_allowed
    policy.full_clean()
    policy.save()
    record(
        actor=actor,
        action="consultation_policy.set",
        obj=policy,
        consortium=consortium.pk,
        payload={
            "required_for_all": required_for_all,
            "required_for_sensitive": required_for_sensitive,
            "required_for_third_party": required_for_third_party,
            "without_account": email_participants_allowed,
        },
    )
    return policy


def check_purpose_may_open(purpose: Purpose) -> None:
    """
    Raise ValidationError if the consortium's policy asks for a consultation on ``purpose``
    and none has published its result. Registered with consent's publication checks.
    """
    if selectors.purpose_consultation_required(purpose) and not (
        Consultation.objects.filter(purpose=purpose, status=Consultation.Status.ANSWERED).exists()
    ):
        raise ValidationError(
            _(
                "This purpose needs a public consultation first: the consortium's policy asks "
                "for one on purposes like it. Open a consultation on it, answer the comments "
                "and publish the result, then open the purpose."
            )
        )


# --- The consultation --------------------------------------------------------------------------


def _check_subject(consultation: Consultation) -> None:
    errors = {}
    consortium_id = consultation.consortium_id
    if consultation.purpose_id and consultation.purpose.consortium_id != consortium_id:
        errors["purpose"] = _("Choose a purpose of the same consortium.")
    if consultation.purpose_id and consultation.purpose.status == Purpose.Status.CLOSED:
        errors["purpose"] = _("This purpose is closed: there is nothing left to consult on.")
    if consultation.ticket_id and consultation.ticket.consortium_id != consortium_id:
        errors["ticket"] = _("Choose a review request of the same consortium.")
    if consultation.bylaw_version_id and consultation.bylaw_version.consortium_id != consortium_id:
        errors["bylaw_version"] = _("Choose a bylaw version of the same consortium.")
    if errors:
        raise ValidationError(errors)


def _subject_payload(consultation: Consultation) -> dict:
    return {
        "subject": consultation.subject,
        "purpose": consultation.purpose_id,
        "ticket": consultation.ticket_id,
        "bylaw_version": consultation.bylaw_version_id,
    }


@transaction.atomic
def consultation_save(*, actor, consultation: Consultation) -> Consultation:
    """Create a draft consultation, or change one not yet announced."""
    require_secretariat(actor, consultation.consortium)
    creating = consultation.pk is None
    if not creating:
        stored = Consultation.objects.select_for_update().get(pk=consultation.pk)
        if stored.status != Consultation.Status.DRAFT:
            raise ValidationError(_("An announced consultation can no longer be changed."))
        if stored.consortium_id != consultation.consortium_id:
            raise ValidationError({"consortium": _("A consultation stays with its consortium.")})
    consultation.full_clean()
    _check_subject(consultation)
    consultation.save()
    record(
        actor=actor,
        action="consultation.created" if creating else "consultation.changed",
        obj=consultation,
        consortium=consultation.consortium_id,
        payload=_subject_payload(consultation),
    )
    return consultation


@transaction.atomic
def question_save(*, actor, question: Question) -> Question:
    """Add or change a question of a consultation not yet announced."""
    consultation = Consultation.objects.select_for_update().get(pk=question.consultation_id)
    require_secretariat(actor, consultation.consortium)
    if consultation.status != Consultation.Status.DRAFT:
        raise ValidationError(_("An announced consultation's questions can no longer be changed."))
    question.full_clean()
    question.save()
    record(
        actor=actor,
        action="consultation.question_saved",
        obj=question,
        consortium=consultation.consortium_id,
        payload={"consultation": consultation.pk, "number": question.number},
    )
    return question


@transaction.atomic
def consultation_announce(*, actor, consultation: Consultation, now=None) -> Consultation:
    """Announce a draft consultation: residents see it, and may comment within its period."""
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    require_secretariat(actor, consultation.consortium)
    now = now or timezone.now()
    if consultation.status != Consultation.Status.DRAFT:
        raise ValidationError(_("This consultation has already been announced."))
    if consultation.closes_at <= now:
        raise ValidationError(
            {"closes_at": _("The period has already ended: set a period in the future.")}
        )
    consultation.status = Consultation.Status.ANNOUNCED
    consultation.announced_at = now
    consultation.save(update_fields=["status", "announced_at"])
    record(
        actor=actor,
        action="consultation.announced",
        obj=consultation,
        consortium=consultation.consortium_id,
        payload={
            "opens_at": format_time(consultation.opens_at),
            "closes_at": format_time(consultation.closes_at),
            "questions": consultation.questions.count(),
        },
    )
    return consultation


# --- Comments ----------------------------------------------------------------------------------


def _check_period(consultation: Consultation, at, field: str = "text") -> None:
    phase = consultation.phase(at)
    if phase == "upcoming":
        raise ValidationError(
            {
                field: _("Comments are accepted from %(start)s.")
                % {"start": _when(consultation.opens_at)}
            }
        )
    if phase != "open":
        raise ValidationError(
            {
                field: _(
                    "The period for comments ended on %(end)s: comments can no longer be sent."
                )
                % {"end": _when(consultation.closes_at)}
            }
        )


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


@transaction.atomic
def comment_submit(
    *,
    actor,
    consultation: Consultation,
    resident: Resident,
    text: str,
    question: Question | None = None,
    age_band: str = AgeBand.UNDECLARED,
    language: str = "ja",
    notice_section: str = "",
    now=None,
) -> Comment:
    """
    Send a resident's comment from the portal, within the consultation's period; on a
    purpose's consultation, optionally on one part of its notice (``notice_section``).
    """
    now = now or timezone.now()
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if not selectors.may_comment(resident, consultation):
        raise PermissionDenied(_("Only the consortium's residents may comment."))
    text = _clean_text(text)
    _check_question(consultation, question)
    _check_notice_section(consultation, notice_section)
    _check_age_band(age_band)
    _check_period(consultation, now)
    return _comment_save(
        actor=actor,
        consultation=consultation,
        question=question,
        notice_section=notice_section,
        author={"resident": resident},
        author_payload={"resident": resident.pseudonymous_id},
        channel=Channel.PORTAL,
        age_band=age_band,
        text=text,
        language=language,
        now=now,
    )


def _comment_save(
    *,
    actor,
    consultation: Consultation,
    question: Question | None,
    notice_section: str,
    author: dict,
    author_payload: dict,
    channel: str,
    age_band: str,
    text: str,
    language: str,
    now,
) -> Comment:
    """Store a checked comment of a resident or an e-mail participant, with its audit entry."""
    comment = Comment(
        consultation=consultation,
        question=question,
        notice_section=notice_section,
        **author,
        channel=channel,
        age_band=age_band,
        text=text,
        language=language[:2],
        submitted_at=now,
    )
    comment.full_clean()
    comment.save()
    record(
        actor=actor,
        action="consultation.comment_submitted",
        obj=comment,
        consortium=consultation.consortium_id,
        payload={
            "consultation": consultation.pk,
            "question": question.number if question else None,
            **author_payload,
            "channel": channel,
            **({"notice_section": notice_section} if notice_section else {}),
        },
    )
    return comment


@transaction.atomic
def comment_edit(*, actor, comment: Comment, resident: Resident, text: str, now=None) -> Comment:
    """Change a resident's own comment while the period lasts and it is not hidden."""
    now = now or timezone.now()
    comment = Comment.objects.select_for_update().select_related("consultation").get(pk=comment.pk)
    if comment.resident_id != resident.pk:
        raise PermissionDenied(_("You may change only your own comments."))
    return _comment_text_change(
        actor=actor,
        comment=comment,
        text=text,
        author_payload={"resident": resident.pseudonymous_id},
        now=now,
    )


def _comment_text_change(*, actor, comment: Comment, text: str, author_payload: dict, now):
    """Change the text of a comment its author may change, with its audit entry."""
    text = _clean_text(text)
    if comment.status == Comment.Status.HIDDEN:
        raise ValidationError({"text": _("A hidden comment can no longer be changed.")})
    _check_period(comment.consultation, now)
    comment.text = text
    comment.edited_at = now
    comment.save(update_fields=["text", "edited_at"])
    record(
        actor=actor,
        action="consultation.comment_edited",
        obj=comment,
        consortium=comment.consultation.consortium_id,
        payload={"consultation": comment.consultation_id, **author_payload},
    )
    return comment


@transaction.atomic
def comment_enter_offline(
    *,
    actor,
    consultation: Consultation,
    channel: str,
    text: str,
    question: Question | None = None,
    age_band: str = AgeBand.UNDECLARED,
    language: str = "ja",
    received_at=None,
    meeting: Meeting | None = None,
    notice_section: str = "",
) -> Comment:
    """
    Enter a comment collected at a meeting, on paper or at a counter, on the participant's
    behalf (no author is recorded: the staff member who entered it is). ``received_at`` is when
    it was given (a meeting's date, a form's postmark) and must fall within the period; it may
    be entered later, until the result is published. A comment from a held ``meeting`` that
    discussed the consultation names it, and was given when the meeting started.
    """
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    require_secretariat(actor, consultation.consortium)
    if meeting is not None:
        meeting = Meeting.objects.get(pk=meeting.pk)  # as stored: held since the caller read it
        if channel != Channel.MEETING:
            raise ValidationError(
                {"channel": _("A comment from a meeting has the channel “meeting”.")}
            )
        if not meeting.consultations.filter(pk=consultation.pk).exists():
            raise ValidationError(
                {"meeting": _("Choose a meeting that discussed this consultation.")}
            )
        if meeting.status not in (Meeting.Status.HELD, Meeting.Status.MINUTES):
            raise ValidationError(
                {"meeting": _("Record the meeting's attendance before entering its comments.")}
            )
        received_at = received_at or meeting.starts_at
    received_at = received_at or timezone.now()
    if channel not in OFFLINE_CHANNELS:
        raise ValidationError({"channel": _("Choose a meeting, paper or a counter.")})
    text = _clean_text(text)
    _check_question(consultation, question)
    _check_notice_section(consultation, notice_section)
    _check_age_band(age_band)
    if consultation.status == Consultation.Status.DRAFT:
        raise ValidationError(_("Announce the consultation before entering comments."))
    if consultation.status == Consultation.Status.ANSWERED:
        raise ValidationError(_("The result is published: no more comments can be entered."))
    if not consultation.opens_at <= received_at < consultation.closes_at:
        raise ValidationError(
            {"received_at": _("The comment must have been given within the consultation's period.")}
        )
    comment = Comment(
        consultation=consultation,
        question=question,
        notice_section=notice_section,
        channel=channel,
        meeting=meeting,
        entered_by=actor,
        age_band=age_band,
        text=text,
        language=language[:2],
        submitted_at=received_at,
    )
    comment.full_clean()
    comment.save()
    record(
        actor=actor,
        action="consultation.comment_submitted",
        obj=comment,
        consortium=consultation.consortium_id,
        payload={
            "consultation": consultation.pk,
            "question": question.number if question else None,
            "resident": None,
            "channel": channel,
            **({"meeting": meeting.pk} if meeting is not None else {}),
            **({"notice_section": notice_section} if notice_section else {}),
        },
    )
    return comment


def _moderated(comment: Comment, actor) -> Comment:
    comment = Comment.objects.select_for_update().select_related("consultation").get(pk=comment.pk)
    require_secretariat(actor, comment.consultation.consortium)
    if comment.consultation.status == Consultation.Status.ANSWERED:
        raise ValidationError(_("The result is published: comments can no longer be moderated."))
    return comment


@transaction.atomic
def comment_hide(*, actor, comment: Comment, reason: str) -> Comment:
    """Hide a comment from the published result, with the reason its author will read."""
    comment = _moderated(comment, actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"hidden_reason": _("Say why the comment is hidden: its author will read it.")}
        )
    if comment.answer_id:
        raise ValidationError(_("The comment is answered: take it out of the answer first."))
    comment.status = Comment.Status.HIDDEN
    comment.hidden_reason = reason
    comment.save(update_fields=["status", "hidden_reason"])
    record(
        actor=actor,
        action="consultation.comment_hidden",
        obj=comment,
        consortium=comment.consultation.consortium_id,
        payload={"consultation": comment.consultation_id},
    )
    return comment


@transaction.atomic
def comment_restore(*, actor, comment: Comment) -> Comment:
    """Publish a hidden comment again."""
    comment = _moderated(comment, actor)
    if comment.status != Comment.Status.HIDDEN:
        raise ValidationError(_("The comment is not hidden."))
    comment.status = Comment.Status.PUBLISHED
    comment.hidden_reason = ""
    comment.save(update_fields=["status", "hidden_reason"])
    record(
        actor=actor,
        action="consultation.comment_restored",
        obj=comment,
        consortium=comment.consultation.consortium_id,
        payload={"consultation": comment.consultation_id},
    )
    return comment


# --- Answers and the result --------------------------------------------------------------------


@transaction.atomic
def answer_save(
    *,
    actor,
    consultation: Consultation,
    comments,
    opinion_ja: str,
    response_ja: str,
    opinion_en: str = "",
    response_en: str = "",
    changed: bool = False,
    answer: Answer | None = None,
    now=None,
) -> Answer:
    """
    Answer one comment or a group of similar ones after the period: the opinions as
    summarised (提出意見) and the result of considering them with the reasons
    (考慮した結果及びその理由). Saving an existing ``answer`` replaces its comments.
    """
    now = now or timezone.now()
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    require_secretariat(actor, consultation.consortium)
    if consultation.phase(now) != "closed":
        if consultation.status == Consultation.Status.ANSWERED:
            raise ValidationError(_("The result is published: answers can no longer change."))
        raise ValidationError(_("Comments are answered after the period has ended."))
    errors = {}
    if not (opinion_ja or "").strip():
        errors["opinion_ja"] = _("Summarise the opinions this answer is to.")
    if not (response_ja or "").strip():
        errors["response_ja"] = _("Write the result of considering them, with the reasons.")
    # As stored: a comment hidden since the caller read it is not answered.
    comments = list(Comment.objects.filter(pk__in=[comment.pk for comment in comments]))
    if not comments:
        errors["comments"] = _("Choose the comments this answer is to.")
    for comment in comments:
        if comment.consultation_id != consultation.pk:
            errors["comments"] = _("Choose comments of this consultation.")
        elif comment.status == Comment.Status.HIDDEN:
            errors["comments"] = _("A hidden comment is not answered in the result.")
    if errors:
        raise ValidationError(errors)
    if answer is None:
        last = consultation.answers.order_by("-number").first()
        answer = Answer(consultation=consultation, number=(last.number + 1) if last else 1)
    elif answer.consultation_id != consultation.pk:
        raise ValidationError(_("The answer belongs to another consultation."))
    answer.opinion_ja = opinion_ja.strip()
    answer.opinion_en = (opinion_en or "").strip()
    answer.response_ja = response_ja.strip()
    answer.response_en = (response_en or "").strip()
    answer.changed = changed
    answer.full_clean()
    answer.save()
    Comment.objects.filter(answer=answer).exclude(pk__in=[c.pk for c in comments]).update(
        answer=None
    )
    Comment.objects.filter(pk__in=[c.pk for c in comments]).update(answer=answer)
    record(
        actor=actor,
        action="consultation.answer_saved",
        obj=answer,
        consortium=consultation.consortium_id,
        payload={
            "consultation": consultation.pk,
            "number": answer.number,
            # The ids of the comments answered.
            "answered": sorted(c.pk for c in comments),
            "changed": changed,
        },
    )
    return answer


@transaction.atomic
def consultation_result_publish(
    *, actor, consultation: Consultation, result_ja: str = "", result_en: str = "", now=None
) -> Consultation:
    """
    Publish the result after the period: every published comment must be answered. Each
    resident who commented is told (after the commit), and each e-mail participant gets the
    answers to their comments by mail.
    """
    now = now or timezone.now()
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    require_secretariat(actor, consultation.consortium)
    if consultation.phase(now) != "closed":
        if consultation.status == Consultation.Status.ANSWERED:
            raise ValidationError(_("The result is already published."))
        raise ValidationError(_("The result is published after the period has ended."))
    unanswered = consultation.comments.filter(
        status=Comment.Status.PUBLISHED, answer__isnull=True
    ).count()
    if unanswered:
        raise ValidationError(
            _(
                "%(count)d comment(s) have no answer yet: answer every published comment (or "
                "hide it, with the reason) before publishing the result."
            )
            % {"count": unanswered}
        )
    consultation.status = Consultation.Status.ANSWERED
    consultation.answered_at = now
    consultation.result_ja = (result_ja or consultation.result_ja).strip()
    consultation.result_en = (result_en or consultation.result_en).strip()
    consultation.save(update_fields=["status", "answered_at", "result_ja", "result_en"])
    record(
        actor=actor,
        action="consultation.result_published",
        obj=consultation,
        consortium=consultation.consortium_id,
        payload={
            "answers": consultation.answers.count(),
            "opinions": consultation.comments.count(),
        },
    )
    _tell_authors(consultation)
    return consultation


def _tell_authors(consultation: Consultation) -> None:
    """Mail each resident who commented that the answers are in the portal (after the commit)."""
    residents = list(
        Resident.objects.filter(
            pk__in=consultation.comments.filter(resident__isnull=False).values("resident"),
            erased_at__isnull=True,
        ).select_related("profile")
    )
    consultation_id = consultation.pk

    def send() -> None:
        for resident in residents:
            address = getattr(getattr(resident, "profile", None), "contact_email", "")
            if not address:
                continue
            with translation.override(resident.language):
                send_mail(
                    subject=_("Your comment has been answered"),
                    message=_(
                        "The consortium has published the result of a consultation you "
                        "commented on, with its answer to your comment. Sign in to the "
                        "resident portal and open “My comments” to read it."
                    ),
                    from_email=None,
                    recipient_list=[address],
                    fail_silently=True,
                )
        logger.info("consultation %s: %d commenters told", consultation_id, len(residents))

    transaction.on_commit(send)
    from .email_participants import tell_email_participants

    tell_email_participants(consultation)
