"""Receipts are verified as an outsider would: PyJWT against the JWKS the site serves."""

import hashlib
import json

import jwt
import pytest
from django.test import Client
from django.urls import reverse

from audit.chain import canonical_json
from consent import services
from consent.models import ConsentRecord

from .conftest import as_resident

pytestmark = pytest.mark.django_db


def download(resident, record) -> dict:
    client = Client()
    client.force_login(resident.user)
    response = client.get(reverse("consent:receipt", args=[record.receipt_id]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    return json.loads(response.content)


def verify(token: str) -> dict:
    jwks = Client().get("/.well-known/jwks.json").json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwt.PyJWKSet.from_dict(jwks).keys if k.key_id == kid)
    return jwt.decode(token, key=key, algorithms=["EdDSA", "ES256"])


def test_a_given_consent_has_a_verifiable_receipt(purpose, resident):
    record = services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)

    document = download(resident, record)
    claims = verify(document["jws"])

    assert jwt.get_unverified_header(document["jws"])["typ"] == "consent-receipt+jwt"
    assert claims == document["receipt"]
    assert claims["consentReceiptID"] == claims["jti"] == str(record.receipt_id)
    assert claims["piiPrincipalId"] == claims["sub"] == resident.pseudonymous_id
    assert claims["jurisdiction"] == "JP"
    assert claims["version"] == "KI-CR-v1.1.0"
    assert claims["consentStatus"] == "given"
    assert claims["collectionMethod"].startswith("web form")
    assert claims["piiControllers"][0]["piiController"] == "会津若松市"
    service = claims["services"][0]
    assert service["service"] == "歩いて健康ポイント"
    purpose_claims = service["purposes"][0]
    assert purpose_claims["piiCategory"] == ["checkup", "steps"]
    assert purpose_claims["thirdPartyDisclosure"] is True
    assert purpose_claims["thirdPartyName"] == ["会津モビリティ株式会社"]
    assert claims["sensitive"] is True and claims["spiCat"] == ["checkup"]
    notice = purpose.current_notice
    assert claims["notice"] == {"version": 1, "sha256": notice.sha256}
    # The notice's hash can be recomputed from what the notice page publishes.
    recomputed = hashlib.sha256(
        canonical_json(
            {
                "purpose": purpose.pk,
                "version": 1,
                "text": {"ja": notice.text_ja, "en": notice.text_en},
                "terms": notice.terms,
            }
        ).encode()
    ).hexdigest()
    assert recomputed == notice.sha256
    # Nothing personal in the receipt.
    assert "hanako" not in document["jws"] and "花子" not in json.dumps(claims, ensure_ascii=False)


def test_withdrawal_and_paper_receipts(purpose, resident, clerk_a):
    services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)
    withdrawn = services.consent_withdraw(
        actor=as_resident(resident), resident=resident, purpose=purpose
    )
    paper = services.consent_record_paper(
        actor=clerk_a,
        resident=resident,
        purpose=purpose,
        decision=ConsentRecord.Decision.GIVEN,
        paper_reference="AIZU-7",
    )

    claims = verify(download(resident, withdrawn)["jws"])
    assert claims["consentStatus"] == "withdrawn"
    assert "withdrawn" in claims["services"][0]["purposes"][0]["termination"]

    claims = verify(download(resident, paper)["jws"])
    assert claims["collectionMethod"].startswith("paper form")


def test_a_tampered_receipt_fails_verification(purpose, resident):
    record = services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)
    header, payload, signature = download(resident, record)["jws"].split(".")
    forged = jwt.utils.base64url_encode(
        json.dumps(
            {**json.loads(jwt.utils.base64url_decode(payload)), "consentStatus": "x"}
        ).encode()
    ).decode()
    with pytest.raises(jwt.InvalidSignatureError):
        verify(f"{header}.{forged}.{signature}")
