"""Forms of the audit app."""

import hashlib
import re

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class ReportCheckForm(forms.Form):
    """Either a PDF file, or its SHA-256 (for files too large to upload)."""

    file = forms.FileField(label=_("Report (PDF file)"), required=False)
    sha256 = forms.CharField(
        label=_("or its SHA-256 (64 hexadecimal digits)"), required=False, max_length=80
    )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload and upload.size > settings.MAX_UPLOAD_SIZE:
            raise forms.ValidationError(
                _("The file is larger than %(limit)d MB; enter its SHA-256 instead.")
                % {"limit": settings.MAX_UPLOAD_SIZE // (1024 * 1024)}
            )
        return upload

    def clean_sha256(self):
        value = self.cleaned_data.get("sha256", "").strip().lower()
        if value and not SHA256_RE.match(value):
            raise forms.ValidationError(
                _("A SHA-256 is 64 characters, 0-9 and a-f (for example from sha256sum).")
            )
        return value

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("file") and not data.get("sha256"):
            raise forms.ValidationError(_("Choose a PDF file, or enter its SHA-256."))
        return data

    def digest(self) -> str:
        """Return the SHA-256 to look up: of the uploaded file, else the one entered."""
        upload = self.cleaned_data.get("file")
        if not upload:
            return self.cleaned_data["sha256"]
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        return digest.hexdigest()


class WitnessedLogForm(forms.ModelForm):
    """A log for this platform to witness: its origin and its signed-note verifier key."""

    class Meta:
        from .models import WitnessedLog

        model = WitnessedLog
        fields = ["origin", "verifier_key", "active"]

    def clean_origin(self):
        from . import notes

        origin = self.cleaned_data["origin"].strip()
        try:
            notes.check_key_name(origin)
        except notes.NoteError:
            raise forms.ValidationError(
                _("An origin is one line without spaces or '+', e.g. city.example/audit-log.")
            ) from None
        return origin

    def clean(self):
        from . import notes

        cleaned = super().clean()
        origin, vkey = cleaned.get("origin"), cleaned.get("verifier_key", "").strip()
        if origin and vkey:
            try:
                name, _public_key = notes.parse_verifier_key(vkey)
            except (notes.NoteError, ValueError):
                self.add_error(
                    "verifier_key",
                    _("Enter the log's Ed25519 verifier key: name+key ID (8 hex digits)+key."),
                )
            else:
                if name != origin:
                    self.add_error("verifier_key", _("The key's name must be the log's origin."))
        cleaned["verifier_key"] = vkey
        return cleaned
