"""
The secretariat's workplace in the Django admin.

Every save goes through the services (``save_model``, ``save_formset``, actions); what the
services refuse is shown as a form error before anything is saved, and anything refused later
rolls the whole request back. A secretariat user sees and changes only the records of the
consortia they administer (``selectors.consortia_administered_by``); superusers see all.
Another consortium's record answers 404, as if it did not exist.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Model, Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from config.forms import IdsChoiceField, JapaneseDateField

from . import comparison, selectors, services
from .models import (
    Account,
    Attendance,
    BylawArticle,
    BylawVersion,
    Consortium,
    GeneralAssembly,
    Membership,
    Organization,
    Resolution,
    Role,
    Vote,
)
from .services.bylaws import RULE_FIELDS


def administered(request):
    """Return the consortia the requesting user administers (cached on the request)."""
    if not hasattr(request, "_governance_consortia"):
        request._governance_consortia = list(
            selectors.consortia_administered_by(request.user).values_list("pk", flat=True)
        )
    return request._governance_consortia


def adopt(target: Model, source: Model) -> None:
    """Make the admin's unsaved ``target`` the instance a service created (``source``)."""
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False
    target._state.db = source._state.db


def refused(form, error: ValidationError) -> None:
    """Put a service's refusal on the form, on the field it names when the form shows it."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def consortium_filter(lookup: str):
    """Return a list filter by consortium that offers only the consortia the user administers."""

    class ConsortiumFilter(admin.SimpleListFilter):
        title = _("consortium")
        parameter_name = "consortium"

        def lookups(self, request, model_admin):
            return [
                (consortium.pk, consortium.name_ja)
                for consortium in Consortium.objects.filter(pk__in=administered(request))
            ]

        def queryset(self, request, queryset):
            if self.value():
                return queryset.filter(**{lookup: self.value()})
            return queryset

    return ConsortiumFilter


class ScopedMixin:
    """Permissions and querysets limited to the consortia the user administers."""

    # The lookup from the model to its consortium's id.
    consortium_lookup = "consortium"

    def consortium_id_of(self, obj) -> int | None:
        value = obj
        for part in self.consortium_lookup.split("__"):
            value = getattr(value, part, None)
            if value is None:
                return None
        return value.pk if isinstance(value, Model) else value

    def may_administer(self, request, obj=None) -> bool:
        if not request.user.is_active or not request.user.is_staff:
            return False
        if request.user.is_superuser:
            return True
        consortia = administered(request)
        if obj is None:
            return bool(consortia)
        return self.consortium_id_of(obj) in consortia

    def has_module_permission(self, request) -> bool:
        return self.may_administer(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.may_administer(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.may_administer(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return self.may_administer(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # records of governance are kept; they end (left, ended) instead

    def scope(self, request, queryset):
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.consortium_lookup}__in": administered(request)})

    def get_queryset(self, request):
        return self.scope(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        consortia = None if request.user.is_superuser else administered(request)
        model = db_field.related_model
        if consortia is not None:
            if model is Consortium:
                kwargs["queryset"] = Consortium.objects.filter(pk__in=consortia)
            elif model is Organization:
                kwargs["queryset"] = selectors.organizations_visible_to(request.user)
            elif model in (Membership, BylawVersion, GeneralAssembly, Role):
                kwargs["queryset"] = model.objects.filter(consortium__in=consortia)
            elif model is Resolution:
                kwargs["queryset"] = Resolution.objects.filter(assembly__consortium__in=consortia)
            elif model is get_user_model():
                kwargs["queryset"] = selectors.people_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScopedAdmin(ScopedMixin, admin.ModelAdmin):
    # A chosen id beyond 64 bits is an unknown choice, not a database error.
    formfield_overrides = {
        models.ManyToManyField: {"form_class": IdsChoiceField},
        # Dates as clerks type them: Western or 和暦, with or without separators.
        models.DateField: {"form_class": JapaneseDateField, "widget": AdminDateWidget},
    }

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            # Another consortium's record and a missing one look the same.
            raise Http404(_("No such record."))
        return obj

    def delete_model(self, request, obj):
        # No governance record is deleted: members leave, terms end, drafts are superseded.
        raise PermissionDenied

    def delete_queryset(self, request, queryset):
        raise PermissionDenied

    def current(self, obj):
        """Return ``obj`` as stored (the admin's copy already holds the form's values)."""
        return type(obj).objects.get(pk=obj.pk)

    def changed(self, form, allowed) -> dict:
        return {name: form.cleaned_data[name] for name in form.changed_data if name in allowed}

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            # A service refused after the form checks (e.g. a concurrent change): the request's
            # transaction has been rolled back; say why and show the form again.
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def run_action(self, request, queryset, call, done_message) -> None:
        """Run ``call(obj)`` for each selected record, reporting refusals one by one."""
        done = 0
        for obj in queryset:
            try:
                call(obj)
                done += 1
            except ValidationError as error:
                self.message_user(request, f"{obj}: {' '.join(error.messages)}", messages.ERROR)
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)


def labelled_row_form(form_class):
    """
    Return ``form_class`` with every field naming itself and its row: a tabular inline shows
    a field's label only as its column's header, which a screen reader does not tie to the
    field (WCAG 1.3.1, 4.1.2).
    """

    class LabelledRowForm(form_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            row = str(self.instance) if self.instance.pk else ""
            for field in self.fields.values():
                # The admin wraps a foreign key's select (add and change links): the select.
                widget = getattr(field.widget, "widget", field.widget)
                if "aria-label" not in widget.attrs:
                    label = str(field.label or "")
                    widget.attrs["aria-label"] = f"{label} ({row})" if row else label

    LabelledRowForm.__name__ = form_class.__name__
    return LabelledRowForm


class ScopedInline(ScopedMixin):
    """An inline whose permissions follow its parent's consortium."""

    parent_lookup = "consortium"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if isinstance(self, admin.TabularInline):
            formset.form = labelled_row_form(formset.form)
        return formset

    def may_administer(self, request, obj=None) -> bool:
        if obj is None or obj.pk is None:
            return super().may_administer(request)
        if request.user.is_superuser:
            return request.user.is_active and request.user.is_staff
        value = obj
        for part in self.parent_lookup.split("__"):
            value = getattr(value, part)
        return request.user.is_staff and value.pk in administered(request)


class FormsetSaver:
    """Save inline formsets through services: ``save_inline(request, form, parent)``."""

    # The inline models saved through ``save_inline``; other inlines are read-only.
    saved_inline_models: tuple = ()

    def save_formset(self, request, form, formset, change):
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if formset.model not in self.saved_inline_models:
            return
        for inline_form in formset.deleted_forms:
            if inline_form.instance.pk:
                self.delete_inline(request, inline_form.instance)
                formset.deleted_objects.append(inline_form.instance)
        for inline_form in formset.forms:
            if inline_form in formset.deleted_forms or not inline_form.has_changed():
                continue
            is_new = inline_form.instance.pk is None
            saved = self.save_inline(request, inline_form, formset.instance)
            if is_new:
                formset.new_objects.append(saved)
            else:
                formset.changed_objects.append((saved, inline_form.changed_data))

    def delete_inline(self, request, obj):
        raise ValidationError(_("This record cannot be deleted."))


# --- Consortia and organisations -------------------------------------------------------------


@admin.register(Consortium)
class ConsortiumAdmin(ScopedAdmin):
    consortium_lookup = "pk"
    list_display = ["name_ja", "name_en", "area", "status", "established_on"]
    list_filter = ["status"]
    search_fields = ["name_ja", "name_en", "slug", "area"]
    fields = [
        "slug",
        "name_ja",
        "name_en",
        "area",
        "vision",
        "established_on",
        "status",
        "require_second_factor",
    ]

    def consortium_id_of(self, obj):
        return obj.pk

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        return ["slug"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            services.consortium_update(
                actor=request.user,
                consortium=self.current(obj),
                **self.changed(form, services.membership.CONSORTIUM_FIELDS),
            )
        else:
            data = form.cleaned_data
            adopt(
                obj,
                services.consortium_create(
                    actor=request.user, **{name: data[name] for name in self.fields}
                ),
            )


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["registered_by", "kind", "name_ja", "name_en", "corporate_number"]


@admin.register(Organization)
class OrganizationAdmin(ScopedAdmin):
    form = OrganizationForm
    consortium_lookup = "registered_by"
    list_display = ["name_ja", "name_en", "kind", "corporate_number"]
    list_filter = ["kind", consortium_filter("memberships__consortium")]
    search_fields = ["name_ja", "name_en", "corporate_number"]

    def get_queryset(self, request):
        return selectors.organizations_visible_to(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        if obj is None or request.user.is_superuser:
            return self.may_administer(request)
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def get_readonly_fields(self, request, obj=None):
        return ["registered_by"] if obj else []

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if not obj and not request.user.is_superuser and "registered_by" in form.base_fields:
            form.base_fields["registered_by"].required = True
        return form

    def save_model(self, request, obj, form, change):
        if change:
            services.organization_update(
                actor=request.user,
                organization=self.current(obj),
                **self.changed(form, services.membership.ORGANIZATION_FIELDS),
            )
        else:
            data = form.cleaned_data
            adopt(
                obj,
                services.organization_register(
                    actor=request.user,
                    registered_by=data["registered_by"],
                    kind=data["kind"],
                    name_ja=data["name_ja"],
                    name_en=data["name_en"],
                    corporate_number=data["corporate_number"],
                ),
            )


# --- Memberships, roles, ethics board --------------------------------------------------------


class MembershipStatusFilter(admin.SimpleListFilter):
    title = _("membership")
    parameter_name = "current"

    def lookups(self, request, model_admin):
        return [("yes", _("current members")), ("no", _("former members"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        current = Q(left_on__isnull=True) | Q(left_on__gte=today)
        if self.value() == "yes":
            return queryset.filter(current)
        if self.value() == "no":
            return queryset.exclude(current)
        return queryset


class RoleCurrentFilter(admin.SimpleListFilter):
    title = _("term")
    parameter_name = "term"

    def lookups(self, request, model_admin):
        return [("current", _("serving today")), ("ended", pgettext_lazy("chair term", "ended"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        current = Q(start_on__lte=today) & (Q(end_on__isnull=True) | Q(end_on__gte=today))
        if self.value() == "current":
            return queryset.filter(current)
        if self.value() == "ended":
            return queryset.filter(end_on__lt=today)
        return queryset


class MembershipForm(forms.ModelForm):
    leaving_reason = forms.ChoiceField(
        label=_("how the membership ends"),
        choices=Membership.EndReason.choices,
        initial=Membership.EndReason.LEFT,
        required=False,
        help_text=_(
            "With a leaving date: from that day the member's services stop, their grants are "
            "revoked and their open requests closed."
        ),
    )

    class Meta:
        model = Membership
        fields = [
            "consortium",
            "organization",
            "member_class",
            "representative",
            "joined_on",
            "admission_resolution",
            "left_on",
            "accepted_bylaw_version",
            "accepted_confidentiality",
            "accepted_ip_terms",
            "terms_accepted_on",
        ]

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and not self.errors:
            try:
                services.membership._check_admission(
                    consortium=data["consortium"],
                    member_class=data["member_class"],
                    joined_on=data["joined_on"],
                    admission_resolution=data.get("admission_resolution"),
                )
            except ValidationError as error:
                refused(self, error)
        return data


TERMS_FIELDS = [
    "accepted_bylaw_version",
    "accepted_confidentiality",
    "accepted_ip_terms",
    "terms_accepted_on",
]


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    form = MembershipForm
    list_display = ["organization", "consortium", "member_class", "joined_on", "left_on"]
    list_filter = [consortium_filter("consortium"), "member_class", MembershipStatusFilter]
    search_fields = ["organization__name_ja", "organization__name_en"]
    list_select_related = ["organization", "consortium"]
    fieldsets = [
        (None, {"fields": ["consortium", "organization", "member_class", "representative"]}),
        (
            _("Admission and leaving"),
            {
                "fields": [
                    "joined_on",
                    "admission_resolution",
                    "left_on",
                    "leaving_reason",
                    "end_reason",
                    "suspended_on",
                    "cut_off_at",
                ]
            },
        ),
        (_("Terms accepted"), {"fields": TERMS_FIELDS}),
    ]
    actions = ["suspend_today", "reinstate"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "accepted_bylaw_version":
            field.queryset = field.queryset.filter(status=BylawVersion.Status.ADOPTED)
        elif db_field.name == "admission_resolution":
            field.queryset = field.queryset.filter(
                kind=Resolution.Kind.ADMISSION, outcome=Resolution.Outcome.CARRIED
            )
        return field

    def get_readonly_fields(self, request, obj=None):
        ended = ["end_reason", "suspended_on", "cut_off_at"]
        if obj is None:
            return ["left_on", *ended]
        return ["consortium", "organization", "joined_on", "admission_resolution", *ended]

    @admin.action(description=_("Suspend the selected members from today (data flows stop)"))
    def suspend_today(self, request, queryset):
        self.run_action(
            request,
            queryset,
            lambda membership: services.membership_suspend(
                actor=request.user, membership=membership, suspended_on=timezone.localdate()
            ),
            _("%(count)d members suspended; their services and grants are cut off."),
        )

    @admin.action(description=_("End the selected members' suspension"))
    def reinstate(self, request, queryset):
        self.run_action(
            request,
            queryset,
            lambda membership: services.membership_reinstate(
                actor=request.user, membership=membership
            ),
            _("%(count)d members reinstated."),
        )

    def has_change_permission(self, request, obj=None) -> bool:
        # A former membership is history: it can only be read. Asked of the stored row, as the
        # form may already have put a leaving date on ``obj``.
        return super().has_change_permission(request, obj) and (
            obj is None or Membership.objects.filter(pk=obj.pk, left_on__isnull=True).exists()
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            adopt(
                obj,
                services.membership_admit(
                    actor=request.user,
                    consortium=data["consortium"],
                    organization=data["organization"],
                    member_class=data["member_class"],
                    joined_on=data["joined_on"],
                    representative=data.get("representative"),
                    admission_resolution=data.get("admission_resolution"),
                    accepted_bylaw_version=data.get("accepted_bylaw_version"),
                    accepted_confidentiality=data.get("accepted_confidentiality", False),
                    accepted_ip_terms=data.get("accepted_ip_terms", False),
                    terms_accepted_on=data.get("terms_accepted_on"),
                ),
            )
            return
        membership = self.current(obj)
        updates = self.changed(form, services.membership.MEMBERSHIP_FIELDS)
        if updates:
            membership = services.membership_update(
                actor=request.user, membership=membership, **updates
            )
        if set(form.changed_data) & set(TERMS_FIELDS):
            membership = services.membership_terms_accept(
                actor=request.user,
                membership=membership,
                bylaw_version=data["accepted_bylaw_version"],
                confidentiality=data["accepted_confidentiality"],
                ip_terms=data["accepted_ip_terms"],
                accepted_on=data["terms_accepted_on"],
            )
        if "left_on" in form.changed_data and data["left_on"]:
            services.membership_leave(
                actor=request.user,
                membership=membership,
                left_on=data["left_on"],
                reason=data.get("leaving_reason") or Membership.EndReason.LEFT,
            )


class RoleForm(forms.ModelForm):
    class Meta:
        model = Role
        fields = [
            "consortium",
            "kind",
            "user",
            "organization",
            "expertise",
            "start_on",
            "end_on",
            "elected_by",
        ]

    def _post_clean(self):
        super()._post_clean()  # the instance holds the form's values from here on
        if not self.errors:
            try:
                services.check_role(self.instance)
            except ValidationError as error:
                refused(self, error)


@admin.register(Role)
class RoleAdmin(ScopedAdmin):
    form = RoleForm
    list_display = ["kind", "user", "consortium", "organization", "expertise", "start_on", "end_on"]
    list_filter = [consortium_filter("consortium"), "kind", "expertise", RoleCurrentFilter]
    list_select_related = ["consortium", "user", "organization"]
    search_fields = ["user__username", "user__last_name", "organization__name_ja"]
    fields = [
        "consortium",
        "kind",
        "user",
        "organization",
        "expertise",
        "start_on",
        "end_on",
        "elected_by",
    ]

    def get_readonly_fields(self, request, obj=None):
        return ["consortium"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            services.role_update(
                actor=request.user,
                role=self.current(obj),
                **self.changed(form, services.membership.ROLE_FIELDS),
            )
        else:
            data = form.cleaned_data
            adopt(
                obj,
                services.role_assign(
                    actor=request.user, **{name: data.get(name) for name in self.fields}
                ),
            )


# --- Accounts of the consortium's people ----------------------------------------------------


class AccountInviteForm(forms.ModelForm):
    """The person's details: kept on their user account, never written to the audit log."""

    username = forms.CharField(label=_("user name"), max_length=150)
    last_name = forms.CharField(label=_("family name"), max_length=150)
    first_name = forms.CharField(label=_("given name"), max_length=150, required=False)
    email = forms.EmailField(
        label=_("e-mail address"), help_text=_("The invitation is sent to this address.")
    )
    staff = forms.BooleanField(
        label=_("may use the secretariat's admin"),
        required=False,
        help_text=_(
            "Only for secretariat clerks. Board members and representatives use their own pages."
        ),
    )

    class Meta:
        model = Account
        fields = ["consortium"]

    def clean_username(self):
        # Checked here as well as by the service, so that a taken name is a field error with
        # everything typed kept.
        username = self.cleaned_data["username"]
        user_model = get_user_model()
        for validator in user_model._meta.get_field("username").validators:
            validator(username)
        if user_model.objects.filter(username__iexact=username).exists():
            raise ValidationError(_("This user name is taken; choose another one."))
        return username


@admin.register(Account)
class AccountAdmin(ScopedAdmin):
    list_display = ["__str__", "full_name", "consortium", "state", "invited_at", "activated_at"]
    list_filter = [consortium_filter("consortium")]
    list_select_related = ["consortium", "user"]
    search_fields = ["user__username", "user__last_name", "user__first_name"]
    actions = ["resend_invitation", "deactivate", "reset_second_factor"]
    readonly_fields = [
        "__str__",
        "full_name",
        "email",
        "consortium",
        "state",
        "invited_by",
        "invited_at",
        "activated_at",
        "deactivated_at",
    ]

    @admin.display(description=pgettext_lazy("person", "name"))
    def full_name(self, obj):
        return obj.user.get_full_name()

    @admin.display(description=_("e-mail address"))
    def email(self, obj):
        return obj.user.email

    @admin.display(description=_("state"))
    def state(self, obj):
        return obj.get_state_display()

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = AccountInviteForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["consortium", "username", "last_name", "first_name", "email", "staff"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def has_change_permission(self, request, obj=None) -> bool:
        # An account changes through its actions (resend, deactivate), never by editing.
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        adopt(
            obj,
            services.account_invite(
                actor=request.user,
                base_url=request.build_absolute_uri("/"),
                **{name: data[name] for name in self.get_fields(request)},
            ),
        )

    @admin.action(description=_("Send the invitation again"))
    def resend_invitation(self, request, queryset):
        base_url = request.build_absolute_uri("/")
        self.run_action(
            request,
            queryset,
            lambda account: services.account_invitation_resend(
                actor=request.user, account=account, base_url=base_url
            ),
            _("Invitation sent again to %(count)d people."),
        )

    @admin.action(description=_("Deactivate the selected accounts"))
    def deactivate(self, request, queryset):
        self.run_action(
            request,
            queryset,
            lambda account: services.account_deactivate(actor=request.user, account=account),
            _("%(count)d accounts deactivated."),
        )

    @admin.action(description=_("Reset the second factor (lost passkeys, phone and codes)"))
    def reset_second_factor(self, request, queryset):
        self.run_action(
            request,
            queryset,
            lambda account: services.second_factor_reset(actor=request.user, account=account),
            _("Second factor reset for %(count)d people: each sets up a new one at next sign-in."),
        )


# --- Bylaws ----------------------------------------------------------------------------------


class ArticleInline(ScopedInline, admin.StackedInline):
    model = BylawArticle
    parent_lookup = "consortium"
    consortium_lookup = "version__consortium"
    extra = 0
    fields = ["number", "title_ja", "title_en", "text_ja", "text_en"]

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or obj.is_draft)

    def has_add_permission(self, request, obj=None) -> bool:
        return super().has_add_permission(request, obj) and (obj is None or obj.is_draft)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)


class BylawVersionForm(forms.ModelForm):
    class Meta:
        model = BylawVersion
        fields = ["consortium", "title_ja", "title_en", "based_on", *sorted(RULE_FIELDS)]

    def clean_based_on(self):
        based_on = self.cleaned_data.get("based_on")
        consortium = self.cleaned_data.get("consortium") or getattr(
            self.instance, "consortium", None
        )
        if based_on and consortium and based_on.consortium_id != consortium.pk:
            raise ValidationError(_("Choose a version of this consortium's bylaws."))
        return based_on


@admin.register(BylawVersion)
class BylawVersionAdmin(FormsetSaver, ScopedAdmin):
    saved_inline_models = (BylawArticle,)
    form = BylawVersionForm
    inlines = [ArticleInline]
    list_display = ["title_ja", "number", "consortium", "status", "adopted_on", "effective_on"]
    list_filter = [consortium_filter("consortium"), "status"]
    search_fields = ["title_ja", "title_en", "articles__title_ja", "articles__text_ja"]
    list_select_related = ["consortium"]
    fieldsets = [
        (None, {"fields": ["consortium", "number", "title_ja", "title_en", "based_on"]}),
        (
            _("Adoption"),
            {"fields": ["status", "adopted_on", "adopted_by", "effective_on", "compare"]},
        ),
        (
            _("Rules the platform enforces"),
            {
                "fields": [
                    ("quorum_numerator", "quorum_denominator"),
                    "proxies_counted",
                    "majority_basis",
                    ("special_majority_numerator", "special_majority_denominator"),
                    "associates_may_vote",
                    "admission_requires_resolution",
                ]
            },
        ),
    ]
    ADOPTION = ["number", "status", "adopted_on", "adopted_by", "effective_on", "compare"]
    actions = ["establish"]

    @admin.action(
        description=_("Record as the founding bylaws (in force from the established date)")
    )
    def establish(self, request, queryset):
        def call(version):
            established = version.consortium.established_on
            if established is None:
                raise ValidationError(
                    _(
                        "Enter the consortium's established date first: the founding bylaws are in "
                        "force from that day."
                    )
                )
            services.bylaw_version_establish(
                actor=request.user,
                version=version,
                adopted_on=established,
                effective_on=established,
            )

        self.run_action(
            request, queryset, call, _("%(count)d versions recorded as founding bylaws.")
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.ADOPTION
        return ["consortium", "based_on", *self.ADOPTION]

    def has_change_permission(self, request, obj=None) -> bool:
        # An adopted version, or one members are voting on, is a fixed text: it can only be read.
        return super().has_change_permission(request, obj) and (
            obj is None
            or (
                obj.is_draft
                and not Vote.objects.filter(
                    resolution__bylaw_version=obj, resolution__status=Resolution.Status.OPEN
                ).exists()
            )
        )

    @admin.display(description=_("comparison"))
    def compare(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        url = reverse("admin:governance_bylawversion_compare", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Compare with another version"))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.bylaw_version_update(
                actor=request.user,
                version=self.current(obj),
                **self.changed(form, services.bylaws.VERSION_FIELDS),
            )
        else:
            adopt(
                obj,
                services.bylaw_version_create(
                    actor=request.user,
                    consortium=data["consortium"],
                    title_ja=data["title_ja"],
                    title_en=data["title_en"],
                    based_on=data.get("based_on"),
                    **({} if data.get("based_on") else {f: data[f] for f in RULE_FIELDS}),
                ),
            )

    def save_inline(self, request, form, version):
        data = form.cleaned_data
        return services.bylaw_article_set(
            actor=request.user,
            version=version,
            number=data["number"],
            title_ja=data["title_ja"],
            title_en=data["title_en"],
            text_ja=data["text_ja"],
            text_en=data["text_en"],
            article=BylawArticle.objects.get(pk=form.instance.pk) if form.instance.pk else None,
        )

    def delete_inline(self, request, obj):
        services.bylaw_article_delete(actor=request.user, article=obj)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/compare/",
                self.admin_site.admin_view(self.compare_view),
                name="governance_bylawversion_compare",
            ),
            *super().get_urls(),
        ]

    def compare_view(self, request, object_id):
        """新旧対照表: this version against another of the same consortium, article by article."""
        try:
            new = selectors.access_bylaw_version(request.user, object_id)
            other_id = request.GET.get("with") or new.based_on_id
            old = selectors.access_bylaw_version(request.user, other_id) if other_id else None
        except BylawVersion.DoesNotExist:
            raise Http404(_("No such record.")) from None
        siblings = BylawVersion.objects.filter(consortium_id=new.consortium_id).exclude(pk=new.pk)
        if old is None:
            old = siblings.filter(number__lt=new.number).order_by("-number").first()
        elif old.consortium_id != new.consortium_id or old.pk == new.pk:
            raise Http404(_("No such record."))
        changes = comparison.compare_versions(old, new) if old else []
        # A clerk checking an amendment of a long bylaw reads the changed articles only.
        changes_only = request.GET.get("show") == "changes"
        shown = (
            [c for c in changes if c.status != comparison.UNCHANGED] if changes_only else changes
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Compare bylaw versions"),
            "new": new,
            "old": old,
            "siblings": siblings.order_by("-number"),
            "changes": shown,
            "changes_only": changes_only,
            "hidden_unchanged": len(changes) - len(shown),
            "rule_changes": comparison.rule_changes(old, new) if old else [],
        }
        return TemplateResponse(request, "admin/governance/bylawversion/compare.html", context)


# --- General assemblies ----------------------------------------------------------------------


class AttendanceForm(forms.ModelForm):
    class Meta:
        model = Attendance
        fields = ["membership", "status", "proxy_holder"]

    def _post_clean(self):
        super()._post_clean()
        if not self.errors and self.instance.assembly_id and self.instance.membership_id:
            try:
                services.check_attendance(self.instance)
            except ValidationError as error:
                refused(self, error)


class AttendanceInline(ScopedInline, admin.TabularInline):
    model = Attendance
    form = AttendanceForm
    parent_lookup = "consortium"
    consortium_lookup = "assembly__consortium"
    extra = 0
    fields = ["membership", "status", "proxy_holder"]

    def get_readonly_fields(self, request, obj=None):
        return ["membership"] if obj else []

    def has_change_permission(self, request, obj=None) -> bool:
        frozen = (
            obj is not None and obj.resolutions.filter(status=Resolution.Status.CLOSED).exists()
        )
        return super().has_change_permission(request, obj) and not frozen

    def has_add_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)


class ResolutionSummaryInline(ScopedInline, admin.TabularInline):
    model = Resolution
    parent_lookup = "consortium"
    consortium_lookup = "assembly__consortium"
    extra = 0
    fields = ["number", "kind", "title_ja", "status", "outcome"]
    readonly_fields = fields
    show_change_link = True
    verbose_name_plural = _("resolutions (open one to record its votes)")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(GeneralAssembly)
class GeneralAssemblyAdmin(FormsetSaver, ScopedAdmin):
    saved_inline_models = (Attendance,)
    inlines = [AttendanceInline, ResolutionSummaryInline]
    list_display = ["title_ja", "consortium", "held_on", "kind", "place", "online"]
    list_filter = [consortium_filter("consortium"), "kind", "online"]
    list_select_related = ["consortium"]
    search_fields = ["title_ja", "title_en", "place", "agenda"]
    date_hierarchy = "held_on"
    fields = ["consortium", "kind", "title_ja", "title_en", "held_on", "place", "online", "agenda"]
    actions = ["prepare_attendance"]

    def get_readonly_fields(self, request, obj=None):
        return ["consortium"] if obj else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.assembly_update(
                actor=request.user,
                assembly=self.current(obj),
                **self.changed(form, services.assemblies.ASSEMBLY_FIELDS),
            )
        else:
            adopt(
                obj,
                services.assembly_create(
                    actor=request.user, **{name: data[name] for name in self.fields}
                ),
            )

    def save_inline(self, request, form, assembly):
        data = form.cleaned_data
        return services.attendance_record(
            actor=request.user,
            assembly=assembly,
            membership=form.instance.membership if form.instance.pk else data["membership"],
            status=data["status"],
            proxy_holder=data.get("proxy_holder", ""),
        )

    @admin.action(description=_("Record attendance: list every member, absent until marked"))
    def prepare_attendance(self, request, queryset):
        self.run_action(
            request,
            queryset,
            lambda assembly: services.attendance_prepare(actor=request.user, assembly=assembly),
            _("Attendance lists prepared for %(count)d assemblies; mark who is present."),
        )


class VoteForm(forms.ModelForm):
    class Meta:
        model = Vote
        fields = ["membership", "choice"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A tabular row's fields have only the column's header: each names itself, so that a
        # screen reader says whose vote a select is (WCAG 4.1.2).
        if "membership" in self.fields:
            widget = self.fields["membership"].widget
            # The admin wraps a foreign key's select (add and change links): label the select.
            getattr(widget, "widget", widget).attrs["aria-label"] = _("member who votes")
        if "choice" in self.fields:
            member = self.instance.membership if self.instance.membership_id else None
            self.fields["choice"].widget.attrs["aria-label"] = (
                _("vote of %(member)s") % {"member": member} if member else _("vote")
            )

    def clean(self):
        data = super().clean()
        resolution = self.instance.resolution if self.instance.resolution_id else None
        if not self.errors and resolution and self.instance.pk is None and data.get("membership"):
            try:
                services.check_vote(resolution, data["membership"])
            except ValidationError as error:
                refused(self, error)
        return data


class VoteInline(ScopedInline, admin.TabularInline):
    model = Vote
    form = VoteForm
    parent_lookup = "assembly__consortium"
    consortium_lookup = "resolution__assembly__consortium"
    extra = 0
    fields = ["membership", "choice"]

    def get_readonly_fields(self, request, obj=None):
        return ["membership"]

    def get_fields(self, request, obj=None):
        return self.fields

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or obj.is_open)

    def has_add_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)


class NewVoteInline(VoteInline):
    """Rows for new votes: the member is chosen here."""

    verbose_name_plural = _("record votes")
    extra = 1

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def get_readonly_fields(self, request, obj=None):
        return []

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_add_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        resolution = getattr(request, "_governance_resolution", None)
        if db_field.name == "membership" and resolution is not None:
            # The members who may still vote: present (or by proxy where proxies count), of a
            # class the bylaws in force let vote, and not voted yet. The service checks again.
            assembly = resolution.assembly
            bylaws = selectors.bylaw_in_force(assembly.consortium, assembly.held_on)
            statuses = [Attendance.Status.PRESENT]
            if bylaws is None or bylaws.proxies_counted:
                statuses.append(Attendance.Status.PROXY)
            attending = Attendance.objects.filter(assembly=assembly, status__in=statuses).values(
                "membership"
            )
            members = Membership.objects.filter(pk__in=attending)
            if bylaws is not None:
                members = members.filter(member_class__in=selectors.voting_classes(bylaws))
            field.queryset = members.exclude(votes__resolution=resolution).select_related(
                "organization"
            )
        return field


class RecordedVoteInline(VoteInline):
    verbose_name_plural = _("votes recorded")
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Resolution)
class ResolutionAdmin(FormsetSaver, ScopedAdmin):
    saved_inline_models = (Vote,)
    consortium_lookup = "assembly__consortium"
    inlines = [RecordedVoteInline, NewVoteInline]
    list_display = ["__str__", "assembly", "kind", "status", "outcome"]
    list_filter = [consortium_filter("assembly__consortium"), "status", "outcome", "kind"]
    search_fields = ["title_ja", "title_en", "text", "assembly__title_ja"]
    list_select_related = ["assembly"]
    actions = ["close_vote"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "assembly",
                    "number",
                    "kind",
                    "title_ja",
                    "title_en",
                    "text",
                    "bylaw_version",
                    "amendment_effective_on",
                ]
            },
        ),
        (
            _("Outcome (computed from the votes and the bylaws in force)"),
            {
                "fields": [
                    "status",
                    "outcome",
                    "live_tally",
                    "bylaws_applied",
                    "rule_applied",
                    "regular_members",
                    "members_present",
                    ("votes_for", "votes_against", "votes_abstain"),
                    "closed_at",
                ]
            },
        ),
    ]
    COMPUTED = [
        "number",
        "status",
        "outcome",
        "live_tally",
        "bylaws_applied",
        "rule_applied",
        "regular_members",
        "members_present",
        "votes_for",
        "votes_against",
        "votes_abstain",
        "closed_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        return ["assembly", *self.COMPUTED] if obj else self.COMPUTED

    def has_change_permission(self, request, obj=None) -> bool:
        # Closing a vote freezes the resolution: from then on it can only be read.
        return super().has_change_permission(request, obj) and (obj is None or obj.is_open)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "bylaw_version":
            field.queryset = field.queryset.filter(status=BylawVersion.Status.DRAFT)
        return field

    def get_inline_instances(self, request, obj=None):
        request._governance_resolution = obj
        if obj is None:
            return []
        return super().get_inline_instances(request, obj)

    @admin.display(description=_("count so far"))
    def live_tally(self, obj):
        if obj is None or obj.pk is None or not obj.is_open:
            return "—"
        bylaws = selectors.bylaw_in_force(obj.assembly.consortium, obj.assembly.held_on)
        if bylaws is None:
            return _("No bylaws in force on the assembly date.")
        tally = selectors.resolution_tally(obj, bylaws)
        return _(
            "%(present)d of %(regular)d regular members present; for %(for)d, against "
            "%(against)d, abstain %(abstain)d; if closed now: %(outcome)s"
        ) % {
            "present": tally.members_present,
            "regular": tally.regular_members,
            "for": tally.votes_for,
            "against": tally.votes_against,
            "abstain": tally.votes_abstain,
            "outcome": Resolution.Outcome(tally.outcome).label,
        }

    @admin.display(description=_("rule applied"))
    def rule_applied(self, obj):
        """The bylaws' rule for this kind of resolution and the figures it was applied to."""
        if obj is None or obj.pk is None:
            return "—"
        bylaws = obj.bylaws_applied or selectors.bylaw_in_force(
            obj.assembly.consortium, obj.assembly.held_on
        )
        if bylaws is None:
            return _("No bylaws in force on the assembly date.")
        tally = selectors.resolution_tally(obj, bylaws)
        counted = _("proxies counted")
        proxies = f" ({counted})" if bylaws.proxies_counted else ""
        quorum = _(
            "Quorum: at least %(num)d/%(den)d of the %(regular)d regular members present"
            "%(proxies)s; %(present)d present: %(verdict)s."
        ) % {
            "num": bylaws.quorum_numerator,
            "den": bylaws.quorum_denominator,
            "regular": tally.regular_members,
            "proxies": proxies,
            "present": tally.members_present,
            "verdict": pgettext_lazy("quorum", "met")
            if tally.quorum_met
            else pgettext_lazy("quorum", "not met"),
        }
        basis = (
            _("the voting members present")
            if bylaws.majority_basis == BylawVersion.MajorityBasis.PRESENT
            else _("the votes cast for and against")
        )
        if tally.special:
            needed = _("at least %(num)d/%(den)d of %(basis)s (special majority)") % {
                "num": bylaws.special_majority_numerator,
                "den": bylaws.special_majority_denominator,
                "basis": basis,
            }
        else:
            needed = _("more than half of %(basis)s") % {"basis": basis}
        majority = _("Majority: %(needed)s, here %(base)d; %(for)d in favour.") % {
            "needed": needed,
            "base": tally.majority_base,
            "for": tally.votes_for,
        }
        return format_html("{}<br>{}", quorum, majority)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class CheckedForm(form):
            def _post_clean(self):
                super()._post_clean()
                if not self.errors and self.instance.assembly_id:
                    try:
                        services.check_resolution(self.instance)
                    except ValidationError as error:
                        refused(self, error)

        return CheckedForm

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            if form.changed_data:
                services.resolution_update(
                    actor=request.user,
                    resolution=self.current(obj),
                    **self.changed(form, services.assemblies.RESOLUTION_FIELDS),
                )
        else:
            adopt(
                obj,
                services.resolution_propose(
                    actor=request.user,
                    assembly=data["assembly"],
                    kind=data["kind"],
                    title_ja=data["title_ja"],
                    title_en=data["title_en"],
                    text=data["text"],
                    bylaw_version=data.get("bylaw_version"),
                    amendment_effective_on=data.get("amendment_effective_on"),
                ),
            )

    def save_inline(self, request, form, resolution):
        data = form.cleaned_data
        if form.instance.pk:
            return services.resolution_vote_change(
                actor=request.user,
                vote=Vote.objects.get(pk=form.instance.pk),
                choice=data["choice"],
            )
        return services.resolution_vote_cast(
            actor=request.user,
            resolution=resolution,
            membership=data["membership"],
            choice=data["choice"],
        )

    @admin.action(description=_("Close the vote and compute the outcome"))
    def close_vote(self, request, queryset):
        self.run_action(
            request,
            queryset,
            lambda resolution: services.resolution_close(actor=request.user, resolution=resolution),
            _("%(count)d votes closed; their outcome is frozen."),
        )


# --- Second factors ------------------------------------------------------------------------------

# django-otp's and django-otp-webauthn's own admin pages would delete or change a person's
# second factor without a service function (and without an audit entry): a lost device is
# reset by the consortium's secretariat (*Accounts* → "reset the second factor"), and each
# person manages their own on the second factor's page.
for _label in (
    "otp_totp.TOTPDevice",
    "otp_static.StaticDevice",
    "django_otp_webauthn.WebAuthnCredential",
    "django_otp_webauthn.WebAuthnAttestation",
    "django_otp_webauthn.WebAuthnUserHandle",
):
    from django.apps import apps as _apps

    _model = _apps.get_model(_label)
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
