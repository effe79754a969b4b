"""Form fields shared by the apps' forms and admin pages."""

from django import forms

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
