"""The portal's consultation pages and the secretariat's admin, through HTTP: who may do what."""

import pytest
from django.test import Client
from django.urls import reverse

from participation import services
from participation.models import Answer, Comment, Consultation

from .conftest import after_period, as_resident

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def mine(consultation, resident) -> Comment:
    return services.comment_submit(
        actor=as_resident(resident),
        consultation=consultation,
        resident=resident,
        text="保存期間が長すぎます。",
    )


def pages(consultation, comment):
    return [
        ("get", reverse("participation:consultations")),
        ("get", reverse("participation:consultation", args=[consultation.pk])),
        ("post", reverse("participation:consultation", args=[consultation.pk])),
        ("get", reverse("participation:my_comments")),
        ("get", reverse("participation:comment_edit", args=[comment.pk])),
        ("post", reverse("participation:comment_edit", args=[comment.pk])),
    ]


def test_anonymous_visitors_are_sent_to_sign_in(client, consultation, mine):
    for method, url in pages(consultation, mine):
        response = getattr(client, method)(url, {"text": "x"})
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("consent:signin")), url
    assert Comment.objects.count() == 1


def test_a_resident_comments_and_sees_it(consultation, resident):
    client = signed_in(resident.user)
    page = client.get(reverse("participation:consultation", args=[consultation.pk]))
    assert page.status_code == 200
    assert "利用目的案と通知文の全文です。" in page.content.decode()
    question = consultation.questions.get()
    response = client.post(
        reverse("participation:consultation", args=[consultation.pk]),
        {"text": "センサーの場所を教えてください。", "question": question.pk, "age_band": "40s"},
    )
    assert response.status_code == 302
    comment = Comment.objects.get()
    assert (comment.resident, comment.question, comment.age_band) == (resident, question, "40s")
    listing = client.get(reverse("participation:my_comments")).content.decode()
    assert "センサーの場所を教えてください。" in listing


def test_an_empty_comment_gets_a_field_error_and_keeps_the_form(consultation, resident):
    client = signed_in(resident.user)
    response = client.post(
        reverse("participation:consultation", args=[consultation.pk]),
        {"text": "  ", "age_band": "30s"},
    )
    assert response.status_code == 400
    # The portal speaks Japanese to residents by default.
    assert response.context["form"].errors["text"] == ["ご意見を書いてから送信してください。"]
    assert 'value="30s" selected' in response.content.decode()
    assert not Comment.objects.exists()


def test_a_comment_after_the_period_is_refused(consultation, resident, settings):
    from django.utils import timezone

    client = signed_in(resident.user)
    Consultation.objects.filter(pk=consultation.pk).update(
        opens_at=timezone.now() - timezone.timedelta(days=10),
        closes_at=timezone.now() - timezone.timedelta(days=1),
    )
    response = client.post(
        reverse("participation:consultation", args=[consultation.pk]),
        {"text": "遅れました。", "age_band": "undeclared"},
    )
    assert response.status_code == 400
    assert "終了しました" in response.context["form"].errors["text"][0]
    # The page shows the refusal and keeps what was typed, though the form is no longer offered.
    page = response.content.decode()
    assert "終了しました" in page and "遅れました。" in page
    assert not Comment.objects.exists()


def test_another_consortiums_resident_sees_nothing(consultation, mine, resident_b):
    client = signed_in(resident_b.user)
    for method, url in pages(consultation, mine):
        if url == reverse("participation:consultations"):
            response = client.get(url)
            assert consultation.title_ja not in response.content.decode()
            continue
        if url == reverse("participation:my_comments"):
            assert "保存期間" not in client.get(url).content.decode()
            continue
        response = getattr(client, method)(url, {"text": "x", "age_band": "undeclared"})
        assert response.status_code == 404, url
    assert Comment.objects.count() == 1


def test_a_resident_may_neither_edit_nor_see_anothers_hidden_comment(
    consultation, mine, other_resident, clerk_a
):
    services.comment_hide(actor=clerk_a, comment=mine, reason="個人名を含むため")
    client = signed_in(other_resident.user)
    url = reverse("participation:comment_edit", args=[mine.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"text": "書き換え"}).status_code == 404
    for page in ("participation:my_comments", "participation:consultations"):
        body = client.get(reverse(page)).content.decode()
        assert "個人名を含むため" not in body and "保存期間" not in body
    assert Comment.objects.get().text == "保存期間が長すぎます。"


def test_the_author_sees_why_their_comment_was_hidden(consultation, mine, resident, clerk_a):
    services.comment_hide(actor=clerk_a, comment=mine, reason="個人名を含むため")
    body = signed_in(resident.user).get(reverse("participation:my_comments")).content.decode()
    assert "個人名を含むため" in body and "事務局により非公開になりました。" in body


def test_the_author_edits_their_comment_in_the_period(consultation, mine, resident):
    client = signed_in(resident.user)
    url = reverse("participation:comment_edit", args=[mine.pk])
    assert client.post(url, {"text": ""}).status_code == 400
    assert client.post(url, {"text": "一年で十分です。"}).status_code == 302
    assert Comment.objects.get().text == "一年で十分です。"


def test_the_result_is_shown_to_residents_once_published(consultation, mine, resident, clerk_a):
    after = after_period(consultation)
    services.answer_save(
        actor=clerk_a,
        consultation=consultation,
        comments=[mine],
        opinion_ja="保存期間が長すぎるとの意見",
        response_ja="一年に短縮しました。",
        changed=True,
        now=after,
    )
    client = signed_in(resident.user)
    assert (
        "一年に短縮しました。"
        not in client.get(reverse("participation:my_comments")).content.decode()
    )
    services.consultation_result_publish(actor=clerk_a, consultation=consultation, now=after)
    assert (
        "一年に短縮しました。" in client.get(reverse("participation:my_comments")).content.decode()
    )
    page = client.get(
        reverse("participation:consultation", args=[consultation.pk])
    ).content.decode()
    assert "保存期間が長すぎるとの意見" in page and "保存期間が長すぎます。" in page


# --- The secretariat's admin -----------------------------------------------------------------


def test_the_secretariat_moderates_enters_answers_and_publishes(consultation, mine, clerk_a):
    client = signed_in(clerk_a)
    change = reverse("admin:participation_comment_change", args=[mine.pk])
    assert client.get(change).status_code == 200
    refused = client.post(change, {"status": "hidden", "hidden_reason": ""})
    assert (
        refused.status_code == 200 and "hidden_reason" in refused.context["adminform"].form.errors
    )
    assert Comment.objects.get().status == "published"
    added = client.post(
        reverse("admin:participation_comment_add"),
        {
            "consultation": consultation.pk,
            "channel": "counter",
            "text": "窓口で受け付けた意見",
            "age_band": "70_plus",
            "language": "ja",
            "received_at": "",
        },
    )
    assert added.status_code == 302, added.context["adminform"].form.errors
    offline = Comment.objects.get(channel="counter")
    assert offline.entered_by == clerk_a
    page = client.get(reverse("admin:participation_consultation_change", args=[consultation.pk]))
    # The admin speaks Japanese to the clerk: the small counts read "10人未満".
    assert page.status_code == 200 and "10人未満" in page.content.decode()
    # Answers wait for the end of the period.
    Consultation.objects.filter(pk=consultation.pk).update(
        opens_at=consultation.opens_at - (after_period(consultation) - consultation.opens_at),
        closes_at=consultation.opens_at,
    )
    answered = client.post(
        reverse("admin:participation_answer_add") + f"?consultation={consultation.pk}",
        {
            "consultation": consultation.pk,
            "comments": [mine.pk, offline.pk],
            "opinion_ja": "保存期間についての意見",
            "opinion_en": "",
            "response_ja": "原案のとおりとします。",
            "response_en": "",
        },
    )
    assert answered.status_code == 302, answered.context["adminform"].form.errors
    assert Answer.objects.get().comments.count() == 2
    result = reverse("admin:participation_consultation_result", args=[consultation.pk])
    assert client.get(result).status_code == 200
    assert client.post(result, {"result_ja": "2件の意見がありました。"}).status_code == 302
    assert Consultation.objects.get().status == Consultation.Status.ANSWERED


def test_another_consortiums_clerk_gets_404(consultation, mine, clerk_b):
    client = signed_in(clerk_b)
    for url in (
        reverse("admin:participation_consultation_change", args=[consultation.pk]),
        reverse("admin:participation_consultation_result", args=[consultation.pk]),
        reverse("admin:participation_comment_change", args=[mine.pk]),
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(
        reverse("admin:participation_comment_change", args=[mine.pk]),
        {"status": "hidden", "hidden_reason": "x"},
    )
    assert response.status_code == 404
    assert Comment.objects.get().status == "published"


def test_a_resident_gets_no_admin(consultation, resident):
    response = signed_in(resident.user).get(
        reverse("admin:participation_consultation_change", args=[consultation.pk])
    )
    assert response.status_code == 302  # to the admin's sign-in


# --- Comments on one part of a purpose's notice ------------------------------------------------


def test_a_comment_on_one_part_of_the_notice(consultation, resident):
    client = signed_in(resident.user)
    url = reverse("participation:consultation", args=[consultation.pk])
    page = client.get(url).content.decode()
    assert "通知のどの部分についてですか（任意）" in page and "誰が受け取るか" in page
    refused = client.post(url, {"text": "x", "notice_section": "nonsense", "age_band": "40s"})
    assert refused.status_code == 400 and not Comment.objects.exists()
    response = client.post(
        url,
        {
            "text": "提供先の会社名を教えてください。",
            "notice_section": "recipients",
            "age_band": "40s",
        },
    )
    assert response.status_code == 302
    assert Comment.objects.get().notice_section == "recipients"
    listing = client.get(reverse("participation:my_comments")).content.decode()
    assert "通知について： 誰が受け取るか" in listing


def test_a_plan_consultation_has_no_notice_parts(consortium_a, clerk_a, resident):
    from .conftest import make_consultation

    plan = make_consultation(consortium_a, clerk_a)
    client = signed_in(resident.user)
    url = reverse("participation:consultation", args=[plan.pk])
    assert 'name="notice_section"' not in client.get(url).content.decode()
    with pytest.raises(Exception) as refused:
        services.comment_submit(
            actor=as_resident(resident),
            consultation=plan,
            resident=resident,
            text="計画について。",
            notice_section="recipients",
        )
    assert "notice_section" in refused.value.message_dict
    assert not Comment.objects.exists()
