"""
Taking part by e-mail in headless Chromium: the secretariat allows it in the admin; someone
without an account finds the consultation on the public register on a phone (320 px, no
JavaScript), asks for a link, opens the mailed link, comments twice and sees both published;
the secretariat hides one with a reason, which the participant reads; the period ends, the
secretariat answers and publishes the result, and the participant gets the answer by mail.
The register shows the answered comment and never the address. Every page passes
tests/browser.py's checks (axe-core; no sideways scroll at 320 px for the participant's pages).
A participant erases their address from their comments, through the page that says what it
means, on a phone without JavaScript.
"""

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone

from participation.models import Comment, Consultation, ConsultationPolicy
from tests.browser import assert_page_ok, follow, requires_chromium

from .conftest import make_consultation
from .test_consultation_browser import DESKTOP, browser, desk, phone, server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), requires_chromium]
__all__ = ["browser", "server"]

ADDRESS = "sakura@example.net"


def test_someone_without_an_account_comments_by_email_and_gets_the_answer(
    server, browser, consortium_a, clerk_a
):
    base = server.url
    consultation = make_consultation(consortium_a, clerk_a)
    register = f"{base}/register/{consortium_a.slug}/consultations/{consultation.pk}/"

    # Off by default: the register offers no e-mail route, and the route is missing.
    visitor = phone(browser)
    visitor.goto(register)
    assert "メールアドレスで意見を出す" not in visitor.content()
    response = visitor.goto(f"{base}/participate/consultations/{consultation.pk}/")
    assert response.status == 404

    # The secretariat allows it in the admin.
    clerk = desk(browser, base)
    clerk.goto(f"{base}/admin/participation/consultationpolicy/add/")
    assert_page_ok(clerk, width=DESKTOP)
    clerk.select_option("select[name=consortium]", str(consortium_a.pk))
    clerk.check("input[name=email_participants_allowed]")
    follow(clerk.locator("input[name=_save]"))
    assert ConsultationPolicy.objects.get(consortium=consortium_a).email_participants_allowed

    # On a phone, from the register: ask for a link; a wrong address is refused first.
    visitor.context.close()  # (the register's pages may be kept by the browser for a while)
    visitor = phone(browser)
    visitor.goto(register)
    follow(visitor.get_by_role("link", name="メールアドレスで意見を出す（アカウント不要）"))
    assert "利用目的案と通知文の全文です。" in visitor.content()
    assert_page_ok(visitor)
    visitor.get_by_role("textbox", name="メールアドレス").fill("sakura@")
    follow(visitor.get_by_role("button", name="リンクを送る"))
    assert "name@example.jp のように入力してください" in visitor.content()
    assert_page_ok(visitor)
    mail.outbox.clear()
    visitor.get_by_role("textbox", name="メールアドレス").fill(ADDRESS)
    follow(visitor.get_by_role("button", name="リンクを送る"))
    assert "メールを確認してください" in visitor.content()
    assert_page_ok(visitor)
    (link_mail,) = mail.outbox
    assert link_mail.to == [ADDRESS]
    link = re.search(r"https?://\S+", link_mail.body).group(0)

    # The mailed link: one button confirms; then the comment form.
    visitor.goto(link)
    assert_page_ok(visitor)
    follow(visitor.get_by_role("button", name="アドレスを確認する"))
    assert "メールアドレスを確認しました" in visitor.locator("#messages").inner_text()
    assert "年代" not in visitor.content()  # not asked
    assert_page_ok(visitor)
    for text in ("通知文をもっと短くしてください。", "隣の山田さんに聞いてください。"):
        visitor.goto(f"{base}/participate/consultations/{consultation.pk}/comment/")
        visitor.get_by_label("ご意見").fill(text)
        follow(visitor.get_by_role("button", name="意見を送信する"))
        assert visitor.url.endswith("/participate/my-comments/#messages")
    kept, hidden = Comment.objects.order_by("id")
    assert kept.channel == "email" and kept.email_participant.email == ADDRESS
    card = visitor.locator(f"#comment-{kept.pk}").inner_text()
    assert "通知文をもっと短く" in card and "公開中です" in card
    assert_page_ok(visitor)

    # The used link is a clear page, not an error.
    response = visitor.goto(link)
    assert response.status == 410 and "すでに使われた" in visitor.content()
    assert_page_ok(visitor)

    # The secretariat hides one, saying why; the participant reads the reason.
    clerk.goto(f"{base}/admin/participation/comment/{hidden.pk}/change/")
    assert ADDRESS not in clerk.content()
    clerk.select_option("select[name=status]", "hidden")
    clerk.fill("textarea[name=hidden_reason]", "個人の氏名を含むため非公開にしました。")
    follow(clerk.locator("input[name=_save]"))
    assert Comment.objects.get(pk=hidden.pk).status == Comment.Status.HIDDEN
    visitor.goto(f"{base}/participate/my-comments/")
    card = visitor.locator(f"#comment-{hidden.pk}").inner_text()
    assert "事務局により非公開になりました" in card and "個人の氏名を含むため" in card
    assert_page_ok(visitor)

    # The period ends (moved into the past rather than waited for); answer and publish.
    now = timezone.now()
    Consultation.objects.filter(pk=consultation.pk).update(
        opens_at=now - datetime.timedelta(days=31), closes_at=now - datetime.timedelta(minutes=1)
    )
    clerk.goto(f"{base}/admin/participation/answer/add/?consultation={consultation.pk}")
    clerk.check(f"input[name=comments][value='{kept.pk}']")
    clerk.fill("textarea[name=opinion_ja]", "通知文が長いとの意見")
    clerk.fill("textarea[name=response_ja]", "ご意見を踏まえ、通知文を短くしました。")
    clerk.check("input[name=changed]")
    follow(clerk.locator("input[name=_save]"))
    assert Comment.objects.get(pk=kept.pk).answer_id
    mail.outbox.clear()
    clerk.goto(f"{base}/admin/participation/consultation/{consultation.pk}/result/")
    follow(clerk.get_by_role("button", name="結果を公示する"))
    assert Consultation.objects.get(pk=consultation.pk).status == Consultation.Status.ANSWERED

    # The answer comes by mail, with the reason for the hidden one.
    (answer_mail,) = [message for message in mail.outbox if message.to == [ADDRESS]]
    assert "通知文を短くしました。" in answer_mail.body
    assert "個人の氏名を含むため" in answer_mail.body
    visitor.goto(f"{base}/participate/my-comments/")
    assert "通知文を短くしました。" in visitor.locator(f"#comment-{kept.pk}").inner_text()
    assert_page_ok(visitor)

    # The register publishes the answered comment like any other, never the address.
    public = phone(browser)
    public.goto(register)
    text = public.content()
    assert "通知文をもっと短くしてください。" in text and "隣の山田さん" not in text
    assert ADDRESS not in text
    assert_page_ok(public)


def test_a_participant_erases_their_address_on_a_phone(server, browser, consortium_a, clerk_a):
    from participation import services
    from participation.models import EmailParticipant

    base = server.url
    services.consultation_policy_set(
        actor=clerk_a, consortium=consortium_a, email_participants_allowed=True
    )
    consultation = make_consultation(consortium_a, clerk_a)
    visitor = phone(browser)
    visitor.goto(f"{base}/participate/consultations/{consultation.pk}/")
    mail.outbox.clear()
    visitor.get_by_role("textbox", name="メールアドレス").fill(ADDRESS)
    follow(visitor.get_by_role("button", name="リンクを送る"))
    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    visitor.goto(link)
    follow(visitor.get_by_role("button", name="アドレスを確認する"))
    visitor.get_by_label("ご意見").fill("保存期間を短くしてください。")
    follow(visitor.get_by_role("button", name="意見を送信する"))

    # From their comments: a page that says what erasing means, then one button.
    follow(visitor.get_by_role("link", name="メールアドレスを消去する"))
    assert "/participate/erase/" in visitor.url
    text = visitor.content()
    assert "回答はメールで届かなくなります" in text and "アドレスなしで" in text
    assert_page_ok(visitor)
    assert EmailParticipant.objects.get().email == ADDRESS
    follow(visitor.get_by_role("button", name="メールアドレスを消去する"))
    assert "メールアドレスを消去しました" in visitor.locator("#messages").inner_text()
    assert "保存期間を短く" not in visitor.content()  # the device no longer holds them
    assert_page_ok(visitor)
    participant = EmailParticipant.objects.get()
    assert participant.email is None and participant.erased_at is not None
    assert Comment.objects.get().email_participant_id == participant.pk
