"""Forms of the resident portal and of the secretariat's admin."""

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from . import identity
from .models import ConsentRecord


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
