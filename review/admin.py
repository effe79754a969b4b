"""
The secretariat's admin for the data-ethics review: the consortium's board (names, quorum, rules),
the list of its tickets and the list of the obligations its approvals carry, each opening its
review page. Scoped as every governance admin is: a clerk sees the consortia they administer only.
"""

import datetime

from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from governance.admin import ScopedAdmin, adopt, consortium_filter
from governance.people import person_name

from . import selectors, services
from .models import EthicsBoard, Obligation, ReviewTicket


@admin.register(EthicsBoard)
class EthicsBoardAdmin(ScopedAdmin):
    list_display = ["name_ja", "consortium", "quorum", "legal_veto", "security_veto"]
    list_select_related = ["consortium"]
    list_filter = [consortium_filter("consortium")]
    fields = [
        "consortium",
        "name_ja",
        "name_en",
        "quorum",
        "legal_veto",
        "security_veto",
        "review_days",
        "approval_term_days",
        "deletion_confirmation_days",
        "overdue_critical",
        "members",
    ]
    readonly_fields = ["members"]

    def get_readonly_fields(self, request, obj=None):
        return ["consortium", "members"] if obj else ["members"]

    @admin.display(description=_("members today"))
    def members(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        roles = selectors.ethics_board_members(obj, timezone.localdate())
        if not roles:
            return _("none: assign ethics-board member roles")
        return format_html_join(
            "",
            "<div>{} — {}</div>",
            ((person_name(role.user), role.get_expertise_display()) for role in roles),
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        consortium = self.current(obj).consortium if change else data["consortium"]
        adopt(
            obj,
            services.ethics_board_set(
                actor=request.user,
                consortium=consortium,
                name_ja=data["name_ja"],
                name_en=data["name_en"],
                quorum=data["quorum"],
                legal_veto=data["legal_veto"],
                security_veto=data["security_veto"],
                review_days=data["review_days"],
                approval_term_days=data["approval_term_days"],
                deletion_confirmation_days=data["deletion_confirmation_days"],
                overdue_critical=data["overdue_critical"],
            ),
        )


# --- The tickets (the work happens on the review pages) ------------------------------------------


@admin.register(ReviewTicket)
class ReviewTicketAdmin(ScopedAdmin):
    """審査申請: the secretariat's list of its consortia's tickets; each opens its review page."""

    list_display = [
        "__str__",
        "requester",
        "state",
        "round",
        "due_on",
        "valid_until",
        "review_page",
    ]
    list_select_related = ["consortium", "requester"]
    list_filter = [consortium_filter("consortium"), "state"]
    search_fields = ["title", "service_name", "requester__name_ja"]
    fields = [
        "consortium",
        "requester",
        "title",
        "service_name",
        "state",
        "round",
        "due_on",
        "conditions",
        "valid_from",
        "valid_until",
        "deletion_confirmation_days",
        "decided_at",
        "review_page",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # Drafts are the requester's until submitted.
        return super().get_queryset(request).exclude(state=ReviewTicket.State.DRAFT)

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # requests are filed by member organisations on the review pages

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # every transition has its page and its service

    @admin.display(description=_("review page"))
    def review_page(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("review:ticket", args=[obj.pk]),
            _("Open the review page"),
        )


# --- The obligations (遵守事項): the follow-up of the board's conditions --------------------------


class DueFilter(admin.SimpleListFilter):
    """When an obligation falls due: past, within the reminder's days, later, or never."""

    title = _("due")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [
            ("past", _("past its due date")),
            (
                "soon",
                _("due within %(days)s days") % {"days": settings.REVIEW_OBLIGATION_REMINDER_DAYS},
            ),
            ("later", _("due later")),
            ("none", _("no due date")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        soon = today + datetime.timedelta(days=settings.REVIEW_OBLIGATION_REMINDER_DAYS)
        if self.value() == "past":
            return queryset.filter(due_on__lt=today)
        if self.value() == "soon":
            return queryset.filter(due_on__gte=today, due_on__lte=soon)
        if self.value() == "later":
            return queryset.filter(due_on__gt=soon)
        if self.value() == "none":
            return queryset.filter(due_on__isnull=True)
        return queryset


class TicketFilter(admin.SimpleListFilter):
    """The approvals of the consortia the clerk administers that carry obligations."""

    title = _("ticket")
    parameter_name = "ticket"

    def lookups(self, request, model_admin):
        tickets = (
            model_admin.scope(request, Obligation.objects.all())
            .values_list("ticket_id", "ticket__title")
            .distinct()
            .order_by("-ticket_id")
        )
        return [(pk, f"#{pk} {title}") for pk, title in tickets]

    def queryset(self, request, queryset):
        value = self.value()
        if value:
            if not value.isdigit() or len(value) > 18:
                return queryset.none()
            return queryset.filter(ticket_id=int(value))
        return queryset


@admin.register(Obligation)
class ObligationAdmin(ScopedAdmin):
    """
    遵守事項: the secretariat's list of the obligations its consortia's approvals carry, to
    follow them up: by state, by when they fall due, by ticket. Evidence, verdicts and waivers
    happen on the review pages (each a service); this list only reads.
    """

    consortium_lookup = "ticket__consortium"
    list_display = [
        "condition",
        "ticket_link",
        "owner",
        "kind",
        "critical",
        "due_on",
        "recurrence",
        "state",
        "review_page",
    ]
    list_select_related = ["ticket", "owner"]
    list_filter = [
        consortium_filter("ticket__consortium"),
        "state",
        DueFilter,
        TicketFilter,
        "critical",
        "kind",
    ]
    search_fields = ["text", "ticket__title", "owner__name_ja", "owner__name_en"]
    ordering = ["due_on", "pk"]
    fields = [
        "ticket_link",
        "owner",
        "kind",
        "text",
        "critical",
        "due_on",
        "recurrence",
        "repeats_left",
        "state",
        "waiver_reason",
        "reminded_for",
        "escalated_for",
        "holds_suspension",
        "review_page",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # obligations are made by the board's approval

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # evidence, verdicts and waivers each have their page and service

    @admin.display(description=_("condition"), ordering="text")
    def condition(self, obj) -> str:
        # The board's words are what a clerk recognises; long ones cut to fit the list.
        return Truncator(obj.text).chars(80)

    @admin.display(description=_("ticket"), ordering="ticket_id")
    def ticket_link(self, obj):
        return format_html(
            '<a href="{}">#{} {}</a>',
            reverse("review:ticket", args=[obj.ticket_id]),
            obj.ticket_id,
            obj.ticket.title,
        )

    @admin.display(description=_("review page"))
    def review_page(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("review:obligation", args=[obj.ticket_id, obj.pk]),
            _("Open the obligation's page"),
        )
