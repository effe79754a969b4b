"""Forms of the resident portal and of the secretariat's admin."""

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from config.forms import JapaneseDateField

from . import identity
from .models import ConsentRecord, Relationship, Representation


class PortalForm(forms.Form):
    """A form of the resident portal: labels without the colon that reads oddly in Japanese."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class SignUpForm(PortalForm):
    email = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        help_text=_("At least 8 characters; not only numbers; not a common password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    consortium = forms.ModelChoiceField(
        label=_("Where you live"),
        queryset=None,
        empty_label=_("Choose your area"),
    )
    full_name = forms.CharField(
        label=_("Your name (optional)"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        consortium_model = apps.get_model("governance", "Consortium")
        self.fields["consortium"].queryset = consortium_model.objects.exclude(
            status="dissolved"
        ).order_by("name_ja")

    def clean_email(self) -> str:
        # Whether the address has an account is said only in a mail to it (identity).
        return identity.normalise_email(self.cleaned_data["email"])

    def clean(self):
        data = super().clean()
        password, again = data.get("password"), data.get("password_again")
        if password and again and password != again:
            self.add_error("password_again", _("The two passwords differ. Type them again."))
        elif password:
            try:
                password_validation.validate_password(password)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return data


class SignInForm(PortalForm):
    email = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class AccountForm(PortalForm):
    language = forms.ChoiceField(
        label=_("Language of screens and receipts"), choices=settings.LANGUAGES
    )


class DeleteAccountForm(PortalForm):
    password = forms.CharField(
        label=_("Your password, to confirm"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not identity.check_password(self.user, password):
            raise forms.ValidationError(_("The password is not right. Try again."))
        return password


class PaperConsentForm(forms.Form):
    """The secretariat records a decision a resident made on a paper form."""

    purpose = forms.ModelChoiceField(label=_("Purpose"), queryset=None)
    decision = forms.ChoiceField(
        label=_("Decision on the form"),
        choices=[("", "---------")] + list(ConsentRecord.Decision.choices),
    )
    paper_reference = forms.CharField(
        label=_("Paper form reference"),
        max_length=64,
        help_text=_("The number written on the signed form, e.g. AIZU-2026-0042."),
    )

    def __init__(self, *args, purposes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].queryset = purposes


class CounterConsentForm(forms.Form):
    """The secretariat records a decision a resident made at the counter with a clerk's help."""

    purpose = forms.ModelChoiceField(label=_("Purpose"), queryset=None)
    decision = forms.ChoiceField(
        label=_("The resident's decision"),
        choices=[("", "---------")] + list(ConsentRecord.Decision.choices),
    )

    def __init__(self, *args, purposes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].queryset = purposes


class AccountOpenForm(forms.Form):
    """The secretariat opens a portal account for a resident registered without one."""

    email = forms.EmailField(
        label=_("Email address"),
        help_text=_(
            "The person then sets their own password with “Forgot your password?” on the "
            "sign-in page."
        ),
    )


class RepresentationTermsForm(forms.Form):
    """What the secretariat checks and fixes for a representation: evidence and dates."""

    relationship = forms.ChoiceField(label=_("Relationship"), choices=Relationship.choices)
    evidence_kind = forms.ChoiceField(
        label=_("Evidence shown (document kind)"),
        choices=Representation.EvidenceKind.choices,
    )
    evidence_checked_on = JapaneseDateField(label=_("Evidence checked on"))
    valid_from = JapaneseDateField(label=_("Valid from"))
    valid_until = JapaneseDateField(
        label=_("Valid until (last day)"),
        required=False,
        help_text=_("Leave empty when it has no end date (a court-appointed guardian)."),
    )
    birth_date = JapaneseDateField(
        label=_("Date of birth of the minor"),
        required=False,
        help_text=_(
            "For a parent or guardian of a minor only: the representation ends on the 18th "
            "birthday. The date of birth itself is not kept."
        ),
    )

    def clean(self):
        data = super().clean()
        minor = data.get("relationship") == Relationship.PARENT
        if minor and not data.get("birth_date") and "birth_date" not in self.errors:
            self.add_error("birth_date", _("Enter the date of birth of the minor."))
        if not minor and data.get("birth_date"):
            self.add_error("birth_date", _("Only a minor's representation ends at coming of age."))
        return data


class RegisterRepresentationForm(RepresentationTermsForm):
    """The secretariat registers a representation at the counter, with its evidence."""

    field_order = ["consortium", "representative", "represented", "new_person_name"]

    consortium = forms.ModelChoiceField(label=_("Consortium"), queryset=None)
    representative = forms.CharField(
        label=_("Representative (pseudonymous id)"),
        max_length=64,
        help_text=_("The number of the representative's own portal account."),
    )
    represented = forms.CharField(
        label=_("Represented person (pseudonymous id)"),
        max_length=64,
        required=False,
        help_text=_("Leave empty to register the person now, with the name below."),
    )
    new_person_name = forms.CharField(
        label=_("Name of a person not yet registered"), max_length=200, required=False
    )

    def __init__(self, *args, consortia, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consortium"].queryset = consortia

    def clean(self):
        data = super().clean()
        if not data.get("represented") and not data.get("new_person_name", "").strip():
            self.add_error(
                "represented",
                _("Enter the person's number, or their name to register them now."),
            )
        return data


class ApproveRepresentationForm(RepresentationTermsForm):
    """The secretariat approves a resident's online request, naming the person's record."""

    field_order = ["represented", "new_person_name"]

    represented = forms.CharField(
        label=_("Represented person (pseudonymous id)"),
        max_length=64,
        required=False,
        help_text=_("Leave empty to register the person now, with the name below."),
    )
    new_person_name = forms.CharField(
        label=_("Name of a person not yet registered"), max_length=200, required=False
    )

    def clean(self):
        data = super().clean()
        if not data.get("represented") and not data.get("new_person_name", "").strip():
            self.add_error(
                "represented",
                _("Enter the person's number, or their name to register them now."),
            )
        return data


class RepresentationRequestForm(PortalForm):
    """A resident asks, in the portal, to decide for someone else."""

    requested_name = forms.CharField(label=_("Name of the person you act for"), max_length=200)
    relationship = forms.ChoiceField(
        label=_("How you are related to them"),
        choices=[("", pgettext_lazy("empty choice", "Choose"))] + list(Relationship.choices),
    )
    evidence_kind = forms.ChoiceField(
        label=_("The document you will show at the counter"),
        choices=[("", pgettext_lazy("empty choice", "Choose"))]
        + list(Representation.EvidenceKind.choices),
    )
