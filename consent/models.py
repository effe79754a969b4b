"""
Models of the consent app: residents (pseudonymous), data categories, purposes, their notices,
and the append-only consent records.

What is kept for ever (residents' pseudonymous ids, purposes, notices, consent records, the audit
log) holds no name and no contact: those live in ``ResidentProfile``, which erasure deletes.
"""

import base64
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

PSEUDONYMOUS_ID_LENGTH = 24


def new_pseudonymous_id() -> str:
    """Return a random pseudonymous id: 120 bits as 24 lowercase base32 characters."""
    return base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()


def localized(obj, field: str, language: str | None = None) -> str:
    """Return ``obj.<field>_en`` in English (when filled), else ``obj.<field>_ja``."""
    language = (language or get_language() or "ja")[:2]
    if language == "en":
        value = getattr(obj, f"{field}_en", "")
        if value:
            return value
    return getattr(obj, f"{field}_ja")


class Relationship(models.TextChoices):
    """How a representative is related to the person they act for."""

    PARENT = "parent", _("parent or guardian of a minor (親権者・未成年後見人)")
    GUARDIAN = "guardian", _("adult guardian (成年後見人)")
    CURATOR = "curator", _("curator (保佐人)")
    ASSISTANT = "assistant", _("assistant (補助人)")
    ATTORNEY = "attorney", _("family member with a power of attorney (委任状)")
    OTHER = "other", _("other")


RELATIONSHIP_CHOICES = Relationship.choices


class PseudonymousIdField(models.CharField):
    """
    A pseudonymous id column, compared byte by byte (collation "C") on PostgreSQL.

    The ids are lowercase ASCII, so locale-aware comparison buys nothing, and it is what the
    bulk consent check spends most of its time on: each of its index descents compares ids
    some twenty times. Foreign keys to the id inherit the collation (ForeignKey.db_parameters).
    """

    def db_parameters(self, connection):
        parameters = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            parameters["collation"] = "C"
        return parameters


class Resident(models.Model):
    """
    住民: a resident, known to everything kept for ever only by a random pseudonymous id.

    The pseudonymous id is the primary key, so that consent records carry it as their foreign
    key: it is the only resident id that leaves the platform (receipts, the grants API) or
    enters the audit log, and the bulk consent check looks residents up by it directly.
    """

    pseudonymous_id = PseudonymousIdField(
        _("pseudonymous id"),
        primary_key=True,
        max_length=PSEUDONYMOUS_ID_LENGTH,
        default=new_pseudonymous_id,
        editable=False,
    )
    # The sign-in account; none for a resident registered on paper by the secretariat, and
    # none after erasure (the account is deleted with the personal details).
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resident",
        verbose_name=_("account"),
    )
    language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default="ja"
    )
    consortia = models.ManyToManyField(
        "governance.Consortium", related_name="residents", verbose_name=_("consortia")
    )
    registered_at = models.DateTimeField(_("registered"), default=timezone.now, editable=False)
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["-registered_at"]

    def __str__(self) -> str:
        return self.pseudonymous_id

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


class ResidentProfile(models.Model):
    """
    住民の個人情報: a resident's name and contact details, apart from everything kept for ever,
    so that erasing them (APPI art. 35, 利用停止・消去) touches nothing else.
    """

    resident = models.OneToOneField(
        Resident, on_delete=models.CASCADE, primary_key=True, related_name="profile"
    )
    full_name = models.CharField(pgettext_lazy("person", "name"), max_length=200, blank=True)
    contact_email = models.EmailField(_("email address"), blank=True)
    phone = models.CharField(_("telephone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("resident's personal details")
        verbose_name_plural = _("residents' personal details")

    def __str__(self) -> str:
        return str(_("personal details of %(id)s") % {"id": self.resident_id})


class DataCategory(models.Model):
    """データ項目: a kind of personal data, e.g. walking steps or location history."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name_ja = models.CharField(_("name (Japanese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description_ja = models.TextField(_("description (Japanese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    # 要配慮個人情報 (APPI art. 2(3)): health, medical history and the like; needs opt-in
    # consent even for collection, and is shown as sensitive to residents.
    sensitive = models.BooleanField(_("special-care-required (要配慮個人情報)"), default=False)

    class Meta:
        verbose_name = _("data category")
        verbose_name_plural = _("data categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_ja

    def name(self, language: str | None = None) -> str:
        return localized(self, "name", language)


class Purpose(models.Model):
    """
    利用目的: what a consortium asks residents' consent for: which data, why, who controls it,
    who receives it (第三者提供), how it is processed, and for how long it is kept.

    The terms residents see are frozen in ``Notice`` versions; ``current_notice`` is the one
    residents are asked to agree to now. A notice is published only under a decision of the
    data-ethics board that covers its terms (``consent.approvals``).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        OPEN = "open", _("open for consent")
        CLOSED = "closed", _("closed")

    class LegalBasis(models.TextChoices):
        # APPI art. 27: third-party provision needs the person's prior consent (opt-in).
        CONSENT = "consent", _("the resident's consent (opt-in)")

    class Processing(models.TextChoices):
        # From the widest use to the narrowest (see PROCESSING_ORDER): the same values as the
        # review ticket's anonymisation, which the board approves.
        NONE = "none", _("none: identifiable data")
        PSEUDONYMISED = "pseudonymised", _("pseudonymised (仮名加工情報)")
        ANONYMISED = "anonymised", _("anonymised (匿名加工情報)")
        STATISTICAL = "statistical", _("statistics only")

    consortium = models.ForeignKey(
        "governance.Consortium",
        on_delete=models.PROTECT,
        related_name="purposes",
        verbose_name=_("consortium"),
    )
    code = models.SlugField(_("code"), max_length=64)
    title_ja = models.CharField(_("title (Japanese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    explanation_ja = models.TextField(_("plain-language explanation (Japanese)"))
    explanation_en = models.TextField(_("plain-language explanation (English)"))
    categories = models.ManyToManyField(
        DataCategory, related_name="purposes", verbose_name=_("data categories")
    )
    controller = models.ForeignKey(
        "governance.Organization",
        on_delete=models.PROTECT,
        related_name="controlled_purposes",
        verbose_name=_("controller"),
    )
    recipients = models.ManyToManyField(
        "governance.Organization",
        related_name="received_purposes",
        blank=True,
        verbose_name=_("recipients (third-party provision)"),
    )
    retention_days = models.PositiveIntegerField(_("retention (days)"))
    legal_basis = models.CharField(
        _("legal basis"), max_length=16, choices=LegalBasis.choices, default=LegalBasis.CONSENT
    )
    processing = models.CharField(
        _("processing (anonymisation or pseudonymisation)"),
        max_length=16,
        choices=Processing.choices,
        default=Processing.NONE,
    )
    # When set, a consent lapses this many days after it was given, and residents are asked again.
    consent_valid_days = models.PositiveIntegerField(
        _("consent valid for (days)"), null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    current_notice = models.OneToOneField(
        "Notice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("current notice"),
    )
    # The board's ruling that only the person may decide on this purpose (a representative
    # may not, e.g. a purpose using data of a kind a parent should not consent to for a child).
    own_decision_only = models.BooleanField(
        _("needs the person's own decision"),
        default=False,
        help_text=_("When ticked, a representative cannot decide on this purpose for anyone."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("purpose")
        verbose_name_plural = _("purposes")
        ordering = ["consortium", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["consortium", "code"], name="consent_purpose_unique_code"
            ),
            models.CheckConstraint(
                condition=Q(retention_days__gte=1), name="consent_purpose_retention_positive"
            ),
            models.CheckConstraint(
                condition=Q(consent_valid_days__isnull=True) | Q(consent_valid_days__gte=1),
                name="consent_purpose_validity_positive",
            ),
            # A purpose open for consent always has a notice to agree to.
            models.CheckConstraint(
                condition=~Q(status="open") | Q(current_notice__isnull=False),
                name="consent_purpose_open_has_notice",
            ),
        ]
        indexes = [
            # The portal's dashboard: the purposes open in a resident's consortia.
            models.Index(fields=["consortium", "status"], name="consent_purpose_open"),
        ]

    def __str__(self) -> str:
        return self.title_ja

    def title(self, language: str | None = None) -> str:
        return localized(self, "title", language)

    def explanation(self, language: str | None = None) -> str:
        return localized(self, "explanation", language)


# The processing levels from the widest use (identifiable data) to the narrowest (statistics).
PROCESSING_ORDER = [choice.value for choice in Purpose.Processing]


class Notice(models.Model):
    """
    通知・公表文: one version of a purpose's notice, frozen: the texts residents read and the
    terms (data, controller, recipients, retention) they agree to. A consent given under one
    version does not carry over to the next (opt-in: residents are asked again).
    """

    purpose = models.ForeignKey(
        Purpose, on_delete=models.PROTECT, related_name="notices", verbose_name=_("purpose")
    )
    version = models.PositiveIntegerField(pgettext_lazy("notice", "version"))
    text_ja = models.TextField(_("notice (Japanese)"))
    text_en = models.TextField(_("notice (English)"))
    # The same notice in やさしい日本語, written by the secretariat for residents who read the
    # portal in Easy Japanese (and added after publication as well). A reading aid, not the
    # terms: it is outside the notice's SHA-256, and the Japanese text stays the binding one.
    text_ja_easy = models.TextField(
        _("notice in Easy Japanese (やさしい日本語)"),
        blank=True,
        help_text=_(
            "Optional. Short sentences and common words; put readings on hard kanji as "
            "漢字《かんじ》. Residents who read the portal in Easy Japanese see this text, "
            "and the ordinary Japanese notice when it is empty."
        ),
    )
    # The frozen terms as plain data: categories, sensitivity, controller, recipients, retention.
    terms = models.JSONField(_("terms"))
    # SHA-256 over the canonical JSON of version, texts and terms; receipts cite it.
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    published_at = models.DateTimeField(pgettext_lazy("notice", "published"), default=timezone.now)
    # The data-ethics board's decision this version was published under: the review ticket's
    # number and the day it was decided (no foreign key: consent imports no later app). Empty
    # for versions published before approvals were required.
    approval_ticket = models.PositiveBigIntegerField(
        _("approved by review ticket"), null=True, blank=True, editable=False
    )
    approval_decided_on = models.DateField(
        _("approval decided on"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("notice version")
        verbose_name_plural = _("notice versions")
        ordering = ["purpose", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "version"], name="consent_notice_unique_version"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="consent_notice_version_1"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose.code} v{self.version}"

    def text(self, language: str | None = None) -> str:
        language = language or get_language() or "ja"
        if language == settings.EASY_JAPANESE and self.text_ja_easy:
            return self.text_ja_easy
        return localized(self, "text", language)


class ConsentRecord(models.Model):
    """
    同意記録: one decision of one resident on one purpose, under one notice version.

    Append-only: never updated, never deleted. The resident's current state for a purpose is
    the latest record (highest id); no record means no consent.
    """

    class Decision(models.TextChoices):
        GIVEN = "given", _("consent given")
        WITHDRAWN = "withdrawn", _("consent withdrawn")

    class Method(models.TextChoices):
        PORTAL = "portal", _("resident portal")
        PAPER = "paper", _("paper form via the secretariat")
        # Decided on the authorization page while signing in to a member service.
        OIDC = "oidc", _("while signing in to a member service")
        # Decided by the resident with a clerk's help at the secretariat's counter.
        COUNTER = "counter", _("at the counter with a clerk's help")

    receipt_id = models.UUIDField(_("receipt id"), default=uuid.uuid4, unique=True, editable=False)
    # No single-column indexes on these foreign keys: consent_record_resident and
    # consent_record_latest below lead with resident and purpose, and notices are never deleted.
    # Fewer indexes on the largest table keep decisions and bulk imports fast.
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="consent_records", db_index=False
    )
    purpose = models.ForeignKey(
        Purpose, on_delete=models.PROTECT, related_name="consent_records", db_index=False
    )
    notice = models.ForeignKey(
        Notice, on_delete=models.PROTECT, related_name="consent_records", db_index=False
    )
    decision = models.CharField(
        pgettext_lazy("consent record", "decision"), max_length=10, choices=Decision.choices
    )
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)
    method = models.CharField(_("how"), max_length=8, choices=Method.choices)
    # The secretariat's staff member who recorded a paper decision, and the form's reference.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
        db_index=False,
    )
    paper_reference = models.CharField(_("paper form reference"), max_length=64, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    # A decision made for the resident by their representative: who acted, under which
    # representation, in which relationship (copied, as the record is kept for ever). No
    # indexes: residents and representations are never deleted, and nothing looks records
    # up by them; fewer indexes on the largest table.
    acted_by = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by (representative)"),
        db_index=False,
    )
    representation = models.ForeignKey(
        "Representation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consent_records",
        verbose_name=_("representation"),
        db_index=False,
    )
    relationship = models.CharField(
        _("relationship"), max_length=16, choices=RELATIONSHIP_CHOICES, blank=True
    )

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(method="paper")
                | (Q(recorded_by__isnull=False) & ~Q(paper_reference="")),
                name="consent_record_paper_has_staff_and_form",
            ),
            models.CheckConstraint(
                condition=Q(method="paper")
                | Q(method="counter", recorded_by__isnull=False, paper_reference="")
                | Q(recorded_by__isnull=True, paper_reference=""),
                name="consent_record_staff_only_paper_counter",
            ),
            models.CheckConstraint(
                condition=~Q(method="counter") | Q(recorded_by__isnull=False),
                name="consent_record_counter_has_staff",
            ),
            # A representative's decision names the representation and the relationship.
            models.CheckConstraint(
                condition=Q(acted_by__isnull=True, representation__isnull=True, relationship="")
                | (Q(acted_by__isnull=False, representation__isnull=False) & ~Q(relationship="")),
                name="consent_record_representative_complete",
            ),
            models.CheckConstraint(
                condition=Q(decision="given") | Q(expires_at__isnull=True),
                name="consent_record_only_consent_expires",
            ),
        ]
        indexes = [
            # The consent check (selectors.consent_allows and its bulk form): for one purpose
            # and many residents, the latest record of each. Covering (the answer's columns
            # are trailing key columns, which SQLite supports too, unlike INCLUDE), so
            # PostgreSQL answers from the index alone without visiting the table.
            models.Index(
                fields=["purpose", "resident", "-id", "decision", "notice", "expires_at"],
                name="consent_record_latest",
            ),
            # The portal's history and export, and erasure's "withdraw everything".
            models.Index(fields=["resident", "-id"], name="consent_record_resident"),
            # The grants app's sweep for withdrawals whose notices a lost task never sent:
            # withdrawals only, a small share of the table.
            models.Index(
                fields=["decided_at"],
                condition=Q(decision="withdrawn"),
                name="consent_record_withdrawn",
            ),
            # Deleting any user (an erased resident's account) checks that no paper record
            # names them; only paper and counter records have a staff member.
            models.Index(
                fields=["recorded_by"],
                condition=Q(recorded_by__isnull=False),
                name="consent_record_recorded_by",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.decision} {self.purpose_id}"

    def clean(self) -> None:
        if self.notice_id and self.purpose_id and self.notice.purpose_id != self.purpose_id:
            raise ValidationError({"notice": _("The notice belongs to another purpose.")})

    def is_effective(self, at=None) -> bool:
        """Return True if this record, as the latest, lets the purpose use the data at ``at``."""
        at = at or timezone.now()
        return (
            self.decision == self.Decision.GIVEN
            and self.notice_id == self.purpose.current_notice_id
            and self.purpose.status == Purpose.Status.OPEN
            and (self.expires_at is None or self.expires_at > at)
        )


class ConsentState(models.Model):
    """
    現在の同意状態: each resident's latest decision on each purpose, a copy of the latest
    ``ConsentRecord`` written in the same transaction as the record and never apart from it.
    The records stay the authority; this table lets the consent check read one index entry per
    resident (an index-only scan of ``consent_state_unique``) instead of every record of each.
    """

    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="+", db_index=False)
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    record = models.ForeignKey(
        ConsentRecord, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    decision = models.CharField(
        pgettext_lazy("consent record", "decision"),
        max_length=10,
        choices=ConsentRecord.Decision.choices,
    )
    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="+", db_index=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("current consent state")
        verbose_name_plural = _("current consent states")
        constraints = [
            # Covering on PostgreSQL (SQLite ignores include: models.W039 is silenced there).
            models.UniqueConstraint(
                fields=["purpose", "resident"],
                include=["decision", "notice", "expires_at"],
                name="consent_state_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.purpose_id} {self.decision}"


class DataAccessBatch(models.Model):
    """
    データ利用記録（一括）: the residents whose data one call of the grants API's consent check
    released to a member service, written in the call's transaction as one row, with the audit
    entry that commits to it by SHA-256. A task then copies it into one ``DataAccess`` row per
    resident (``expanded_at``), so that the call does not wait for thousands of indexed rows;
    until then the resident's "who used my data" reads the batch itself.
    """

    purpose = models.ForeignKey(
        Purpose, on_delete=models.PROTECT, related_name="+", verbose_name=_("purpose")
    )
    organization = models.ForeignKey(
        "governance.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organisation"),
    )
    service_name = models.CharField(_("service"), max_length=200)
    grant_jti = models.CharField(_("grant id"), max_length=64)
    batch_sha256 = models.CharField(_("batch SHA-256"), max_length=64)
    accessed_at = models.DateTimeField(_("when"))
    # The pseudonymous ids, sorted, one per line: the lines the batch's SHA-256 covers.
    resident_ids = models.TextField(_("residents (pseudonymous ids)"))
    residents = models.PositiveIntegerField(_("residents"))
    expanded_at = models.DateTimeField(_("copied to the access table"), null=True, blank=True)

    class Meta:
        verbose_name = _("data access batch")
        verbose_name_plural = _("data access batches")
        indexes = [
            # The batches still to copy, oldest first.
            models.Index(
                fields=["id"],
                name="consent_batch_pending",
                condition=models.Q(expanded_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grant_jti} {self.accessed_at:%Y-%m-%d %H:%M} ({self.residents})"

    def ids(self) -> list[str]:
        return self.resident_ids.split("\n")

    def access_of(self, resident_id: str) -> "DataAccess":
        """Return the access this batch records for resident ``resident_id``, unsaved: a copy."""
        return DataAccess(
            resident_id=resident_id,
            purpose=self.purpose,
            organization=self.organization,
            service_name=self.service_name,
            grant_jti=self.grant_jti,
            batch_sha256=self.batch_sha256,
            accessed_at=self.accessed_at,
        )


class DataAccess(models.Model):
    """
    データ利用記録: one release of a resident's data to a member service under a grant.

    Copied from the batches the grants API's consent check writes (``DataAccessBatch``), one
    row per resident allowed, so that the resident sees under "who used my data" which service
    used which purpose and when. The audit log holds one entry per batch that commits to its
    rows by SHA-256 (``batch_sha256``), not one entry per resident. Only the index the portal
    reads is kept, and no foreign-key constraints (the batch holds them): each would be paid
    for on each of thousands of rows per batch (350 ms a batch of 7,000 with them, bench DB).
    """

    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        related_name="data_accesses",
        verbose_name=_("resident"),
        db_index=False,  # led by consent_access_resident
        db_constraint=False,  # copied from a batch whose ids the consent check found
    )
    purpose = models.ForeignKey(
        Purpose,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("purpose"),
        db_index=False,
        db_constraint=False,  # the batch's, which has the constraint
    )
    organization = models.ForeignKey(
        "governance.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organisation"),
        db_index=False,
        db_constraint=False,  # the batch's, which has the constraint
    )
    service_name = models.CharField(_("service"), max_length=200)
    grant_jti = models.CharField(_("grant id"), max_length=64)
    batch_sha256 = models.CharField(_("batch SHA-256"), max_length=64)
    accessed_at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("data access")
        verbose_name_plural = _("data accesses")
        indexes = [
            # The portal's "who used my data", newest first.
            models.Index(fields=["resident", "-accessed_at"], name="consent_access_resident"),
            # The residents whose data a grant released, told when the grant ends.
            models.Index(fields=["grant_jti", "resident"], name="consent_access_grant"),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.grant_jti} {self.accessed_at:%Y-%m-%d %H:%M}"


class PairwiseSubject(models.Model):
    """
    ペアワイズ識別子: the identifier one sector (the services that share a sector identifier)
    knows a resident by (OpenID Connect Core §8.1). Derived from the resident's pseudonymous id
    and the sector with a keyed hash (``consent.pairwise``): stable for the sector, unlinkable
    across sectors without the platform's secret. Stored once issued, so that what a service
    sends back about its residents can be mapped to them.
    """

    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        related_name="pairwise_subjects",
        verbose_name=_("resident"),
    )
    sector = models.CharField(_("sector identifier"), max_length=255)
    subject = models.CharField(_("subject (sub)"), max_length=64)
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("pairwise subject identifier")
        verbose_name_plural = _("pairwise subject identifiers")
        constraints = [
            # A service's ids mapped back to residents: (sector, subject) -> resident.
            models.UniqueConstraint(fields=["sector", "subject"], name="consent_pairwise_subject"),
            # One subject per resident and sector; also serves the resident's subjects.
            models.UniqueConstraint(
                fields=["resident", "sector"], name="consent_pairwise_resident"
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class RecipientNotice(models.Model):
    """
    撤回通知: the notice to one member service that received a resident's data under a purpose
    that the resident's consent no longer covers (withdrawn, the purpose closed, or the grant
    the data was released under ended: revoked or expired), sent as a
    signed Security Event Token (RFC 8417) by push (RFC 8935) or poll (RFC 8936), with what the
    service did about it. What the resident sees per recipient in the portal and the export.
    """

    class Reason(models.TextChoices):
        WITHDRAWN = "withdrawn", _("consent withdrawn")
        PURPOSE_CLOSED = "purpose_closed", _("purpose closed")
        GRANT_ENDED = "grant_ended", _("the service's permission to use the data ended")

    class Outcome(models.TextChoices):
        DELETED = "deleted", _("deleted")
        ANONYMISED = "anonymised", _("anonymised")
        RETAINED = "retained", _("kept under a legal obligation")

    jti = models.CharField(_("event id (jti)"), max_length=64, unique=True, editable=False)
    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        related_name="recipient_notices",
        verbose_name=_("resident"),
    )
    purpose = models.ForeignKey(
        Purpose, on_delete=models.PROTECT, related_name="+", verbose_name=_("purpose")
    )
    organization = models.ForeignKey(
        "governance.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organisation"),
    )
    # The grants app's service (no constraint: consent imports no later app).
    service_id = models.PositiveBigIntegerField(_("service id"))
    service_name = models.CharField(_("service"), max_length=200)
    # The id the service knows the resident by (its pairwise subject).
    subject = models.CharField(_("subject"), max_length=64)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    # The withdrawal told of (none for a closed purpose): one notice per withdrawal and service.
    withdrawal = models.ForeignKey(
        ConsentRecord,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("withdrawal"),
    )
    # The grant whose end is told of (reason ``grant_ended`` only): one notice per grant and
    # resident.
    grant_jti = models.CharField(_("grant"), max_length=64, blank=True, editable=False)
    token = models.TextField(_("security event token"), editable=False)
    # The chunk of a fan-out that made the notice (a purpose closed, a grant ended): its audit
    # entry ``consent.recipient_notices_created`` names this id, with the count and the SHA-256
    # of the chunk's event ids. Empty for a notice made alone (with an entry of its own).
    batch = models.UUIDField(_("batch"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"))
    delivered_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    outcome = models.CharField(
        _("what was done"), max_length=12, choices=Outcome.choices, blank=True
    )
    retained_until = models.DateField(_("kept until"), null=True, blank=True)
    due_at = models.DateTimeField(_("confirmation due"))
    push_attempts = models.PositiveSmallIntegerField(_("push attempts"), default=0)

    class Meta:
        verbose_name = _("withdrawal notice to a recipient")
        verbose_name_plural = _("withdrawal notices to recipients")
        ordering = ["-created_at"]
        indexes = [
            # The poll endpoint: one service's events not yet acknowledged, oldest first.
            models.Index(
                fields=["service_id", "id"],
                name="consent_notice_unacked",
                condition=Q(acknowledged_at__isnull=True),
            ),
            # The portal: a resident's notices.
            models.Index(fields=["resident", "-created_at"], name="consent_notice_resident"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["grant_jti", "resident"],
                condition=Q(reason="grant_ended"),
                name="consent_notice_one_per_grant_resident",
            ),
            # A purpose closes once: one notice of it per resident and service, however many
            # times a chunk of its fan-out runs (retried, or two workers at once).
            models.UniqueConstraint(
                fields=["purpose", "service_id", "resident"],
                condition=Q(reason="purpose_closed"),
                name="consent_notice_one_per_purpose_closed",
            ),
        ]

    def __str__(self) -> str:
        return self.jti

    def is_overdue(self, at=None) -> bool:
        return self.confirmed_at is None and (at or timezone.now()) > self.due_at


class Representation(models.Model):
    """
    代理: a resident (the representative) who may decide on consent for another person (the
    represented resident: a child, an adult under guardianship, a family member who gave a
    power of attorney). The represented person may have no account of their own.

    Registered by the secretariat with its evidence, or requested online by the representative
    and approved (or refused) by the secretariat. It lets the representative act only while
    active and within its dates (``is_in_force``): at its end date, at the person's coming of
    age (18, Civil Code art. 4) for a minor, or when the secretariat ends it, it stops, and the
    person is asked to confirm or change each decision made for them.

    Kept for ever, like the decisions that cite it: no name and no contact, only the residents'
    pseudonymous ids (the name typed in an online request is cleared once it is decided).
    """

    class State(models.TextChoices):
        REQUESTED = "requested", _("requested")
        ACTIVE = "active", _("active")
        REFUSED = "refused", _("refused")
        ENDED = "ended", _("ended")

    class EvidenceKind(models.TextChoices):
        FAMILY_REGISTER = "family_register", _("family register (戸籍謄本・抄本)")
        RESIDENT_RECORD = "resident_record", _("certificate of residence (住民票)")
        GUARDIANSHIP_REGISTRY = (
            "guardianship_registry",
            _("certificate of registered matters of guardianship (登記事項証明書)"),
        )
        POWER_OF_ATTORNEY = "power_of_attorney", _("power of attorney (委任状)")
        OTHER = "other", _("other document")

    class EndReason(models.TextChoices):
        END_DATE = "end_date", _("its end date passed")
        CAME_OF_AGE = "came_of_age", _("the person came of age")
        SECRETARIAT = "secretariat", _("ended by the secretariat")
        REPRESENTATIVE = "representative", _("the representative's account was deleted")
        PERSON_ERASED = "person_erased", _("the person's personal data was erased")

    Relationship = Relationship

    consortium = models.ForeignKey(
        "governance.Consortium",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("consortium"),
    )
    representative = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        related_name="representations",
        verbose_name=pgettext_lazy("acting for a resident", "representative"),
    )
    # None while an online request waits for the secretariat to find or register the person.
    represented = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="represented_by",
        verbose_name=_("represented person"),
    )
    relationship = models.CharField(_("relationship"), max_length=16, choices=RELATIONSHIP_CHOICES)
    evidence_kind = models.CharField(
        _("evidence (document kind)"), max_length=24, choices=EvidenceKind.choices
    )
    evidence_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("evidence checked by"),
    )
    evidence_checked_on = models.DateField(_("evidence checked on"), null=True, blank=True)
    valid_from = models.DateField(_("valid from"), default=timezone.localdate)
    valid_until = models.DateField(
        _("valid until"),
        null=True,
        blank=True,
        help_text=_("The last day it is valid; empty when it has no end date."),
    )
    # For a minor: the 18th birthday (Civil Code art. 4), from which the person decides alone.
    comes_of_age_on = models.DateField(_("comes of age on"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.REQUESTED
    )
    end_reason = models.CharField(
        _("why it ended"), max_length=16, choices=EndReason.choices, blank=True
    )
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    # An online request: the person's name as the representative typed it, for the
    # secretariat to find them; cleared when the request is approved or refused.
    requested_name = models.CharField(
        _("name of the person (as requested)"), max_length=200, blank=True
    )
    requested_at = models.DateTimeField(_("requested or registered at"), default=timezone.now)

    class Meta:
        verbose_name = _("representation")
        verbose_name_plural = _("representations")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["requested", "refused"]) | Q(represented__isnull=False),
                name="consent_representation_has_person",
            ),
            models.CheckConstraint(
                condition=~Q(state="active")
                | Q(evidence_checked_by__isnull=False, evidence_checked_on__isnull=False),
                name="consent_representation_evidence_checked",
            ),
            models.CheckConstraint(
                condition=Q(state="ended", ended_on__isnull=False) & ~Q(end_reason="")
                | ~Q(state="ended") & Q(end_reason=""),
                name="consent_representation_end_reason",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="consent_representation_dates",
            ),
            models.CheckConstraint(
                condition=Q(comes_of_age_on__isnull=True) | Q(relationship="parent"),
                name="consent_representation_minor_only",
            ),
        ]
        indexes = [
            # The daily end of representations: the active ones whose date has come.
            models.Index(
                fields=["state", "valid_until"],
                name="consent_representation_state",
            ),
        ]

    def __str__(self) -> str:
        return str(
            _("%(representative)s for %(represented)s")
            % {
                "representative": self.representative_id,
                "represented": self.represented_id or "?",
            }
        )

    def clean(self) -> None:
        if self.represented_id and self.represented_id == self.representative_id:
            raise ValidationError(
                {"represented": _("A resident cannot be their own representative.")}
            )
        if self.relationship == Relationship.PARENT and self.state != self.State.REQUESTED:
            if self.comes_of_age_on is None:
                raise ValidationError({"comes_of_age_on": _("Enter the date the child turns 18.")})
        elif self.comes_of_age_on is not None and self.relationship != Relationship.PARENT:
            raise ValidationError(
                {"comes_of_age_on": _("Only a minor's representation ends at coming of age.")}
            )

    def ends_on(self):
        """Return the first day it no longer holds by its dates, or None."""
        days = []
        if self.valid_until is not None:
            days.append(self.valid_until + timedelta(days=1))
        if self.comes_of_age_on is not None:
            days.append(self.comes_of_age_on)
        return min(days) if days else None

    def due_end_reason(self, today) -> str:
        """Return why it ends by its dates on ``today`` (an ``EndReason``), or ""."""
        if self.comes_of_age_on is not None and today >= self.comes_of_age_on:
            return self.EndReason.CAME_OF_AGE
        if self.valid_until is not None and today > self.valid_until:
            return self.EndReason.END_DATE
        return ""

    def is_in_force(self, today=None) -> bool:
        """Return True if the representative may act under it on ``today`` (checked at use)."""
        today = today or timezone.localdate()
        return (
            self.state == self.State.ACTIVE
            and self.valid_from <= today
            and not self.due_end_reason(today)
        )
