"""Helpers for report tests: reading a PDF's text, fonts and attachments."""

import io
import subprocess
import sys
from pathlib import Path

import pypdf

ROOT = Path(__file__).resolve().parents[2]


def pdf_reader(data: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(data))


def pdf_text(data: bytes) -> str:
    """Return the text of every page, joined; white space squeezed."""
    reader = pdf_reader(data)
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def pdf_fonts(data: bytes) -> set[str]:
    """Return the base names of the embedded fonts (subset prefixes removed)."""
    names = set()
    for page in pdf_reader(data).pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            embedded = descriptor is not None and any(
                key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            if embedded:
                names.add(str(font["/BaseFont"]).split("+", 1)[-1])
    return names


def pdf_attachments(data: bytes) -> dict[str, bytes]:
    return {name: contents[0] for name, contents in pdf_reader(data).attachments.items()}


def verify_with_tool(folder: Path) -> subprocess.CompletedProcess:
    """Run tools/verify_audit_export.py on ``folder`` as an auditor would."""
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "verify_audit_export.py"), str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
