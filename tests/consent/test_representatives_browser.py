"""
Representatives in headless Chromium: a parent deciding for a child and the child confirming at
coming of age, a guardian deciding for an adult, a clerk recording a decision at the counter.
The portal at a phone's width without scripts; every page passes tests/browser.py's checks.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from consent import services
from consent.models import ConsentRecord
from tests.browser import assert_page_ok, follow, requires_chromium
from tests.consent.test_browser import page, portal_server, shot, sign_in  # noqa: F401

from .conftest import PASSWORD, make_purpose
from .test_representatives import make_child, register

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), requires_chromium]

DESKTOP = 1280


def test_a_parent_decides_for_a_child_who_confirms_at_coming_of_age(
    portal_server,  # noqa: F811
    page,  # noqa: F811
    clerk_a,
    resident,
    consortium_a,
    purpose,
):
    child = make_child(consortium_a)
    representation = register(
        clerk_a,
        resident,
        child,
        relationship="parent",
        evidence_kind="family_register",
        valid_from=timezone.localdate() - timedelta(days=10),
        comes_of_age_on=timezone.localdate() + timedelta(days=200),
    )
    base = portal_server.url
    sign_in(page, base, "hanako@example.jp")
    people = page.locator("section[aria-labelledby=represented-title]")
    assert "会津 さくら" in people.inner_text()
    assert_page_ok(page)
    people.get_by_role("link", name="会津 さくら").click()
    page.wait_for_url(f"**/portal/for/{representation.pk}/")
    assert "さくら さんの代わりに決める" in page.locator("h1").inner_text()
    assert "18歳" in page.content()
    assert_page_ok(page)
    shot(page, "representative-1-child")

    page.locator(f"#purpose-{purpose.pk}").get_by_role("button", name="同意する").click()
    page.wait_for_url(f"**/portal/for/{representation.pk}/#messages")
    assert (
        "さくら さんの代わりに「歩いて健康ポイント」に同意しました"
        in page.locator("#messages").inner_text()
    )
    assert "本人の代わりに同意しています" in page.locator(f"#purpose-{purpose.pk}").inner_text()
    assert_page_ok(page)
    follow(page.get_by_role("link", name="受領書を見る・印刷する").first)
    body = page.locator("main").inner_text()
    assert f"代理人 {resident.pk} が本人 {child.pk} の代わりに決定" in body
    assert "親権者" in body
    assert_page_ok(page)
    shot(page, "representative-2-receipt")

    # The child turns 18: the representation ends, the secretariat opens the child's account.
    services.representation_end(actor=None, representation=representation, reason="came_of_age")
    services.resident_account_open(actor=clerk_a, resident=child, email="sakura@example.jp")
    child.refresh_from_db()
    child.user.set_password(PASSWORD)
    child.user.save()

    page.get_by_role("button", name="ログアウト").click()
    sign_in(page, base, "sakura@example.jp")
    banner = page.locator("section.to-confirm")
    assert "あなたの代わりに決められたこと" in banner.inner_text()
    assert "あなたの代わりに同意" in banner.inner_text()
    assert_page_ok(page)
    shot(page, "representative-3-confirm")
    banner.get_by_role("button", name="この決定をそのままにする").click()
    page.wait_for_url("**/portal/#messages")
    assert "あなた自身の決定として確認しました" in page.locator("#messages").inner_text()
    assert page.locator("section.to-confirm").count() == 0
    assert_page_ok(page)
    latest = ConsentRecord.objects.filter(resident=child).latest("id")
    assert (latest.decision, latest.acted_by_id) == ("given", None)


def test_a_guardian_decides_for_an_adult_but_not_where_the_board_asked_the_person(
    portal_server,  # noqa: F811
    page,  # noqa: F811
    clerk_a,
    resident,
    consortium_a,
    city_a,
    steps,
    purpose,
):
    elder = make_child(consortium_a, name="会津 梅")
    representation = register(clerk_a, resident, elder, valid_from=timezone.localdate())
    own = make_purpose(consortium_a, city_a, [steps], code="own-only", own_decision_only=True)
    base = portal_server.url
    sign_in(page, base, "hanako@example.jp")
    page.get_by_role("link", name="会津 梅").click()
    page.wait_for_url(f"**/portal/for/{representation.pk}/")
    own_card = page.locator(f"#purpose-{own.pk}")
    assert "本人だけが決められます" in own_card.inner_text()
    assert own_card.get_by_role("button").count() == 0
    assert "成年後見人" in page.content()
    assert_page_ok(page)

    page.locator(f"#purpose-{purpose.pk}").get_by_role("button", name="同意しない").click()
    page.wait_for_url(f"**/portal/for/{representation.pk}/#messages")
    assert "同意しないことにしました" in page.locator("#messages").inner_text()
    assert "本人の代わりに同意していません" in page.locator(f"#purpose-{purpose.pk}").inner_text()
    assert_page_ok(page)
    record = ConsentRecord.objects.get(resident=elder)
    assert (record.decision, record.acted_by, record.relationship) == (
        "withdrawn",
        resident,
        "guardian",
    )

    # A request for another person, online: the form keeps what was typed.
    page.get_by_role("link", name="同意の状況", exact=True).click()
    follow(
        page.get_by_role(
            "link", name="お子さんや、あなたが後見人・委任を受けた家族の代わりに決めるための申請"
        )
    )
    assert_page_ok(page)
    page.get_by_label("代わりに決める相手（本人）のお名前").fill("会津 さくら")
    follow(page.get_by_role("button", name="申請を送る"))
    assert page.get_by_label("代わりに決める相手（本人）のお名前").input_value() == "会津 さくら"
    assert_page_ok(page)
    page.get_by_label("本人との関係").select_option("parent")
    page.get_by_label("窓口で見せる書類").select_option("family_register")
    page.get_by_role("button", name="申請を送る").click()
    page.wait_for_url("**/portal/#messages")
    assert "申請を送りました" in page.locator("#messages").inner_text()
    assert_page_ok(page)


def test_a_clerk_records_a_counter_decision_and_registers_a_representative(
    portal_server,  # noqa: F811
    page,  # noqa: F811
    clerk_a,
    resident,
    purpose,
):
    base = portal_server.url
    # The secretariat works at a desktop, with scripts on.
    context = page.context.browser.new_context(
        viewport={"width": DESKTOP, "height": 900}, locale="ja-JP"
    )
    desktop = context.new_page()
    desktop.goto(base + "/admin/login/")
    desktop.get_by_label("ユーザー名").fill("clerk_a")
    desktop.get_by_label("パスワード").fill(PASSWORD)
    desktop.get_by_role("button", name="ログイン").click()
    desktop.wait_for_url("**/admin/")
    desktop.goto(base + f"/admin/consent/resident/{resident.pk}/change/")
    follow(desktop.get_by_role("link", name="窓口での意思表示を記録"))
    assert_page_ok(desktop, width=DESKTOP)
    desktop.get_by_label("利用目的").select_option(str(purpose.pk))
    follow(
        desktop.get_by_role("button", name="保存").or_(desktop.locator("input[type=submit]")).first
    )
    assert "住民の意思表示" in desktop.content()  # the field still asks for the decision
    assert_page_ok(desktop, width=DESKTOP)
    desktop.get_by_label("住民の意思表示").select_option("given")
    desktop.locator("input[type=submit]").first.click()
    desktop.wait_for_url(f"**/admin/consent/resident/{resident.pk}/change/")
    assert "窓口での意思表示を記録しました" in desktop.content()
    record = ConsentRecord.objects.get(resident=resident)
    assert (record.method, record.recorded_by) == ("counter", clerk_a)

    desktop.goto(base + "/admin/consent/representation/add/")
    assert_page_ok(desktop, width=DESKTOP)
    desktop.goto(base + "/admin/consent/representation/")
    assert_page_ok(desktop, width=DESKTOP)
    context.close()

    # The resident sees it in the history and on the receipt, on a phone.
    sign_in(page, base, "hanako@example.jp")
    follow(page.get_by_role("link", name="履歴と受領書"))
    assert "窓口で職員の手助けを受けて" in page.locator("main").inner_text()
    assert_page_ok(page)
    follow(page.get_by_role("link", name="受領書を見る・印刷する").first)
    assert "事務局の窓口で、職員の手助けを受けて" in page.locator("main").inner_text()
    assert_page_ok(page)
