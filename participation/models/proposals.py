"""
提案: residents' proposals (a data use, a service, a sensor placement) and the supports other
residents give them; the secretariat moderates each proposal and answers it (accepted into a
plan, being studied, declined — with the reasons), linking what follows from it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.models import localized


class Proposal(models.Model):
    """提案: one resident's idea, supported by others and answered by the secretariat."""

    class Kind(models.TextChoices):
        DATA_USE = "data_use", _("a use of data")
        SERVICE = "service", _("a service")
        SENSOR = "sensor", _("a sensor placement")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        PUBLISHED = "published", _("published")
        HIDDEN = "hidden", _("hidden")
        ANSWERED = "answered", _("answered")

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("accepted into a plan")
        STUDIED = "studied", _("being studied")
        DECLINED = "declined", _("declined")

    consortium = models.ForeignKey(
        "governance.Consortium",
        on_delete=models.PROTECT,
        related_name="proposals",
        verbose_name=_("consortium"),
    )
    author = models.ForeignKey(
        "consent.Resident",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("proposal"))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PUBLISHED
    )
    hidden_reason = models.TextField(_("reason for hiding"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    reasons_ja = models.TextField(_("reasons (Japanese)"), blank=True)
    reasons_en = models.TextField(_("reasons (English)"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    # What follows from the answer: a data-ethics review, a purpose residents consent to, a KPI.
    ticket = models.ForeignKey(
        "review.ReviewTicket",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("review request"),
    )
    purpose = models.ForeignKey(
        "consent.Purpose",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("purpose"),
    )
    # The KPI's code: indicators live in ``public``, which participation does not import.
    indicator_code = models.SlugField(_("KPI code"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="hidden") | ~Q(hidden_reason=""),
                name="participation_proposal_hidden_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="answered")
                | (~Q(outcome="") & ~Q(reasons_ja="") & Q(answered_at__isnull=False)),
                name="participation_proposal_answered_has_outcome",
            ),
        ]
        indexes = [
            # The portal's and the register's lists: a consortium's proposals by state.
            models.Index(fields=["consortium", "status"], name="participation_proposal_state"),
            # The portal's "my proposals".
            models.Index(fields=["author", "-submitted_at"], name="participation_proposal_mine"),
        ]

    def __str__(self) -> str:
        return self.title

    def reasons(self, language: str | None = None) -> str:
        return localized(self, "reasons", language)


class Support(models.Model):
    """賛同: one resident's support of a proposal; withdrawing it deletes the row (audited)."""

    proposal = models.ForeignKey(
        Proposal,
        on_delete=models.CASCADE,
        related_name="supports",
        verbose_name=_("proposal"),
    )
    resident = models.ForeignKey(
        "consent.Resident",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("resident"),
    )
    created_at = models.DateTimeField(_("supported"), default=timezone.now)

    class Meta:
        verbose_name = _("support")
        verbose_name_plural = _("supports")
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "resident"], name="participation_support_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}/{self.resident_id}"
