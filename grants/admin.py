"""
The secretariat's grants pages in the Django admin: member services and their client secrets,
grants (issued for approved tickets, suspended, reinstated, revoked), webhook deliveries, and
the rule that issues grants on approval with what it did for each approval.

A clerk sees and acts on the consortia they administer only (governance's rule); a superuser on
all. Every change goes through a service, so that it is validated and audited.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.ids import parse_id
from consent import selectors as consent_selectors
from consent.selectors import secretariat_consortium_ids
from governance.models import Consortium, Organization
from review.models import ReviewTicket

from . import selectors, services
from .models import (
    AutoIssuance,
    Grant,
    IssuanceRule,
    OpenIDClient,
    Service,
    ServiceCredential,
    WebhookDelivery,
)


class ScopedAdmin(admin.ModelAdmin):
    """Rights come from secretariat membership: clerks act on their own consortia only."""

    consortium_lookup = "consortium"

    def scope(self, request) -> list[int] | None:
        if not hasattr(request, "_grants_scope"):
            request._grants_scope = secretariat_consortium_ids(request.user)
        return request._grants_scope

    def is_secretariat(self, request) -> bool:
        scope = self.scope(request)
        return request.user.is_active and request.user.is_staff and (scope is None or bool(scope))

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        scope = self.scope(request)
        if scope is None:
            return queryset
        return queryset.filter(**{f"{self.consortium_lookup}__in": scope})

    def get_object(self, request, object_id, from_field=None):
        # Another consortium's object answers as a missing one does: 404, whoever asks.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(gettext("Not found."))
        return obj

    def in_scope(self, request, obj) -> bool:
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request) -> bool:
        return self.is_secretariat(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.is_secretariat(request) and self.in_scope(request, obj)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def consortia(self, request):
        scope = self.scope(request)
        return (
            Consortium.objects.all() if scope is None else Consortium.objects.filter(pk__in=scope)
        )

    def form_page(self, request, form, title):
        return TemplateResponse(
            request,
            "admin/grants/form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "form": form,
                "title": title,
            },
        )


# --- Services and their credentials ----------------------------------------------------------


class ServiceForm(forms.ModelForm):
    webhook_url = forms.URLField(
        label=_("webhook URL"),
        required=False,
        assume_scheme="https",
        help_text=_("Revocations and suspensions of this service's grants are posted here."),
    )

    events_url = forms.URLField(
        label=_("security event push URL"),
        required=False,
        assume_scheme="https",
        help_text=Service._meta.get_field("events_url").help_text,
    )

    class Meta:
        model = Service
        fields = ["consortium", "organization", "name", "webhook_url", "events_url", "is_active"]


class CredentialInline(admin.TabularInline):
    model = ServiceCredential
    fields = ["client_id", "created_at", "expires_at", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None) -> bool:
        return True  # the service's page is scoped; its credentials go with it

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Service)
class ServiceAdmin(ScopedAdmin):
    form = ServiceForm
    list_display = ["name", "organization", "consortium", "is_active", "webhook_url"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    inlines = [CredentialInline]
    actions = ["issue_secret", "revoke_credentials"]

    def has_add_permission(self, request) -> bool:
        return self.is_secretariat(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.is_secretariat(request) and self.in_scope(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return ["consortium", "organization"] if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "consortium":
            kwargs["queryset"] = self.consortia(request)
        if db_field.name == "organization":
            kwargs["queryset"] = Organization.objects.filter(
                memberships__consortium__in=self.consortia(request)
            ).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.service_update(
                actor=request.user,
                service=obj,
                name=data["name"],
                webhook_url=data["webhook_url"],
                is_active=data["is_active"],
                events_url=data["events_url"],
            )
            return
        saved = services.service_register(
            actor=request.user,
            consortium=data["consortium"],
            organization=data["organization"],
            name=data["name"],
            webhook_url=data["webhook_url"],
            events_url=data["events_url"],
        )
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        # Credentials are issued and revoked by the actions, never edited: nothing to save.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    @admin.action(description=_("Issue a new client secret (the old one works for 24 hours)"))
    def issue_secret(self, request, queryset):
        for service in queryset:
            credential, secret = services.credential_issue(actor=request.user, service=service)
            messages.warning(
                request,
                gettext(
                    "%(service)s: client id %(client_id)s, secret %(secret)s. Copy the secret "
                    "now: it is shown only once and stored only as a hash."
                )
                % {"service": service.name, "client_id": credential.client_id, "secret": secret},
            )

    @admin.action(description=_("Revoke every client secret now (a leaked secret)"))
    def revoke_credentials(self, request, queryset):
        count = 0
        for service in queryset:
            for credential in service.credentials.filter(revoked_at__isnull=True):
                services.credential_revoke(actor=request.user, credential=credential)
                count += 1
        messages.success(request, gettext("%(n)d credential(s) revoked.") % {"n": count})


# --- Grants ----------------------------------------------------------------------------------


class GrantIssueForm(forms.Form):
    service = forms.ModelChoiceField(queryset=Service.objects.none(), label=_("service"))
    ticket = forms.ModelChoiceField(
        queryset=ReviewTicket.objects.none(), label=_("approved review ticket")
    )
    expires_at = forms.DateTimeField(
        label=_("expires at"),
        required=False,
        help_text=_("Empty: at the end of the approval's term."),
    )

    def __init__(self, *args, consortia, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(
            consortium__in=consortia, is_active=True
        )
        self.fields["ticket"].queryset = ReviewTicket.objects.filter(
            consortium__in=consortia, state=ReviewTicket.State.APPROVED
        )


@admin.register(Grant)
class GrantAdmin(ScopedAdmin):
    list_display = ["jti", "service", "purpose", "status", "status_reason", "expires_at", "kid"]
    list_filter = ["status"]
    search_fields = ["jti"]
    list_select_related = ["service", "purpose"]
    readonly_fields = [
        "jti", "consortium", "service", "purpose", "ticket_id", "audience", "categories",
        "conditions", "issued_at", "not_before", "expires_at", "kid", "algorithm", "status",
        "status_reason", "status_changed_at", "residents_told", "token",
    ]  # fmt: skip
    actions = ["suspend", "reinstate", "revoke"]

    @admin.display(description=_("end told to the service"))
    def residents_told(self, obj):
        """How far the notices of the grant's end, one per resident it released, have come."""
        if not services.events.grant_end_tells_residents(obj):
            return "—"
        progress = consent_selectors.recipient_notices_progress(
            purpose_id=obj.purpose_id, reason="grant_ended", grant_jti=obj.jti
        )
        total = max(
            len(consent_selectors.residents_with_data_released_under(obj.jti)),
            progress["produced"],
        )
        return consent_selectors.recipient_notices_progress_text(progress, total)

    def has_add_permission(self, request) -> bool:
        return self.is_secretariat(request)

    def has_change_permission(self, request, obj=None) -> bool:
        # Actions need it; every field is read-only.
        return self.is_secretariat(request) and self.in_scope(request, obj)

    def get_urls(self):
        return [
            path("issue/", self.admin_site.admin_view(self.issue_view), name="grants_grant_issue"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:grants_grant_issue")

    def issue_view(self, request):
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = GrantIssueForm(
            request.POST or None,
            consortia=self.consortia(request),
            initial=self.issue_initial(request),
        )
        if request.method == "POST" and form.is_valid():
            try:
                grant = services.grant_issue(
                    actor=request.user,
                    service=form.cleaned_data["service"],
                    ticket=form.cleaned_data["ticket"],
                    expires_at=form.cleaned_data["expires_at"],
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, gettext("Grant %(jti)s issued.") % {"jti": grant.jti})
                return redirect(reverse("admin:grants_grant_change", args=[grant.pk]))
        return self.form_page(request, form, gettext("Issue a grant"))

    def issue_initial(self, request) -> dict:
        """
        ``?ticket=<id>`` (the link on an automatic issuance that issued nothing) chooses that
        approved ticket and the service it names, if both are within the clerk's consortia.
        """
        pk = parse_id(request.GET.get("ticket", ""))
        if pk is None:
            return {}
        ticket = ReviewTicket.objects.filter(
            consortium__in=self.consortia(request), state=ReviewTicket.State.APPROVED, pk=pk
        ).first()
        if ticket is None:
            return {}
        service = selectors.ticket_service(ticket)
        return {"ticket": ticket.pk, "service": service.pk if service else None}

    def _each(self, request, queryset, change, done):
        count = 0
        for grant in queryset:
            try:
                change(grant)
                count += 1
            except ValidationError as error:
                messages.error(request, f"{grant.jti}: {' '.join(error.messages)}")
        if count:
            messages.success(request, done % {"n": count})

    @admin.action(description=_("Suspend the selected grants"))
    def suspend(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda g: services.grant_suspend(
                actor=request.user, grant=g, reason=Grant.Reason.SECRETARIAT
            ),
            gettext("%(n)d grant(s) suspended."),
        )

    @admin.action(description=_("Reinstate the selected suspended grants"))
    def reinstate(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda g: services.grant_reinstate(actor=request.user, grant=g),
            gettext("%(n)d grant(s) reinstated."),
        )

    @admin.action(description=_("Revoke the selected grants (secretariat decision)"))
    def revoke(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda g: services.grant_revoke(
                actor=request.user, grant=g, reason=Grant.Reason.SECRETARIAT
            ),
            gettext("%(n)d grant(s) revoked."),
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ScopedAdmin):
    consortium_lookup = "service__consortium"
    list_display = ["at", "service", "event", "attempt", "status_code", "delivered", "error"]
    list_filter = ["delivered"]
    list_select_related = ["service", "event"]


# --- Automatic issuance on approval ------------------------------------------------------------


class IssuanceRuleForm(forms.ModelForm):
    class Meta:
        model = IssuanceRule
        fields = ["consortium", "enabled", "algorithm", "third_party_provision"]


@admin.register(IssuanceRule)
class IssuanceRuleAdmin(ScopedAdmin):
    form = IssuanceRuleForm
    list_display = ["consortium", "enabled", "algorithm", "third_party_provision", "updated_at"]
    list_filter = ["enabled"]

    def has_add_permission(self, request) -> bool:
        return self.is_secretariat(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.is_secretariat(request) and self.in_scope(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return ["consortium"] if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "consortium":
            # One rule per consortium: offer the clerk's consortia that have none yet.
            kwargs["queryset"] = self.consortia(request).filter(issuance_rule__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.issuance_rule_set(
            actor=request.user,
            consortium=obj.consortium if change else data["consortium"],
            enabled=data["enabled"],
            algorithm=data["algorithm"],
            third_party_provision=data["third_party_provision"],
        )
        obj.pk = saved.pk


@admin.register(AutoIssuance)
class AutoIssuanceAdmin(ScopedAdmin):
    list_display = ["at", "consortium", "ticket_id", "outcome", "grant_link", "reason"]
    list_filter = ["outcome"]
    search_fields = ["=ticket_id"]
    list_select_related = ["consortium", "grant"]
    readonly_fields = ["at", "consortium", "ticket_id", "outcome", "reason", "grant_link"]
    fields = readonly_fields

    def get_queryset(self, request):
        # Where the rule issued nothing: the grant the secretariat has issued since, if any.
        later = Grant.objects.filter(ticket_id=OuterRef("ticket_id")).order_by("-issued_at")
        return (
            super()
            .get_queryset(request)
            .annotate(
                later_grant_id=Subquery(later.values("pk")[:1]),
                later_grant_jti=Subquery(later.values("jti")[:1]),
            )
        )

    @admin.display(description=_("grant"))
    def grant_link(self, obj):
        if obj.grant is not None:
            url = reverse("admin:grants_grant_change", args=[obj.grant_id])
            return format_html('<a href="{}">{}</a>', url, obj.grant.jti)
        if getattr(obj, "later_grant_id", None):
            url = reverse("admin:grants_grant_change", args=[obj.later_grant_id])
            return format_html(
                '<a href="{}">{}</a> ({})', url, obj.later_grant_jti, gettext("issued by hand")
            )
        url = reverse("admin:grants_grant_issue") + f"?ticket={obj.ticket_id}"
        return format_html('<a href="{}">{}</a>', url, gettext("Issue the grant"))


# --- OpenID clients ------------------------------------------------------------------------------

# The toolkit's own admin pages would change clients and tokens without a service function (and
# without an audit entry): the secretariat registers clients on the OpenID clients' page only.
for _model_name in ("Application", "AccessToken", "RefreshToken", "Grant", "IDToken"):
    from django.apps import apps as _apps

    _model = _apps.get_model("oauth2_provider", _model_name)
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


def _uri_lines(text: str) -> list[str]:
    return [line.strip() for line in text.split() if line.strip()]


class OpenIDClientRegisterForm(forms.Form):
    service = forms.ModelChoiceField(queryset=Service.objects.none(), label=_("service"))
    redirect_uris = forms.CharField(
        label=_("redirect URIs"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, exactly as the service sends them."),
    )
    sector_identifier = forms.CharField(
        label=_("sector identifier"),
        max_length=255,
        help_text=OpenIDClient._meta.get_field("sector_identifier").help_text,
    )

    def __init__(self, *args, consortia, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(
            consortium__in=consortia, is_active=True
        )


class OpenIDClientChangeForm(forms.ModelForm):
    redirect_uris = forms.CharField(
        label=_("redirect URIs"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, exactly as the service sends them."),
    )

    class Meta:
        model = OpenIDClient
        fields = ["is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["redirect_uris"] = "\n".join(
                self.instance.application.redirect_uris.split()
            )


@admin.register(OpenIDClient)
class OpenIDClientAdmin(ScopedAdmin):
    consortium_lookup = "service__consortium"
    form = OpenIDClientChangeForm
    list_display = ["service", "client_id", "sector_identifier", "is_active", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["service", "application"]
    readonly_fields = ["service", "client_id", "sector_identifier", "created_at"]
    fields = [
        "service", "client_id", "sector_identifier", "redirect_uris", "is_active", "created_at",
    ]  # fmt: skip
    actions = ["rotate_secret"]

    @admin.display(description=_("client id"))
    def client_id(self, obj):
        return obj.application.client_id

    def has_add_permission(self, request) -> bool:
        return self.is_secretariat(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.is_secretariat(request) and self.in_scope(request, obj)

    def get_urls(self):
        return [
            path(
                "register/",
                self.admin_site.admin_view(self.register_view),
                name="grants_openidclient_register",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:grants_openidclient_register")

    def register_view(self, request):
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = OpenIDClientRegisterForm(request.POST or None, consortia=self.consortia(request))
        if request.method == "POST" and form.is_valid():
            try:
                client, secret = services.openid_client_register(
                    actor=request.user,
                    service=form.cleaned_data["service"],
                    redirect_uris=_uri_lines(form.cleaned_data["redirect_uris"]),
                    sector_identifier=form.cleaned_data["sector_identifier"],
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                self._show_secret(request, client, secret)
                return redirect(reverse("admin:grants_openidclient_change", args=[client.pk]))
        return self.form_page(request, form, gettext("Register an OpenID client"))

    def _show_secret(self, request, client, secret):
        messages.warning(
            request,
            gettext(
                "%(service)s: client id %(client_id)s, secret %(secret)s. Copy the secret now: "
                "it is shown only once and stored only as a hash."
            )
            % {
                "service": client.service.name,
                "client_id": client.application.client_id,
                "secret": secret,
            },
        )

    def save_model(self, request, obj, form, change):
        services.openid_client_update(
            actor=request.user,
            client=obj,
            redirect_uris=_uri_lines(form.cleaned_data["redirect_uris"]),
            is_active=form.cleaned_data["is_active"],
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(request.path)

    @admin.action(description=_("Issue a new client secret (the old one stops at once)"))
    def rotate_secret(self, request, queryset):
        for client in queryset.select_related("service", "application"):
            secret = services.openid_client_secret_rotate(actor=request.user, client=client)
            self._show_secret(request, client, secret)


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        for message in error.messages:
            form.add_error(None, message)
