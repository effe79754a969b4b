"""The governance screens and messages in Japanese (the default) and English."""

import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from governance.validators import validate_corporate_number

CATALOGUE = Path(__file__).resolve().parents[2] / "governance/locale/ja/LC_MESSAGES/django.po"


def test_every_governance_string_has_a_japanese_translation():
    text = CATALOGUE.read_text(encoding="utf-8")
    untranslated = re.findall(r'\nmsgid "(.+)"\nmsgstr ""\n\n', text)
    assert untranslated == []
    assert "#, fuzzy" not in text


@pytest.mark.parametrize(
    "language,expected",
    [("ja", "チェックデジットが正しくありません"), ("en", "check digit is wrong")],
)
def test_refusals_speak_the_users_language(language, expected):
    with translation.override(language):
        with pytest.raises(ValidationError) as error:
            validate_corporate_number("8000012050002")
        assert expected in str(error.value.messages[0])


@pytest.mark.django_db
def test_the_admin_speaks_japanese_by_default(client, clerk_a):
    client.force_login(clerk_a)
    page = client.get(reverse("admin:governance_resolution_changelist"))
    assert "議案" in page.text
    add = client.get(reverse("admin:governance_membership_add"))
    assert "入会日" in add.text and "秘密保持条項に同意" in add.text
