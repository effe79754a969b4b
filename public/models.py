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

from governance.models import Consortium, Resolution


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
