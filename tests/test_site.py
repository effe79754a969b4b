"""The site as a whole: landing page, languages, health, and secure defaults."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_the_landing_page_says_what_the_platform_is_in_japanese_by_default(client):
    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ja">' in html
    for link in ('href="/admin/"', 'href="/portal/"', 'href="/api/docs/"'):
        assert link in html


def test_the_language_switch_on_every_page_turns_the_site_english(client):
    page = client.get("/")
    assert 'name="language" value="en"' in page.content.decode()

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)

    assert '<html lang="en">' in response.content.decode()
    assert "Smart-city data platform" in response.content.decode()


def test_the_catalogues_translate_the_landing_page(client):
    japanese = client.get("/").content.decode()
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "住民" in japanese
    assert "Residents" in english and "住民" not in english


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_says_503_when_the_broker_is_down(client, monkeypatch):
    from config import views

    monkeypatch.setattr(views, "broker_status", lambda: "down")

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["broker"] == "down"


def test_pages_carry_a_strict_content_security_policy(client):
    policy = client.get("/")["Content-Security-Policy"]

    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_the_landing_page_has_no_inline_script_or_style(client):
    html = client.get("/").content.decode()

    assert "<script" not in html
    assert "<style" not in html and "style=" not in html


def test_an_oversized_request_is_refused_before_it_is_read(client):
    response = client.post(
        "/api/v1/audit/checkpoints/latest",
        data=b"x",
        content_type="application/json",
        CONTENT_LENGTH=str(settings.MAX_REQUEST_BODY + 1),
    )

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_repeated_failed_logins_are_locked_out(client):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("staff", password="right password 123", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "staff", "password": "wrong"})

    response = client.post("/admin/login/", {"username": "staff", "password": "right password 123"})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        env={**clean, **env},
    )


def test_production_settings_pass_the_deployment_checks():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DEBUG="0", SECRET_KEY="x" * 64 + "-production-secret-for-the-check",
        ALLOWED_HOSTS="city.example.jp",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DEBUG="0")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_the_admin_login_page_has_the_language_switch_too(client):
    html = client.get("/admin/login/").content.decode()

    assert 'action="/i18n/setlang/"' in html
    assert "スマートシティ" in html


def test_uploaded_files_are_not_served_by_url(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "attachment.pdf").write_bytes(b"%PDF-1.7 confidential")

    response = client.get(f"{settings.MEDIA_URL}attachment.pdf")

    assert response.status_code == 404


def test_no_page_template_carries_inline_style_or_script():
    # The policy refuses them, so the browser would ignore them: every page's style and script
    # come from static files. PDF templates (rendered by WeasyPrint, never served) may.
    import re
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.BASE_DIR)
    found = []
    for template in root.glob("**/templates/**/*.html"):
        if ".venv" in template.parts or "var" in template.parts:
            continue
        text = template.read_text(encoding="utf-8")
        if "@page" in text:  # a PDF's print style sheet
            continue
        if (
            "<style" in text
            or re.search(r"\sstyle=", text)
            or re.search(r"<script(?![^>]*\ssrc=)", text)
        ):
            found.append(str(template.relative_to(root)))
    assert not found, found
