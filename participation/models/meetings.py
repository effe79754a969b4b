"""
説明会・意見交換会: open meetings the secretariat announces (online with a link, or at a
place) with an agenda, a time and a capacity; residents register in the portal; staff record
who came at the door (and how many came unregistered); the minutes are published afterwards,
linked to the consultations and proposals the meeting discussed. Comments collected at a
meeting are entered into a linked consultation with the channel "meeting".
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.models import localized


class Meeting(models.Model):
    """説明会: one open meeting of a consortium, from its announcement to its minutes."""

    class Format(models.TextChoices):
        IN_PERSON = "in_person", _("at a place")
        ONLINE = "online", _("online")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ANNOUNCED = "announced", _("announced")
        HELD = "held", _("held")
        MINUTES = "minutes", _("minutes published")

    consortium = models.ForeignKey(
        "governance.Consortium",
        on_delete=models.PROTECT,
        related_name="meetings",
        verbose_name=_("consortium"),
    )
    title_ja = models.CharField(_("title (Japanese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    agenda_ja = models.TextField(_("agenda (Japanese)"))
    agenda_en = models.TextField(_("agenda (English)"), blank=True)
    format = models.CharField(
        _("held"), max_length=10, choices=Format.choices, default=Format.IN_PERSON
    )
    place = models.CharField(
        _("place"), max_length=200, blank=True, help_text=_("The hall and its address.")
    )
    online_url = models.URLField(
        _("link to join"), blank=True, help_text=_("The web address residents join from.")
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveIntegerField(_("capacity"))
    consultations = models.ManyToManyField(
        "participation.Consultation",
        blank=True,
        related_name="meetings",
        verbose_name=_("consultations discussed"),
    )
    proposals = models.ManyToManyField(
        "participation.Proposal",
        blank=True,
        related_name="meetings",
        verbose_name=_("proposals discussed"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    announced_at = models.DateTimeField(_("announced"), null=True, blank=True, editable=False)
    # Counted at the door: people who came without registering (no one is named).
    walk_ins = models.PositiveIntegerField(_("attended without registering"), default=0)
    minutes_ja = models.TextField(_("minutes (Japanese)"), blank=True)
    minutes_en = models.TextField(_("minutes (English)"), blank=True)
    minutes_published_at = models.DateTimeField(
        _("minutes published"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="participation_meeting_times",
            ),
            models.CheckConstraint(
                condition=Q(capacity__gt=0), name="participation_meeting_capacity"
            ),
            models.CheckConstraint(
                condition=~Q(status="minutes") | ~Q(minutes_ja=""),
                name="participation_meeting_minutes_written",
            ),
        ]
        indexes = [
            # The portal's and the register's lists: a consortium's meetings by state.
            models.Index(fields=["consortium", "status"], name="participation_meeting_state"),
        ]

    def __str__(self) -> str:
        return self.title_ja

    def title(self, language: str | None = None) -> str:
        return localized(self, "title", language)

    def agenda(self, language: str | None = None) -> str:
        return localized(self, "agenda", language)

    def minutes(self, language: str | None = None) -> str:
        return localized(self, "minutes", language)

    def clean(self) -> None:
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("The meeting must end after it starts.")
        if self.format == self.Format.ONLINE and not self.online_url:
            errors["online_url"] = _("Give the link residents join the online meeting from.")
        if self.format == self.Format.IN_PERSON and not self.place.strip():
            errors["place"] = _("Say where the meeting is held.")
        if errors:
            raise ValidationError(errors)

    def has_started(self, at=None) -> bool:
        return (at or timezone.now()) >= self.starts_at


class Registration(models.Model):
    """参加申込: one resident's registration for a meeting; cancelling deletes it (audited)."""

    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.CASCADE,
        related_name="registrations",
        verbose_name=_("meeting"),
    )
    resident = models.ForeignKey(
        "consent.Resident",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("resident"),
    )
    registered_at = models.DateTimeField(_("registered"), default=timezone.now)
    # Recorded at the door: None until attendance is recorded.
    attended = models.BooleanField(_("attended"), null=True, blank=True)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["meeting", "registered_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "resident"], name="participation_registration_once"
            ),
        ]
        indexes = [
            # The portal's "my meetings" and the minutes mail: a resident's registrations.
            models.Index(fields=["resident"], name="participation_registr_mine"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id}/{self.resident_id}"
