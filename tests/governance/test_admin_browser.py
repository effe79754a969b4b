"""
The secretariat's admin pages in headless Chromium, checked as every page people use is
(tests/browser.py: axe-core without critical or serious violations, no sideways scroll; at a
desktop's width, where the secretariat works): the sign-in page, the lists, a resolution with
its votes, an assembly, a bylaw version and its comparison, the report list while a report is
being made.
"""

import re

import pytest
from django.core import mail

from audit import services as audit_services
from governance.models import Vote
from tests.browser import assert_page_ok, launch, requires_chromium
from tests.consent.test_browser import portal_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), requires_chromium]
DESKTOP = 1280
server = portal_server


@pytest.fixture
def page(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(viewport={"width": DESKTOP, "height": 900}, locale="ja-JP")
        yield context.new_page()
        context.close()
        browser.close()


def test_the_secretariat_pages_pass_the_accessibility_checks(
    server, page, consortium_a, clerk_a, founding_bylaws, add_member, attend, propose, vote
):
    member = add_member()
    attend(member)
    resolution = propose()
    vote(resolution, member, Vote.Choice.FOR)
    audit_services.report_request(
        actor=None,
        kind="consent.statistics",
        parameters={"consortium": consortium_a.pk, "language": "ja"},
        consortium_id=consortium_a.pk,
        enqueue=False,
    )

    page.goto(server.url + "/admin/login/")
    # The sign-in page says what it is for in a heading.
    assert page.get_by_role("heading", level=1).count() == 1
    assert_page_ok(page, width=DESKTOP)
    page.get_by_label("ユーザー名").fill("clerk_a")
    page.get_by_label("パスワード").fill("correct horse battery staple")
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/admin/")
    assert_page_ok(page, width=DESKTOP)

    for path in (
        "/admin/governance/resolution/",
        f"/admin/governance/resolution/{resolution.pk}/change/",
        "/admin/governance/generalassembly/",
        f"/admin/governance/generalassembly/{resolution.assembly_id}/change/",
        "/admin/governance/bylawversion/",
        f"/admin/governance/bylawversion/{founding_bylaws.pk}/change/",
        f"/admin/governance/bylawversion/{founding_bylaws.pk}/compare/",
        "/admin/governance/membership/",
        "/admin/consent/purpose/",
        # The lists with a search box and its help text.
        "/admin/consent/resident/",
        "/admin/consent/consentrecord/",
        "/admin/consent/representation/",
        "/admin/review/reviewticket/",
        "/admin/grants/service/",
        "/admin/grants/grant/",
    ):
        response = page.goto(server.url + path)
        assert response.status == 200, path
        assert_page_ok(page, width=DESKTOP)
    # Whose vote each select records is said, not only shown by the column's place.
    choice = page.goto(server.url + f"/admin/governance/resolution/{resolution.pk}/change/")
    assert choice.status == 200
    assert page.locator("select[name$='-choice'][aria-label]").count() >= 1

    # A report being made: the list updates in place, never by <meta http-equiv="refresh">.
    page.goto(server.url + "/admin/audit/report/")
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    assert page.get_by_role("status").count() >= 1
    assert_page_ok(page, width=DESKTOP)


def test_a_clerk_invites_a_person_who_sets_their_password_on_a_phone(
    server, page, consortium_a, clerk_a
):
    page.goto(server.url + "/admin/login/")
    page.get_by_label("ユーザー名").fill("clerk_a")
    page.get_by_label("パスワード").fill("correct horse battery staple")
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/admin/")

    page.goto(server.url + "/admin/governance/account/add/")
    assert_page_ok(page, width=DESKTOP)
    page.get_by_label("コンソーシアム").select_option(str(consortium_a.pk))
    page.get_by_label("ユーザー名").fill("suzuki.ichiro")
    page.get_by_label("姓").fill("鈴木")
    page.get_by_label("メールアドレス").fill("ichiro.suzuki@city.example.jp")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url("**/admin/governance/account/")
    assert_page_ok(page, width=DESKTOP)
    assert page.get_by_text("招待中（パスワード未設定）").count() == 1

    (message,) = mail.outbox
    link = re.search(r"https?://\S+/accounts/invitation/\S+/", message.body).group(0)
    phone = page.context.browser.new_context(viewport={"width": 320, "height": 640}, locale="ja-JP")
    person = phone.new_page()
    person.goto(link)
    assert person.get_by_role("heading", level=1).count() == 1
    assert_page_ok(person)
    person.get_by_label("新しいパスワード", exact=True).fill("a long passphrase of my own 2026")
    person.get_by_label("新しいパスワード(確認用)").fill("a long passphrase of my own 2026")
    person.get_by_role("button", name="パスワードを設定する").click()
    person.wait_for_url("**/accounts/invitation/done/")
    assert_page_ok(person)
    phone.close()


@pytest.mark.second_factor
def test_the_administrator_sets_up_and_uses_the_second_factor_in_the_browser(
    server, page, superuser, monkeypatch
):
    from playwright.sync_api import expect

    from tests.governance.test_second_factor import Clock, code

    clock = Clock()
    monkeypatch.setattr("django_otp.plugins.otp_totp.models.time", clock)

    def sign_in():
        page.goto(server.url + "/admin/login/?next=/admin/")
        page.get_by_label("ユーザー名").fill("root")
        page.get_by_label("パスワード").fill("correct horse battery staple")
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url("**/account/second-factor/**")
        assert_page_ok(page)

    sign_in()
    assert page.locator("svg").count() >= 1  # the QR code
    page.get_by_label("コード").fill("000000")
    page.get_by_role("button", name="確認").click()
    # The refused code comes back on a new page: wait for it (a count taken at once may read the
    # page before the answer arrives).
    expect(page.locator("[aria-invalid=true]")).to_have_count(1)
    assert_page_ok(page)
    page.get_by_label("コード").fill(code(superuser, clock))
    page.get_by_role("button", name="確認").click()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    assert_page_ok(page)
    page.get_by_role("link", name="控えました").click()
    page.wait_for_url("**/admin/")

    page.context.clear_cookies()
    clock.next_code_window()
    sign_in()
    page.get_by_label("コード").fill(code(superuser, clock))
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/admin/")
    assert_page_ok(page, width=DESKTOP)
    # The page reached from "2段階認証" in the header, where a new phone is set up.
    page.get_by_role("link", name="2段階認証").click()
    page.wait_for_url("**/account/second-factor/")
    assert page.get_by_role("button", name="新しいスマートフォンを設定する").count() == 1
    assert_page_ok(page)
