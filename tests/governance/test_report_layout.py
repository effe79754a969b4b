"""Printed documents fit to hand over: headers on every page, blocks never split, no codes."""

import io
import re

import pytest
from django.core.management import call_command

from governance.models import Vote
from tests.audit.reports_helpers import pdf_reader

pytestmark = pytest.mark.django_db
MEMBERS = 45  # enough rows for the attendance and the vote tables to run over pages


def pages_of(data: bytes) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in pdf_reader(data).pages]


@pytest.fixture
def long_minutes(tmp_path, settings, add_member, attend, propose, vote):
    settings.MEDIA_ROOT = tmp_path / "private"
    members = [add_member() for _ in range(MEMBERS)]
    for member in members:
        attend(member)
    resolution = propose()
    for member in members:
        vote(resolution, member, Vote.Choice.FOR)
    out = tmp_path / "minutes.pdf"
    call_command(
        "audit_report",
        "--kind",
        "governance.minutes",
        "--language",
        "en",
        "--param",
        f"assembly={resolution.assembly_id}",
        "--out",
        str(out),
        stdout=io.StringIO(),
    )
    return pages_of(out.read_bytes())


def test_the_vote_tables_header_is_repeated_on_every_page_it_runs_over(long_minutes):
    vote_row = re.compile(r"Member \d+ for")
    pages_with_votes = [page for page in long_minutes if vote_row.search(page)]
    assert len(pages_with_votes) >= 2, "the vote table should run over a page for this test"
    for page in pages_with_votes:
        first_row = vote_row.search(page).start()
        assert "Member Vote" in page[:first_row], page[:300]
    attendance_row = re.compile(r"Member \d+ regular")
    for page in long_minutes:
        found = attendance_row.search(page)
        if found:
            assert "Member Class Attendance" in page[: found.start()], page[:300]


def test_the_signature_block_stays_on_one_page_and_no_code_is_printed(long_minutes):
    signature_pages = [page for page in long_minutes if "Signatory of the minutes" in page]
    assert len(signature_pages) == 1
    (page,) = signature_pages
    assert "Signatures" in page and page.count("Signatory of the minutes") == 2
    text = " ".join(long_minutes)
    for code in ("business_plan", "regular_member", "vote.cast", "present_in_person"):
        assert code not in text
