"""Form fields shared by the apps' forms and admin pages."""

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from config.dates import parse_date
from config.ids import ID_MAX


class IdsChoiceField(forms.ModelMultipleChoiceField):
    """
    Records chosen by id, where a number no id can be (beyond 64 bits) is an unknown choice
    like any other: Django passes it to the database, which fails on it.
    """

    def _check_values(self, value):
        for pk in value:
            try:
                number = int(str(pk))
            except ValueError:
                continue  # Django's own check refuses it
            if not -ID_MAX - 1 <= number <= ID_MAX:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        return super()._check_values(value)


class JapaneseDateField(forms.DateField):
    """
    A date typed as Japanese clerks type it, Western or by era (config.dates.parse_date), with
    the accepted forms shown beside the field and named again in the error.
    """

    default_error_messages = {
        "invalid": _(
            "Enter a date such as 2027/03/31, 2027-03-31, 20270331 or 令和9年3月31日 (R9.3.31)."
        ),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text", _("For example 2027/03/31 or 令和9年3月31日; with or without separators.")
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        parsed = parse_date(value)
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed
