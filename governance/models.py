"""
The consortium's governance: member organisations and memberships, roles, bylaws in versions,
general assemblies, their resolutions and votes (the data-ethics board's review is in ``review``).

What must never be stored is refused by the database (named constraints); rules within one row
live in ``clean()``; rules across rows (quorum, majority, eligibility, overlapping terms) live in
the services.
"""

import datetime

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
    require_second_factor = models.BooleanField(
        _("staff sign in with a second factor"),
        default=False,
        help_text=_(
            "The consortium's secretariat, board members and other role holders confirm each "
            "sign-in with an authenticator app's code (or a recovery code)."
        ),
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
        DRAFT = "draft", pgettext_lazy("bylaw version", "draft")
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
        CLOSED = "closed", pgettext_lazy("resolution", "closed")

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
    text = models.TextField(pgettext_lazy("resolution", "text"), blank=True)
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

    class EndReason(models.TextChoices):
        LEFT = "left", _("left (退会)")
        EXPELLED = "expelled", _("expelled (除名)")

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
    end_reason = models.CharField(
        _("how the membership ended"),
        max_length=16,
        choices=EndReason.choices,
        blank=True,
        editable=False,
    )
    # 資格停止: a member suspended from this day keeps its seat but receives no data.
    suspended_on = models.DateField(_("suspended from"), null=True, blank=True, editable=False)
    # When its services, grants and open requests were cut off (the membership ended or was
    # suspended); empty while they run, and again after a reinstatement.
    cut_off_at = models.DateTimeField(
        _("data flows cut off at"), null=True, blank=True, editable=False
    )

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

    def data_ends_on(self) -> datetime.date | None:
        """Return the day its data flows end (it leaves, or is suspended), or None."""
        days = [day for day in (self.left_on, self.suspended_on) if day is not None]
        return min(days) if days else None

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
    status = models.CharField(
        pgettext_lazy("general assembly", "attendance"), max_length=16, choices=Status.choices
    )
    proxy_holder = models.CharField(
        _("proxy holder"),
        max_length=200,
        blank=True,
        help_text=_("The person or member who holds the proxy (e.g. 議長)."),
    )

    class Meta:
        verbose_name = pgettext_lazy("general assembly", "attendance")
        verbose_name_plural = pgettext_lazy("general assembly", "attendance")
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


class Account(models.Model):
    """
    An account the secretariat opened for one of its consortium's people (a clerk, a board
    member, a member's representative): invited by e-mail, the person sets their own password.
    The secretariat deactivates it when the person leaves; it is never deleted.
    """

    class State(models.TextChoices):
        INVITED = "invited", _("invited (no password yet)")
        ACTIVE = "active", _("active")
        DEACTIVATED = "deactivated", _("deactivated")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="consortium_account",
    )
    consortium = models.ForeignKey(
        Consortium, verbose_name=_("consortium"), on_delete=models.PROTECT, related_name="accounts"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    invited_at = models.DateTimeField(_("invited at"))
    activated_at = models.DateTimeField(_("password set at"), null=True, blank=True)
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["consortium", "user__username"]

    def __str__(self) -> str:
        return self.user.get_username()

    @property
    def state(self) -> str:
        if self.deactivated_at:
            return self.State.DEACTIVATED
        return self.State.ACTIVE if self.activated_at else self.State.INVITED

    def get_state_display(self) -> str:
        return self.State(self.state).label
