"""
Models of the grants app: member services and their client credentials, data-access grants,
the feed of grant status changes (revocations, suspensions, expiries) that services follow,
and the secretariat's rule for issuing grants on approval with what it did each time.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit import keys


class Service(models.Model):
    """サービス: a member organisation's service that receives residents' data over the API."""

    consortium = models.ForeignKey(
        "governance.Consortium",
        on_delete=models.PROTECT,
        related_name="services",
        verbose_name=_("consortium"),
    )
    organization = models.ForeignKey(
        "governance.Organization",
        on_delete=models.PROTECT,
        related_name="services",
        verbose_name=_("organisation"),
    )
    name = models.CharField(_("service name"), max_length=200)
    webhook_url = models.URLField(
        _("webhook URL"),
        blank=True,
        help_text=_("Revocations and suspensions of this service's grants are posted here."),
    )
    events_url = models.URLField(
        _("security event push URL"),
        blank=True,
        help_text=_(
            "Withdrawals of consent are pushed here as Security Event Tokens (RFC 8935); "
            "without one the service polls for them (RFC 8936)."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["consortium", "name"], name="grants_service_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def subject(self) -> str:
        """The ``sub`` of this service's grants and ``client_id`` of introspection answers."""
        return service_subject(self.pk)


def service_subject(service_id) -> str:
    """Return the ``sub`` claim naming the service ``service_id``."""
    return f"service:{service_id}"


def hash_secret(secret: str) -> str:
    """
    Return the hex SHA-256 of a client secret. The secrets are 256 random bits, so a fast hash
    is as safe as a slow one and keeps every API call cheap.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def new_client_id() -> str:
    return "svc_" + secrets.token_urlsafe(12)


class ServiceCredential(models.Model):
    """
    クライアント認証情報: a client id and the SHA-256 of its secret (the secret is shown once).
    Rotation gives the old credential an expiry (the overlap); revocation ends it at once.
    """

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="credentials", verbose_name=_("service")
    )
    client_id = models.CharField(
        _("client id"), max_length=40, unique=True, default=new_client_id, editable=False
    )
    secret_sha256 = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("client credential")
        verbose_name_plural = _("client credentials")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.client_id

    def is_valid(self, at=None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)


class Grant(models.Model):
    """
    データ利用許可: a signed JWT letting a service use residents' data for one purpose, issued
    for an approved review ticket. Data may flow for a resident only while the grant is active
    and the resident's current consent covers the purpose.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        SUSPENDED = "suspended", _("suspended")
        REVOKED = "revoked", _("revoked")
        EXPIRED = "expired", _("expired")

    class Reason(models.TextChoices):
        TICKET_SUSPENDED = "ticket_suspended", _("review ticket suspended")
        TICKET_CLOSED = "ticket_closed", _("review ticket closed")
        PURPOSE_CLOSED = "purpose_closed", _("consent purpose closed")
        KEY_COMPROMISED = "key_compromised", _("signing key compromised")
        SECRETARIAT = "secretariat_decision", _("secretariat decision")
        # The organisation's membership ended (left, expelled) or was suspended.
        MEMBER_LEFT = "member_left", _("membership ended or suspended")

    jti = models.CharField(_("grant id (jti)"), max_length=64, unique=True, editable=False)
    consortium = models.ForeignKey(
        "governance.Consortium",
        on_delete=models.PROTECT,
        related_name="grants",
        verbose_name=_("consortium"),
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="grants", verbose_name=_("service")
    )
    purpose = models.ForeignKey(
        "consent.Purpose", on_delete=models.PROTECT, related_name="+", verbose_name=_("purpose")
    )
    ticket_id = models.PositiveBigIntegerField(_("review ticket"), null=True, blank=True)
    audience = models.JSONField(_("audience (data holders)"), default=list)
    categories = models.JSONField(_("data categories"), default=list)
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    issued_at = models.DateTimeField(_("issued at"))
    not_before = models.DateTimeField(_("valid from"))
    expires_at = models.DateTimeField(_("expires at"))
    kid = models.CharField(_("key id"), max_length=64, db_index=True)
    algorithm = models.CharField(_("algorithm"), max_length=8)
    token = models.TextField(_("token (JWT)"), editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    status_reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices, blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)

    class Meta:
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        ordering = ["-issued_at"]
        indexes = [
            # grants_expire: the active or suspended grants whose expiry has passed.
            models.Index(fields=["status", "expires_at"], name="grants_grant_expiry"),
        ]

    def __str__(self) -> str:
        return self.jti

    def is_active(self, at=None) -> bool:
        """Return True if the grant lets data flow at ``at`` (status, validity window)."""
        at = at or timezone.now()
        return self.status == self.Status.ACTIVE and self.not_before <= at < self.expires_at

    @property
    def issuer(self) -> str:
        return issuer_for(self.consortium)


def issuer_for(consortium) -> str:
    """The ``iss`` of a consortium's grants: the platform's URL for that consortium."""
    return f"{settings.PLATFORM_URL}/consortia/{consortium.slug}"


class GrantEvent(models.Model):
    """
    A change of a grant's status (suspended, reinstated, revoked, expired), in order: the feed of
    ``GET /api/v1/revocations?since=<id>`` and of the webhooks.
    """

    grant = models.ForeignKey(
        Grant, on_delete=models.PROTECT, related_name="events", verbose_name=_("grant")
    )
    status = models.CharField(_("status"), max_length=10, choices=Grant.Status.choices)
    reason = models.CharField(_("reason"), max_length=24, blank=True)
    at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("grant status change")
        verbose_name_plural = _("grant status changes")
        ordering = ["id"]
        indexes = [
            # The revocation feed: one service's events after a cursor.
            models.Index(fields=["grant", "id"], name="grants_event_grant"),
        ]

    def __str__(self) -> str:
        return f"{self.grant_id} {self.status} #{self.pk}"


class WebhookDelivery(models.Model):
    """One attempt to push a grant event to a service's webhook URL."""

    event = models.ForeignKey(
        GrantEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("service")
    )
    url = models.URLField(_("URL"))
    attempt = models.PositiveSmallIntegerField(_("attempt"))
    at = models.DateTimeField(_("when"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    delivered = models.BooleanField(_("delivered"), default=False)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "service", "attempt"], name="grants_delivery_unique_attempt"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} attempt {self.attempt}: {self.status_code or self.error}"


class IssuanceRule(models.Model):
    """
    自動発行ルール: the secretariat's standing decision that an approved review ticket of the
    consortium gets its grant at once, for the service the requester named, without a clerk.
    """

    consortium = models.OneToOneField(
        "governance.Consortium",
        on_delete=models.PROTECT,
        related_name="issuance_rule",
        verbose_name=_("consortium"),
    )
    enabled = models.BooleanField(
        _("issue automatically on approval"),
        default=False,
        help_text=_(
            "When the board approves a request, issue a grant to the service it names at once, "
            "valid until the end of the approval's term."
        ),
    )
    algorithm = models.CharField(
        _("signing algorithm"),
        max_length=8,
        choices=[(keys.EDDSA, "EdDSA (Ed25519)"), (keys.ES256, "ES256 (P-256)")],
        default=keys.EDDSA,
        help_text=_("ES256 for data holders whose verifiers accept only ES256 or RS256."),
    )
    third_party_provision = models.BooleanField(
        _("also for third-party provision"),
        default=False,
        help_text=_(
            "Unticked, requests that include third-party provision are left to the "
            "secretariat, who issues their grants by hand."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("automatic issuance rule")
        verbose_name_plural = _("automatic issuance rules")
        ordering = ["consortium"]

    def __str__(self) -> str:
        return str(self.consortium)


class AutoIssuance(models.Model):
    """
    自動発行の結果: what the issuance rule did with one approval: the grant it issued, or why it
    issued none, so that the secretariat can follow up. One row per approved ticket, which is
    also what keeps an approval seen twice from issuing two grants.
    """

    class Outcome(models.TextChoices):
        ISSUED = "issued", _("issued")
        SKIPPED = "skipped", _("not issued")
        FAILED = "failed", _("failed")

    class Reason(models.TextChoices):
        NO_SERVICE = (
            "no_service",
            _(
                "No service of the requesting organisation is registered under the service name of "
                "the request: register it, then issue the grant by hand."
            ),
        )
        SERVICE_INACTIVE = (
            "service_inactive",
            _(
                "The service named in the request is deactivated: reactivate it, then issue the "
                "grant by hand."
            ),
        )
        THIRD_PARTY = (
            "third_party_provision",
            _(
                "The request includes third-party provision, which the rule leaves to the "
                "secretariat: issue the grant by hand if it is due."
            ),
        )
        NEW_PURPOSE = (
            "new_purpose",
            _(
                "The request proposes a new purpose: publish it as a consent purpose first, then "
                "issue the grant by hand."
            ),
        )
        NOT_ISSUABLE = (
            "not_issuable",
            _(
                "The ticket allowed no grant when the rule ran (no longer approved, or its term "
                "has ended)."
            ),
        )
        ERROR = (
            "error",
            _(
                "Issuing failed unexpectedly (see the server log); the approval stands: issue the "
                "grant by hand."
            ),
        )

    consortium = models.ForeignKey(
        "governance.Consortium",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("consortium"),
    )
    ticket_id = models.PositiveBigIntegerField(_("review ticket"), unique=True)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices, blank=True)
    grant = models.OneToOneField(
        Grant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="auto_issuance",
        verbose_name=_("grant"),
    )
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("automatic issuance")
        verbose_name_plural = _("automatic issuances")
        ordering = ["-at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome="issued", grant__isnull=False)
                | models.Q(~models.Q(outcome="issued"), grant__isnull=True),
                name="grants_autoissuance_grant_iff_issued",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id}: {self.get_outcome_display()}"


class OpenIDClient(models.Model):
    """
    OpenID Connect クライアント: a member service's client of the platform's OpenID Provider,
    with which residents sign in to it. The OAuth client itself (client id, hashed secret,
    redirect URIs) is django-oauth-toolkit's application; this row ties it to the service and
    names the sector whose pairwise ``sub`` its residents get (OpenID Connect Core §8.1).
    """

    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="openid_clients", verbose_name=_("service")
    )
    application = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        on_delete=models.PROTECT,
        related_name="openid_client",
        verbose_name=_("OAuth application"),
        editable=False,
    )
    sector_identifier = models.CharField(
        _("sector identifier"),
        max_length=255,
        help_text=_(
            "The host the service's residents are known under (for example "
            "mobility.example.jp). Services with the same sector identifier get the same "
            "identifiers for a resident; different ones never can link theirs."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("OpenID client")
        verbose_name_plural = _("OpenID clients")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.service} ({self.application.client_id})"
