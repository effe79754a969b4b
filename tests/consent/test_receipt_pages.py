"""
Receipts people can read: each decision's receipt page and its PDF, in the resident's
language, saying what was decided, by whom, for what, with which data, for whom and for how
long, how to change it, and that it is signed and in the public record.
"""

import io

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from audit.reports import FONT_PATH
from consent import services

from .conftest import as_resident

pytestmark = pytest.mark.django_db


def client_of(resident, language: str = "ja") -> Client:
    client = Client()
    client.force_login(resident.user)
    client.cookies["django_language"] = language
    return client


def test_the_receipt_page_says_what_was_decided_in_words(purpose, resident):
    actor = as_resident(resident)
    given = services.consent_give(actor=actor, resident=resident, purpose=purpose)
    withdrew = services.consent_withdraw(actor=actor, resident=resident, purpose=purpose)
    client = client_of(resident)

    html = client.get(reverse("consent:receipt_page", args=[given.receipt_id])).content.decode()
    for text in (
        "同意しました",
        "歩いて健康ポイント",
        "会津スマートシティ推進協議会",
        "健診結果",
        "会津モビリティ株式会社",
        "1年",
        "いつでも同意をやめられます",
        "公開の記録",
        str(given.receipt_id),
        reverse("consent:receipt", args=[given.receipt_id]),  # the signed file beside it
        reverse("consent:receipt_pdf", args=[given.receipt_id]),
    ):
        assert text in html, text
    html = client.get(reverse("consent:receipt_page", args=[withdrew.receipt_id])).content.decode()
    assert "同意をやめました" in html
    # The history links every decision to its receipt page.
    history = client.get(reverse("consent:history")).content.decode()
    assert reverse("consent:receipt_page", args=[withdrew.receipt_id]) in history

    english = client_of(resident, "en").get(
        reverse("consent:receipt_page", args=[given.receipt_id])
    )
    assert "You agreed" in english.content.decode()
    assert "Walking health points" in english.content.decode()


@pytest.mark.skipif(not FONT_PATH.exists(), reason="needs fonts-ipaexfont-gothic")
def test_the_receipt_pdf_is_in_words_without_codes(purpose, resident):
    record = services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)
    response = client_of(resident).get(reverse("consent:receipt_pdf", args=[record.receipt_id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = text.replace("\n", "")
    for words in (
        "同意しました",
        "歩いて健康ポイント",
        "健診結果",
        "会津モビリティ株式会社",
        "1年",
    ):
        assert words in text, words
    # Human labels, never the codes stored behind them.
    for code in ("health-points", "checkup", "steps", "given", "portal"):
        assert code not in text, code


def test_only_the_resident_reads_their_receipts(purpose, resident, other_resident):
    record = services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)
    for name in ("consent:receipt_page", "consent:receipt_pdf"):
        url = reverse(name, args=[record.receipt_id])
        assert client_of(other_resident).get(url).status_code == 404
        anonymous = Client().get(url)
        assert anonymous.status_code == 302
        assert reverse("consent:signin") in anonymous["Location"]
