import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from audit.models import PendingEntry
from consent import services
from consent.models import ConsentRecord, Resident, ResidentProfile

from .conftest import PASSWORD, as_resident, make_purpose

pytestmark = pytest.mark.django_db


def signed_in(resident) -> Client:
    client = Client()
    client.force_login(resident.user)
    return client


def resident_pages(purpose, receipt_id):
    return [
        ("get", reverse("consent:portal")),
        ("get", reverse("consent:purpose", args=[purpose.pk])),
        ("post", reverse("consent:give", args=[purpose.pk])),
        ("post", reverse("consent:withdraw", args=[purpose.pk])),
        ("get", reverse("consent:withdraw_all")),
        ("post", reverse("consent:withdraw_all")),
        ("get", reverse("consent:history")),
        ("get", reverse("consent:receipt", args=[receipt_id])),
        ("get", reverse("consent:accesses")),
        ("get", reverse("consent:export")),
        ("get", reverse("consent:account")),
        ("post", reverse("consent:account")),
        ("get", reverse("consent:delete_account")),
        ("post", reverse("consent:delete_account")),
    ]


@pytest.fixture
def given(purpose, resident) -> ConsentRecord:
    return services.consent_give(actor=as_resident(resident), resident=resident, purpose=purpose)


def test_anonymous_visitors_are_sent_to_sign_in(client, purpose, given):
    for method, url in resident_pages(purpose, given.receipt_id):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("consent:signin") + "?next="), url
    assert ConsentRecord.objects.count() == 1


def test_an_account_that_is_no_resident_gets_404(purpose, given, clerk_a):
    client = Client()
    client.force_login(clerk_a)
    for method, url in resident_pages(purpose, given.receipt_id):
        assert getattr(client, method)(url).status_code == 404, url


def test_another_resident_cannot_see_or_use_a_receipt(given, other_resident):
    client = signed_in(other_resident)
    response = client.get(reverse("consent:receipt", args=[given.receipt_id]))
    assert response.status_code == 404
    assert given.resident_id not in response.content.decode()
    history = client.get(reverse("consent:history")).content.decode()
    assert str(given.receipt_id) not in history
    export = json.loads(client.get(reverse("consent:export")).content)
    assert export["decisions"] == []
    assert given.resident_id not in json.dumps(export)


def test_a_purpose_of_another_consortium_is_404(consortium_b, company_a, steps, resident):
    foreign = make_purpose(consortium_b, company_a, [steps], code="kashiwa")
    client = signed_in(resident)
    assert client.get(reverse("consent:purpose", args=[foreign.pk])).status_code == 404
    assert client.post(reverse("consent:give", args=[foreign.pk])).status_code == 404
    assert client.post(reverse("consent:withdraw", args=[foreign.pk])).status_code == 404
    assert ConsentRecord.objects.count() == 0
    assert foreign.title_ja not in client.get(reverse("consent:portal")).content.decode()


def test_a_draft_purpose_is_not_shown(consortium_a, city_a, steps, resident):
    draft = make_purpose(consortium_a, city_a, [steps], code="draft", publish=False)
    client = signed_in(resident)
    assert client.get(reverse("consent:purpose", args=[draft.pk])).status_code == 404
    assert client.post(reverse("consent:give", args=[draft.pk])).status_code == 404


def test_sign_up_signs_in_and_agrees_to_nothing(client, consortium_a, purpose):
    page = client.get(reverse("consent:signup"))
    assert page.status_code == 200
    response = client.post(
        reverse("consent:signup"),
        {
            "email": "Ume@Example.jp",
            "password": PASSWORD,
            "password_again": PASSWORD,
            "consortium": consortium_a.pk,
            "full_name": "会津 梅",
            "language": "ja",
        },
    )
    assert response.status_code == 200  # "check your mailbox"
    assert not Resident.objects.filter(user__email="ume@example.jp").exists()
    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    confirm = link.split("testserver", 1)[1]
    assert client.get(confirm).status_code == 200  # one button: opening the link creates nothing
    assert not Resident.objects.filter(user__email="ume@example.jp").exists()
    assert client.post(confirm).status_code == 302
    resident = Resident.objects.get(user__email="ume@example.jp")
    assert resident.profile.full_name == "会津 梅"
    dashboard = client.get(reverse("consent:portal"))
    html = dashboard.content.decode()
    assert dashboard.status_code == 200
    assert "歩いて健康ポイント" in html and "checked" not in html
    assert "未回答" in html or "まだ決めていません" in html
    assert ConsentRecord.objects.count() == 0
    registered = PendingEntry.objects.get(action="resident.registered")
    assert registered.actor_id == resident.pseudonymous_id
    assert "ume" not in registered.payload


def test_sign_up_refuses_bad_input_in_the_users_language(client, consortium_a, resident):
    response = client.post(
        reverse("consent:signup"),
        {
            "email": "hanako@example.jp",
            "password": "12345678",
            "password_again": "12345679",
            "consortium": "",
            "language": "ja",
        },
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert {"password_again", "consortium"} <= set(form.errors)
    assert "email" not in form.errors  # taken, but the page does not say so
    assert Resident.objects.count() == 1


def test_sign_in_and_out(client, resident):
    wrong = client.post(
        reverse("consent:signin"), {"email": "hanako@example.jp", "password": "nope"}
    )
    assert wrong.status_code == 200 and wrong.context["form"].non_field_errors()
    right = client.post(
        reverse("consent:signin"),
        {"email": "HANAKO@example.jp", "password": PASSWORD, "next": reverse("consent:history")},
    )
    assert right.status_code == 302 and right["Location"] == reverse("consent:history")
    assert right.cookies["django_language"].value == "ja"
    assert client.get(reverse("consent:portal")).status_code == 200
    client.post(reverse("consent:signout"))
    assert client.get(reverse("consent:portal")).status_code == 302


def test_sign_in_ignores_a_foreign_next(client, resident):
    response = client.post(
        reverse("consent:signin"),
        {"email": "hanako@example.jp", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("consent:portal")


def test_password_reset_by_email(client, resident):
    client.post(reverse("consent:password_reset"), {"email": "hanako@example.jp"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    assert form_page.context["validlink"]
    new_password = "a much newer horse battery"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    assert get_user_model().objects.get(pk=resident.user_id).check_password(new_password)


def test_dashboard_shows_what_who_why_and_how_long(purpose, resident):
    html = signed_in(resident).get(reverse("consent:portal")).content.decode()
    for text in (
        "歩数",
        "健診結果",
        "要配慮個人情報",
        "会津若松市",
        "会津モビリティ株式会社",
        "1年",  # 365 days, as a person says it
        "要配慮個人情報とは",  # explained where it appears
        "同意しなくても、不利益はありません",  # on the card where the decision is made
    ):
        assert text in html
    assert "365日" not in html
    assert "歩数に応じて地域ポイントを付与します。" in html


def test_opt_in_and_out_are_one_post_each(purpose, resident):
    client = signed_in(resident)
    assert client.get(reverse("consent:give", args=[purpose.pk])).status_code == 405

    response = client.post(reverse("consent:give", args=[purpose.pk]))
    assert response.status_code == 302
    assert ConsentRecord.objects.get().decision == "given"
    assert "同意しています" in client.get(reverse("consent:portal")).content.decode()

    client.post(reverse("consent:withdraw", args=[purpose.pk]))
    assert ConsentRecord.objects.latest("id").decision == "withdrawn"
    actions = list(
        PendingEntry.objects.filter(action__startswith="consent.").values_list("action", "actor_id")
    )
    assert actions == [
        ("consent.given", resident.pseudonymous_id),
        ("consent.withdrawn", resident.pseudonymous_id),
    ]


def test_decisions_need_the_csrf_token(purpose, resident):
    client = Client(enforce_csrf_checks=True)
    client.force_login(resident.user)
    assert client.post(reverse("consent:give", args=[purpose.pk])).status_code == 403
    assert ConsentRecord.objects.count() == 0


def test_withdraw_everything_asks_first(purpose, resident, given):
    client = signed_in(resident)
    confirm = client.get(reverse("consent:withdraw_all"))
    assert confirm.status_code == 200
    assert "歩いて健康ポイント" in confirm.content.decode()
    assert ConsentRecord.objects.count() == 1

    client.post(reverse("consent:withdraw_all"))
    assert ConsentRecord.objects.latest("id").decision == "withdrawn"


def test_history_and_purpose_page_list_decisions_with_receipts(purpose, resident, given):
    client = signed_in(resident)
    for url in (reverse("consent:history"), reverse("consent:purpose", args=[purpose.pk])):
        html = client.get(url).content.decode()
        assert reverse("consent:receipt", args=[given.receipt_id]) in html


def test_who_used_my_data_says_what_it_will_show(resident):
    html = signed_in(resident).get(reverse("consent:accesses")).content.decode()
    assert "まだ" in html


def test_export_holds_the_residents_data(resident, given):
    response = signed_in(resident).get(reverse("consent:export"))
    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert data["pseudonymous_id"] == resident.pseudonymous_id
    assert data["personal_details"]["name"] == "会津 花子"
    assert [d["receipt_id"] for d in data["decisions"]] == [str(given.receipt_id)]


def test_language_preference(resident):
    client = signed_in(resident)
    response = client.post(reverse("consent:account"), {"language": "en"})
    assert response.cookies["django_language"].value == "en"
    resident.refresh_from_db()
    assert resident.language == "en"
    assert "My consents" in client.get(reverse("consent:portal")).content.decode()
    assert PendingEntry.objects.filter(action="resident.language_set").count() == 1


def test_the_header_switch_saves_a_residents_language(client, resident, other_resident):
    """
    The language a resident picks in the page header is the one they keep: the next sign-in
    and the receipts use it, as the account page's setting does; nobody else's changes.
    """
    mine = signed_in(resident)
    response = mine.post("/i18n/setlang/", {"language": "en", "next": reverse("consent:portal")})
    assert response.status_code == 302 and response["Location"] == reverse("consent:portal")
    assert response.cookies["django_language"].value == "en"
    resident.refresh_from_db()
    other_resident.refresh_from_db()
    assert (resident.language, other_resident.language) == ("en", "ja")
    entry = PendingEntry.objects.get(action="resident.language_set")
    assert entry.actor_id == resident.pseudonymous_id

    # Next time, on another device with no cookie: the sign-in brings English back.
    again = Client()
    signin = again.post(
        reverse("consent:signin"), {"email": "hanako@example.jp", "password": PASSWORD}
    )
    assert signin.cookies["django_language"].value == "en"
    assert "My consents" in again.get(reverse("consent:portal")).content.decode()

    # The same language again writes nothing; an unknown one changes nothing and is no error.
    mine.post("/i18n/setlang/", {"language": "en", "next": "/"})
    bad = mine.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    assert bad.status_code == 302
    resident.refresh_from_db()
    assert resident.language == "en"
    assert PendingEntry.objects.filter(action="resident.language_set").count() == 1


def test_the_header_switch_saves_nothing_for_visitors_and_staff(client, resident, admin_user):
    """Anyone who is not a signed-in resident only gets the cookie, as before."""
    for visitor in (client, Client()):
        if visitor is not client:
            visitor.force_login(admin_user)
        response = visitor.post("/i18n/setlang/", {"language": "en", "next": "/"})
        assert response.status_code == 302
        assert response.cookies["django_language"].value == "en"
    resident.refresh_from_db()
    assert resident.language == "ja"
    assert not PendingEntry.objects.filter(action="resident.language_set").exists()


def test_account_deletion_needs_the_password(purpose, resident, given):
    client = signed_in(resident)
    wrong = client.post(reverse("consent:delete_account"), {"password": "wrong"})
    assert wrong.status_code == 200 and wrong.context["form"].errors
    assert ResidentProfile.objects.filter(resident=resident).exists()

    done = client.post(reverse("consent:delete_account"), {"password": PASSWORD})
    assert done.status_code == 302
    resident.refresh_from_db()
    assert resident.is_erased and resident.user is None
    assert not ResidentProfile.objects.filter(resident=resident).exists()
    assert ConsentRecord.objects.latest("id").decision == "withdrawn"
    assert client.get(reverse("consent:portal")).status_code == 302  # signed out


def test_a_notice_is_public_but_a_draft_is_not(client, purpose, consortium_a, city_a, steps):
    response = client.get(reverse("consent:notice", args=[purpose.pk, 1]))
    assert response.status_code == 200
    assert purpose.current_notice.sha256 in response.content.decode()
    draft = make_purpose(consortium_a, city_a, [steps], code="draft", publish=False)
    assert client.get(reverse("consent:notice", args=[draft.pk, 1])).status_code == 404
    assert client.get(reverse("consent:notice", args=[purpose.pk, 9])).status_code == 404
