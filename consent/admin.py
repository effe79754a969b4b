"""
The secretariat's consent pages in the Django admin.

A secretariat clerk (a staff user in a consortium's secretariat group) sees and manages the
purposes, notices, residents and consent records of their own consortia only; a superuser sees
all. Every change goes through a service, so that it is validated and audited; the consent
records and notices themselves are read-only, as they are kept for ever.
"""

import json

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from config.forms import IdsChoiceField, JapaneseDateField
from governance.selectors import organizations_visible_to

from . import receipts, selectors, services
from .forms import (
    AccountOpenForm,
    ApproveRepresentationForm,
    CounterConsentForm,
    PaperConsentForm,
    RegisterRepresentationForm,
)
from .models import (
    ConsentRecord,
    DataCategory,
    Notice,
    Purpose,
    RecipientNotice,
    Representation,
    Resident,
)

# Counts this small could single a resident out; they are shown as "fewer than 10".
SMALL_COUNT = 10


def bucket(count: int) -> str:
    """Return ``count`` as text, or "fewer than 10" when it is that small."""
    if count < SMALL_COUNT:
        return gettext("fewer than %(n)d") % {"n": SMALL_COUNT}
    return f"{count:,}"


class SecretariatAdmin(admin.ModelAdmin):
    """Rights come from secretariat membership: clerks act on their own consortia only."""

    # A chosen id beyond 64 bits is an unknown choice, not a database error.
    formfield_overrides = {
        models.ManyToManyField: {"form_class": IdsChoiceField},
        # Dates as clerks type them: Western or 和暦, with or without separators.
        models.DateField: {"form_class": JapaneseDateField, "widget": AdminDateWidget},
    }

    # The lookup from this model to its consortium's id.
    consortium_lookup = "consortium"

    def consortium_ids(self, request) -> list[int] | None:
        if not hasattr(request, "_consent_scope"):
            request._consent_scope = selectors.secretariat_consortium_ids(request.user)
        return request._consent_scope

    def is_secretariat(self, request) -> bool:
        scope = self.consortium_ids(request)
        return request.user.is_active and request.user.is_staff and (scope is None or bool(scope))

    def in_scope(self, request, obj) -> bool:
        scope = self.consortium_ids(request)
        if obj is None or scope is None:
            return True
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        scope = self.consortium_ids(request)
        if scope is None:
            return queryset
        return queryset.filter(**{f"{self.consortium_lookup}__in": scope}).distinct()

    def has_module_permission(self, request) -> bool:
        return self.is_secretariat(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.is_secretariat(request) and self.in_scope(request, obj)

    def has_add_permission(self, request) -> bool:
        return self.is_secretariat(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.is_secretariat(request) and self.in_scope(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def consortia(self, request):
        consortium_model = apps.get_model("governance", "Consortium")
        scope = self.consortium_ids(request)
        queryset = consortium_model.objects.all()
        return queryset if scope is None else queryset.filter(pk__in=scope)


class ReadOnlySecretariatAdmin(SecretariatAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# --- Data categories -------------------------------------------------------------------------


@admin.register(DataCategory)
class DataCategoryAdmin(SecretariatAdmin):
    """Categories are shared by every consortium: clerks add them, only superusers change them."""

    list_display = ["code", "name_ja", "name_en", "sensitive"]
    list_filter = ["sensitive"]
    search_fields = ["code", "name_ja", "name_en"]

    def get_queryset(self, request):
        return admin.ModelAdmin.get_queryset(self, request)

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is None:
            return self.is_secretariat(request)
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        try:
            services.data_category_save(actor=request.user, category=obj)
        except ValidationError as error:
            raise PermissionDenied(" ".join(error.messages)) from error


# --- Purposes and notices --------------------------------------------------------------------


class NoticeInline(admin.TabularInline):
    model = Notice
    fields = ["version", "published_at", "sha256", "link"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-version"]

    @admin.display(description=_("text"))
    def link(self, obj):
        url = reverse("consent:notice", args=[obj.purpose_id, obj.version])
        return format_html('<a href="{}">{}</a>', url, gettext("public page"))

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class PurposeForm(forms.ModelForm):
    class Meta:
        model = Purpose
        fields = [
            "consortium",
            "code",
            "title_ja",
            "title_en",
            "explanation_ja",
            "explanation_en",
            "categories",
            "controller",
            "recipients",
            "retention_days",
            "legal_basis",
            "processing",
            "consent_valid_days",
            "own_decision_only",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left out, they keep their default (or the purpose's value when it is changed).
        for name in ("legal_basis", "processing"):
            if name in self.fields:
                self.fields[name].required = False

    def clean_legal_basis(self):
        return self.cleaned_data.get("legal_basis") or self.instance.legal_basis

    def clean_processing(self):
        return self.cleaned_data.get("processing") or self.instance.processing

    def _post_clean(self):
        super()._post_clean()
        if self.errors or self.instance.pk is None:
            return
        # An open purpose's change publishes a new notice: refuse it here, on the fields that
        # go beyond the board's approval, rather than after the form is accepted.
        try:
            services.purpose_change_check(
                purpose=self.instance,
                categories=self.cleaned_data.get("categories") or [],
                recipients=self.cleaned_data.get("recipients") or [],
            )
        except ValidationError as error:
            self._update_errors(error)


@admin.register(Purpose)
class PurposeAdmin(SecretariatAdmin):
    form = PurposeForm
    list_display = ["title_ja", "consortium", "status", "notice_version", "controller"]
    list_select_related = ["consortium", "controller", "current_notice"]
    list_filter = ["status", ("consortium", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["code", "title_ja", "title_en"]
    filter_horizontal = ["categories", "recipients"]
    readonly_fields = ["status", "notice_version", "approval", "counts", "recipients_told"]
    inlines = [NoticeInline]
    actions = ["publish", "close"]

    def get_fieldsets(self, request, obj=None):
        told = (
            [(_("Withdrawal notices to recipients"), {"fields": ["recipients_told"]})]
            if obj is not None and obj.status == Purpose.Status.CLOSED
            else []
        )
        return [
            (None, {"fields": ["consortium", "code", "status", "notice_version"]}),
            (
                _("What residents read"),
                {"fields": ["title_ja", "title_en", "explanation_ja", "explanation_en"]},
            ),
            (
                _("What is collected, who receives it, for how long"),
                {
                    "fields": [
                        "categories",
                        "controller",
                        "recipients",
                        "retention_days",
                        "legal_basis",
                        "processing",
                        "consent_valid_days",
                    ],
                    "description": _(
                        "Changing any of these while the purpose is open publishes a new notice "
                        "version: consents given under the previous one lapse, and residents are "
                        "asked again. The purpose opens, and its notice changes, only within what "
                        "an approval in force of the data-ethics board covers; going beyond it "
                        "needs an amendment of that approval."
                    ),
                },
            ),
            (
                _("Representatives"),
                {
                    "fields": ["own_decision_only"],
                    "description": _(
                        "Tick this when the data ethics board asked that only the person "
                        "decides on this purpose: a parent, guardian or other representative "
                        "then cannot decide for them."
                    ),
                },
            ),
        ] + (
            [
                (_("The board's approval"), {"fields": ["approval"]}),
                (_("Residents' decisions"), {"fields": ["counts"]}),
                *told,
            ]
            if obj
            else []
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "consortium":
            kwargs["queryset"] = self.consortia(request)
        elif db_field.name == "controller":
            kwargs["queryset"] = organizations_visible_to(request.user).order_by("name_ja")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "recipients":
            kwargs["queryset"] = organizations_visible_to(request.user).order_by("name_ja")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("consortium")
        return fields

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status == Purpose.Status.CLOSED:
            return False  # a closed purpose is kept as it was
        return super().has_change_permission(request, obj)

    @admin.display(description=_("notice version"))
    def notice_version(self, obj):
        return obj.current_notice.version if obj.current_notice_id else "—"

    @admin.display(description=_("approval covering the purpose today"))
    def approval(self, obj):
        """
        The decision in force that covers the purpose as it stands (what opening it or a new
        notice needs), or why there is none.
        """
        from . import approvals, notices

        try:
            found = approvals.require(obj, notices.purpose_terms(obj))
        except ValidationError as refusal:
            return " ".join(refusal.messages)
        if found is None:
            return "—"
        return gettext("Review #%(id)s, decided on %(decided)s, in force until %(until)s.") % {
            "id": found.ticket_id,
            "decided": found.decided_on,
            "until": found.valid_until,
        }

    @admin.display(description=_("residents (current decision)"))
    def counts(self, obj):
        counts = selectors.purpose_counts(obj)
        rows = [
            (gettext("opted in"), bucket(counts.opted_in)),
            (gettext("opted out"), bucket(counts.opted_out)),
            (gettext("to be asked again (new notice or expired)"), bucket(counts.ask_again)),
        ]
        return format_html("<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows))

    @admin.display(description=_("closing told to the services"))
    def recipients_told(self, obj):
        """How far the closing's notices to every service that received data have come."""
        progress = selectors.recipient_notices_progress(
            purpose_id=obj.pk, reason=RecipientNotice.Reason.PURPOSE_CLOSED
        )
        total = max(selectors.purpose_recipients_count(obj.pk), progress["produced"])
        return selectors.recipient_notices_progress_text(progress, total)

    def save_model(self, request, obj, form, change):
        pass  # saved with its many-to-many fields by the service, in save_related

    def save_related(self, request, form, formsets, change):
        data = form.cleaned_data
        services.purpose_save(
            actor=request.user,
            purpose=form.instance,
            categories=data["categories"],
            recipients=data["recipients"],
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            # The service refused after the form's checks (an approval ended or was suspended
            # meanwhile): the transaction is rolled back; say why and show the form again.
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return redirect(request.get_full_path())

    def _each(self, request, queryset, service, done):
        for purpose in queryset:
            try:
                service(actor=request.user, purpose=purpose)
            except ValidationError as error:
                self.message_user(request, f"{purpose}: {' '.join(error.messages)}", messages.ERROR)
            else:
                self.message_user(request, done % {"purpose": purpose}, messages.SUCCESS)

    @admin.action(description=_("Open for consent (publish the notice)"))
    def publish(self, request, queryset):
        self._each(request, queryset, services.purpose_publish, gettext("%(purpose)s is open."))

    @admin.action(description=_("Close (stop asking and stop all use)"))
    def close(self, request, queryset):
        self._each(request, queryset, services.purpose_close, gettext("%(purpose)s is closed."))


@admin.register(Notice)
class NoticeAdmin(SecretariatAdmin):
    """Frozen notice versions; the secretariat adds or corrects only the Easy Japanese text."""

    consortium_lookup = "purpose__consortium"
    list_display = ["purpose", "version", "published_at", "sha256"]
    list_filter = [("purpose", admin.RelatedOnlyFieldListFilter)]
    fields = [
        "purpose",
        "version",
        "published_at",
        "sha256",
        "text_ja",
        "text_en",
        "text_ja_easy",
        "terms",
    ]
    readonly_fields = [field for field in fields if field != "text_ja_easy"]

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        services.notice_easy_text_set(
            actor=request.user, notice=obj, text=form.cleaned_data["text_ja_easy"]
        )


# --- Consent records and receipts ------------------------------------------------------------


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlySecretariatAdmin):
    consortium_lookup = "purpose__consortium"
    list_display = ["decided_at", "resident", "purpose", "decision", "method", "notice_version"]
    list_filter = ["decision", "method", ("purpose", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["resident", "purpose", "notice"]
    search_fields = ["=receipt_id", "=resident__pseudonymous_id", "=paper_reference"]
    search_help_text = _("Search by receipt id, pseudonymous id or paper form reference.")
    show_full_result_count = False
    fields = [
        "receipt_id",
        "resident",
        "purpose",
        "notice",
        "decision",
        "decided_at",
        "method",
        "recorded_by",
        "paper_reference",
        "acted_by",
        "relationship",
        "representation",
        "expires_at",
        "receipt",
    ]
    readonly_fields = fields

    @admin.display(description=_("notice version"))
    def notice_version(self, obj):
        return obj.notice.version

    @admin.display(description=_("receipt"))
    def receipt(self, obj):
        claims = json.dumps(receipts.receipt_claims(obj), ensure_ascii=False, indent=2)
        url = reverse("admin:consent_consentrecord_receipt", args=[obj.pk])
        return format_html(
            '<pre>{}</pre><p><a href="{}">{}</a></p>',
            claims,
            url,
            gettext("Download the signed receipt"),
        )

    def get_urls(self):
        return [
            path(
                "<int:record_id>/receipt/",
                self.admin_site.admin_view(self.receipt_view),
                name="consent_consentrecord_receipt",
            )
        ] + super().get_urls()

    def receipt_view(self, request, record_id: int):
        record = self.get_queryset(request).filter(pk=record_id).first()
        if record is None or not self.has_view_permission(request, record):
            raise Http404("no such record")
        document = {
            "receipt": receipts.receipt_claims(record),
            "jws": receipts.receipt_jws(record),
            "verify_with": settings.PLATFORM_URL + reverse("jwks"),
        }
        response = HttpResponse(
            json.dumps(document, ensure_ascii=False, indent=2),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="consent-receipt-{record.receipt_id}.json"'
        )
        return response


# --- Residents -------------------------------------------------------------------------------


class RegisterResidentForm(forms.Form):
    """A resident without a smartphone, registered at the secretariat's counter."""

    consortium = forms.ModelChoiceField(label=_("consortium"), queryset=None)
    full_name = forms.CharField(label=pgettext_lazy("person", "name"), max_length=200)
    phone = forms.CharField(label=_("telephone"), max_length=32, required=False)
    contact_email = forms.EmailField(label=_("email address"), required=False)
    language = forms.ChoiceField(label=_("preferred language"), choices=settings.LANGUAGES)

    def __init__(self, *args, consortia, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consortium"].queryset = consortia


@admin.register(Resident)
class ResidentAdmin(SecretariatAdmin):
    consortium_lookup = "consortia"
    list_display = ["pseudonymous_id", "registered_at", "language", "has_account", "erased_at"]
    list_filter = ["language", ("consortia", admin.RelatedOnlyFieldListFilter)]
    # Exact matches only: the counter looks a resident up by id, name or telephone number.
    search_fields = ["=pseudonymous_id", "=profile__full_name", "=profile__phone"]
    search_help_text = _("Exact pseudonymous id, name or telephone number.")
    show_full_result_count = False
    fields = [
        "pseudonymous_id", "registered_at", "language", "erased_at", "details", "decisions",
        "representations",
    ]  # fmt: skip
    readonly_fields = fields

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # residents change their own details; the counter records paper decisions

    def get_search_results(self, request, queryset, search_term):
        # The whole entry is one exact term: a name has a space in it ("会津 松"), typed
        # half- or full-width.
        term = " ".join(search_term.replace("\u3000", " ").split())
        if not term:
            return queryset, False
        names = {term, term.replace(" ", "\u3000"), term.replace(" ", "")}
        found = queryset.filter(
            Q(pk=term.lower()) | Q(profile__full_name__in=names) | Q(profile__phone=term)
        )
        return found, False

    @admin.display(description=_("account"), boolean=True)
    def has_account(self, obj):
        return obj.user_id is not None

    @admin.display(description=_("personal details"))
    def details(self, obj):
        profile = getattr(obj, "profile", None)
        if profile is None:
            return gettext("erased")
        return format_html(
            "{}<br>{}<br>{}",
            profile.full_name or "—",
            profile.phone or "—",
            profile.contact_email or "—",
        )

    @admin.display(description=_("current decisions"))
    def decisions(self, obj):
        rows = [(state.purpose.title_ja, state.label) for state in selectors.dashboard(obj)]
        links = [
            (
                reverse("admin:consent_resident_paper", args=[obj.pk]),
                gettext("Record a paper decision"),
            ),
            (
                reverse("admin:consent_resident_counter", args=[obj.pk]),
                gettext("Record a decision made at the counter"),
            ),
        ]
        if obj.user_id is None and not obj.is_erased:
            links.append(
                (
                    reverse("admin:consent_resident_account", args=[obj.pk]),
                    gettext("Open a portal account"),
                )
            )
        table = format_html_join("", "<li>{}: {}</li>", rows)
        return format_html(
            "<ul>{}</ul><p>{}</p>",
            table,
            format_html_join(" ", '<a class="button" href="{}">{}</a>', links),
        )

    @admin.display(description=_("representations"))
    def representations(self, obj):
        found = Representation.objects.filter(Q(representative=obj) | Q(represented=obj)).order_by(
            "-pk"
        )
        rows = [
            (
                reverse("admin:consent_representation_change", args=[r.pk]),
                gettext("%(representative)s for %(represented)s")
                % {"representative": r.representative_id, "represented": r.represented_id or "?"},
                r.get_relationship_display(),
                r.get_state_display(),
            )
            for r in found
        ]
        if not rows:
            return "—"
        return format_html(
            "<ul>{}</ul>", format_html_join("", '<li><a href="{}">{}</a> ({}, {})</li>', rows)
        )

    def get_urls(self):
        return [
            path(
                "<str:resident_id>/paper/",
                self.admin_site.admin_view(self.paper_view),
                name="consent_resident_paper",
            ),
            path(
                "<str:resident_id>/counter/",
                self.admin_site.admin_view(self.counter_view),
                name="consent_resident_counter",
            ),
            path(
                "<str:resident_id>/account/",
                self.admin_site.admin_view(self.account_view),
                name="consent_resident_account",
            ),
        ] + super().get_urls()

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = RegisterResidentForm(request.POST or None, consortia=self.consortia(request))
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            resident = services.resident_register(
                actor=request.user,
                consortia=[data["consortium"]],
                language=data["language"],
                full_name=data["full_name"],
                phone=data["phone"],
                contact_email=data["contact_email"],
            )
            self.message_user(
                request,
                gettext("Registered resident %(id)s.") % {"id": resident.pseudonymous_id},
                messages.SUCCESS,
            )
            return redirect("admin:consent_resident_change", resident.pk)
        return self._form_page(request, form, gettext("Register a resident without a smartphone"))

    def _resident(self, request, resident_id: str) -> Resident:
        resident = self.get_queryset(request).filter(pk=resident_id).first()
        if resident is None or not self.is_secretariat(request):
            raise Http404("no such resident")
        return resident

    def _purposes(self, request, resident):
        scope = self.consortium_ids(request)
        purposes = Purpose.objects.filter(
            consortium__in=resident.consortia.all(),
            status__in=[Purpose.Status.OPEN, Purpose.Status.CLOSED],
        )
        if scope is not None:
            purposes = purposes.filter(consortium__in=scope)
        return purposes

    def counter_view(self, request, resident_id: str):
        """A decision the resident made at the counter with a clerk's help (channel counter)."""
        resident = self._resident(request, resident_id)
        return self._run_form(
            request,
            resident,
            CounterConsentForm(request.POST or None, purposes=self._purposes(request, resident)),
            act=lambda data: services.consent_record_counter(
                actor=request.user,
                resident=resident,
                purpose=data["purpose"],
                decision=data["decision"],
            ),
            done=gettext("The decision made at the counter is recorded."),
            title=gettext("Record a decision made at the counter for %(id)s"),
        )

    def account_view(self, request, resident_id: str):
        """Open a portal account for a resident without one (e.g. a child come of age)."""
        resident = self._resident(request, resident_id)
        return self._run_form(
            request,
            resident,
            AccountOpenForm(request.POST or None),
            act=lambda data: services.resident_account_open(
                actor=request.user, resident=resident, email=data["email"]
            ),
            done=gettext(
                "The account is open. The person sets their password with “Forgot your "
                "password?” on the portal's sign-in page."
            ),
            title=gettext("Open a portal account for %(id)s"),
        )

    def paper_view(self, request, resident_id: str):
        resident = self._resident(request, resident_id)
        return self._run_form(
            request,
            resident,
            PaperConsentForm(request.POST or None, purposes=self._purposes(request, resident)),
            act=lambda data: services.consent_record_paper(
                actor=request.user,
                resident=resident,
                purpose=data["purpose"],
                decision=data["decision"],
                paper_reference=data["paper_reference"],
            ),
            done=gettext("The paper decision is recorded."),
            title=gettext("Record a paper decision for %(id)s"),
        )

    def _run_form(self, request, resident, form, *, act, done: str, title: str):
        """
        A resident's form page: on a valid POST run ``act`` with the cleaned data; a refusal
        shows on the form with what was typed kept, success goes back to the resident's page.
        ``title`` takes the resident's pseudonymous id as ``%(id)s``.
        """
        if request.method == "POST" and form.is_valid():
            try:
                act(form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(request, done, messages.SUCCESS)
                return redirect("admin:consent_resident_change", resident.pk)
        return self._form_page(
            request, form, title % {"id": resident.pseudonymous_id}, resident=resident
        )

    def _form_page(self, request, form, title, **context):
        return TemplateResponse(
            request,
            "admin/consent/form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                "form": form,
                **context,
            },
        )


# --- Representatives ---------------------------------------------------------------------------


@admin.register(Representation)
class RepresentationAdmin(SecretariatAdmin):
    """
    代理: registered here with its evidence, or requested by a resident in the portal and
    approved or refused here; ended here (or by its dates, every day).
    """

    list_display = [
        "pk", "state", "relationship", "representative", "represented", "valid_from",
        "valid_until", "comes_of_age_on", "requested_at",
    ]  # fmt: skip
    list_filter = ["state", "relationship"]
    list_select_related = ["representative", "represented"]
    search_fields = ["=representative__pseudonymous_id", "=represented__pseudonymous_id"]
    # No search_help_text: Django's search box then names itself by the help alone, which
    # axe-core refuses (label-title-only).
    fields = [
        "consortium", "state", "representative", "represented", "requested_name", "relationship",
        "evidence_kind", "evidence_checked_by", "evidence_checked_on", "valid_from",
        "valid_until", "comes_of_age_on", "end_reason", "ended_on", "requested_at", "next_step",
    ]  # fmt: skip
    readonly_fields = fields
    actions = ["refuse", "end"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # each step is a service: add, approve, refuse, end

    @admin.display(description=_("next step"))
    def next_step(self, obj):
        if obj.state != Representation.State.REQUESTED:
            return "—"
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:consent_representation_approve", args=[obj.pk]),
            gettext("Check the evidence and approve"),
        )

    def get_urls(self):
        return [
            path(
                "<int:representation_id>/approve/",
                self.admin_site.admin_view(self.approve_view),
                name="consent_representation_approve",
            ),
        ] + super().get_urls()

    def _person(self, request, form, consortium):
        """Return the represented resident the form names, registering a new one if asked."""
        data = form.cleaned_data
        pid = data.get("represented", "").strip().lower()
        if pid:
            person = (
                Resident.objects.filter(pk=pid, consortia=consortium, erased_at__isnull=True)
                .distinct()
                .first()
            )
            if person is None:
                form.add_error(
                    "represented", gettext("No resident has this number in this consortium.")
                )
            return person
        return services.resident_register(
            actor=request.user, consortia=[consortium], full_name=data["new_person_name"].strip()
        )

    def _terms(self, data) -> dict:
        birth_date = data.get("birth_date")
        return {
            "evidence_kind": data["evidence_kind"],
            "evidence_checked_on": data["evidence_checked_on"],
            "valid_from": data["valid_from"],
            "valid_until": data.get("valid_until"),
            "comes_of_age_on": services.coming_of_age(birth_date) if birth_date else None,
        }

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        from django.utils import timezone

        today = timezone.localdate()
        form = RegisterRepresentationForm(
            request.POST or None,
            consortia=self.consortia(request),
            initial={"evidence_checked_on": today, "valid_from": today},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            consortium = data["consortium"]
            representative = (
                Resident.objects.filter(
                    pk=data["representative"].strip().lower(),
                    consortia=consortium,
                    erased_at__isnull=True,
                )
                .distinct()
                .first()
            )
            if representative is None:
                form.add_error(
                    "representative", gettext("No resident has this number in this consortium.")
                )
            else:
                try:
                    with transaction.atomic():
                        person = self._person(request, form, consortium)
                        if person is None:
                            raise ValidationError([])
                        representation = services.representation_register(
                            actor=request.user,
                            consortium=consortium,
                            representative=representative,
                            represented=person,
                            relationship=data["relationship"],
                            **self._terms(data),
                        )
                except ValidationError as error:
                    if error.messages:
                        form.add_error(None, error)
                else:
                    self.message_user(
                        request, gettext("The representation is registered."), messages.SUCCESS
                    )
                    return redirect("admin:consent_representation_change", representation.pk)
        return self._form_page(request, form, gettext("Register a representative"))

    def approve_view(self, request, representation_id: int):
        representation = self.get_queryset(request).filter(pk=representation_id).first()
        if representation is None or not self.is_secretariat(request):
            raise Http404("no such representation")
        if representation.state != Representation.State.REQUESTED:
            return redirect("admin:consent_representation_change", representation.pk)
        from django.utils import timezone

        today = timezone.localdate()
        form = ApproveRepresentationForm(
            request.POST or None,
            initial={
                "relationship": representation.relationship,
                "evidence_kind": representation.evidence_kind,
                "evidence_checked_on": today,
                "valid_from": today,
                "new_person_name": representation.requested_name,
            },
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    person = self._person(request, form, representation.consortium)
                    if person is None:
                        raise ValidationError([])
                    services.representation_approve(
                        actor=request.user,
                        representation=representation,
                        represented=person,
                        relationship=data["relationship"],
                        **self._terms(data),
                    )
            except ValidationError as error:
                if error.messages:
                    form.add_error(None, error)
            else:
                self.message_user(request, gettext("The request is approved."), messages.SUCCESS)
                return redirect("admin:consent_representation_change", representation.pk)
        return self._form_page(
            request,
            form,
            gettext("Approve the request of %(id)s") % {"id": representation.representative_id},
            requested_name=representation.requested_name,
        )

    def _form_page(self, request, form, title, **context):
        return TemplateResponse(
            request,
            "admin/consent/form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                "form": form,
                **context,
            },
        )

    def _each(self, request, queryset, service, done, **kwargs):
        for representation in queryset:
            try:
                service(actor=request.user, representation=representation, **kwargs)
            except ValidationError as error:
                self.message_user(
                    request, f"{representation}: {' '.join(error.messages)}", messages.ERROR
                )
            else:
                self.message_user(request, done % {"item": representation}, messages.SUCCESS)

    @admin.action(description=_("Refuse the selected requests"))
    def refuse(self, request, queryset):
        self._each(
            request, queryset, services.representation_refuse, gettext("%(item)s is refused.")
        )

    @admin.action(description=_("End the selected representations"))
    def end(self, request, queryset):
        self._each(
            request,
            queryset,
            services.representation_end,
            gettext("%(item)s has ended."),
            reason=Representation.EndReason.SECRETARIAT,
        )


# --- Withdrawal notices to recipients ----------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = _("confirmation")
    parameter_name = "confirmation"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("overdue")),
            ("open", _("not confirmed yet")),
            ("done", _("confirmed")),
        ]

    def queryset(self, request, queryset):
        from django.utils import timezone

        if self.value() == "overdue":
            return queryset.filter(confirmed_at__isnull=True, due_at__lt=timezone.now())
        if self.value() == "open":
            return queryset.filter(confirmed_at__isnull=True)
        if self.value() == "done":
            return queryset.filter(confirmed_at__isnull=False)
        return queryset


@admin.register(RecipientNotice)
class RecipientNoticeAdmin(ReadOnlySecretariatAdmin):
    """What each recipient service did with a withdrawal: overdue confirmations stand out."""

    consortium_lookup = "purpose__consortium"
    list_display = [
        "created_at", "service_name", "purpose", "reason", "delivered_at", "acknowledged_at",
        "confirmed_at", "outcome", "due_at",
    ]  # fmt: skip
    list_filter = [OverdueFilter, "reason", "outcome"]
    list_select_related = ["purpose"]
    search_fields = ["=jti", "=resident__pseudonymous_id"]
    fields = [
        "jti", "resident", "purpose", "organization", "service_name", "reason", "created_at",
        "delivered_at", "acknowledged_at", "confirmed_at", "outcome", "retained_until", "due_at",
        "push_attempts",
    ]  # fmt: skip
    readonly_fields = fields
