"""
The data-ethics board (データ倫理審査会) and its review of data-use requests (審査): tickets,
rounds, reviewer assignments and conflict declarations, comments, votes and attachments.

What must never be stored is refused by the database (named constraints); rules within one row
live in ``clean()``; rules across rows (quorum, recusal, the board's decision) live in the
services.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.models import Consortium, Organization, Role


class EthicsBoard(models.Model):
    """データ倫理審査会: the consortium's data-ethics board; its members are ethics-board roles."""

    consortium = models.OneToOneField(
        Consortium,
        verbose_name=_("consortium"),
        on_delete=models.PROTECT,
        related_name="ethics_board",
    )
    name_ja = models.CharField(_("name (Japanese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    # How many members must take part for the board to decide (used by the ethics review).
    quorum = models.PositiveSmallIntegerField(_("quorum (members)"), default=3)
    # A reject by the legal or the security expert may stop a request on its own (veto).
    legal_veto = models.BooleanField(_("a legal expert's reject is a veto"), default=False)
    security_veto = models.BooleanField(_("a security expert's reject is a veto"), default=False)
    review_days = models.PositiveSmallIntegerField(
        _("days for a review round"),
        default=14,
        help_text=_("A round's due date, counted from its submission."),
    )
    approval_term_days = models.PositiveSmallIntegerField(
        _("term of an approval (days)"), default=365
    )
    # How long a service that received residents' data has to confirm what it did with it once
    # told of a withdrawal, a closed purpose or an ended grant; each approval keeps the period
    # in force when it was decided.
    deletion_confirmation_days = models.PositiveSmallIntegerField(
        _("days for a recipient to confirm deletion"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_(
            "After a withdrawal, a closed purpose or an ended grant, the services that received "
            "the residents' data must confirm what they did with it within this many days "
            "(1 to 365); a later change applies to approvals decided after it."
        ),
    )

    class OverdueCritical(models.TextChoices):
        ESCALATE = "escalate", _("escalate to the board and the secretariat only")
        SUSPEND = "suspend", _("escalate and suspend the ticket's grants until it is met")

    # What an overdue obligation marked critical does besides the escalation.
    overdue_critical = models.CharField(
        _("an overdue critical obligation"),
        max_length=16,
        choices=OverdueCritical.choices,
        default=OverdueCritical.ESCALATE,
    )

    class Meta:
        verbose_name = _("ethics board")
        verbose_name_plural = _("ethics boards")
        constraints = [
            models.CheckConstraint(
                condition=Q(quorum__gte=1), name="governance_ethicsboard_quorum_positive"
            )
        ]

    def __str__(self) -> str:
        return self.name_ja


class ReviewTicket(models.Model):
    """
    審査申請: a member service's request to use residents' data for a purpose, reviewed by the
    consortium's data-ethics board. Only an approved ticket lets a grant be issued.

    The request's fields are what the requester edits; each submission freezes them into a
    ``ReviewRound`` so that reviewers see what changed since the last round.
    """

    class State(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("ticket state", "draft")
        SUBMITTED = "submitted", pgettext_lazy("ticket state", "submitted")
        IN_REVIEW = "in_review", pgettext_lazy("ticket state", "in review")
        CHANGES_REQUESTED = "changes_requested", pgettext_lazy("ticket state", "changes requested")
        APPROVED = "approved", pgettext_lazy("ticket state", "approved")
        REJECTED = "rejected", pgettext_lazy("ticket state", "rejected")
        SUSPENDED = "suspended", pgettext_lazy("ticket state", "suspended")
        CLOSED = "closed", pgettext_lazy("ticket state", "closed")

    class Kind(models.TextChoices):
        NEW = "new", _("new request")
        RENEWAL = "renewal", _("renewal of an approval")
        AMENDMENT = "amendment", _("amendment of an approval")

    class LegalBasis(models.TextChoices):
        # APPI art. 27: third-party provision needs the person's prior consent.
        CONSENT = "consent", _("the resident's consent (opt-in)")

    class Anonymisation(models.TextChoices):
        NONE = "none", _("none: identifiable data")
        PSEUDONYMISED = "pseudonymised", _("pseudonymised (仮名加工情報)")
        ANONYMISED = "anonymised", _("anonymised (匿名加工情報)")
        STATISTICAL = "statistical", _("statistics only")

    # The fields a requester fills in, frozen in every round (the order of the diff).
    REQUEST_FIELDS = [
        "title",
        "service_name",
        "purpose",
        "proposed_purpose_title",
        "proposed_purpose_explanation",
        "categories",
        "recipients",
        "third_party_provision",
        "legal_basis",
        "retention_days",
        "deletion_method",
        "security_measures",
        "anonymisation",
        "anonymisation_details",
        "cross_border_transfer",
        "cross_border_details",
        "pia",
    ]
    EDITABLE_STATES = {State.DRAFT, State.CHANGES_REQUESTED}
    DECIDED_STATES = {State.APPROVED, State.REJECTED, State.SUSPENDED, State.CLOSED}

    consortium = models.ForeignKey(
        Consortium,
        verbose_name=_("consortium"),
        on_delete=models.PROTECT,
        related_name="review_tickets",
    )
    requester = models.ForeignKey(
        Organization,
        verbose_name=_("requesting organisation"),
        on_delete=models.PROTECT,
        related_name="review_requests",
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="filed_review_tickets",
    )
    kind = models.CharField(
        _("kind of request"), max_length=16, choices=Kind.choices, default=Kind.NEW, editable=False
    )
    # The approved ticket a renewal or an amendment continues (its decision and obligations).
    previous = models.ForeignKey(
        "self",
        verbose_name=_("previous approval"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="successors",
    )
    title = models.CharField(_("title"), max_length=200)
    service_name = models.CharField(_("service"), max_length=200)
    purpose = models.ForeignKey(
        "consent.Purpose",
        verbose_name=_("purpose"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="review_tickets",
        help_text=_("An existing purpose; leave empty to propose a new one below."),
    )
    proposed_purpose_title = models.CharField(_("proposed purpose"), max_length=200, blank=True)
    proposed_purpose_explanation = models.TextField(
        _("proposed purpose: plain-language explanation"), blank=True
    )
    categories = models.ManyToManyField(
        "consent.DataCategory",
        verbose_name=_("data categories"),
        related_name="review_tickets",
        blank=True,
    )
    recipients = models.ManyToManyField(
        Organization,
        verbose_name=_("recipients"),
        related_name="received_review_tickets",
        blank=True,
    )
    third_party_provision = models.BooleanField(
        _("third-party provision (第三者提供)"), default=False
    )
    legal_basis = models.CharField(
        _("legal basis"), max_length=16, choices=LegalBasis.choices, default=LegalBasis.CONSENT
    )
    retention_days = models.PositiveIntegerField(_("retention (days)"), null=True, blank=True)
    deletion_method = models.TextField(_("deletion at the end of retention"), blank=True)
    security_measures = models.TextField(_("security measures (安全管理措置)"), blank=True)
    anonymisation = models.CharField(
        _("anonymisation or pseudonymisation"),
        max_length=16,
        choices=Anonymisation.choices,
        default=Anonymisation.NONE,
    )
    anonymisation_details = models.TextField(_("how the data are processed"), blank=True)
    cross_border_transfer = models.BooleanField(_("cross-border transfer"), default=False)
    cross_border_details = models.TextField(
        _("cross-border transfer: countries and safeguards"), blank=True
    )
    # Privacy impact assessment: a list of {"risk", "likelihood", "impact", "mitigation"},
    # likelihood and impact "low" | "medium" | "high" (see PIA_LEVELS).
    pia = models.JSONField(_("privacy impact assessment"), default=list, blank=True)

    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.DRAFT, editable=False
    )
    round = models.PositiveSmallIntegerField(_("round"), default=0, editable=False)
    due_on = models.DateField(_("due"), null=True, blank=True, editable=False)
    # The approval: its conditions and term become part of the grant.
    conditions = models.TextField(_("conditions"), blank=True, editable=False)
    valid_from = models.DateField(_("approved from"), null=True, blank=True, editable=False)
    valid_until = models.DateField(_("approved until"), null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)
    # The days the services have to confirm a deletion, from the board's rule at the approval.
    deletion_confirmation_days = models.PositiveSmallIntegerField(
        _("days for a recipient to confirm deletion"), null=True, blank=True, editable=False
    )
    # The fewest days before the term's end the requester was last reminded to renew at.
    renewal_reminded_days = models.PositiveSmallIntegerField(
        _("renewal reminded (days before the end)"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("review ticket")
        verbose_name_plural = _("review tickets")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state__in=["approved", "suspended"])
                | Q(valid_from__isnull=False, valid_until__isnull=False),
                name="governance_reviewticket_approval_has_term",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="governance_reviewticket_term_order",
            ),
            models.CheckConstraint(
                condition=Q(kind="new", previous__isnull=True)
                | (~Q(kind="new") & Q(previous__isnull=False)),
                name="review_reviewticket_successor_has_previous",
            ),
        ]
        indexes = [
            # The board's queue: a consortium's tickets by state.
            models.Index(fields=["consortium", "state"], name="gov_ticket_queue"),
            # The public register's uses list: a consortium's decided tickets, newest decision
            # first, a page at a time (read in index order, no sort of every decision).
            models.Index(
                F("consortium"),
                F("decided_at").desc(),
                F("id").desc(),
                condition=Q(decided_at__isnull=False),
                name="review_ticket_decided",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_editable(self) -> bool:
        return self.state in self.EDITABLE_STATES

    def purpose_title(self) -> str:
        return str(self.purpose) if self.purpose_id else self.proposed_purpose_title

    def is_active_on(self, day) -> bool:
        """Return True if the approval lets data flow on ``day``."""
        return (
            self.state == self.State.APPROVED
            and self.valid_from is not None
            and self.valid_from <= day <= self.valid_until
        )

    def clean(self) -> None:
        errors = {}
        if not self.purpose_id and not self.proposed_purpose_title.strip():
            errors["purpose"] = _("Choose an existing purpose or describe the one you propose.")
        if self.purpose_id and self.proposed_purpose_title.strip():
            errors["proposed_purpose_title"] = _(
                "You chose an existing purpose: leave the proposed purpose empty."
            )
        if (
            self.purpose_id
            and self.consortium_id
            and self.purpose.consortium_id != self.consortium_id
        ):
            errors["purpose"] = _("Choose a purpose of this consortium.")
        if self.cross_border_transfer and not self.cross_border_details.strip():
            errors["cross_border_details"] = _(
                "Name the countries and the safeguards of the cross-border transfer."
            )
        if self.anonymisation != self.Anonymisation.NONE and not self.anonymisation_details.strip():
            errors["anonymisation_details"] = _("Describe how the data are processed.")
        try:
            validate_pia(self.pia)
        except ValidationError as error:
            errors["pia"] = error.messages
        if errors:
            raise ValidationError(errors)

    def missing_for_submission(self) -> dict:
        """Return {field: message} for what must be filled before the ticket is submitted."""
        errors = {}
        if self.retention_days is None:
            errors["retention_days"] = _("Enter how many days the data are kept.")
        if not self.deletion_method.strip():
            errors["deletion_method"] = _("Say how the data are deleted at the end.")
        if not self.security_measures.strip():
            errors["security_measures"] = _("Describe the security measures.")
        if not self.pia:
            errors["pia"] = _("Assess at least one risk in the privacy impact assessment.")
        return errors


PIA_LEVELS = ("low", "medium", "high")
PIA_KEYS = ("risk", "likelihood", "impact", "mitigation")


def validate_pia(pia) -> None:
    """Refuse a privacy impact assessment that is not a list of complete risk rows."""
    if not isinstance(pia, list):
        raise ValidationError(_("The assessment is a list of risks."))
    for index, row in enumerate(pia, start=1):
        if not isinstance(row, dict) or set(row) != set(PIA_KEYS):
            raise ValidationError(
                _("Risk %(n)s: give the risk, its likelihood, impact and mitigation.")
                % {"n": index}
            )
        if not str(row["risk"]).strip() or not str(row["mitigation"]).strip():
            raise ValidationError(
                _("Risk %(n)s: describe the risk and its mitigation.") % {"n": index}
            )
        if row["likelihood"] not in PIA_LEVELS or row["impact"] not in PIA_LEVELS:
            raise ValidationError(
                _("Risk %(n)s: likelihood and impact are low, medium or high.") % {"n": index}
            )


class ReviewRound(models.Model):
    """審査ラウンド: one submission of a ticket, its request frozen, and its due date."""

    ticket = models.ForeignKey(
        ReviewTicket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="rounds"
    )
    number = models.PositiveSmallIntegerField(_("round"))
    submitted_at = models.DateTimeField(_("submitted at"))
    due_on = models.DateField(_("due"))
    # The request as submitted: {field: value}, ids for relations (see ticket_snapshot).
    request = models.JSONField(_("request as submitted"))
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=ReviewTicket.State.choices, blank=True
    )
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("review round")
        verbose_name_plural = _("review rounds")
        ordering = ["ticket", "number"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "number"], name="governance_round_unique")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}/{self.number}"


class ReviewAssignment(models.Model):
    """審査担当: a board member assigned to review a ticket, with their conflict declaration."""

    class Recusal(models.TextChoices):
        NONE = "", _("not recused")
        REQUESTER = "requester", _("their organisation is the requester")
        RECIPIENT = "recipient", _("their organisation receives the data")
        DECLARED = "declared", _("declared a conflict of interest")

    ticket = models.ForeignKey(
        ReviewTicket,
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="assignments",
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        on_delete=models.PROTECT,
        related_name="review_assignments",
    )
    role = models.ForeignKey(
        Role, verbose_name=_("board seat"), on_delete=models.PROTECT, related_name="+"
    )
    recusal = models.CharField(
        _("recusal"), max_length=16, choices=Recusal.choices, blank=True, default=""
    )
    # None until the reviewer declares; the full ticket is shown only after a declaration.
    conflict_declared_at = models.DateTimeField(_("conflict declared at"), null=True, blank=True)
    has_conflict = models.BooleanField(_("has a conflict of interest"), default=False)
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reviewer assignment")
        verbose_name_plural = _("reviewer assignments")
        ordering = ["ticket", "assigned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "reviewer"],
                name="governance_assignment_unique",
                violation_error_message=_("This reviewer is already assigned to the ticket."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.reviewer}"

    @property
    def is_recused(self) -> bool:
        return bool(self.recusal)

    @property
    def expertise(self) -> str:
        return self.role.expertise


class ReviewComment(models.Model):
    """審査コメント: a remark or question by a reviewer, or a requester's answer."""

    class Visibility(models.TextChoices):
        BOARD = "board", _("board only")
        REQUESTER = "requester", _("to the requester")

    class Kind(models.TextChoices):
        COMMENT = "comment", pgettext_lazy("review remark", "comment")
        QUESTION = "question", pgettext_lazy("review remark", "question")
        ANSWER = "answer", _("answer")

    ticket = models.ForeignKey(
        ReviewTicket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="comments"
    )
    round = models.PositiveSmallIntegerField(_("round"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("review remark", "author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.COMMENT)
    visibility = models.CharField(
        _("visible to"), max_length=16, choices=Visibility.choices, default=Visibility.BOARD
    )
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(
        pgettext_lazy("review remark", "written at"), auto_now_add=True
    )

    class Meta:
        verbose_name = _("review comment")
        verbose_name_plural = _("review comments")
        ordering = ["ticket", "created_at", "pk"]
        constraints = [
            # The requester's answers are always visible to both sides.
            models.CheckConstraint(
                condition=~Q(kind="answer") | Q(visibility="requester"),
                name="governance_comment_answer_visible",
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.get_kind_display()}"


class ReviewVote(models.Model):
    """審査票: one reviewer's vote in one round."""

    class Choice(models.TextChoices):
        APPROVE = "approve", _("approve")
        APPROVE_WITH_CONDITIONS = "approve_with_conditions", _("approve with conditions")
        REQUEST_CHANGES = "request_changes", _("request changes")
        REJECT = "reject", _("reject")
        ABSTAIN = "abstain", _("abstain")

    APPROVALS = {Choice.APPROVE, Choice.APPROVE_WITH_CONDITIONS}

    ticket = models.ForeignKey(
        ReviewTicket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="votes"
    )
    round = models.PositiveSmallIntegerField(_("round"))
    assignment = models.ForeignKey(
        ReviewAssignment, verbose_name=_("reviewer"), on_delete=models.PROTECT, related_name="votes"
    )
    choice = models.CharField(_("vote"), max_length=24, choices=Choice.choices)
    conditions = models.TextField(_("conditions"), blank=True)
    # The conditions as obligations: [{"kind", "text", "due", "days", "years", "critical"}]
    # (see obligation_specs_clean); ``conditions`` keeps their texts, one a line.
    obligations = models.JSONField(_("conditions as obligations"), default=list, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    cast_at = models.DateTimeField(_("cast at"), auto_now_add=True)

    class Meta:
        verbose_name = _("review vote")
        verbose_name_plural = _("review votes")
        ordering = ["ticket", "round", "cast_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "round"],
                name="governance_reviewvote_one_per_round",
                violation_error_message=_("You have already voted in this round."),
            ),
            models.CheckConstraint(
                condition=~Q(choice="approve_with_conditions") | ~Q(conditions=""),
                name="governance_reviewvote_conditions_written",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment}: {self.get_choice_display()}"

    def clean(self) -> None:
        if self.choice == self.Choice.APPROVE_WITH_CONDITIONS and not self.conditions.strip():
            raise ValidationError({"conditions": _("Write the conditions of your approval.")})
        if self.choice != self.Choice.APPROVE_WITH_CONDITIONS and self.conditions.strip():
            raise ValidationError(
                {"conditions": _("Only an approval with conditions has conditions.")}
            )


def attachment_path(instance: "ReviewAttachment", filename: str) -> str:
    # A random name: the uploader's file name is shown, never used on disk.
    import uuid

    extension = instance.EXTENSIONS[instance.content_type]
    return f"review/{instance.ticket_id}/{uuid.uuid4().hex}{extension}"


class ReviewAttachment(models.Model):
    """添付資料: a PDF or image filed with a ticket, kept outside the web root."""

    EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}

    ticket = models.ForeignKey(
        ReviewTicket,
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    # Set for a file filed as evidence of an obligation; the request's files have none.
    evidence = models.ForeignKey(
        "ObligationEvidence",
        verbose_name=_("evidence"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
    )
    round = models.PositiveSmallIntegerField(_("round"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=32, choices=[(k, k) for k in EXTENSIONS])
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["ticket", "uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class Obligation(models.Model):
    """
    遵守事項: a condition the board attached to its approval, owed by the requesting
    organisation: what to do (its kind), by when (a due date, or yearly for some years after the
    approval's term), whether missing it is critical, and where it stands.
    """

    class Kind(models.TextChoices):
        PERIODIC_REPORT = "periodic_report", _("periodic report")
        OUTCOME_REPORT = "outcome_report", _("outcome report")
        DELETION_CERTIFICATE = (
            "deletion_certificate",
            _("deletion certificate at the end of retention"),
        )
        SECURITY_AUDIT = "security_audit", _("security audit")
        PUBLICATION = "publication", _("publication of results")
        OTHER = "other", _("other")

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("obligation state", "open")
        SUBMITTED = "submitted", pgettext_lazy("obligation state", "evidence submitted")
        ACCEPTED = "accepted", pgettext_lazy("obligation state", "accepted")
        REJECTED = "rejected", pgettext_lazy("obligation state", "evidence rejected")
        OVERDUE = "overdue", pgettext_lazy("obligation state", "overdue")
        WAIVED = "waived", pgettext_lazy("obligation state", "waived")

    class Recurrence(models.TextChoices):
        NONE = "", _("once")
        YEARLY = "yearly", _("yearly")

    # The states in which the requester owes evidence (and reminders and escalation apply).
    OWED = {State.OPEN, State.REJECTED, State.OVERDUE}
    FINISHED = {State.ACCEPTED, State.WAIVED}

    ticket = models.ForeignKey(
        ReviewTicket,
        verbose_name=_("ticket"),
        on_delete=models.PROTECT,
        related_name="obligations",
    )
    owner = models.ForeignKey(
        Organization,
        verbose_name=_("owed by"),
        on_delete=models.PROTECT,
        related_name="review_obligations",
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices, default=Kind.OTHER)
    text = models.TextField(_("condition"))
    critical = models.BooleanField(_("critical"), default=False)
    due_on = models.DateField(_("due"), null=True, blank=True)
    recurrence = models.CharField(
        _("recurrence"), max_length=8, choices=Recurrence.choices, blank=True, default=""
    )
    # How many more times a recurring obligation falls due after ``due_on``.
    repeats_left = models.PositiveSmallIntegerField(_("further times due"), default=0)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.OPEN, editable=False
    )
    waiver_reason = models.TextField(_("why it was waived"), blank=True)
    # The due date a reminder was sent for, and when the escalation went out for it.
    reminded_for = models.DateField(_("reminded for the due date"), null=True, blank=True)
    escalated_for = models.DateField(_("escalated for the due date"), null=True, blank=True)
    # True while this obligation, overdue and critical, holds its ticket suspended.
    holds_suspension = models.BooleanField(_("holds the ticket suspended"), default=False)
    # Opened by the platform because services that received residents' data under the ticket's
    # grants did not confirm in time what they did with it (see deletion_confirmations_overdue).
    from_recipient_notices = models.BooleanField(
        _("opened for unconfirmed deletions"), default=False, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("obligation")
        verbose_name_plural = _("obligations")
        ordering = ["ticket", "due_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="waived") | ~Q(waiver_reason=""),
                name="review_obligation_waiver_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(recurrence="") | Q(due_on__isnull=False),
                name="review_obligation_recurrence_has_due",
            ),
        ]
        indexes = [
            # The daily follow-up: owed obligations by due date.
            models.Index(fields=["state", "due_on"], name="review_obligation_due"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.get_kind_display()}"

    @property
    def is_owed(self) -> bool:
        return self.state in self.OWED


class ObligationEvidence(models.Model):
    """履行報告: what the requester filed to show an obligation met, and the board's verdict."""

    class Verdict(models.TextChoices):
        PENDING = "", _("awaiting the board")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", pgettext_lazy("evidence verdict", "rejected")

    obligation = models.ForeignKey(
        Obligation,
        verbose_name=_("obligation"),
        on_delete=models.CASCADE,
        related_name="evidence",
    )
    # The due date this evidence answers (a recurring obligation is owed again each year).
    due_on = models.DateField(_("for the due date"), null=True, blank=True)
    text = models.TextField(_("evidence"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    verdict = models.CharField(
        _("verdict"), max_length=16, choices=Verdict.choices, blank=True, default=""
    )
    verdict_reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["obligation", "submitted_at", "pk"]

    def __str__(self) -> str:
        return f"{self.obligation_id}/{self.pk}"


# When an obligation falls due, counted from the approval (see obligation_schedule).
DUE_RULES = ("none", "days", "term_end", "retention_end", "yearly")
MAX_OBLIGATIONS = 20


def clean_obligation_specs(specs) -> list[dict]:
    """
    Return the board's conditions as obligation specifications, checked and normalised:
    ``[{"kind", "text", "critical", "due", "days", "years"}]`` where ``due`` is one of
    DUE_RULES: "none" (no date), "days" (``days`` after the approval), "term_end" (the approval's
    last day), "retention_end" (the term's end plus the request's retention) or "yearly" (each
    year after the term, ``years`` times). Raise ValidationError({"conditions": ...}) otherwise.
    """
    if not isinstance(specs, list) or len(specs) > MAX_OBLIGATIONS:
        raise ValidationError(
            {"conditions": _("Give at most %(n)s conditions.") % {"n": MAX_OBLIGATIONS}}
        )
    cleaned = []
    for index, spec in enumerate(specs, start=1):
        if not isinstance(spec, dict):
            raise ValidationError({"conditions": _("Condition %(n)s is malformed.") % {"n": index}})
        text = str(spec.get("text") or "").strip()
        kind = spec.get("kind") or Obligation.Kind.OTHER
        due = spec.get("due") or "none"
        days, years = spec.get("days"), spec.get("years")
        if not text:
            raise ValidationError(
                {"conditions": _("Condition %(n)s: write what is required.") % {"n": index}}
            )
        if kind not in Obligation.Kind.values:
            raise ValidationError(
                {"conditions": _("Condition %(n)s: choose a kind.") % {"n": index}}
            )
        if due not in DUE_RULES:
            raise ValidationError(
                {"conditions": _("Condition %(n)s: choose when it is due.") % {"n": index}}
            )
        if due == "days" and not (isinstance(days, int) and 1 <= days <= 3650):
            raise ValidationError(
                {
                    "conditions": _(
                        "Condition %(n)s: give the days after the approval (1 to 3650)."
                    )
                    % {"n": index}
                }
            )
        if due == "yearly" and not (isinstance(years, int) and 1 <= years <= 20):
            raise ValidationError(
                {
                    "conditions": _(
                        "Condition %(n)s: give for how many years after the term (1 to 20)."
                    )
                    % {"n": index}
                }
            )
        cleaned.append(
            {
                "kind": kind,
                "text": text,
                "critical": bool(spec.get("critical")),
                "due": due,
                "days": days if due == "days" else None,
                "years": years if due == "yearly" else None,
            }
        )
    return cleaned


def obligation_schedule(spec: dict, ticket: ReviewTicket) -> tuple:
    """Return (due_on, recurrence, repeats_left) of ``spec`` for the approved ``ticket``."""
    import datetime

    due = spec["due"]
    if due == "days":
        return ticket.valid_from + datetime.timedelta(days=spec["days"]), "", 0
    if due == "term_end":
        return ticket.valid_until, "", 0
    if due == "retention_end":
        return ticket.valid_until + datetime.timedelta(days=ticket.retention_days or 0), "", 0
    if due == "yearly":
        return add_years(ticket.valid_until, 1), Obligation.Recurrence.YEARLY, spec["years"] - 1
    return None, "", 0


def add_years(day, years: int):
    """Return ``day`` ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
