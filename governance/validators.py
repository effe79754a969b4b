"""Validators of the governance app."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def corporate_number_check_digit(base: str) -> int:
    """
    Return the check digit of a 法人番号 for its twelve base digits.

    Rule of the National Tax Agency (法人番号の指定等に関する省令 第2条): with the base digits
    numbered from the rightmost (n = 1..12), weight 1 at odd n and 2 at even n,
    check digit = 9 - (sum of digit * weight mod 9).
    """
    total = 0
    for position, digit in enumerate(reversed(base), start=1):
        total += int(digit) * (2 if position % 2 == 0 else 1)
    return 9 - total % 9


def validate_corporate_number(value: str) -> None:
    """Raise ValidationError unless ``value`` is 13 digits with a correct leading check digit."""
    if len(value) != 13 or not value.isascii() or not value.isdigit():
        raise ValidationError(
            _("A corporate number has exactly 13 digits (half-width, no hyphens)."),
            code="corporate_number_format",
        )
    if int(value[0]) != corporate_number_check_digit(value[1:]):
        raise ValidationError(
            _(
                "This corporate number's check digit is wrong. Copy the number again from the "
                "National Tax Agency's corporate number site."
            ),
            code="corporate_number_check_digit",
        )
