"""
The checks every browser test relies on find what they are meant to find: a page with a
serious accessibility fault or one that scrolls sideways at 320 px fails; a clean page passes.
"""

import http.server
import threading

import pytest

from .browser import assert_page_ok, axe_violations, launch, requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium]

CLEAN = """<!doctype html><html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>確認</title></head>
<body><main><h1>お知らせ</h1><p>本文です。</p>
<label for="name">お名前</label><input id="name" name="name"></main></body></html>"""


@pytest.fixture
def page():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(
            viewport={"width": 390, "height": 700}, java_script_enabled=False
        )
        yield context.new_page()
        context.close()
        browser.close()


def test_a_clean_page_passes_without_javascript(page):
    page.set_content(CLEAN)
    assert_page_ok(page)
    assert page.viewport_size == {"width": 390, "height": 700}  # put back


def test_an_unlabelled_field_and_low_contrast_are_found(page):
    page.set_content(
        CLEAN.replace('<label for="name">お名前</label>', "").replace(
            "<p>本文です。</p>", '<p style="color:#ccc;background:#fff">本文です。</p>'
        )
    )
    found = {violation["id"] for violation in axe_violations(page)}
    assert {"label", "color-contrast"} <= found
    with pytest.raises(AssertionError, match="label"):
        assert_page_ok(page)


def test_a_page_wider_than_a_phone_is_found(page):
    page.set_content(CLEAN.replace("<p>本文です。</p>", '<p style="width:400px">本文です。</p>'))
    with pytest.raises(AssertionError, match="wider than a 320px screen"):
        assert_page_ok(page)


def test_pages_served_without_javascript_are_each_checked_as_they_are(page):
    """
    A page opened over HTTP with scripts off is checked as a copy of what the page shows at
    its address: the same address showing a faulty page after a clean one is found faulty.
    """
    shown = {"html": CLEAN}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body = shown["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/page/"
    try:
        page.goto(url)
        assert_page_ok(page)
        shown["html"] = CLEAN.replace('<label for="name">お名前</label>', "")
        page.goto(url)
        assert "label" in {violation["id"] for violation in axe_violations(page)}
        shown["html"] = CLEAN
        page.goto(url)
        assert_page_ok(page)
    finally:
        server.shutdown()
        server.server_close()
