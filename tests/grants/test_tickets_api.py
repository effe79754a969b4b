"""A service files and follows its own review requests over the API."""

import json

import pytest
from django.core.cache import cache

from audit.models import PendingEntry
from review.models import ReviewTicket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()


def request_body(purpose, changes=None):
    body = {
        "title": "配車最適化のための乗車履歴の利用",
        "purpose": purpose.pk,
        "categories": ["steps"],
        "recipients": [],
        "retention_days": 365,
        "deletion_method": "保存期間の終了後に消去",
        "security_measures": "暗号化とアクセス制御",
        "anonymisation": "pseudonymised",
        "anonymisation_details": "仮名IDのみ",
        "pia": [{"risk": "再識別", "likelihood": "low", "impact": "high", "mitigation": "集計"}],
    }
    body.update(changes or {})
    return body


def post(client, caller, body):
    return client.post(
        "/api/v1/tickets",
        json.dumps(body) if not isinstance(body, str) else body,
        content_type="application/json",
        HTTP_AUTHORIZATION=caller.auth,
    )


def test_service_files_a_ticket_and_follows_it(client, service_a, purpose, board_a):
    response = post(client, service_a, request_body(purpose))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "submitted"
    assert body["service_name"] == "Aizu mobility planner"
    ticket = ReviewTicket.objects.get(pk=body["id"])
    assert ticket.requester_id == service_a.service.organization_id
    entry = PendingEntry.objects.get(action="ticket.created")
    assert (entry.actor_type, entry.actor_id) == ("service", str(service_a.service.pk))
    got = client.get(f"/api/v1/tickets/{ticket.pk}", HTTP_AUTHORIZATION=service_a.auth)
    assert got.status_code == 200
    assert got.json()["id"] == ticket.pk and got.json()["grants"] == []


def test_followed_ticket_lists_its_grants(client, service_a, grant, ticket):
    got = client.get(f"/api/v1/tickets/{ticket.pk}", HTTP_AUTHORIZATION=service_a.auth).json()
    assert got["state"] == "approved"
    assert got["grants"] == [grant.jti]
    assert got["conditions"] == ["aggregate before publication"]


def test_another_services_ticket_is_404(client, service_a, service_b, purpose, board_a):
    ticket_id = post(client, service_a, request_body(purpose)).json()["id"]
    other = client.get(f"/api/v1/tickets/{ticket_id}", HTTP_AUTHORIZATION=service_b.auth)
    missing = client.get("/api/v1/tickets/999999", HTTP_AUTHORIZATION=service_b.auth)
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()
    assert client.get(f"/api/v1/tickets/{ticket_id}").status_code == 401


def test_optional_texts_may_be_sent_empty(client, service_a, purpose, board_a):
    """The schema gives them the default "": sending it explicitly is the same as leaving it out."""
    body = request_body(
        purpose,
        {
            "proposed_purpose_title": "",
            "proposed_purpose_explanation": "",
            "cross_border_details": "",
        },
    )
    response = post(client, service_a, body)
    assert response.status_code == 201, response.content
    assert ReviewTicket.objects.filter(requester=service_a.service.organization).count() == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"categories": ["no-such-category"]},
        {"purpose": 999999},
        {"recipients": [999999]},
        {"retention_days": "a year"},
        {"pia": []},
        {"pia": [{"risk": "r", "likelihood": "huge", "impact": "low", "mitigation": "m"}]},
        {"third_party_provision": "yes"},
        {"anonymisation": "magic"},
        {"title": ""},
        {"recipients": [2**70]},  # more than any database integer: was a 500
        {"purpose": 2**70},
        {"recipients": [2**63]},
        {"title": 12345},  # texts are JSON strings, never numbers made into one
        {"pia": [{"risk": "r", "likelihood": "low", "impact": "low", "mitigation": 0}]},
    ],
)
def test_bad_requests_get_json_400_and_file_nothing(client, service_a, purpose, board_a, changes):
    response = post(client, service_a, request_body(purpose, changes))
    assert response.status_code == 400, response.content
    assert response.json()["error"] in {"invalid_request", "unknown_reference"}
    assert not ReviewTicket.objects.filter(requester=service_a.service.organization).exists()


@pytest.mark.parametrize("raw", ["{oops", "[1, 2]", "null"])
def test_malformed_json_gets_400(client, service_a, raw):
    response = post(client, service_a, raw)
    assert response.status_code == 400
    assert response.json()["error"] in {"malformed_request", "invalid_request"}


def test_service_files_evidence_for_an_obligation_of_its_ticket(
    client, service_a, service_b, ticket, grant
):
    got = client.get(f"/api/v1/tickets/{ticket.pk}", HTTP_AUTHORIZATION=service_a.auth).json()
    (obligation,) = got["obligations"]
    assert obligation["kind"] == "other" and obligation["state"] == "open"
    assert obligation["text"] == "aggregate before publication"
    path = f"/api/v1/tickets/{ticket.pk}/obligations/{obligation['id']}/evidence"

    def send(caller, body, at=path):
        return client.post(
            at, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=caller.auth
        )

    # Another service, a missing obligation: the same 404.
    assert send(service_b, {"text": "報告"}).status_code == 404
    missing = send(service_a, {"text": "x"}, at=path.replace(f"/{obligation['id']}/", "/999999/"))
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    # Bad input: JSON errors, nothing filed.
    for body in ({}, {"text": "   "}, {"text": 42}):
        response = send(service_a, body)
        assert response.status_code == 400 and "error" in response.json()
    response = send(service_a, {"text": "集計後にのみ公表しました"})
    assert response.status_code == 201, response.json()
    assert response.json()["obligation"]["state"] == "submitted"
    entry = PendingEntry.objects.get(action="obligation.evidence_submitted")
    assert (entry.actor_type, entry.actor_id) == ("service", str(service_a.service.pk))
    assert "集計" not in json.dumps(entry.payload, ensure_ascii=False)
    # Evidence awaiting the board: nothing more is owed.
    again = send(service_a, {"text": "再度"})
    assert again.status_code == 409 and again.json()["error"] == "not_owed"


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def evidence_path(client, caller, ticket) -> str:
    got = client.get(f"/api/v1/tickets/{ticket.pk}", HTTP_AUTHORIZATION=caller.auth).json()
    (obligation,) = got["obligations"]
    return f"/api/v1/tickets/{ticket.pk}/obligations/{obligation['id']}/evidence"


def upload(content: bytes, name: str, content_type="application/octet-stream"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


def test_service_files_evidence_with_files_as_multipart(
    client, service_a, ticket, grant, _private_media
):
    from review.models import ReviewAttachment

    path = evidence_path(client, service_a, ticket)
    response = client.post(
        path,
        {
            "text": "監査報告書を添付します",
            "files": [upload(PDF, "audit.pdf"), upload(PNG, "scan.png")],
        },
        HTTP_AUTHORIZATION=service_a.auth,
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["obligation"]["state"] == "submitted"
    assert [(a["name"], a["content_type"]) for a in body["attachments"]] == [
        ("audit.pdf", "application/pdf"),
        ("scan.png", "image/png"),
    ]
    stored = ReviewAttachment.objects.filter(evidence_id=body["id"]).order_by("pk")
    assert [a.sha256 for a in stored] == [a["sha256"] for a in body["attachments"]]
    assert (_private_media / stored[0].file.name).read_bytes() == PDF
    entry = PendingEntry.objects.get(action="obligation.evidence_submitted")
    assert [a["attachment_id"] for a in entry.data["attachments"]] == [a.pk for a in stored]
    assert "audit.pdf" not in entry.payload


def test_multipart_evidence_text_alone_is_filed(client, service_a, ticket, grant, _private_media):
    path = evidence_path(client, service_a, ticket)
    response = client.post(path, {"text": "報告のみ"}, HTTP_AUTHORIZATION=service_a.auth)
    assert response.status_code == 201, response.json()
    assert response.json()["attachments"] == []


@pytest.mark.parametrize(
    "files, limit",
    [
        ([("notes.txt", b"plain text, not a PDF")], None),  # type read from the content
        ([("fake.pdf", b"<html>not a pdf</html>")], None),  # the name is not trusted
        ([(f"f{i}.pdf", PDF) for i in range(6)], None),  # at most five
        ([("big.pdf", PDF + b" " * 2000)], 1024),  # the upload size limit
    ],
)
def test_bad_evidence_files_get_json_400_and_file_nothing(
    client, service_a, ticket, grant, settings, _private_media, files, limit
):
    from review.models import ObligationEvidence, ReviewAttachment

    if limit:
        settings.MAX_UPLOAD_SIZE = limit
    path = evidence_path(client, service_a, ticket)
    response = client.post(
        path,
        {"text": "報告", "files": [upload(content, name) for name, content in files]},
        HTTP_AUTHORIZATION=service_a.auth,
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_request"
    assert not ObligationEvidence.objects.exists()
    assert not ReviewAttachment.objects.exists()
    assert not PendingEntry.objects.filter(action="obligation.evidence_submitted").exists()
    assert not _private_media.exists() or not any(_private_media.rglob("*.*"))


def test_multipart_evidence_without_text_gets_400(client, service_a, ticket, grant, _private_media):
    path = evidence_path(client, service_a, ticket)
    response = client.post(
        path, {"files": [upload(PDF, "audit.pdf")]}, HTTP_AUTHORIZATION=service_a.auth
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_another_service_cannot_file_evidence_files(
    client, service_a, service_b, ticket, grant, _private_media
):
    path = evidence_path(client, service_a, ticket)
    response = client.post(
        path, {"text": "x", "files": [upload(PDF, "a.pdf")]}, HTTP_AUTHORIZATION=service_b.auth
    )
    assert response.status_code == 404
    assert not _private_media.exists() or not any(_private_media.rglob("*.*"))
