"""
Signing in to a member service in headless Chromium, at a phone's width and without scripts:
the portal's sign-in page, the authorization page with one choice per purpose (nothing
pre-ticked), back at the service with a code; then the resident withdraws in the portal and
sees whether the service was told. Every page passes tests/browser.py's checks.
"""

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings

from consent.models import ConsentRecord, PairwiseSubject, RecipientNotice
from grants import services
from tests.browser import assert_page_ok, follow, launch, requires_chromium
from tests.consent.conftest import PASSWORD

from .conftest import make_resident
from .oidc_helpers import register

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), requires_chromium]

CALLBACK = "https://rp.example.jp/callback"


@pytest.fixture
def server(request, django_db_setup):
    from django.conf import settings

    if settings.MEDIA_URL is None:
        settings.MEDIA_URL = "/private-media-not-served/"
    return request.getfixturevalue("live_server")


@pytest.fixture
def page(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(
            viewport={"width": 360, "height": 780}, locale="ja-JP", java_script_enabled=False
        )
        yield context.new_page()
        context.close()
        browser.close()


def shot(page, name: str) -> None:
    folder = Path(settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"oidc-{name}.png"), full_page=True)


def test_a_resident_signs_in_to_a_service_and_chooses_per_purpose(
    server, page, service_a, grant, purpose, consortium_a
):
    resident = make_resident("phone@example.jp", consortium_a)
    rp = register(service_a.service, redirect_uri=CALLBACK)
    # The browser is sent back to the service (which does not exist here: the navigation
    # fails, after its request, which carries the answer, was made). Chromium then shows its
    # error page at a moment of its own, which would interrupt a later navigation of this tab:
    # the resident goes on in a new tab of the same browser.
    arrived = []
    page.on(
        "request",
        lambda request: arrived.append(request.url) if request.url.startswith(CALLBACK) else None,
    )
    page.goto(server.url + rp.authorize_url(scope=f"openid purpose:{purpose.code}"))
    assert "/portal/signin/" in page.url
    assert_page_ok(page)
    page.get_by_label("メールアドレス").fill("phone@example.jp")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()

    assert "/oidc/authorize" in page.url
    assert "Aizu mobility planner" in page.content()
    shot(page, "authorize")
    assert_page_ok(page)
    radios = page.locator('input[type="radio"]')
    assert radios.count() == 2
    assert not any(radios.nth(i).is_checked() for i in range(radios.count()))
    page.get_by_label("同意する", exact=True).check()
    page.get_by_role("button", name="ログイン", exact=True).click()

    assert len(arrived) == 1
    answer = parse_qs(urlsplit(arrived[0]).query)
    assert answer["state"] == ["st-1"] and "code" in answer
    record = ConsentRecord.objects.get(resident=resident, purpose=purpose)
    assert record.method == "oidc" and record.decision == "given"

    # The service checks consent with its pairwise id and receives the data; later the resident
    # withdraws in the portal and sees that the service was told.
    subject = PairwiseSubject.objects.get(resident=resident).subject
    answer = services.grant_check_residents(
        service=service_a.service, grant=grant, resident_ids=[subject]
    )
    assert answer["results"] == {subject: True}
    page = page.context.new_page()
    page.goto(server.url + f"/portal/purposes/{purpose.pk}/")
    follow(page.get_by_role("button", name="同意をやめる"))
    notice = RecipientNotice.objects.get(resident=resident)
    assert notice.subject == subject
    page.goto(server.url + "/portal/accesses/")
    assert "Aizu mobility planner" in page.content()
    shot(page, "withdrawal-notice")
    assert_page_ok(page)


def test_the_example_service_signs_a_resident_in_and_confirms_the_deletion_they_see(
    server, page, service_a, grant, purpose, consortium_a
):
    """
    The example relying party (examples/oidc_relying_party.py, on Authlib) with the resident in
    Chromium: sign in with the city account at the service, agree to one purpose, the service
    checks consent by its pairwise id; the resident withdraws in the portal, the service
    receives the event, deletes and confirms, and the resident sees the confirmation.
    """
    import importlib.util

    from .test_oidc_example import EXAMPLE

    spec = importlib.util.spec_from_file_location("oidc_relying_party", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)

    make_resident("rp-browser@example.jp", consortium_a)
    client, secret = services.openid_client_register(
        actor=None,
        service=service_a.service,
        redirect_uris=[CALLBACK],
        sector_identifier="mobility.example.jp",
    )
    rp = example.RelyingParty(
        server.url,
        client.application.client_id,
        secret,
        CALLBACK,
        service_a.credential.client_id,
        service_a.secret,
    )
    url, kept = rp.login_url(f"openid purpose:{purpose.code}")
    arrived = []
    page.on(
        "request",
        lambda request: arrived.append(request.url) if request.url.startswith(CALLBACK) else None,
    )
    page.goto(url)
    page.get_by_label("メールアドレス").fill("rp-browser@example.jp")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url("**/oidc/authorize**")
    assert_page_ok(page)
    page.get_by_label("同意する", exact=True).check()
    page.get_by_role("button", name="ログイン", exact=True).click()
    assert len(arrived) == 1

    claims = rp.finish(arrived[0], kept)
    subject = claims["sub"]
    assert claims["purposes"] == [purpose.code]
    assert rp.allowed(grant.jti, [subject]) == {subject}

    # In a new tab (the failed return to the absent service ends on Chromium's error page).
    page = page.context.new_page()
    page.goto(server.url + f"/portal/purposes/{purpose.pk}/")
    follow(page.get_by_role("button", name="同意をやめる"))
    assert rp.allowed(grant.jti, [subject]) == set()
    assert rp.handle_withdrawals() == [subject]
    assert subject not in rp.held
    notice = RecipientNotice.objects.get()
    assert notice.outcome == "deleted" and notice.confirmed_at is not None

    page.goto(server.url + "/portal/accesses/")
    assert "あなたのデータを消去しました" in page.inner_text("main")
    shot(page, "example-deletion-confirmed")
    assert_page_ok(page)
