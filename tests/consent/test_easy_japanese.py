"""
やさしい日本語 (Easy Japanese), the portal's third language: chosen with the language switch,
kept on the resident's account, written with furigana where a sentence has hard kanji, and
ordinary Japanese wherever a text has no Easy version yet; the notice in Easy Japanese when the
secretariat wrote one.
"""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from audit.models import Entry, PendingEntry
from audit.reports import ReportParametersForm
from consent import services
from consent.models import Notice, Resident
from consent.receipts import receipt_claims

from .conftest import as_resident
from .test_portal import signed_in

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
EASY = "ja-easy"


def switch(client: Client, language: str, next_url: str = "/portal/"):
    return client.post(reverse("set_language"), {"language": language, "next": next_url})


def test_the_switch_offers_easy_japanese_and_django_accepts_it(client):
    page = client.get(reverse("consent:signin")).content.decode()
    assert 'value="ja-easy"' in page and "やさしい にほんご" in page
    response = switch(client, EASY, "/portal/signin/")
    assert response.status_code == 302 and response.cookies["django_language"].value == EASY
    page = client.get(reverse("consent:signin")).content.decode()
    assert '<html lang="ja-easy"' in page
    assert "住民ポータルに ログイン" in page  # the Easy version of "Sign in to the resident portal"
    # The switch now offers the two others.
    assert 'value="ja"' in page and 'value="en"' in page and 'value="ja-easy"' not in page


def test_a_language_the_site_does_not_have_reads_as_japanese(client, resident):
    client.force_login(resident.user)
    switch(client, "ja-kids")
    page = client.get(reverse("consent:portal")).content.decode()
    assert '<html lang="ja"' in page
    resident.refresh_from_db()
    assert resident.language == "ja"


def test_the_resident_keeps_easy_japanese_on_the_account(purpose, resident):
    client = signed_in(resident)
    switch(client, EASY)
    resident.refresh_from_db()
    assert resident.language == EASY
    page = client.get(reverse("consent:portal")).content.decode()
    # A sentence with hard kanji carries furigana as markup, not as escaped text.
    assert "<ruby>市<rp>(</rp><rt>し</rt><rp>)</rp></ruby>" in page
    assert "&lt;ruby&gt;" not in page
    assert "「だめ」と 言っても、" in page  # saying no costs nothing, on every card
    # Dates stay as in Japanese; a text with no Easy version yet is in ordinary Japanese.
    with translation.override(EASY):
        assert translation.gettext("Consent given") == "同意"
    # Receipts name the language as ISO 639-1 asks.
    resident.refresh_from_db()
    record = services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)
    assert receipt_claims(record)["language"] == "ja"


def test_the_notice_in_easy_japanese_when_the_secretariat_wrote_one(purpose, resident):
    notice = purpose.current_notice
    client = signed_in(resident)
    switch(client, EASY)
    url = reverse("consent:notice", kwargs={"purpose_id": purpose.pk, "version": notice.version})
    page = client.get(url).content.decode()
    assert notice.text_ja.splitlines()[0] in page  # none yet: the ordinary Japanese notice

    services.notice_easy_text_set(
        actor=None,
        notice=notice,
        text="市《し》は あなたの 歩《ある》いた 数を 使います。\n<script>alert(1)</script>",
    )
    page = client.get(url).content.decode()
    assert "<ruby>市<rp>(</rp><rt>し</rt><rp>)</rp></ruby>は あなたの" in page
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    # The binding text and its hash are unchanged; other languages still read the notice.
    assert Notice.objects.get(pk=notice.pk).sha256 == notice.sha256
    switch(client, "ja")
    assert "あなたの 歩" not in client.get(url).content.decode()


def test_the_secretariat_writes_the_easy_notice_in_the_admin(purpose, clerk_a, clerk_b):
    notice = purpose.current_notice
    sha256 = notice.sha256
    url = reverse("admin:consent_notice_change", args=[notice.pk])
    client = Client()
    client.force_login(clerk_b)  # another consortium's clerk learns nothing
    assert client.get(url).status_code in (302, 403, 404)
    assert client.post(url, {"text_ja_easy": "ちがう"}).status_code in (302, 403, 404)
    notice.refresh_from_db()
    assert notice.text_ja_easy == ""

    client.force_login(clerk_a)
    page = client.get(url).content.decode()
    assert 'name="text_ja_easy"' in page and 'name="text_ja"' not in page
    response = client.post(url, {"text_ja_easy": "やさしい お知らせです。", "text_ja": "変えた"})
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.text_ja_easy == "やさしい お知らせです。"
    assert notice.text_ja != "変えた" and notice.sha256 == sha256
    entries = list(Entry.objects.filter(action="notice.easy_text_set")) + list(
        PendingEntry.objects.filter(action="notice.easy_text_set")
    )
    assert len(entries) == 1


def test_reports_are_written_in_japanese_or_english_only():
    assert [code for code, _ in ReportParametersForm.base_fields["language"].choices] == [
        "ja",
        "en",
    ]


def test_easy_catalogues_add_no_markup_but_furigana():
    """Catalogue strings render as HTML in templates: allow ruby and what the original has."""
    allowed = {"ruby", "rt", "rp"}
    tag = re.compile(r"</?([a-zA-Z]+)[^>]*>")
    for path in (ROOT / "consent/locale", ROOT / "public/locale", ROOT / "locale"):
        catalogue = polib.pofile(str(path / "ja_Easy/LC_MESSAGES/django.po"))
        translated = catalogue.translated_entries()
        assert translated
        for entry in translated:
            text = entry.msgstr or entry.msgstr_plural[0]
            extra = set(tag.findall(text)) - set(tag.findall(entry.msgid)) - allowed
            assert not extra, f"{entry.msgid!r} adds {extra}"
            assert "<ruby " not in text and "<rt " not in text  # no attributes
            assert text.count("<ruby>") == text.count("</ruby>")
    assert settings.LANGUAGES[1][0] == EASY
    # A string the Python code shows too (a refusal) is escaped there: no furigana in it.
    with translation.override(EASY):
        refusal = translation.gettext(
            "Only the person can decide on this purpose: the data ethics board asked for their "
            "own decision. A representative cannot decide for them."
        )
    assert "ほんにんだけが" in refusal and "<" not in refusal


def test_residents_may_choose_easy_japanese_in_their_account():
    assert EASY in dict(Resident._meta.get_field("language").choices)
