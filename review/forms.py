"""Forms of the review pages: the requester's request, the PIA questionnaire, the board's acts."""

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from config.forms import IdsChoiceField
from governance import selectors as governance_selectors
from governance.models import Organization
from governance.people import person_name

from .models import PIA_LEVELS, Obligation, ReviewComment, ReviewTicket, ReviewVote

LEVEL_CHOICES = [
    ("low", _("low")),
    ("medium", _("medium")),
    ("high", _("high")),
]
assert [code for code, _label in LEVEL_CHOICES] == list(PIA_LEVELS)

REQUEST_FORM_FIELDS = [
    "title",
    "service_name",
    "purpose",
    "proposed_purpose_title",
    "proposed_purpose_explanation",
    "categories",
    "recipients",
    "third_party_provision",
    "retention_days",
    "deletion_method",
    "security_measures",
    "anonymisation",
    "anonymisation_details",
    "cross_border_transfer",
    "cross_border_details",
]


class TicketForm(forms.ModelForm):
    """The request as the requester fills it in (the PIA comes from PiaFormSet)."""

    class Meta:
        model = ReviewTicket
        fields = REQUEST_FORM_FIELDS
        field_classes = {"categories": IdsChoiceField, "recipients": IdsChoiceField}
        widgets = {
            "categories": forms.CheckboxSelectMultiple,
            "recipients": forms.CheckboxSelectMultiple,
            "proposed_purpose_explanation": forms.Textarea(attrs={"rows": 3}),
            "deletion_method": forms.Textarea(attrs={"rows": 3}),
            "security_measures": forms.Textarea(attrs={"rows": 4}),
            "anonymisation_details": forms.Textarea(attrs={"rows": 3}),
            "cross_border_details": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, consortium, **kwargs):
        super().__init__(*args, **kwargs)
        self.consortium = consortium
        # consent's models are reached through the relations, never imported (design.md).
        self.fields["purpose"].queryset = consortium.purposes.all()
        self.fields["categories"].queryset = ReviewTicket._meta.get_field(
            "categories"
        ).related_model.objects.all()
        self.fields["recipients"].queryset = Organization.objects.filter(
            pk__in=governance_selectors.members_on(consortium, timezone.localdate()).values(
                "organization"
            )
        )
        self.fields["retention_days"].required = True
        for name in ("deletion_method", "security_measures"):
            self.fields[name].required = True


class PiaRowForm(forms.Form):
    """One risk of the privacy impact assessment."""

    risk = forms.CharField(label=_("risk"), max_length=300, required=False)
    likelihood = forms.ChoiceField(label=_("likelihood"), choices=LEVEL_CHOICES, required=False)
    impact = forms.ChoiceField(label=_("impact"), choices=LEVEL_CHOICES, required=False)
    mitigation = forms.CharField(
        label=_("mitigation"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        data = super().clean()
        filled = [data.get("risk", "").strip(), data.get("mitigation", "").strip()]
        if any(filled) and not all(filled):
            raise forms.ValidationError(_("Describe both the risk and its mitigation."))
        if any(filled) and not (data.get("likelihood") and data.get("impact")):
            raise forms.ValidationError(_("Choose the likelihood and the impact."))
        return data

    def row(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("risk", "").strip():
            return None
        return {
            "risk": data["risk"].strip(),
            "likelihood": data["likelihood"],
            "impact": data["impact"],
            "mitigation": data["mitigation"].strip(),
        }


PiaFormSet = forms.formset_factory(PiaRowForm, extra=2, max_num=20, absolute_max=20)


def pia_rows(formset) -> list[dict]:
    return [row for form in formset.forms if (row := form.row())]


class NewTicketForm(forms.Form):
    """Which consortium and organisation a representative files for."""

    filing_for = forms.ChoiceField(label=_("File for"))

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["filing_for"].choices = choices


class DeclarationForm(forms.Form):
    has_conflict = forms.TypedChoiceField(
        label=_("Do you have a conflict of interest with this request?"),
        choices=[
            ("no", _("No: I have no conflict of interest")),
            ("yes", _("Yes: I have a conflict and recuse myself")),
        ],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )


class CommentForm(forms.Form):
    text = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 4}))
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (ReviewComment.Kind.COMMENT, pgettext_lazy("review remark", "comment")),
            (ReviewComment.Kind.QUESTION, _("question to the requester")),
        ],
    )
    visibility = forms.ChoiceField(label=_("Visible to"), choices=ReviewComment.Visibility.choices)


class AnswerForm(forms.Form):
    text = forms.CharField(label=_("Your answer"), widget=forms.Textarea(attrs={"rows": 4}))


class VoteForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("Your vote"), choices=ReviewVote.Choice.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


DUE_CHOICES = [
    ("none", _("no due date")),
    ("days", _("within the days below, counted from the approval")),
    ("term_end", _("at the end of the approval's term")),
    ("retention_end", _("at the end of retention (term plus retention days)")),
    ("yearly", _("every year after the term, for the years below")),
]


class ConditionForm(forms.Form):
    """One condition of an approval, as the obligation the requester will owe."""

    text = forms.CharField(
        label=_("Condition"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Obligation.Kind.choices, required=False)
    due = forms.ChoiceField(label=_("Due"), choices=DUE_CHOICES, required=False)
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=3650, required=False)
    years = forms.IntegerField(label=_("Years"), min_value=1, max_value=20, required=False)
    critical = forms.BooleanField(
        label=_("Critical: missing it may suspend the approval"), required=False
    )

    def spec(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("text", "").strip():
            return None
        return {
            "kind": data.get("kind") or Obligation.Kind.OTHER,
            "text": data["text"].strip(),
            "due": data.get("due") or "none",
            "days": data.get("days"),
            "years": data.get("years"),
            "critical": bool(data.get("critical")),
        }


ConditionFormSet = forms.formset_factory(ConditionForm, extra=3, max_num=10, absolute_max=10)


def condition_specs(formset) -> list[dict]:
    return [spec for form in formset.forms if (spec := form.spec())]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern); cleans to a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


class EvidenceForm(forms.Form):
    text = forms.CharField(
        label=_("How the condition is met"), widget=forms.Textarea(attrs={"rows": 5})
    )
    files = MultipleFileField(label=_("Files (PDF, PNG or JPEG; up to five)"), required=False)


class VerdictForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (required to reject)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class WaiverForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the obligation is waived"), widget=forms.Textarea(attrs={"rows": 3})
    )


class AssignForm(forms.Form):
    reviewer = forms.ModelChoiceField(label=_("Reviewer"), queryset=None)

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.auth import get_user_model

        board = governance_selectors.roles_on(
            ticket.consortium, timezone.localdate(), "ethics_board_member"
        ).exclude(user__in=ticket.assignments.values("reviewer"))
        expertise = {role.user_id: role.get_expertise_display() for role in board}
        self.fields["reviewer"].queryset = get_user_model().objects.filter(
            pk__in=board.values("user")
        )
        # The secretariat balances the board's expertise: each name says it.
        self.fields["reviewer"].label_from_instance = lambda user: (
            f"{person_name(user)} ({expertise.get(user.pk, '')})"
        )


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("Attachment (PDF, PNG or JPEG)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.MAX_UPLOAD_SIZE:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB; attach a smaller one.")
                % {"mb": settings.MAX_UPLOAD_SIZE // (1024 * 1024) or 1}
            )
        return upload


class QueueFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("all"))] + ReviewTicket.State.choices
    )
    due = forms.ChoiceField(
        label=_("Due"),
        required=False,
        choices=[("", _("any")), ("overdue", _("overdue")), ("week", _("within 7 days"))],
    )
    mine = forms.BooleanField(label=_("Only mine"), required=False)


class PurposeFromTicketForm(forms.Form):
    """The secretariat's few additions to the purpose an approval proposed."""

    code = forms.SlugField(label=_("Code of the purpose"), max_length=64)
    title_en = forms.CharField(label=_("Title (English)"), max_length=200, required=False)
    explanation_en = forms.CharField(
        label=_("Plain-language explanation (English)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
