"""
The public face of a consortium: what it decides to publish about itself (officers, the
board, resolutions and their minutes) beyond what the register always shows.

Everything else the register shows is read from the other apps through their selectors; this
app stores only its own decisions, each made through an audited service.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.models import Consortium, Organization, Resolution


class PublicationSettings(models.Model):
    """公表設定: what the consortium publishes about the people who run it."""

    class BoardDisclosure(models.TextChoices):
        NONE = "none", _("nothing: only that the board exists")
        EXPERTISE = "expertise", _("each seat's expertise, without names")
        NAMES = "names", _("names and expertise")

    consortium = models.OneToOneField(
        Consortium,
        verbose_name=_("consortium"),
        on_delete=models.PROTECT,
        related_name="publication_settings",
    )
    publish_officers = models.BooleanField(
        _("publish the officers' names"),
        default=False,
        help_text=_("The chair and vice-chairs (会長・副会長) by name on the public register."),
    )
    board_disclosure = models.CharField(
        _("what the register says of the ethics board's members"),
        max_length=16,
        choices=BoardDisclosure.choices,
        default=BoardDisclosure.EXPERTISE,
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("publication settings")
        verbose_name_plural = _("publication settings")

    def __str__(self) -> str:
        return str(self.consortium)


class ResolutionPublication(models.Model):
    """
    議事録の公表: the secretariat's decision to publish a closed resolution, its tally and its
    minutes on the register. Unpublishing keeps the row (withdrawn), so the history stays.
    """

    resolution = models.OneToOneField(
        Resolution,
        verbose_name=_("resolution"),
        on_delete=models.PROTECT,
        related_name="publication",
    )
    minutes_ja = models.TextField(_("minutes (Japanese)"), blank=True)
    minutes_en = models.TextField(_("minutes (English)"), blank=True)
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("published resolution")
        verbose_name_plural = _("published resolutions")
        ordering = ["-published_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True)
                | Q(withdrawn_at__gte=models.F("published_at")),
                name="public_resolutionpublication_withdrawn_after",
            )
        ]

    def __str__(self) -> str:
        return str(self.resolution)

    @property
    def is_public(self) -> bool:
        return self.withdrawn_at is None


class Indicator(models.Model):
    """
    KPI（重要業績評価指標）: one of the consortium's measurable goals, with its baseline and
    target, whose values are entered by the secretariat (with source and evidence) or computed
    by the platform from its own records.
    """

    class Direction(models.TextChoices):
        INCREASE = "increase", _("higher is better")
        DECREASE = "decrease", _("lower is better")

    class Source(models.TextChoices):
        ENTERED = "entered", _("entered by the secretariat, with evidence")
        CONSENT_RATE = "consent_rate", _("computed: consent rate of a purpose (%)")
        RESIDENTS_REACHED = "residents_reached", _("computed: residents who agreed to a purpose")
        DECISIONS = "decisions", _("computed: decisions of the data-ethics board")
        DECISION_DAYS = "decision_days", _("computed: median days from request to decision")
        DATA_RELEASES = "data_releases", _("computed: residents' records released in the month")
        PARTICIPANTS = (
            "participants",
            _("computed: people who commented on the consortium's consultations in 12 months"),
        )
        OBLIGATIONS_ON_TIME = (
            "obligations_on_time",
            _("computed: conditions' obligations met on time in 12 months (%)"),
        )

    # Computed sources that count residents of one purpose.
    PURPOSE_SOURCES = {Source.CONSENT_RATE, Source.RESIDENTS_REACHED}

    consortium = models.ForeignKey(
        Consortium,
        verbose_name=_("consortium"),
        on_delete=models.PROTECT,
        related_name="indicators",
    )
    code = models.SlugField(_("code"), max_length=64)
    name_ja = models.CharField(_("name (Japanese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    definition_ja = models.TextField(_("definition (Japanese)"))
    definition_en = models.TextField(_("definition (English)"), blank=True)
    unit = models.CharField(_("unit"), max_length=32, help_text=_("e.g. %, 人, 件, 日"))
    direction = models.CharField(_("direction"), max_length=16, choices=Direction.choices)
    source = models.CharField(
        _("values"), max_length=24, choices=Source.choices, default=Source.ENTERED
    )
    baseline_value = models.DecimalField(_("baseline"), max_digits=14, decimal_places=2)
    baseline_on = models.DateField(_("baseline date"))
    target_value = models.DecimalField(_("target"), max_digits=14, decimal_places=2)
    target_on = models.DateField(_("target date"))
    owner = models.ForeignKey(
        Organization,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    purpose = models.ForeignKey(
        "consent.Purpose",
        verbose_name=_("purpose"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    plan = models.ForeignKey(
        Resolution,
        verbose_name=_("plan (resolution)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    ticket = models.ForeignKey(
        "review.ReviewTicket",
        verbose_name=_("approved use"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    is_public = models.BooleanField(_("public"), default=False)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["consortium", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["consortium", "code"],
                name="public_indicator_unique_code",
                violation_error_message=_(
                    "The consortium already has an indicator with this code."
                ),
            ),
            models.CheckConstraint(
                condition=Q(target_on__gte=models.F("baseline_on")),
                name="public_indicator_target_after_baseline",
            ),
            models.CheckConstraint(
                condition=~Q(source__in=["consent_rate", "residents_reached"])
                | Q(purpose__isnull=False),
                name="public_indicator_purpose_for_purpose_sources",
            ),
        ]

    def __str__(self) -> str:
        return self.name_ja

    @property
    def is_computed(self) -> bool:
        return self.source != self.Source.ENTERED

    def name(self, language: str | None = None) -> str:
        """Return the name in ``language`` (the active one by default), Japanese if none."""
        from django.utils.translation import get_language

        english = (language or get_language() or "ja").startswith("en")
        return self.name_en if english and self.name_en else self.name_ja

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors = {}
        if self.baseline_on and self.target_on and self.target_on < self.baseline_on:
            errors["target_on"] = _("The target date cannot be before the baseline date.")
        if self.source in self.PURPOSE_SOURCES and not self.purpose_id:
            errors["purpose"] = _("Choose the purpose whose residents this indicator counts.")
        if (
            self.purpose_id
            and self.consortium_id
            and self.purpose.consortium_id != self.consortium_id
        ):
            errors["purpose"] = _("Choose a purpose of this consortium.")
        if errors:
            raise ValidationError(errors)


class Measurement(models.Model):
    """測定値: an indicator's value on a day, entered with its source and evidence or computed."""

    indicator = models.ForeignKey(
        Indicator,
        verbose_name=_("indicator"),
        on_delete=models.PROTECT,
        related_name="measurements",
    )
    measured_on = models.DateField(_("measured on"))
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    source = models.CharField(_("source"), max_length=200)
    evidence = models.TextField(pgettext_lazy("measurement", "evidence"), blank=True)
    computed = models.BooleanField(_("computed by the platform"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reported_by = models.ForeignKey(
        Organization,
        verbose_name=_("reported by the requester"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The member whose approved use the indicator follows, when it sent the value."),
    )
    # The outcome report (an obligation of the indicator's use) the requester filed it with.
    obligation = models.ForeignKey(
        "review.Obligation",
        verbose_name=_("outcome report"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The use's outcome-report obligation this value was reported for."),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("measurement")
        verbose_name_plural = _("measurements")
        ordering = ["indicator", "measured_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "measured_on"],
                name="public_measurement_one_per_day",
                violation_error_code="already_measured",
                violation_error_message=_(
                    "This indicator already has a value for that day; correct it instead."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.measured_on}: {self.value}"


class PdcaReview(models.Model):
    """
    PDCA の評価: the Check and Act of one indicator for one period: what was planned and done,
    the assessment, the causes, the actions decided; it may go to a general assembly as a
    resolution.
    """

    class Decision(models.TextChoices):
        CONTINUE = "continue", _("continue as planned")
        IMPROVE = "improve", _("continue with the actions decided")
        REVISE_TARGET = "revise_target", _("revise the target")
        STOP = "stop", _("stop the measure")

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.PROTECT, related_name="reviews"
    )
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period until"))
    plan = models.TextField(_("plan"), blank=True)
    # Named for what they hold: a field called ``check`` would hide Model.check().
    done = models.TextField(pgettext_lazy("PDCA review", "what was done"), blank=True)
    assessment = models.TextField(_("assessment (check)"))
    causes = models.TextField(_("causes"), blank=True)
    actions = models.TextField(_("actions decided (act)"), blank=True)
    decision = models.CharField(
        pgettext_lazy("PDCA review", "decision"), max_length=16, choices=Decision.choices
    )
    resolution = models.OneToOneField(
        Resolution,
        verbose_name=_("put to the general assembly as"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pdca_review",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("PDCA review")
        verbose_name_plural = _("PDCA reviews")
        ordering = ["indicator", "-period_end"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="public_pdcareview_period_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.period_start}–{self.period_end}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValidationError({"period_end": _("The period cannot end before it starts.")})
