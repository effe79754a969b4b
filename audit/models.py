import json

from django.conf import settings
from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Subquery, Value, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import keys


class SigningKeyQuerySet(models.QuerySet):
    def with_lifecycle(self) -> "SigningKeyQuerySet":
        """
        Annotate each key with what its events say (``SigningKeyEvent``): ``status``,
        ``retired_at``, ``revoked_at`` and ``publish_until``, so that they can be filtered on.
        """
        events = SigningKeyEvent.objects.filter(key=OuterRef("pk"))
        retired = events.filter(kind=SigningKeyEvent.Kind.RETIRED)
        revoked = events.filter(kind=SigningKeyEvent.Kind.REVOKED)
        publication = events.filter(kind=SigningKeyEvent.Kind.PUBLICATION).order_by("-id")
        return self.annotate(
            status=Case(
                When(Exists(revoked), then=Value(SigningKey.Status.REVOKED.value)),
                When(Exists(retired), then=Value(SigningKey.Status.RETIRED.value)),
                default=Value(SigningKey.Status.ACTIVE.value),
                output_field=models.CharField(),
            ),
            retired_at=Subquery(retired.values("at")[:1]),
            revoked_at=Subquery(revoked.values("at")[:1]),
            publish_until=Subquery(publication.values("until")[:1]),
        )


class SigningKeyManager(models.Manager.from_queryset(SigningKeyQuerySet)):
    def get_queryset(self) -> SigningKeyQuerySet:
        return super().get_queryset().with_lifecycle()


class SigningKey(models.Model):
    """
    署名鍵: one of the platform's keys; signs checkpoints, consent receipts and grants.

    The row is written once and never changed (on PostgreSQL a trigger refuses every UPDATE and
    DELETE): what happens to the key later (retired, revoked, its publication end) is an
    append-only ``SigningKeyEvent``, and ``status``, ``retired_at``, ``revoked_at`` and
    ``publish_until`` are read from those events.
    """

    class Algorithm(models.TextChoices):
        EDDSA = keys.EDDSA, "EdDSA (Ed25519)"
        ES256 = keys.ES256, "ES256 (P-256)"
        RS256 = keys.RS256, "RS256 (RSA 2048, OpenID Connect ID tokens)"

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        RETIRED = "retired", _("retired")
        REVOKED = "revoked", _("revoked (compromised)")

    kid = models.CharField(_("key id"), max_length=64, unique=True, editable=False)
    algorithm = models.CharField(_("algorithm"), max_length=8, choices=Algorithm.choices)
    # The key's place among the keys of its algorithm (1, 2, ...): two keys made at once from
    # the same predecessor cannot both be stored, so there is never more than one active key.
    generation = models.PositiveIntegerField(_("generation"), editable=False)
    public_jwk = models.JSONField(_("public key (JWK)"), editable=False)
    encrypted_private_key = models.BinaryField(editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = SigningKeyManager()

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["algorithm", "generation"], name="audit_signingkey_generation"
            ),
        ]

    LIFECYCLE = ("status", "retired_at", "revoked_at", "publish_until")

    def __str__(self) -> str:
        return f"{self.algorithm} {self.kid[:12]} ({self.Status(self.status).label})"

    def _lifecycle(self) -> dict:
        """Return the key's status and times from its events (annotated, or read once)."""
        known = self.__dict__.setdefault("_lifecycle_cache", {})
        if len(known) < len(self.LIFECYCLE):
            if self.pk is None:
                values = {"status": self.Status.ACTIVE, "retired_at": None, "revoked_at": None,
                          "publish_until": None}  # fmt: skip
            else:
                values = SigningKey.objects.values(*self.LIFECYCLE).get(pk=self.pk)
            for name, value in values.items():
                known.setdefault(name, value)
        return known

    def _set_lifecycle(name: str):  # noqa: N805 - builds the properties below
        def getter(self):
            return self._lifecycle()[name]

        def setter(self, value):  # the queryset's annotations arrive here
            self.__dict__.setdefault("_lifecycle_cache", {})[name] = value

        return property(getter, setter)

    status = _set_lifecycle("status")
    retired_at = _set_lifecycle("retired_at")
    revoked_at = _set_lifecycle("revoked_at")
    publish_until = _set_lifecycle("publish_until")
    del _set_lifecycle

    def refresh_from_db(self, *args, **kwargs) -> None:
        self.__dict__.pop("_lifecycle_cache", None)
        super().refresh_from_db(*args, **kwargs)

    @property
    def jwk(self) -> dict:
        """Return the public JWK with its use, algorithm and key id."""
        return {**self.public_jwk, "use": "sig", "alg": self.algorithm, "kid": self.kid}

    def public_key(self) -> keys.PublicKey:
        return keys.public_key_from_jwk(self.public_jwk)

    def private_key(self) -> keys.PrivateKey:
        if self.status == self.Status.REVOKED:
            raise ValueError("a revoked key signs nothing")
        return keys.decrypt_private_key(self.encrypted_private_key, self.kid)


class SigningKeyEvent(models.Model):
    """
    署名鍵の状態変更: what happened to a signing key after its creation; append-only (on
    PostgreSQL a trigger refuses every UPDATE, DELETE and TRUNCATE).

    A key is retired once (a newer key signs instead) and revoked once (it signs nothing more
    and leaves the JWKS); its publication end is set by a new event each time, the newest
    counting. Codes only, never free text: each event is also an audit entry.
    """

    class Kind(models.TextChoices):
        RETIRED = "retired", _("retired")
        REVOKED = "revoked", _("revoked (compromised)")
        PUBLICATION = "publication", _("publication end set")

    class Reason(models.TextChoices):
        ROTATED = "rotated", _("replaced by a new key")
        COMPROMISED = "compromised", _("compromised")
        SIGNATURES_EXPIRE = "signatures_expire", _("what it signed expires")
        MIGRATED = "migrated", _("taken over from the key's earlier status")

    key = models.ForeignKey(
        SigningKey, on_delete=models.PROTECT, related_name="events", verbose_name=_("key")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    at = models.DateTimeField(_("at"))
    # Publication events only: the end of the key's publication in the JWKS (None: for ever).
    until = models.DateTimeField(_("published until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices)

    class Meta:
        verbose_name = _("signing key event")
        verbose_name_plural = _("signing key events")
        ordering = ["key_id", "id"]
        constraints = [
            # Also the index of the status read for every key (``with_lifecycle``).
            models.UniqueConstraint(
                fields=["key", "kind"],
                condition=Q(kind__in=["retired", "revoked"]),
                name="audit_signingkeyevent_once",
            ),
        ]
        indexes = [
            # The key's events, newest first: its publication end.
            models.Index(fields=["key", "kind", "-id"], name="audit_signingkeyevent_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key_id} {self.kind}"


class EntryFields(models.Model):
    """The fields an entry has from the moment it is recorded."""

    class ActorType(models.TextChoices):
        USER = "user", pgettext_lazy("actor type", "user")
        SERVICE = "service", _("service")
        RESIDENT = "resident", _("resident")
        SYSTEM = "system", _("system")

    actor_type = models.CharField(_("actor type"), max_length=16, choices=ActorType.choices)
    actor_id = models.CharField(_("actor id"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(
        pgettext_lazy("audit entry", "object id"), max_length=64, blank=True
    )
    # A plain id, not a foreign key: the audit app depends on no other app.
    consortium_id = models.PositiveBigIntegerField(_("consortium"), null=True, blank=True)
    # The payload's canonical JSON text (RFC 8785), exactly the bytes the hash covers.
    payload = models.TextField(_("payload"), default="{}")
    # The writer's clock when it recorded the entry. Not the entry's time (the sealer gives
    # that), and outside the hash: a fact for diagnosis, e.g. how long an entry waited.
    written_at = models.DateTimeField(_("written at"), null=True, editable=False)

    class Meta:
        abstract = True

    @property
    def data(self) -> dict:
        """Return the payload as a dict."""
        return json.loads(self.payload)


class PendingEntry(EntryFields):
    """
    An entry recorded in a committed transaction and not yet sealed into the chain.

    Writers insert here, inside their own transactions, into a table with one index; the sealer
    (``services.seal``) moves entries into the chain in id order and deletes them here in the
    same transaction. The table stays small; on PostgreSQL a trigger refuses to update its rows
    and lets only the sealer delete them.
    """

    class Meta:
        verbose_name = _("pending audit entry")
        verbose_name_plural = _("pending audit entries")
        db_table = "audit_pending"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"(pending) {self.action}"


class Entry(EntryFields):
    """
    監査ログの記録: one entry of the hash-chained audit log; insert-only.

    On PostgreSQL a trigger refuses every UPDATE, DELETE and TRUNCATE of this table.
    """

    seq = models.PositiveBigIntegerField(_("sequence"), primary_key=True, editable=False)
    # Given by the sealer, never earlier than the entry before (``services._seal_batch``).
    time = models.DateTimeField(_("time"), editable=False)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        db_table = "audit_entry"
        ordering = ["seq"]
        constraints = [
            models.CheckConstraint(condition=Q(seq__gte=1), name="audit_entry_seq_from_one"),
            # Each entry is the successor of exactly one: the last guard against a fork.
            models.UniqueConstraint(fields=["prev_hash"], name="audit_entry_unique_prev_hash"),
        ]
        indexes = [
            # Reports and the admin: a period's entries, per consortium and per action.
            models.Index(fields=["time"], name="audit_entry_time"),
            models.Index(fields=["consortium_id", "seq"], name="audit_entry_consortium"),
            models.Index(fields=["action", "seq"], name="audit_entry_action"),
            # "What happened to this object?"
            models.Index(fields=["object_type", "object_id"], name="audit_entry_object"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"


class TreeTile(models.Model):
    """
    A tile of the audit log's Merkle tree (C2SP tlog-tiles, height 8): up to 256 consecutive
    hashes of one level, 32 bytes each. Level 0 holds the leaf hashes; each hash of level
    ``l + 1`` is the root of a full tile of level ``l``.

    Sealing appends to the rightmost tile of each level (``audit.tree.append``), so a tile
    only ever grows, up to full; tiles are derived from the entries and ``audit_verify``
    recomputes them.
    """

    level = models.PositiveSmallIntegerField(_("level"))
    index = models.PositiveBigIntegerField(_("index"))
    hashes = models.BinaryField(_("hashes"))

    class Meta:
        verbose_name = _("Merkle tree tile")
        verbose_name_plural = _("Merkle tree tiles")
        db_table = "audit_tile"
        constraints = [
            # Also the index of every read: a tile by its address, the last tile of a level.
            models.UniqueConstraint(fields=["level", "index"], name="audit_tile_address"),
        ]

    def __str__(self) -> str:
        return f"tile {self.level}/{self.index} ({len(self.hashes) // 32})"


class Checkpoint(models.Model):
    """
    チェックポイント: a signed statement of the log's head.

    Since the Merkle tree, ``root`` is the RFC 6962 root of the first ``seq`` entries and the
    note is a C2SP tlog-checkpoint (origin, size, root). Checkpoints of the earlier format
    have an empty ``root``: their note's third line is the chain hash of entry ``seq`` and
    a fourth line gives the time.
    """

    seq = models.PositiveBigIntegerField(_("sequence"))
    hash = models.CharField(_("hash"), max_length=64)
    root = models.CharField(_("Merkle root"), max_length=64, blank=True, default="")
    time = models.DateTimeField(_("time"))
    key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, verbose_name=_("key"))
    note = models.TextField(_("signed note"))

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["-seq", "-id"]
        indexes = [
            # The public "latest checkpoint" endpoint and the scheduled check for new entries.
            models.Index(fields=["-seq"], name="audit_checkpoint_latest"),
        ]

    def __str__(self) -> str:
        return f"checkpoint @{self.seq}"


class Report(models.Model):
    """
    報告書: a PDF report built in the background by a django-q2 task.

    The file lives under MEDIA_ROOT (outside the web root) and is served only through a
    permission check. Its SHA-256 is recorded in the chain (``report.generated``), so anyone
    holding the PDF can check that this platform produced it.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    kind = models.CharField(_("kind"), max_length=64)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=8, default="ja")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # A plain id, not a foreign key: the audit app depends on no other app.
    consortium_id = models.PositiveBigIntegerField(_("consortium"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    failure_reason = models.CharField(_("reason for failure"), max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    # Touched by every progress step: a running report whose heartbeat stops has lost its worker.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    file_path = models.CharField(_("file"), max_length=300, blank=True, editable=False)
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    # The chain head when the PDF was made (printed in it) and the seq of its own entry.
    after_seq = models.PositiveBigIntegerField(_("recorded after entry"), null=True, blank=True)
    audit_seq = models.PositiveBigIntegerField(_("audit entry"), null=True, blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-requested_at", "-id"]
        indexes = [
            # The admin's list: a consortium's reports, newest first.
            models.Index(fields=["consortium_id", "-requested_at"], name="audit_report_consortium"),
            # The reaper: running or queued reports whose worker went quiet.
            models.Index(fields=["state", "updated_at"], name="audit_report_state"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="audit_report_progress"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.get_state_display()})"


class Cosignature(models.Model):
    """
    連署: a witness's cosignature on one of the platform's checkpoints (C2SP tlog-cosignature,
    ``cosignature/v1``, Ed25519), as the witness returned it; append-only.

    ``GET /audit-log/checkpoint`` serves each checkpoint with every cosignature held for it.
    """

    checkpoint = models.ForeignKey(
        Checkpoint,
        on_delete=models.PROTECT,
        related_name="cosignatures",
        verbose_name=_("checkpoint"),
    )
    witness = models.CharField(_("witness"), max_length=255)
    key_id = models.CharField(_("key ID"), max_length=8)
    timestamp = models.PositiveBigIntegerField(_("cosigned at (POSIX seconds)"))
    line = models.TextField(_("signature line"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("cosignature")
        verbose_name_plural = _("cosignatures")
        ordering = ["checkpoint_id", "witness", "id"]
        constraints = [
            # Also the index of "which witnesses cosigned this checkpoint".
            models.UniqueConstraint(
                fields=["checkpoint", "witness", "key_id"], name="audit_cosignature_once"
            ),
        ]
        indexes = [
            # The witness's last cosigned size: its newest cosignature.
            models.Index(fields=["witness", "key_id", "-checkpoint"], name="audit_cosig_witness"),
        ]

    def __str__(self) -> str:
        return f"{self.witness} @{self.checkpoint_id}"


class WitnessedLog(models.Model):
    """
    見守るログ: another transparency log (a neighbouring city's platform...) whose checkpoints
    this platform cosigns as a witness (C2SP tlog-witness), set by the secretariat.
    """

    origin = models.CharField(_("origin"), max_length=255, unique=True)
    verifier_key = models.CharField(
        _("log's verifier key"),
        max_length=300,
        help_text=_("The log's public key as a signed-note verifier key: name+key ID+key."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("witnessed log")
        verbose_name_plural = _("witnessed logs")
        ordering = ["origin"]

    def __str__(self) -> str:
        return self.origin


class WitnessedCheckpoint(models.Model):
    """
    A checkpoint of a witnessed log that this platform cosigned; append-only. The newest row of
    a log is the witness's state: the size and root it will only ever extend.
    """

    log = models.ForeignKey(
        WitnessedLog, on_delete=models.PROTECT, related_name="checkpoints", verbose_name=_("log")
    )
    size = models.PositiveBigIntegerField(_("tree size"))
    root = models.CharField(_("Merkle root"), max_length=64)
    note = models.TextField(_("checkpoint as submitted"))
    cosignature = models.TextField(_("cosignature line"))
    cosigned_at = models.DateTimeField(_("cosigned at"))

    class Meta:
        verbose_name = _("witnessed checkpoint")
        verbose_name_plural = _("witnessed checkpoints")
        ordering = ["log_id", "-id"]
        indexes = [
            # The witness's state for a log: its newest row.
            models.Index(fields=["log", "-id"], name="audit_witnessed_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.log_id} @{self.size}"
