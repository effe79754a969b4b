"""Forms of the portal's consultation pages and of the secretariat's admin."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from consent.forms import PortalForm

from .models import DECLARABLE_AGE_BANDS, AgeBand, Consultation, NoticeSection, Proposal, Question
from .services import BODY_MAX_LENGTH, COMMENT_MAX_LENGTH, TITLE_MAX_LENGTH


class QuestionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, question: Question) -> str:
        return f"{question.number}. {question.text()}"


class CommentForm(PortalForm):
    """A resident's comment: the text, optionally on one question, and an optional age band."""

    question = QuestionChoiceField(
        label=_("On which question (optional)"),
        queryset=Question.objects.none(),
        required=False,
        empty_label=_("The whole draft"),
    )
    notice_section = forms.ChoiceField(
        label=_("On which part of the notice (optional)"),
        choices=[("", _("The whole notice"))] + list(NoticeSection.choices),
        required=False,
    )
    text = forms.CharField(
        label=_("Your comment"),
        # Checked by the service, so that an empty comment gets the service's own message.
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Write in Japanese or English. Do not write names or contact details."),
    )
    age_band = forms.ChoiceField(
        label=_("Your age (optional)"),
        choices=DECLARABLE_AGE_BANDS,
        initial=AgeBand.UNDECLARED,
        help_text=_(
            "Only counted, never shown with your comment: it tells the consortium whom it has "
            "not reached yet."
        ),
    )

    def __init__(self, *args, consultation, **kwargs):
        super().__init__(*args, **kwargs)
        questions = consultation.questions.all()
        if questions:
            self.fields["question"].queryset = questions
        else:
            del self.fields["question"]
        if consultation.subject != Consultation.Subject.PURPOSE:
            del self.fields["notice_section"]


class EmailCommentForm(CommentForm):
    """A comment by a participant with a confirmed e-mail address: no age is asked."""

    def __init__(self, *args, consultation, **kwargs):
        super().__init__(*args, consultation=consultation, **kwargs)
        del self.fields["age_band"]


class EmailLinkForm(PortalForm):
    """The address to which the link that confirms it is sent."""

    email = forms.CharField(
        label=_("Your e-mail address"),
        # Checked by the service, so that a wrong address gets the service's own message.
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_(
            "We send a link to it. The address is used only for this link and to send you the "
            "answer: it is never shown."
        ),
    )


class CommentEditForm(PortalForm):
    text = forms.CharField(
        label=_("Your comment"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
    )


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's refusal on the form, on the field it names when the form shows it."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class ProposalForm(PortalForm):
    """A resident's proposal: to which consortium (if they live in several), kind, title, text."""

    consortium = forms.ModelChoiceField(
        label=_("To"), queryset=None, required=False, empty_label=None
    )
    kind = forms.ChoiceField(
        label=_("What is it about"),
        choices=[("", "---------")] + list(Proposal.Kind.choices),
        # Checked by the service, so that a missing choice gets the service's own message.
        required=False,
    )
    title = forms.CharField(label=_("Title"), required=False, max_length=TITLE_MAX_LENGTH)
    body = forms.CharField(
        label=_("Your proposal"),
        required=False,
        max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Write in Japanese or English: what you propose and why. Do not write names or "
            "contact details."
        ),
    )

    def __init__(self, *args, resident, **kwargs):
        super().__init__(*args, **kwargs)
        consortia = resident.consortia.all()
        self.fields["consortium"].queryset = consortia
        if len(consortia) < 2:
            del self.fields["consortium"]
        self.consortia = consortia
