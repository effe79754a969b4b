"""Dates as Japanese clerks type them: Western or 和暦, with or without separators."""

import datetime

import pytest
from django import forms
from django.utils import translation

from config.dates import parse_date, wareki
from config.forms import JapaneseDateField

D = datetime.date


@pytest.mark.parametrize(
    ("typed", "date"),
    [
        ("2027-03-31", D(2027, 3, 31)),
        ("2027/03/31", D(2027, 3, 31)),
        ("2027/3/31", D(2027, 3, 31)),
        ("2027.3.31", D(2027, 3, 31)),
        ("20270331", D(2027, 3, 31)),
        ("2027年3月31日", D(2027, 3, 31)),
        ("２０２７／０３／３１", D(2027, 3, 31)),  # full-width, as an IME types it
        ("令和8年4月1日", D(2026, 4, 1)),
        ("令和８年４月１日", D(2026, 4, 1)),
        ("令和元年5月1日", D(2019, 5, 1)),
        ("R8.4.1", D(2026, 4, 1)),
        ("r8/4/1", D(2026, 4, 1)),
        ("R080401", D(2026, 4, 1)),
        ("令和080401", D(2026, 4, 1)),
        ("平成31年4月30日", D(2019, 4, 30)),
        ("H31.4.30", D(2019, 4, 30)),
        ("昭和64年1月7日", D(1989, 1, 7)),
        (" 2027/03/31 ", D(2027, 3, 31)),
    ],
)
def test_dates_typed_every_way_clerks_type_them(typed, date):
    assert parse_date(typed) == date


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "2027/02/30",  # no such day
        "平成31年5月1日",  # already 令和
        "令和1年4月30日",  # still 平成
        "2027/03",
        "明日",
        "R8",
        "2027-13-01",
    ],
)
def test_what_is_no_date_is_refused(typed):
    assert parse_date(typed) is None


def test_the_era_form_of_a_date():
    assert wareki(D(2026, 4, 1)) == "令和8年4月1日"
    assert wareki(D(2019, 5, 1)) == "令和元年5月1日"
    assert wareki(D(2019, 4, 30)) == "平成31年4月30日"


def test_the_field_names_the_forms_it_takes_in_its_error():
    class Form(forms.Form):
        day = JapaneseDateField()

    with translation.override("ja"):
        form = Form({"day": "3月31日"})
        assert not form.is_valid()
        assert "2027/03/31" in form.errors["day"][0] and "令和" in form.errors["day"][0]
        assert "2027/03/31" in str(Form.base_fields["day"].help_text)
        assert Form({"day": "令和9年3月31日"}).is_valid()
