"""
意見募集: consultations on a draft purpose and its notice, an amendment of a use (a review
ticket), a bylaw amendment or a plan; the comments residents send, their moderation, and the
consortium's answers (「提出意見」 and 「考慮した結果及びその理由」, as the Administrative
Procedure Act art. 43(1)(iv) asks of public comment).

A comment's author is a resident (by pseudonymous id), a participant who confirmed an e-mail
address (where the consortium allows people without a portal account to take part) or, for
comments collected offline at a meeting, on paper or at a counter, nobody: the staff member who
entered it is recorded instead.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from consent.models import localized


class Channel(models.TextChoices):
    """How a comment reached the consortium: the participation counts are per channel."""

    PORTAL = "portal", _("resident portal")
    EMAIL = "email", _("confirmed e-mail address")
    MEETING = "meeting", _("meeting")
    PAPER = "paper", _("paper")
    COUNTER = "counter", _("counter")


class NoticeSection(models.TextChoices):
    """
    A part of a draft purpose's notice a comment may be on: the headings residents read in the
    portal before they consent (why, what data, who is responsible, who receives it, how long).
    """

    EXPLANATION = "explanation", _("why the data is used")
    CATEGORIES = "categories", _("what data")
    CONTROLLER = "controller", _("who is responsible")
    RECIPIENTS = "recipients", _("who receives it")
    RETENTION = "retention", _("how long it is kept")
    CONSENT_VALIDITY = "consent_validity", _("how long consent lasts")
    WORDING = "wording", _("the wording of the notice")


# Channels whose comments staff enter on the participant's behalf.
OFFLINE_CHANNELS = [Channel.MEETING, Channel.PAPER, Channel.COUNTER]


class AgeBand(models.TextChoices):
    """年代: declared by the participant, optional; the counts show whom a consultation missed."""

    UNDER_20 = "under_20", _("under 20")
    TWENTIES = "20s", _("20s")
    THIRTIES = "30s", _("30s")
    FORTIES = "40s", _("40s")
    FIFTIES = "50s", _("50s")
    SIXTIES = "60s", _("60s")
    SEVENTY_PLUS = "70_plus", _("70 or over")
    UNDECLARED = "undeclared", _("prefer not to say")
    # Participants by e-mail are not asked: they are counted here.
    UNKNOWN = "unknown", _("unknown")


# The bands a participant may declare (``unknown`` is the platform's, never chosen).
DECLARABLE_AGE_BANDS = [choice for choice in AgeBand.choices if choice[0] != AgeBand.UNKNOWN]


class ConsultationPolicy(models.Model):
    """
    意見募集の方針: which purposes of a consortium may open only after a consultation on them
    has published its result, and who may take part besides the consortium's residents.
    """

    consortium = models.OneToOneField(
        "governance.Consortium",
        on_delete=models.PROTECT,
        related_name="consultation_policy",
        verbose_name=_("consortium"),
    )
    required_for_all = models.BooleanField(
        _("every purpose needs a consultation before it opens"), default=False
    )
    required_for_sensitive = models.BooleanField(
        _("purposes with special-care-required data (要配慮個人情報) need one"), default=False
    )
    required_for_third_party = models.BooleanField(
        _("purposes with third-party provision need one"), default=False
    )
    # Off by default: only the consortium's residents, signed in to the portal, take part.
    email_participants_allowed = models.BooleanField(
        _("people without a portal account may comment with a confirmed e-mail address"),
        default=False,
        help_text=_(
            "They confirm their address by a link sent to it; their comments are counted and "
            "published as the residents' are, never with the address."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("consultation policy")
        verbose_name_plural = _("consultation policies")

    def __str__(self) -> str:
        return str(self.consortium)


class EmailParticipant(models.Model):
    """
    メールアドレスで参加する人: someone without a portal account who takes part in a
    consortium's consultations with an address they confirmed by a link sent to it (where the
    consortium's policy allows it). The address is personal data: it is used to send the link
    and the answers, never shown, never logged (the log names the participant by id).
    """

    consortium = models.ForeignKey(
        "governance.Consortium",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("consortium"),
    )
    # Empty (NULL) once erased: by the participant, or when it is no longer needed (APPI Art. 22,
    # ``email_participants_erase_expired``); the participant's comments stay, without it.
    email = models.EmailField(_("e-mail address"), null=True, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="ja"
    )
    # The one link that may confirm the address now: a used or replaced link no longer does.
    link_nonce = models.CharField(max_length=32, blank=True, editable=False)
    link_sent_at = models.DateTimeField(_("link sent"), null=True, blank=True, editable=False)
    confirmed_at = models.DateTimeField(
        pgettext_lazy("e-mail address", "confirmed"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    erased_at = models.DateTimeField(_("address erased"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("e-mail participant")
        verbose_name_plural = _("e-mail participants")
        constraints = [
            # One participant per address and consortium: a new request sends a new link to it.
            # Erased participants hold no address, however many there are: the same address
            # asked again makes a new participant, not linked to the erased one's comments.
            models.UniqueConstraint(
                fields=["consortium", "email"],
                condition=Q(email__isnull=False),
                name="participation_email_participant_unique",
            ),
            # An address, or the time it was erased: never both, never neither.
            models.CheckConstraint(
                condition=Q(email__isnull=False, erased_at__isnull=True)
                | Q(email__isnull=True, erased_at__isnull=False),
                name="participation_email_participant_erased",
            ),
        ]

    def __str__(self) -> str:
        # Never the address: admin messages and logs name the participant by id.
        return f"#{self.pk}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None and self.erased_at is None

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


class Consultation(models.Model):
    """意見募集: a period in which residents comment on a draft, then the consortium's answers."""

    class Subject(models.TextChoices):
        PURPOSE = "purpose", _("a draft purpose and its notice")
        USE_AMENDMENT = "use_amendment", _("an amendment of a data use (review request)")
        BYLAW_AMENDMENT = "bylaw_amendment", _("a bylaw amendment")
        PLAN = "plan", _("a plan")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ANNOUNCED = "announced", _("announced")
        ANSWERED = "answered", _("result published")

    consortium = models.ForeignKey(
        "governance.Consortium",
        on_delete=models.PROTECT,
        related_name="consultations",
        verbose_name=_("consortium"),
    )
    subject = models.CharField(_("on"), max_length=16, choices=Subject.choices)
    purpose = models.ForeignKey(
        "consent.Purpose",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("purpose"),
    )
    ticket = models.ForeignKey(
        "review.ReviewTicket",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("review request"),
    )
    bylaw_version = models.ForeignKey(
        "governance.BylawVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("bylaw version"),
    )
    title_ja = models.CharField(_("title (Japanese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    # The documents consulted on: the draft's text, or what it changes and why.
    body_ja = models.TextField(_("documents (Japanese)"))
    body_en = models.TextField(_("documents (English)"), blank=True)
    links = models.TextField(
        _("links to documents"), blank=True, help_text=_("One web address (https://…) a line.")
    )
    opens_at = models.DateTimeField(_("comments from"))
    closes_at = models.DateTimeField(_("comments until"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    result_ja = models.TextField(_("result summary (Japanese)"), blank=True)
    result_en = models.TextField(_("result summary (English)"), blank=True)
    announced_at = models.DateTimeField(_("announced"), null=True, blank=True, editable=False)
    answered_at = models.DateTimeField(_("result published"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        ordering = ["-opens_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="participation_consultation_period",
            ),
            models.CheckConstraint(
                condition=~Q(subject="purpose") | Q(purpose__isnull=False),
                name="participation_consultation_purpose_named",
            ),
        ]
        indexes = [
            # The portal's and the register's lists: a consortium's consultations by state.
            models.Index(fields=["consortium", "status"], name="participation_consult_state"),
            # The purpose-opening check: the answered consultations on one purpose.
            models.Index(
                fields=["purpose", "status"],
                name="participation_consult_purpose",
                condition=Q(purpose__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.title_ja

    def title(self, language: str | None = None) -> str:
        return localized(self, "title", language)

    def body(self, language: str | None = None) -> str:
        return localized(self, "body", language)

    def result(self, language: str | None = None) -> str:
        return localized(self, "result", language)

    def link_list(self) -> list[str]:
        return [line.strip() for line in self.links.splitlines() if line.strip()]

    def clean(self) -> None:
        errors = {}
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            errors["closes_at"] = _("The period must end after it starts.")
        named = {
            self.Subject.PURPOSE: ("purpose", self.purpose_id),
            self.Subject.USE_AMENDMENT: ("ticket", self.ticket_id),
            self.Subject.BYLAW_AMENDMENT: ("bylaw_version", self.bylaw_version_id),
        }
        if self.subject in named:
            field, value = named[self.subject]
            if value is None:
                errors[field] = _("Choose what the consultation is on.")
        validate = URLValidator(schemes=["https", "http"])
        for line in self.link_list():
            try:
                validate(line)
            except ValidationError:
                errors["links"] = _("Each line must be one web address (https://…).")
                break
        if errors:
            raise ValidationError(errors)

    def phase(self, at=None) -> str:
        """Return "draft", "upcoming", "open", "closed" or "answered" at ``at``."""
        at = at or timezone.now()
        if self.status == self.Status.DRAFT:
            return "draft"
        if self.status == self.Status.ANSWERED:
            return "answered"
        if at < self.opens_at:
            return "upcoming"
        if at < self.closes_at:
            return "open"
        return "closed"

    def is_open(self, at=None) -> bool:
        return self.phase(at) == "open"


class Question(models.Model):
    """設問: one question a consultation asks; comments may answer one of them."""

    consultation = models.ForeignKey(
        Consultation,
        on_delete=models.CASCADE,
        related_name="questions",
        verbose_name=_("consultation"),
    )
    number = models.PositiveSmallIntegerField(_("number"))
    text_ja = models.TextField(_("question (Japanese)"))
    text_en = models.TextField(_("question (English)"), blank=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["consultation", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "number"], name="participation_question_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.text_ja[:40]}"

    def text(self, language: str | None = None) -> str:
        return localized(self, "text", language)


class Answer(models.Model):
    """
    回答: the consortium's answer to one comment or to a group of similar ones: the opinion
    as summarised (提出意見) and the result of considering it, with its reasons and what
    changed (考慮した結果及びその理由).
    """

    consultation = models.ForeignKey(
        Consultation,
        on_delete=models.PROTECT,
        related_name="answers",
        verbose_name=_("consultation"),
    )
    number = models.PositiveSmallIntegerField(_("number"))
    opinion_ja = models.TextField(_("opinions submitted (提出意見, Japanese)"))
    opinion_en = models.TextField(_("opinions submitted (English)"), blank=True)
    response_ja = models.TextField(_("result of consideration and reasons (Japanese)"))
    response_en = models.TextField(_("result of consideration and reasons (English)"), blank=True)
    changed = models.BooleanField(_("the draft was changed"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["consultation", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "number"], name="participation_answer_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consultation_id}-{self.number}"

    def opinion(self, language: str | None = None) -> str:
        return localized(self, "opinion", language)

    def response(self, language: str | None = None) -> str:
        return localized(self, "response", language)


class Comment(models.Model):
    """
    意見: one comment on a consultation, optionally on one of its questions. Sent in the portal
    by a resident, by a participant with a confirmed e-mail address, or entered by staff from a
    meeting, a paper form or a counter (no author).
    """

    class Status(models.TextChoices):
        PUBLISHED = "published", _("published")
        HIDDEN = "hidden", _("hidden")

    consultation = models.ForeignKey(
        Consultation,
        on_delete=models.PROTECT,
        related_name="comments",
        verbose_name=_("consultation"),
    )
    question = models.ForeignKey(
        Question,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="comments",
        verbose_name=_("question"),
    )
    resident = models.ForeignKey(
        "consent.Resident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resident"),
    )
    email_participant = models.ForeignKey(
        EmailParticipant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="comments",
        verbose_name=_("e-mail participant"),
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    # The staff member who entered an offline comment.
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    # On a consultation on a purpose: the part of its notice the comment is on, if any.
    notice_section = models.CharField(
        _("part of the notice"), max_length=16, choices=NoticeSection.choices, blank=True
    )
    # The meeting an offline comment was collected at (channel "meeting").
    meeting = models.ForeignKey(
        "participation.Meeting",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="comments",
        verbose_name=_("meeting"),
    )
    age_band = models.CharField(
        _("age"), max_length=10, choices=AgeBand.choices, default=AgeBand.UNDECLARED
    )
    text = models.TextField(_("comment"))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    submitted_at = models.DateTimeField(_("received"), default=timezone.now)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PUBLISHED
    )
    hidden_reason = models.TextField(_("reason for hiding"), blank=True)
    answer = models.ForeignKey(
        Answer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="comments",
        verbose_name=_("answer"),
    )

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["consultation", "submitted_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="hidden") | ~Q(hidden_reason=""),
                name="participation_comment_hidden_has_reason",
            ),
            # Exactly one author kind, matching the channel: a portal comment has its resident,
            # an e-mail comment its participant, an offline one the staff member who entered it.
            models.CheckConstraint(
                condition=(
                    Q(channel="portal")
                    & Q(
                        resident__isnull=False,
                        email_participant__isnull=True,
                        entered_by__isnull=True,
                    )
                )
                | (
                    Q(channel="email")
                    & Q(
                        resident__isnull=True,
                        email_participant__isnull=False,
                        entered_by__isnull=True,
                    )
                )
                | (
                    Q(channel__in=["meeting", "paper", "counter"])
                    & Q(
                        resident__isnull=True,
                        email_participant__isnull=True,
                        entered_by__isnull=False,
                    )
                ),
                name="participation_comment_one_author",
            ),
            models.CheckConstraint(
                condition=Q(meeting__isnull=True) | Q(channel="meeting"),
                name="participation_comment_meeting_channel",
            ),
        ]
        indexes = [
            # The portal's "my comments", newest first.
            models.Index(
                fields=["resident", "-submitted_at"],
                name="participation_comment_mine",
                condition=Q(resident__isnull=False),
            ),
            # An e-mail participant's "my comments", newest first.
            models.Index(
                fields=["email_participant", "-submitted_at"],
                name="participation_comment_email",
                condition=Q(email_participant__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"
