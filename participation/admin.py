"""
The secretariat's consultation pages in the Django admin, scoped as every governance admin is:
a clerk sees and changes the consultations of the consortia they administer only (another's
answers 404). Every change goes through a service: the policy, the consultation and its
questions, the comments entered offline, moderation, the answers and the result.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from governance.admin import (
    FormsetSaver,
    ScopedAdmin,
    ScopedInline,
    adopt,
    consortium_filter,
    refused,
)

from . import selectors, services
from .models import (
    OFFLINE_CHANNELS,
    Answer,
    Comment,
    Consultation,
    ConsultationPolicy,
    Meeting,
    Proposal,
    Question,
    Registration,
)


def shown(count: int | None) -> str:
    return (
        gettext("fewer than %(n)d") % {"n": selectors.SMALL_COUNT} if count is None else str(count)
    )


@admin.register(ConsultationPolicy)
class ConsultationPolicyAdmin(ScopedAdmin):
    list_display = [
        "consortium",
        "required_for_all",
        "required_for_sensitive",
        "required_for_third_party",
        "email_participants_allowed",
    ]
    fields = [
        "consortium",
        "required_for_all",
        "required_for_sensitive",
        "required_for_third_party",
        "email_participants_allowed",
    ]

    def get_readonly_fields(self, request, obj=None):
        return ["consortium"] if obj else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        adopt(
            obj,
            services.consultation_policy_set(
                actor=request.user,
                consortium=self.current(obj).consortium if change else data["consortium"],
                required_for_all=data["required_for_all"],
                required_for_sensitive=data["required_for_sensitive"],
                required_for_third_party=data["required_for_third_party"],
                email_participants_allowed=data["email_participants_allowed"],
            ),
        )


class QuestionInline(ScopedInline, admin.StackedInline):
    model = Question
    parent_lookup = "consortium"
    consortium_lookup = "consultation__consortium"
    fields = ["number", "text_ja", "text_en"]
    extra = 1

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status != Consultation.Status.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    has_add_permission = has_change_permission

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ResultForm(forms.Form):
    result_ja = forms.CharField(
        label=_("result summary (Japanese)"), widget=forms.Textarea, required=False
    )
    result_en = forms.CharField(
        label=_("result summary (English)"), widget=forms.Textarea, required=False
    )


@admin.register(Consultation)
class ConsultationAdmin(FormsetSaver, ScopedAdmin):
    """意見募集: drafted here, then announced; its result is published from its own page."""

    saved_inline_models = (Question,)
    inlines = [QuestionInline]
    list_display = ["title_ja", "consortium", "subject", "opens_at", "closes_at", "phase_shown"]
    list_select_related = ["consortium"]
    list_filter = [consortium_filter("consortium"), "status", "subject"]
    search_fields = ["title_ja", "title_en"]
    readonly_fields = ["status", "phase_shown", "counts", "next_steps"]
    actions = ["announce"]

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ["consortium", "subject", "purpose", "ticket", "bylaw_version"]}),
            (
                _("What residents read"),
                {"fields": ["title_ja", "title_en", "body_ja", "body_en", "links"]},
            ),
            (_("Period"), {"fields": ["opens_at", "closes_at"]}),
        ] + (
            [(_("State"), {"fields": ["status", "phase_shown", "next_steps", "counts"]})]
            if obj
            else []
        )

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None:
            fields.append("consortium")
            if obj.status != Consultation.Status.DRAFT:
                fields += [
                    "subject",
                    "purpose",
                    "ticket",
                    "bylaw_version",
                    "title_ja",
                    "title_en",
                    "body_ja",
                    "body_en",
                    "links",
                    "opens_at",
                    "closes_at",
                ]
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        from governance.admin import administered

        if (
            db_field.name in ("purpose", "ticket", "bylaw_version")
            and not request.user.is_superuser
        ):
            kwargs["queryset"] = db_field.related_model.objects.filter(
                consortium__in=administered(request)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("phase"))
    def phase_shown(self, obj):
        return {
            "draft": gettext("draft"),
            "upcoming": gettext("announced, not yet open"),
            "open": gettext("open for comments"),
            "closed": gettext("closed: answer the comments"),
            "answered": gettext("result published"),
        }[obj.phase()]

    @admin.display(description=_("participation"))
    def counts(self, obj):
        counts = selectors.participation_counts(obj)
        rows = [(gettext("participants"), shown(counts.total))]
        rows += [(label, shown(count)) for _value, label, count in counts.by_channel]
        rows += [(label, shown(count)) for _value, label, count in counts.by_age_band]
        return format_html("<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows))

    @admin.display(description=_("next steps"))
    def next_steps(self, obj):
        links = [
            (
                reverse("admin:participation_comment_changelist")
                + f"?consultation__id__exact={obj.pk}",
                gettext("Comments (moderate)"),
            ),
            (
                reverse("admin:participation_comment_add") + f"?consultation={obj.pk}",
                gettext("Enter a comment received at a meeting, on paper or at a counter"),
            ),
            (
                reverse("admin:participation_answer_add") + f"?consultation={obj.pk}",
                gettext("Answer comments"),
            ),
            (
                reverse("admin:participation_consultation_result", args=[obj.pk]),
                gettext("Publish the result"),
            ),
        ]
        return format_html(
            "<ul>{}</ul>", format_html_join("", '<li><a href="{}">{}</a></li>', links)
        )

    def save_model(self, request, obj, form, change):
        adopt(obj, services.consultation_save(actor=request.user, consultation=obj))

    def save_inline(self, request, inline_form, parent):
        question = inline_form.instance
        question.consultation = parent
        return services.question_save(actor=request.user, question=question)

    @admin.action(description=_("Announce (residents see it and may comment in its period)"))
    def announce(self, request, queryset):
        self.run_action(
            request,
            queryset,
            lambda c: services.consultation_announce(actor=request.user, consultation=c),
            gettext("%(count)d consultation(s) announced."),
        )

    def get_urls(self):
        return [
            path(
                "<int:consultation_id>/result/",
                self.admin_site.admin_view(self.result_view),
                name="participation_consultation_result",
            ),
            *super().get_urls(),
        ]

    def result_view(self, request, consultation_id: int):
        consultation = self.get_object(request, str(consultation_id))
        if not self.has_change_permission(request, consultation):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = ResultForm(
            request.POST or None,
            initial={"result_ja": consultation.result_ja, "result_en": consultation.result_en},
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.consultation_result_publish(
                    actor=request.user,
                    consultation=consultation,
                    result_ja=form.cleaned_data["result_ja"],
                    result_en=form.cleaned_data["result_en"],
                )
            except ValidationError as error:
                refused(form, error)
            else:
                self.message_user(request, gettext("The result is published."), messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:participation_consultation_change", args=[consultation.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Publish the result: %(title)s") % {"title": consultation.title_ja},
            "consultation": consultation,
            "form": form,
            "result": selectors.result_rows(consultation)
            or list(consultation.answers.order_by("number")),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/participation/result.html", context)


# --- Comments: offline entry and moderation --------------------------------------------------


class OfflineCommentForm(forms.ModelForm):
    received_at = forms.DateTimeField(
        label=_("received"),
        help_text=_("When it was given: the meeting's date, or the day the form arrived."),
        required=False,
    )

    class Meta:
        model = Comment
        fields = [
            "consultation",
            "question",
            "notice_section",
            "channel",
            "meeting",
            "text",
            "age_band",
            "language",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [
            (value, label)
            for value, label in self.fields["channel"].choices
            if value in OFFLINE_CHANNELS
        ]


class ModerationForm(forms.ModelForm):
    class Meta:
        model = Comment
        fields = ["status", "hidden_reason"]

    def clean(self):
        data = super().clean()
        if (
            data.get("status") == Comment.Status.HIDDEN
            and not data.get("hidden_reason", "").strip()
        ):
            self.add_error(
                "hidden_reason", _("Say why the comment is hidden: its author will read it.")
            )
        return data


@admin.register(Comment)
class CommentAdmin(ScopedAdmin):
    consortium_lookup = "consultation__consortium"
    list_display = ["__str__", "consultation", "channel", "submitted_at", "status", "answer"]
    list_select_related = ["consultation", "answer"]
    list_filter = [
        consortium_filter("consultation__consortium"),
        "status",
        "channel",
        "notice_section",
        "consultation",
    ]
    search_fields = ["text"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = ModerationForm if obj is not None else OfflineCommentForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return [
                "consultation",
                "question",
                "notice_section",
                "channel",
                "meeting",
                "received_at",
                "text",
                "age_band",
                "language",
            ]
        return [
            "consultation",
            "question",
            "notice_section",
            "channel",
            "meeting",
            "submitted_at",
            "text",
            "answer",
            "status",
            "hidden_reason",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "consultation",
            "question",
            "notice_section",
            "channel",
            "meeting",
            "submitted_at",
            "text",
            "answer",
        ]

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("language", "ja")
        return initial

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        from governance.admin import administered

        if db_field.name == "consultation" and not request.user.is_superuser:
            kwargs["queryset"] = Consultation.objects.filter(
                consortium__in=administered(request), status=Consultation.Status.ANNOUNCED
            )
        if db_field.name == "question" and not request.user.is_superuser:
            kwargs["queryset"] = Question.objects.filter(
                consultation__consortium__in=administered(request)
            )
        if db_field.name == "meeting":
            meetings = Meeting.objects.filter(
                status__in=[Meeting.Status.HELD, Meeting.Status.MINUTES]
            )
            if not request.user.is_superuser:
                meetings = meetings.filter(consortium__in=administered(request))
            kwargs["queryset"] = meetings
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            if data["status"] == Comment.Status.HIDDEN:
                saved = services.comment_hide(
                    actor=request.user, comment=obj, reason=data["hidden_reason"]
                )
            elif self.current(obj).status == Comment.Status.HIDDEN:
                saved = services.comment_restore(actor=request.user, comment=obj)
            else:
                return
        else:
            saved = services.comment_enter_offline(
                actor=request.user,
                consultation=data["consultation"],
                channel=data["channel"],
                text=data["text"],
                question=data.get("question"),
                notice_section=data.get("notice_section", ""),
                age_band=data["age_band"],
                language=data["language"],
                # A meeting's comment was given when the meeting started, unless told otherwise.
                received_at=data.get("received_at"),
                meeting=data.get("meeting"),
            )
        adopt(obj, saved)


# --- Answers ---------------------------------------------------------------------------------


class AnswerForm(forms.ModelForm):
    comments = forms.ModelMultipleChoiceField(
        label=_("comments answered"),
        queryset=Comment.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Answer
        fields = [
            "consultation",
            "opinion_ja",
            "opinion_en",
            "response_ja",
            "response_en",
            "changed",
        ]


@admin.register(Answer)
class AnswerAdmin(ScopedAdmin):
    """回答: one answer to one comment or a group of similar ones."""

    form = AnswerForm
    consortium_lookup = "consultation__consortium"
    list_display = ["__str__", "consultation", "changed"]
    list_filter = [consortium_filter("consultation__consortium"), "consultation"]

    def get_readonly_fields(self, request, obj=None):
        return ["consultation"] if obj else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        from governance.admin import administered

        consultation_id = obj.consultation_id if obj else request.GET.get("consultation")
        comments = Comment.objects.filter(status=Comment.Status.PUBLISHED)
        if not request.user.is_superuser:
            comments = comments.filter(consultation__consortium__in=administered(request))
        if consultation_id and str(consultation_id).isdigit():
            comments = comments.filter(consultation_id=consultation_id)

        class ScopedAnswerForm(form_class):
            def __init__(self, *args, **inner):
                super().__init__(*args, **inner)
                self.fields["comments"].queryset = comments
                self.fields["comments"].label_from_instance = lambda c: f"#{c.pk} {c.text[:200]}"
                if obj is not None:
                    self.initial["comments"] = list(obj.comments.values_list("pk", flat=True))

        return ScopedAnswerForm

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        from governance.admin import administered

        if db_field.name == "consultation" and not request.user.is_superuser:
            kwargs["queryset"] = Consultation.objects.filter(consortium__in=administered(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        adopt(
            obj,
            services.answer_save(
                actor=request.user,
                consultation=obj.consultation if change else data["consultation"],
                comments=data["comments"],
                opinion_ja=data["opinion_ja"],
                opinion_en=data["opinion_en"],
                response_ja=data["response_ja"],
                response_en=data["response_en"],
                changed=data["changed"],
                answer=self.current(obj) if change else None,
            ),
        )

    def save_related(self, request, form, formsets, change):
        pass  # the service linked the comments


# --- Proposals: moderation and answers -------------------------------------------------------


class ProposalForm(forms.ModelForm):
    """The secretariat's decision on a proposal: answer it, or hide it with a reason."""

    decision = forms.ChoiceField(
        label=_("decision"),
        choices=[
            ("", "---------"),
            ("answer", _("answer (or change the answer)")),
            ("hide", _("hide, with the reason its author reads")),
        ],
        required=False,
    )

    class Meta:
        model = Proposal
        fields = [
            "outcome",
            "reasons_ja",
            "reasons_en",
            "ticket",
            "purpose",
            "indicator_code",
            "hidden_reason",
        ]

    def clean(self):
        data = super().clean()
        if data.get("decision") == "answer":
            if not data.get("outcome"):
                self.add_error("outcome", _("Choose the outcome."))
            if not (data.get("reasons_ja") or "").strip():
                self.add_error(
                    "reasons_ja", _("Write the reasons for the answer: residents read them.")
                )
        elif data.get("decision") == "hide" and not (data.get("hidden_reason") or "").strip():
            self.add_error(
                "hidden_reason", _("Say why the proposal is hidden: its author will read it.")
            )
        return data


@admin.register(Proposal)
class ProposalAdmin(ScopedAdmin):
    """提案: residents send them from the portal; the secretariat answers or hides them here."""

    form = ProposalForm
    list_display = ["title", "consortium", "kind", "submitted_at", "supports_shown", "status"]
    list_select_related = ["consortium"]
    list_filter = [consortium_filter("consortium"), "status", "kind", "outcome"]
    search_fields = ["title", "body"]
    readonly_fields = [
        "consortium",
        "kind",
        "title",
        "body",
        "submitted_at",
        "status",
        "supports_shown",
        "answered_by",
        "answered_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "consortium",
                    "kind",
                    "title",
                    "body",
                    "submitted_at",
                    "status",
                    "supports_shown",
                ]
            },
        ),
        (None, {"fields": ["decision"]}),
        (
            _("Answer"),
            {
                "fields": [
                    "outcome",
                    "reasons_ja",
                    "reasons_en",
                    "ticket",
                    "purpose",
                    "indicator_code",
                    "answered_by",
                    "answered_at",
                ]
            },
        ),
        (_("Moderation"), {"fields": ["hidden_reason"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(support_count=Count("supports"))

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # residents propose in the portal

    @admin.display(description=_("supports"), ordering="support_count")
    def supports_shown(self, obj):
        return getattr(obj, "support_count", None) or obj.supports.count()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        from governance.admin import administered

        if db_field.name in ("purpose", "ticket") and not request.user.is_superuser:
            kwargs["queryset"] = db_field.related_model.objects.filter(
                consortium__in=administered(request)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if data.get("decision") == "answer":
            saved = services.proposal_answer(
                actor=request.user,
                proposal=obj,
                outcome=data["outcome"],
                reasons_ja=data["reasons_ja"],
                reasons_en=data["reasons_en"],
                ticket=data.get("ticket"),
                purpose=data.get("purpose"),
                indicator_code=data.get("indicator_code", ""),
            )
        elif data.get("decision") == "hide":
            saved = services.proposal_hide(
                actor=request.user, proposal=obj, reason=data["hidden_reason"]
            )
        else:
            return
        adopt(obj, saved)


# --- Meetings --------------------------------------------------------------------------------


class RegistrationChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, registration: Registration) -> str:
        resident = registration.resident
        name = getattr(getattr(resident, "profile", None), "full_name", "")
        return f"{name} ({resident.pseudonymous_id})" if name else resident.pseudonymous_id


class AttendanceForm(forms.Form):
    present = RegistrationChoiceField(
        label=_("registered residents present"),
        queryset=Registration.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    walk_ins = forms.IntegerField(
        label=_("attended without registering"),
        min_value=0,
        initial=0,
        help_text=_("A head count of the people who came without registering."),
    )


class MinutesForm(forms.Form):
    minutes_ja = forms.CharField(
        label=_("minutes (Japanese)"),
        widget=forms.Textarea,
        # Checked by the service, so that empty minutes get the service's own message.
        required=False,
    )
    minutes_en = forms.CharField(
        label=_("minutes (English)"), widget=forms.Textarea, required=False
    )
    consultations = forms.ModelMultipleChoiceField(
        label=_("consultations discussed"),
        queryset=Consultation.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    proposals = forms.ModelMultipleChoiceField(
        label=_("proposals discussed"),
        queryset=Proposal.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


@admin.register(Meeting)
class MeetingAdmin(ScopedAdmin):
    """説明会: drafted and announced here; attendance and minutes on its own pages."""

    list_display = ["title_ja", "consortium", "starts_at", "format", "capacity", "status"]
    list_select_related = ["consortium"]
    list_filter = [consortium_filter("consortium"), "status", "format"]
    search_fields = ["title_ja", "title_en"]
    actions = ["announce"]
    filter_horizontal = []

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ["consortium", "title_ja", "title_en", "agenda_ja", "agenda_en"]}),
            (
                _("When and where"),
                {"fields": ["format", "place", "online_url", "starts_at", "ends_at", "capacity"]},
            ),
            (_("Discussed"), {"fields": ["consultations", "proposals"]}),
        ] + ([(_("State"), {"fields": ["status", "attendance", "next_steps"]})] if obj else [])

    def get_readonly_fields(self, request, obj=None):
        fields = ["status", "attendance", "next_steps"]
        if obj is None:
            return fields
        fields.append("consortium")
        if obj.status != Meeting.Status.DRAFT:
            fields += ["starts_at", "ends_at", "capacity"]
        if obj.status in (Meeting.Status.HELD, Meeting.Status.MINUTES):
            fields += [
                "title_ja",
                "title_en",
                "agenda_ja",
                "agenda_en",
                "format",
                "place",
                "online_url",
                "consultations",
                "proposals",
            ]
        return fields

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        from governance.admin import administered

        if db_field.name == "consultations":
            queryset = Consultation.objects.exclude(status=Consultation.Status.DRAFT)
        else:
            queryset = Proposal.objects.exclude(status=Proposal.Status.HIDDEN)
        if not request.user.is_superuser:
            queryset = queryset.filter(consortium__in=administered(request))
        kwargs["queryset"] = queryset
        kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("attendance"))
    def attendance(self, obj):
        registrations = obj.registrations.all()
        rows = [
            (gettext("capacity"), obj.capacity),
            (pgettext("meeting attendance", "registered"), registrations.count()),
        ]
        if obj.status in (Meeting.Status.HELD, Meeting.Status.MINUTES):
            rows += [
                (
                    gettext("registered residents present"),
                    registrations.filter(attended=True).count(),
                ),
                (gettext("attended without registering"), obj.walk_ins),
            ]
        return format_html("<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows))

    @admin.display(description=_("next steps"))
    def next_steps(self, obj):
        links = [
            (
                reverse("admin:participation_meeting_attendance", args=[obj.pk]),
                gettext("Record attendance"),
            ),
        ]
        if obj.status in (Meeting.Status.HELD, Meeting.Status.MINUTES):
            for consultation in obj.consultations.filter(status=Consultation.Status.ANNOUNCED):
                links.append(
                    (
                        reverse("admin:participation_comment_add")
                        + f"?consultation={consultation.pk}&meeting={obj.pk}&channel=meeting",
                        gettext("Enter a comment collected at the meeting: %(title)s")
                        % {"title": consultation.title_ja},
                    )
                )
            links.append(
                (
                    reverse("admin:participation_meeting_minutes", args=[obj.pk]),
                    gettext("Publish the minutes"),
                )
            )
        return format_html(
            "<ul>{}</ul>", format_html_join("", '<li><a href="{}">{}</a></li>', links)
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        adopt(
            obj,
            services.meeting_save(
                actor=request.user,
                meeting=obj,
                consultations=data.get("consultations"),
                proposals=data.get("proposals"),
            ),
        )

    def save_related(self, request, form, formsets, change):
        pass  # the service linked the consultations and proposals

    @admin.action(description=_("Announce (residents see it and may register)"))
    def announce(self, request, queryset):
        self.run_action(
            request,
            queryset,
            lambda m: services.meeting_announce(actor=request.user, meeting=m),
            gettext("%(count)d meeting(s) announced."),
        )

    def get_urls(self):
        return [
            path(
                "<int:meeting_id>/attendance/",
                self.admin_site.admin_view(self.attendance_view),
                name="participation_meeting_attendance",
            ),
            path(
                "<int:meeting_id>/minutes/",
                self.admin_site.admin_view(self.minutes_view),
                name="participation_meeting_minutes",
            ),
            *super().get_urls(),
        ]

    def _step(self, request, meeting_id: int, form, call, done: str, title: str, template: str):
        meeting = self.get_object(request, str(meeting_id))
        if not self.has_change_permission(request, meeting):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = form(meeting)
        if request.method == "POST" and form.is_valid():
            try:
                call(meeting, form.cleaned_data)
            except ValidationError as error:
                refused(form, error)
            else:
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:participation_meeting_change", args=[meeting.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": title % {"title": meeting.title_ja},
            "meeting": meeting,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, template, context)

    def attendance_view(self, request, meeting_id: int):
        def form(meeting):
            registrations = meeting.registrations.select_related("resident__profile")
            bound = AttendanceForm(
                request.POST or None,
                initial={
                    "present": [r.pk for r in registrations if r.attended],
                    "walk_ins": meeting.walk_ins,
                },
            )
            bound.fields["present"].queryset = registrations
            return bound

        return self._step(
            request,
            meeting_id,
            form,
            lambda meeting, data: services.meeting_attendance_record(
                actor=request.user,
                meeting=meeting,
                present=data["present"],
                walk_ins=data["walk_ins"],
            ),
            gettext("The attendance is recorded."),
            gettext("Record attendance: %(title)s"),
            "admin/participation/meeting_attendance.html",
        )

    def minutes_view(self, request, meeting_id: int):
        def form(meeting):
            bound = MinutesForm(
                request.POST or None,
                initial={
                    "minutes_ja": meeting.minutes_ja,
                    "minutes_en": meeting.minutes_en,
                    "consultations": list(meeting.consultations.values_list("pk", flat=True)),
                    "proposals": list(meeting.proposals.values_list("pk", flat=True)),
                },
            )
            bound.fields["consultations"].queryset = Consultation.objects.filter(
                consortium=meeting.consortium_id
            ).exclude(status=Consultation.Status.DRAFT)
            bound.fields["proposals"].queryset = Proposal.objects.filter(
                consortium=meeting.consortium_id
            ).exclude(status=Proposal.Status.HIDDEN)
            return bound

        return self._step(
            request,
            meeting_id,
            form,
            lambda meeting, data: services.meeting_minutes_publish(
                actor=request.user,
                meeting=meeting,
                minutes_ja=data["minutes_ja"],
                minutes_en=data["minutes_en"],
                consultations=data["consultations"],
                proposals=data["proposals"],
            ),
            gettext("The minutes are published."),
            gettext("Publish the minutes: %(title)s"),
            "admin/participation/meeting_minutes.html",
        )
