from django.db import models
from django.utils.translation import gettext_lazy as _


class Consortium(models.Model):
    """コンソーシアム: municipalities, companies and universities sharing data for city services."""

    class Status(models.TextChoices):
        PREPARING = "preparing", _("preparing")
        ACTIVE = "active", _("active")
        DISSOLVED = "dissolved", _("dissolved")

    slug = models.SlugField(_("short name"), unique=True)
    name_ja = models.CharField(_("name (Japanese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    area = models.CharField(_("area"), max_length=200, blank=True)
    vision = models.TextField(_("vision statement"), blank=True)
    established_on = models.DateField(_("established"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    # The secretariat's staff: their admin rights over this consortium's records come from
    # this group's object permissions.
    secretariat_group = models.OneToOneField(
        "auth.Group", on_delete=models.PROTECT, null=True, blank=True, related_name="consortium"
    )

    class Meta:
        verbose_name = _("consortium")
        verbose_name_plural = _("consortia")
        ordering = ["name_ja"]

    def __str__(self) -> str:
        return self.name_ja


class Organization(models.Model):
    """会員団体: a municipality, company, university, NPO or civic group."""

    class Kind(models.TextChoices):
        MUNICIPALITY = "municipality", _("municipality")
        COMPANY = "company", _("company")
        UNIVERSITY = "university", _("university")
        NPO = "npo", _("NPO")
        CIVIC_GROUP = "civic_group", _("civic group")
        OTHER = "other", _("other")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name_ja = models.CharField(_("name (Japanese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    # 法人番号: 13 digits, the first a check digit over the other twelve.
    corporate_number = models.CharField(_("corporate number"), max_length=13, blank=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name_ja"]
        constraints = [
            models.UniqueConstraint(
                fields=["corporate_number"],
                condition=~models.Q(corporate_number=""),
                name="governance_organization_unique_corporate_number",
            )
        ]

    def __str__(self) -> str:
        return self.name_ja
