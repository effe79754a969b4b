"""Attachments: type checked by content, size limited, stored outside the web root."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import PendingEntry
from review import services
from review.models import ReviewAttachment

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


def upload(content: bytes, name="pia.pdf", content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_a_pdf_is_stored_under_a_random_name(make_ticket, rep_a, settings):
    ticket = make_ticket()
    attachment = services.attachment_add(actor=rep_a, ticket=ticket, upload=upload(PDF))
    assert attachment.content_type == "application/pdf"
    assert attachment.original_name == "pia.pdf"
    path = settings.MEDIA_ROOT / attachment.file.name
    assert path.read_bytes() == PDF
    assert "pia" not in attachment.file.name
    entry = PendingEntry.objects.get(action="ticket.attachment_added")
    assert "pia.pdf" not in entry.payload and attachment.sha256 in entry.payload


def test_the_type_comes_from_the_content_not_the_name(make_ticket, rep_a):
    ticket = make_ticket()
    png = services.attachment_add(
        actor=rep_a, ticket=ticket, upload=upload(PNG, "scan.pdf", "application/pdf")
    )
    assert png.content_type == "image/png"
    with pytest.raises(ValidationError, match="PDF, PNG or JPEG"):
        services.attachment_add(
            actor=rep_a,
            ticket=ticket,
            upload=upload(b"<html><script>alert(1)</script>", "x.pdf", "application/pdf"),
        )
    assert ReviewAttachment.objects.count() == 1


def test_a_file_over_the_limit_is_refused(make_ticket, rep_a, settings):
    settings.MAX_UPLOAD_SIZE = 1024
    with pytest.raises(ValidationError, match="larger than"):
        services.attachment_add(actor=rep_a, ticket=make_ticket(), upload=upload(PDF + b" " * 2000))
    assert not ReviewAttachment.objects.exists()
    assert not list((settings.MEDIA_ROOT).rglob("*.pdf")) if settings.MEDIA_ROOT.exists() else True


def test_only_the_requester_attaches_and_only_while_editable(
    make_ticket, rep_a, other_member_a, board_a
):
    ticket = make_ticket()
    with pytest.raises(PermissionDenied):
        services.attachment_add(
            actor=other_member_a.representative, ticket=ticket, upload=upload(PDF)
        )
    services.ticket_submit(actor=rep_a, ticket=ticket)
    with pytest.raises(services.TransitionError):
        services.attachment_add(actor=rep_a, ticket=ticket, upload=upload(PDF))
    assert not ReviewAttachment.objects.exists()
