"""
The consortium's governance: member organisations and memberships, roles, bylaws in versions,
general assemblies, their resolutions and votes, and the data-ethics board.

What must never be stored is refused by the database (named constraints); rules within one row
live in ``clean()``; rules across rows (quorum, majority, eligibility, overlapping terms) live in
the services.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .validators import validate_corporate_number


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
        permissions = [
            ("administer_consortium", _("Can administer the consortium's records")),
        ]

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

    # Civic groups are often unincorporated (任意団体) and have no corporate number.
    KINDS_WITHOUT_CORPORATE_NUMBER = {Kind.CIVIC_GROUP}

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name_ja = models.CharField(_("name (Japanese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    # 法人番号: 13 digits, the first a check digit over the other twelve.
    corporate_number = models.CharField(
        _("corporate number"),
        max_length=13,
        blank=True,
        help_text=_("13 digits (法人番号). Optional for civic groups."),
    )
    # The consortium whose secretariat registered the organisation: it may edit it; other
    # consortia it joins see it through their memberships.
    registered_by = models.ForeignKey(
        Consortium,
        verbose_name=_("registered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="registered_organizations",
    )

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name_ja"]
        constraints = [
            models.UniqueConstraint(
                fields=["corporate_number"],
                condition=~models.Q(corporate_number=""),
                name="governance_organization_unique_corporate_number",
                violation_error_message=_(
                    "An organisation with this corporate number is already registered; "
                    "choose it instead of registering it again."
                ),
            ),
            models.CheckConstraint(
                condition=Q(corporate_number="") | Q(corporate_number__regex=r"^[0-9]{13}$"),
                name="governance_organization_corporate_number_13_digits",
            ),
        ]

    def __str__(self) -> str:
        return self.name_ja

    def clean(self) -> None:
        if self.corporate_number:
            try:
                validate_corporate_number(self.corporate_number)
            except ValidationError as error:
                raise ValidationError({"corporate_number": error.error_list}) from error
        elif self.kind and self.kind not in self.KINDS_WITHOUT_CORPORATE_NUMBER:
            raise ValidationError(
                {
                    "corporate_number": _(
                        "Enter the organisation's 13-digit corporate number; only civic groups "
                        "may leave it empty."
                    )
                }
            )


class BylawVersion(models.Model):
    """
    規約の版: one version of the consortium's bylaws, with its articles and the rules the
    platform enforces (quorum, majorities, who may vote) as structured fields.

    A version is a draft until a resolution adopts it (or, for the founding bylaws, the founding
    assembly that established the consortium); it is in force from its effective date until the
    next adopted version's.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ADOPTED = "adopted", _("adopted")

    class MajorityBasis(models.TextChoices):
        VOTES_CAST = "votes_cast", _("votes cast (abstentions not counted)")
        PRESENT = "present", _("voting members present (abstentions count as not in favour)")

    consortium = models.ForeignKey(
        Consortium, verbose_name=_("consortium"), on_delete=models.PROTECT, related_name="bylaws"
    )
    number = models.PositiveIntegerField(_("version number"))
    title_ja = models.CharField(_("title (Japanese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    adopted_on = models.DateField(_("adopted on"), null=True, blank=True)
    adopted_by = models.OneToOneField(
        "Resolution",
        verbose_name=_("adopted by resolution"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adopted_version",
    )
    effective_on = models.DateField(_("effective from"), null=True, blank=True)
    based_on = models.ForeignKey(
        "self",
        verbose_name=_("based on version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    # 定足数: at least this fraction of the regular members must be present.
    quorum_numerator = models.PositiveSmallIntegerField(_("quorum numerator"), default=1)
    quorum_denominator = models.PositiveSmallIntegerField(_("quorum denominator"), default=2)
    proxies_counted = models.BooleanField(
        _("proxies count"),
        default=True,
        help_text=_("Members represented by a proxy count as present and their proxy may vote."),
    )
    majority_basis = models.CharField(
        _("majority of"),
        max_length=16,
        choices=MajorityBasis.choices,
        default=MajorityBasis.VOTES_CAST,
    )
    # 特別決議: at least this fraction in favour for bylaw amendments and dissolution.
    special_majority_numerator = models.PositiveSmallIntegerField(
        _("special majority numerator"), default=2
    )
    special_majority_denominator = models.PositiveSmallIntegerField(
        _("special majority denominator"), default=3
    )
    associates_may_vote = models.BooleanField(_("associate members may vote"), default=False)
    admission_requires_resolution = models.BooleanField(
        _("admission needs a resolution"), default=True
    )

    class Meta:
        verbose_name = _("bylaw version")
        verbose_name_plural = _("bylaw versions")
        ordering = ["consortium", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["consortium", "number"], name="governance_bylawversion_unique_number"
            ),
            # Two versions effective on one day would leave the version in force undefined.
            models.UniqueConstraint(
                fields=["consortium", "effective_on"],
                condition=Q(effective_on__isnull=False),
                name="governance_bylawversion_unique_effective_on",
                violation_error_message=_(
                    "Another bylaw version takes effect on that date; choose another date."
                ),
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="draft", adopted_on__isnull=True, effective_on__isnull=True)
                    | Q(status="adopted", adopted_on__isnull=False, effective_on__isnull=False)
                ),
                name="governance_bylawversion_adopted_has_dates",
            ),
            # Never in force before it was adopted.
            models.CheckConstraint(
                condition=Q(effective_on__isnull=True) | Q(effective_on__gte=F("adopted_on")),
                name="governance_bylawversion_effective_after_adoption",
            ),
            models.CheckConstraint(
                condition=Q(quorum_numerator__gte=1)
                & Q(quorum_numerator__lte=F("quorum_denominator")),
                name="governance_bylawversion_quorum_fraction",
            ),
            # A special majority is at least a half and at most everyone.
            models.CheckConstraint(
                condition=Q(special_majority_numerator__lte=F("special_majority_denominator"))
                & Q(special_majority_denominator__lte=F("special_majority_numerator") * 2),
                name="governance_bylawversion_special_majority_fraction",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title_ja} (v{self.number})"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    def clean(self) -> None:
        errors = {}
        if self.quorum_denominator and self.quorum_numerator > self.quorum_denominator:
            errors["quorum_numerator"] = _(
                "The quorum is a fraction of the regular members: make the numerator at most "
                "the denominator."
            )
        if self.quorum_numerator == 0:
            errors["quorum_numerator"] = _("A quorum of zero members is not a quorum.")
        num, den = self.special_majority_numerator, self.special_majority_denominator
        if den and not (den <= 2 * num and num <= den):
            errors["special_majority_numerator"] = _(
                "A special majority lies between one half and the whole (e.g. 2/3)."
            )
        if errors:
            raise ValidationError(errors)


class BylawArticle(models.Model):
    """条: one numbered article of a bylaw version, in Japanese and English."""

    version = models.ForeignKey(
        BylawVersion,
        verbose_name=_("bylaw version"),
        on_delete=models.CASCADE,
        related_name="articles",
    )
    number = models.PositiveSmallIntegerField(_("article number"))
    title_ja = models.CharField(_("title (Japanese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    text_ja = models.TextField(_("text (Japanese)"))
    text_en = models.TextField(_("text (English)"), blank=True)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["version", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "number"],
                name="governance_bylawarticle_unique_number",
                violation_error_message=_(
                    "This version already has an article with that number; choose another number."
                ),
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1), name="governance_bylawarticle_number_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"第{self.number}条 {self.title_ja}"


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


class GeneralAssembly(models.Model):
    """総会: a general assembly of the consortium's members."""

    class Kind(models.TextChoices):
        ORDINARY = "ordinary", _("ordinary (定時総会)")
        EXTRAORDINARY = "extraordinary", _("extraordinary (臨時総会)")

    consortium = models.ForeignKey(
        Consortium,
        verbose_name=_("consortium"),
        on_delete=models.PROTECT,
        related_name="assemblies",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.ORDINARY)
    title_ja = models.CharField(_("title (Japanese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    held_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    online = models.BooleanField(_("online"), default=False)
    agenda = models.TextField(_("agenda"), blank=True)

    class Meta:
        verbose_name = _("general assembly")
        verbose_name_plural = _("general assemblies")
        ordering = ["consortium", "-held_on"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(place="") | Q(online=True),
                name="governance_generalassembly_place_or_online",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title_ja} ({self.held_on:%Y-%m-%d})"

    def clean(self) -> None:
        if not self.place and not self.online:
            raise ValidationError(
                {"place": _("Enter where the assembly meets, or mark it as held online.")}
            )


class Resolution(models.Model):
    """議決事項: one item the assembly votes on; its outcome is computed when the vote closes."""

    class Kind(models.TextChoices):
        BUSINESS_PLAN = "business_plan", _("business plan")
        BUDGET = "budget", _("budget")
        SETTLEMENT = "settlement", _("settlement of accounts")
        BYLAW_AMENDMENT = "bylaw_amendment", _("bylaw amendment")
        ADMISSION = "admission", _("admission of a member")
        OFFICER_ELECTION = "officer_election", _("election of officers")
        DISSOLUTION = "dissolution", _("dissolution")
        OTHER = "other", _("other")

    # The bylaws ask a special majority for these (e.g. 2/3).
    SPECIAL_KINDS = {Kind.BYLAW_AMENDMENT, Kind.DISSOLUTION}

    class Status(models.TextChoices):
        OPEN = "open", _("voting open")
        CLOSED = "closed", _("closed")

    class Outcome(models.TextChoices):
        CARRIED = "carried", _("carried")
        REJECTED = "rejected", _("rejected")
        NO_QUORUM = "no_quorum", _("no quorum")

    assembly = models.ForeignKey(
        GeneralAssembly,
        verbose_name=_("general assembly"),
        on_delete=models.PROTECT,
        related_name="resolutions",
    )
    number = models.PositiveSmallIntegerField(_("item number"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title_ja = models.CharField(_("title (Japanese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    text = models.TextField(_("text"), blank=True)
    bylaw_version = models.ForeignKey(
        BylawVersion,
        verbose_name=_("proposed bylaw version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="amendment_resolutions",
    )
    amendment_effective_on = models.DateField(_("amendment effective from"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    # Frozen when the vote closes: computed from the votes and the bylaws in force.
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    regular_members = models.PositiveIntegerField(_("regular members"), null=True, blank=True)
    members_present = models.PositiveIntegerField(
        _("regular members present"), null=True, blank=True
    )
    votes_for = models.PositiveIntegerField(_("for"), null=True, blank=True)
    votes_against = models.PositiveIntegerField(_("against"), null=True, blank=True)
    votes_abstain = models.PositiveIntegerField(_("abstentions"), null=True, blank=True)
    bylaws_applied = models.ForeignKey(
        BylawVersion,
        verbose_name=_("bylaws applied"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("resolution")
        verbose_name_plural = _("resolutions")
        ordering = ["assembly", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["assembly", "number"], name="governance_resolution_unique_number"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="bylaw_amendment")
                    & Q(bylaw_version__isnull=False)
                    & Q(amendment_effective_on__isnull=False)
                )
                | (
                    ~Q(kind="bylaw_amendment")
                    & Q(bylaw_version__isnull=True)
                    & Q(amendment_effective_on__isnull=True)
                ),
                name="governance_resolution_amendment_names_version",
            ),
            models.CheckConstraint(
                condition=Q(status="open", outcome="", closed_at__isnull=True)
                | (Q(status="closed", closed_at__isnull=False) & ~Q(outcome="")),
                name="governance_resolution_outcome_when_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"第{self.number}号議案 {self.title_ja}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    def clean(self) -> None:
        if self.kind == self.Kind.BYLAW_AMENDMENT:
            errors = {}
            if not self.bylaw_version_id:
                errors["bylaw_version"] = _("Choose the draft bylaw version this amendment adopts.")
            if not self.amendment_effective_on:
                errors["amendment_effective_on"] = _(
                    "Enter the date from which the amended bylaws take effect."
                )
            if errors:
                raise ValidationError(errors)
        else:
            if self.bylaw_version_id:
                raise ValidationError(
                    {"bylaw_version": _("Only a bylaw amendment names a bylaw version.")}
                )
            if self.amendment_effective_on:
                raise ValidationError(
                    {
                        "amendment_effective_on": _(
                            "Only a bylaw amendment has an effective date; leave it empty."
                        )
                    }
                )


class Membership(models.Model):
    """会員: an organisation's membership of a consortium, from joining to leaving."""

    class MemberClass(models.TextChoices):
        REGULAR = "regular", _("regular member (正会員)")
        ASSOCIATE = "associate", _("associate member (賛助会員)")
        OBSERVER = "observer", _("observer (オブザーバー)")

    consortium = models.ForeignKey(
        Consortium,
        verbose_name=_("consortium"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    member_class = models.CharField(_("class"), max_length=16, choices=MemberClass.choices)
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)
    representative = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("representative"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="represented_memberships",
    )
    admission_resolution = models.ForeignKey(
        Resolution,
        verbose_name=_("admitted by resolution"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="admissions",
    )
    accepted_bylaw_version = models.ForeignKey(
        BylawVersion,
        verbose_name=_("bylaw version accepted"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    accepted_confidentiality = models.BooleanField(
        _("confidentiality terms accepted"), default=False
    )
    accepted_ip_terms = models.BooleanField(
        _("intellectual property terms accepted"), default=False
    )
    terms_accepted_on = models.DateField(_("terms accepted on"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["consortium", "organization__name_ja"]
        constraints = [
            # One current membership per organisation and consortium.
            models.UniqueConstraint(
                fields=["consortium", "organization"],
                condition=Q(left_on__isnull=True),
                name="governance_membership_one_current",
                violation_error_message=_(
                    "This organisation is already a member of the consortium."
                ),
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("joined_on")),
                name="governance_membership_left_after_joined",
            ),
            # Accepting terms is a dated act.
            models.CheckConstraint(
                condition=Q(terms_accepted_on__isnull=False)
                | Q(
                    accepted_bylaw_version__isnull=True,
                    accepted_confidentiality=False,
                    accepted_ip_terms=False,
                ),
                name="governance_membership_terms_dated",
            ),
        ]
        indexes = [
            # Eligibility and quorum: the members of a consortium on an assembly's date.
            models.Index(
                fields=["consortium", "joined_on", "left_on"], name="gov_membership_dates"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} ({self.get_member_class_display()})"

    def is_member_on(self, day) -> bool:
        return self.joined_on <= day and (self.left_on is None or self.left_on >= day)

    def clean(self) -> None:
        errors = {}
        if self.left_on and self.joined_on and self.left_on < self.joined_on:
            errors["left_on"] = _("A member cannot leave before joining: check the dates.")
        accepted_any = (
            self.accepted_bylaw_version_id
            or self.accepted_confidentiality
            or self.accepted_ip_terms
        )
        if accepted_any and not self.terms_accepted_on:
            errors["terms_accepted_on"] = _(
                "Enter the date on which the member accepted the terms."
            )
        if (
            self.accepted_bylaw_version_id
            and self.consortium_id
            and self.accepted_bylaw_version.consortium_id != self.consortium_id
        ):
            errors["accepted_bylaw_version"] = _(
                "Choose a bylaw version of this member's consortium."
            )
        if errors:
            raise ValidationError(errors)


class Role(models.Model):
    """役職: an office held by a person in a consortium, from start to end."""

    class Kind(models.TextChoices):
        CHAIR = "chair", _("chair (会長)")
        VICE_CHAIR = "vice_chair", _("vice-chair (副会長)")
        SECRETARIAT = "secretariat", _("secretariat (事務局)")
        REPRESENTATIVE = "representative", _("representative")
        ETHICS_BOARD_MEMBER = "ethics_board_member", _("ethics-board member (審査委員)")

    class Expertise(models.TextChoices):
        SECURITY = "security", _("security")
        LEGAL = "legal", _("legal")
        DATA_ETHICS = "data_ethics", _("data ethics")
        RESIDENT_REPRESENTATIVE = "resident_representative", _("resident representative")
        OTHER = "other", _("other")

    consortium = models.ForeignKey(
        Consortium, verbose_name=_("consortium"), on_delete=models.PROTECT, related_name="roles"
    )
    kind = models.CharField(_("role"), max_length=24, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="governance_roles",
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("on behalf of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="roles",
    )
    expertise = models.CharField(
        _("expertise"), max_length=24, choices=Expertise.choices, blank=True
    )
    start_on = models.DateField(_("from"))
    end_on = models.DateField(_("until"), null=True, blank=True)
    elected_by = models.ForeignKey(
        Resolution,
        verbose_name=_("elected by resolution"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="elected_roles",
    )

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["consortium", "kind", "-start_on"]
        constraints = [
            # 会長 is one person at a time: one open-ended chair term per consortium. Overlap of
            # dated terms is checked by role_assign under a lock on the consortium.
            models.UniqueConstraint(
                fields=["consortium"],
                condition=Q(kind="chair", end_on__isnull=True),
                name="governance_role_one_open_chair",
                violation_error_message=_(
                    "The consortium has one chair at a time: end the current chair's term first."
                ),
            ),
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gte=F("start_on")),
                name="governance_role_end_after_start",
            ),
            models.CheckConstraint(
                condition=(Q(kind="ethics_board_member") & ~Q(expertise=""))
                | (~Q(kind="ethics_board_member") & Q(expertise="")),
                name="governance_role_expertise_for_ethics_board",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.user}"

    def is_active_on(self, day) -> bool:
        return self.start_on <= day and (self.end_on is None or self.end_on >= day)

    def clean(self) -> None:
        errors = {}
        if self.end_on and self.start_on and self.end_on < self.start_on:
            errors["end_on"] = _("A term cannot end before it starts: check the dates.")
        if self.kind == self.Kind.ETHICS_BOARD_MEMBER and not self.expertise:
            errors["expertise"] = _("Choose the ethics-board member's expertise.")
        if self.kind != self.Kind.ETHICS_BOARD_MEMBER and self.expertise:
            errors["expertise"] = _("Only ethics-board members have an expertise; leave it empty.")
        if errors:
            raise ValidationError(errors)


class Attendance(models.Model):
    """出欠: whether a member attended an assembly, in person, by proxy, or not."""

    class Status(models.TextChoices):
        PRESENT = "present", _("present")
        PROXY = "proxy", _("by proxy (委任状)")
        ABSENT = "absent", _("absent")

    assembly = models.ForeignKey(
        GeneralAssembly,
        verbose_name=_("general assembly"),
        on_delete=models.CASCADE,
        related_name="attendances",
    )
    membership = models.ForeignKey(
        Membership, verbose_name=_("member"), on_delete=models.PROTECT, related_name="attendances"
    )
    status = models.CharField(_("attendance"), max_length=16, choices=Status.choices)
    proxy_holder = models.CharField(
        _("proxy holder"),
        max_length=200,
        blank=True,
        help_text=_("The person or member who holds the proxy (e.g. 議長)."),
    )

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["assembly", "membership__organization__name_ja"]
        constraints = [
            models.UniqueConstraint(
                fields=["assembly", "membership"],
                name="governance_attendance_unique_member",
                violation_error_message=_("This member's attendance is already recorded."),
            ),
            models.CheckConstraint(
                condition=(Q(status="proxy") & ~Q(proxy_holder=""))
                | (~Q(status="proxy") & Q(proxy_holder="")),
                name="governance_attendance_proxy_holder_named",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership.organization}: {self.get_status_display()}"

    def clean(self) -> None:
        if self.status == self.Status.PROXY and not self.proxy_holder.strip():
            raise ValidationError({"proxy_holder": _("Name the proxy holder.")})
        if self.status != self.Status.PROXY and self.proxy_holder:
            raise ValidationError(
                {"proxy_holder": _("Only attendance by proxy has a proxy holder; leave it empty.")}
            )


class Vote(models.Model):
    """議決権の行使: one member's vote on one resolution."""

    class Choice(models.TextChoices):
        FOR = "for", _("for")
        AGAINST = "against", _("against")
        ABSTAIN = "abstain", _("abstain")

    resolution = models.ForeignKey(
        Resolution, verbose_name=_("resolution"), on_delete=models.CASCADE, related_name="votes"
    )
    membership = models.ForeignKey(
        Membership, verbose_name=_("member"), on_delete=models.PROTECT, related_name="votes"
    )
    choice = models.CharField(_("vote"), max_length=8, choices=Choice.choices)
    cast_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        ordering = ["resolution", "membership__organization__name_ja"]
        constraints = [
            models.UniqueConstraint(
                fields=["resolution", "membership"],
                name="governance_vote_one_per_member",
                violation_error_message=_(
                    "This member has already voted on this resolution; correct that vote instead."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.membership.organization}: {self.get_choice_display()}"


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
        ]
        indexes = [
            # The board's queue: a consortium's tickets by state.
            models.Index(fields=["consortium", "state"], name="gov_ticket_queue"),
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
        COMMENT = "comment", _("comment")
        QUESTION = "question", _("question")
        ANSWER = "answer", _("answer")

    ticket = models.ForeignKey(
        ReviewTicket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="comments"
    )
    round = models.PositiveSmallIntegerField(_("round"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.COMMENT)
    visibility = models.CharField(
        _("visible to"), max_length=16, choices=Visibility.choices, default=Visibility.BOARD
    )
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)

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
