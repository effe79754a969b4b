"""
Taking part by e-mail: where a consortium's policy allows it, someone without a portal account
asks for a link to their address, opens it to confirm the address, then comments on the
consortium's consultations, changes their comments within the period, and gets the answers by
mail when the result is published.

The address is personal data: it is kept on the participant to send the link and the answers,
and never written to the audit log, which names the participant by id only (the actor of their
own acts is ``participation.emailparticipant:<id>``). Mail goes out after the commit.

It is erased when the participant asks, and when it is no longer needed (APPI Art. 22: personal
data no longer needed is erased without delay): ``PARTICIPATION_EMAIL_RETENTION_DAYS`` after the
answers were mailed, or after an unconfirmed link expired. The comments stay, without it.
"""

import datetime
import logging
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import Actor, record

from .. import selectors
from ..models import AgeBand, Channel, Comment, Consultation, EmailParticipant, Question
from ..tokens import LINK_MAX_AGE, LinkInvalid, LinkUsed, make_link_token, read_link_token
from .consultations import (
    _check_notice_section,
    _check_period,
    _check_question,
    _clean_text,
    _comment_save,
    _comment_text_change,
)

logger = logging.getLogger(__name__)

# A new request for the same address sends no new mail while its last link, unused, is younger
# than this: asking again and again cannot fill someone's mailbox (the page answers the same).
RESEND_AFTER = datetime.timedelta(minutes=10)


def email_actor(participant: EmailParticipant) -> Actor:
    """The audit actor of a participant's own acts: their id, never their address."""
    return Actor.system(f"participation.emailparticipant:{participant.pk}")


def _normalise(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as error:
        raise ValidationError(
            {"email": _("Enter your e-mail address, like name@example.jp.")}
        ) from error
    return email


@transaction.atomic
def email_participant_request(
    *,
    actor=None,
    consultation: Consultation,
    email: str,
    language: str = "ja",
    site_url: str,
    now=None,
) -> bool:
    """
    Send a link that confirms ``email`` for taking part in ``consultation``'s consortium, and
    return True; return False, sending nothing, when a link sent less than ``RESEND_AFTER``
    ago is still unused (the caller answers the same either way). ``site_url`` is the site's
    address the link starts with. PermissionDenied if the consortium does not allow it.
    """
    now = now or timezone.now()
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if consultation.status == Consultation.Status.DRAFT or not (
        selectors.email_participation_allowed(consultation.consortium_id)
    ):
        raise PermissionDenied(_("This consortium does not take comments by e-mail."))
    email = _normalise(email)
    try:
        with transaction.atomic():
            participant, created = EmailParticipant.objects.get_or_create(
                consortium_id=consultation.consortium_id,
                email=email,
                defaults={"language": language},
            )
    except IntegrityError:  # asked twice at the same moment: the other request made it
        participant, created = (
            EmailParticipant.objects.get(consortium_id=consultation.consortium_id, email=email),
            False,
        )
    participant = EmailParticipant.objects.select_for_update().get(pk=participant.pk)
    if participant.is_erased:  # erased a moment ago: the address makes a new participant
        participant, created = (
            EmailParticipant.objects.create(
                consortium_id=consultation.consortium_id, email=email, language=language
            ),
            True,
        )
    if (
        participant.link_nonce
        and participant.link_sent_at is not None
        and now - participant.link_sent_at < RESEND_AFTER
    ):
        return False
    participant.language = language
    participant.link_nonce = secrets.token_urlsafe(16)
    participant.link_sent_at = now
    participant.full_clean()
    participant.save(update_fields=["language", "link_nonce", "link_sent_at"])
    record(
        actor=actor or email_actor(participant),
        action="email_participant.link_sent",
        obj=participant,
        consortium=consultation.consortium_id,
        payload={"consultation": consultation.pk, "created": created},
    )
    token = make_link_token(
        participant_id=participant.pk,
        consultation_id=consultation.pk,
        nonce=participant.link_nonce,
        now=now,
    )
    link = site_url.rstrip("/") + reverse("participation:email_confirm", args=[token])
    with translation.override(language):
        subject = _("Confirm your e-mail address to comment")
        body = render_to_string(
            "participation/email/link_mail.txt",
            {"consultation": consultation, "link": link, "hours": 24},
        )

    def send() -> None:
        send_mail(subject, body, None, [email], fail_silently=True)

    transaction.on_commit(send)
    return True


@transaction.atomic
def email_participant_confirm(*, token: str, now=None) -> tuple[EmailParticipant, Consultation]:
    """
    Confirm the address of the participant a link names (the participant is the actor) and
    return them with the link's consultation. Raise ``tokens.LinkInvalid`` for a link not made
    here or naming what no longer takes comments by e-mail, ``tokens.LinkExpired`` past its
    age, ``tokens.LinkUsed`` for a used or replaced one.
    """
    now = now or timezone.now()
    link = read_link_token(token, now=now)
    participant = EmailParticipant.objects.select_for_update().filter(pk=link.participant_id)
    participant = participant.first()
    consultation = Consultation.objects.filter(pk=link.consultation_id).first()
    if (
        participant is None
        or consultation is None
        or consultation.status == Consultation.Status.DRAFT
        or not selectors.may_comment_by_email(participant, consultation)
    ):
        raise LinkInvalid
    if (
        participant.is_erased  # its link went with the address
        or not participant.link_nonce
        or not secrets.compare_digest(participant.link_nonce, link.nonce)
    ):
        raise LinkUsed
    first = participant.confirmed_at is None
    participant.confirmed_at = participant.confirmed_at or now
    participant.link_nonce = ""
    participant.save(update_fields=["confirmed_at", "link_nonce"])
    record(
        actor=email_actor(participant),
        action="email_participant.confirmed",
        obj=participant,
        consortium=consultation.consortium_id,
        payload={"consultation": consultation.pk, "first": first},
    )
    return participant, consultation


def email_unconfirmed() -> ValidationError:
    """The refusal of a comment whose sender's address is not confirmed (on this device)."""
    return ValidationError(
        {
            "text": _(
                "Your e-mail address is not confirmed on this device: ask for a link below and "
                "open it, then send your comment."
            )
        }
    )


@transaction.atomic
def email_comment_submit(
    *,
    actor,
    consultation: Consultation,
    participant: EmailParticipant,
    text: str,
    question: Question | None = None,
    language: str = "ja",
    notice_section: str = "",
    now=None,
) -> Comment:
    """
    Send the comment of a participant with a confirmed address, within the consultation's
    period. Their age is not asked: the counts show it as "unknown".
    """
    now = now or timezone.now()
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    participant = EmailParticipant.objects.get(pk=participant.pk)  # as stored
    if consultation.status == Consultation.Status.DRAFT or not selectors.may_comment_by_email(
        participant, consultation
    ):
        raise PermissionDenied(_("This consortium does not take comments by e-mail."))
    if not participant.is_confirmed:
        raise email_unconfirmed()
    text = _clean_text(text)
    _check_question(consultation, question)
    _check_notice_section(consultation, notice_section)
    _check_period(consultation, now)
    return _comment_save(
        actor=actor,
        consultation=consultation,
        question=question,
        notice_section=notice_section,
        author={"email_participant": participant},
        author_payload={"participant": participant.pk},
        channel=Channel.EMAIL,
        age_band=AgeBand.UNKNOWN,
        text=text,
        language=language,
        now=now,
    )


@transaction.atomic
def email_comment_edit(
    *, actor, comment: Comment, participant: EmailParticipant, text: str, now=None
) -> Comment:
    """Change a participant's own comment while the period lasts and it is not hidden."""
    now = now or timezone.now()
    comment = Comment.objects.select_for_update().select_related("consultation").get(pk=comment.pk)
    participant = EmailParticipant.objects.get(pk=participant.pk)  # as stored: not erased
    if (
        comment.email_participant_id != participant.pk
        or participant.is_erased
        or not selectors.may_comment_by_email(participant, comment.consultation)
    ):
        raise PermissionDenied(_("You may change only your own comments."))
    return _comment_text_change(
        actor=actor,
        comment=comment,
        text=text,
        author_payload={"participant": participant.pk},
        now=now,
    )


def tell_email_participants(consultation: Consultation) -> None:
    """
    Mail each e-mail participant who commented the answers to their comments, or the reason a
    comment was hidden (after the commit): they have no portal to read them in.
    """
    # An erased participant is mailed nothing: they have no address any more.
    comments = list(
        consultation.comments.filter(
            email_participant__isnull=False, email_participant__erased_at__isnull=True
        )
        .select_related("email_participant", "answer")
        .order_by("submitted_at", "id")
    )
    mine: dict[int, list[Comment]] = {}
    for comment in comments:
        mine.setdefault(comment.email_participant_id, []).append(comment)
    consultation_id = consultation.pk

    def send() -> None:
        for own in mine.values():
            participant = own[0].email_participant
            with translation.override(participant.language):
                body = render_to_string(
                    "participation/email/answer_mail.txt",
                    {"consultation": consultation, "comments": own},
                )
                send_mail(
                    _("Your comment has been answered"),
                    body,
                    None,
                    [participant.email],
                    fail_silently=True,
                )
        logger.info("consultation %s: %d e-mail participants told", consultation_id, len(mine))

    transaction.on_commit(send)


@transaction.atomic
def email_participant_erase(
    *, actor, participant: EmailParticipant, reason: str = "participant", now=None
) -> bool:
    """
    Erase the participant's address (APPI Art. 22) and any link still pending; return False if
    it was erased already (nothing changes, nothing is logged). Their comments stay on the
    consultations and the published result, without the address, as anonymous comments do;
    no mail goes to them any more, and the same address asked again makes a new participant.
    ``reason`` is "participant" (they asked) or "retention" (no longer needed).
    """
    now = now or timezone.now()
    participant = EmailParticipant.objects.select_for_update().get(pk=participant.pk)
    if participant.is_erased:
        return False
    participant.email = None
    participant.link_nonce = ""
    participant.erased_at = now
    participant.save(update_fields=["email", "link_nonce", "erased_at"])
    record(
        actor=actor,
        action="email_participant.erased",
        obj=participant,
        consortium=participant.consortium_id,
        payload={
            "reason": reason,
            "opinions": Comment.objects.filter(email_participant=participant).count(),
        },
    )
    return True


ERASE_BATCH = 500


def email_participants_erase_expired(
    *, now=None, days: int | None = None, batch_size: int = ERASE_BATCH, progress=None
) -> int:
    """
    Erase the addresses no longer needed (``selectors.email_participants_past_retention``,
    ``days`` defaulting to ``PARTICIPATION_EMAIL_RETENTION_DAYS``), each with its own audit
    entry (reason "retention"), in transactions of ``batch_size``; return how many were erased.
    Safe to run twice, or at once: an erased participant is skipped. ``progress(n)`` hears
    each batch.
    """
    now = now or timezone.now()
    days = settings.PARTICIPATION_EMAIL_RETENTION_DAYS if days is None else days
    if days < 0 or batch_size < 1:
        raise ValueError("days must not be negative, batch_size must be positive")
    due = selectors.email_participants_past_retention(now=now, days=days, link_max_age=LINK_MAX_AGE)
    actor = Actor.system("participation.retention")
    erased, after = 0, 0
    while True:
        with transaction.atomic():
            # Locked, and chosen again inside the transaction: one who asked a link meanwhile
            # is no longer due (PostgreSQL skips the rows another run holds).
            batch = list(
                due.filter(pk__gt=after)
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("pk", flat=True)[:batch_size]
            )
            if not batch:
                break
            after = batch[-1]
            erased += sum(
                email_participant_erase(
                    actor=actor,
                    participant=EmailParticipant(pk=pk),
                    reason="retention",
                    now=now,
                )
                for pk in batch
            )
        if progress is not None:
            progress(len(batch))
    return erased
