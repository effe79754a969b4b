"""The portal's proposal pages and the secretariat's admin, through HTTP: who may do what."""

import pytest
from django.test import Client
from django.urls import reverse

from participation import services
from participation.models import Proposal, Support

from .conftest import as_resident

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def proposal(consortium_a, resident) -> Proposal:
    return services.proposal_submit(
        actor=as_resident(resident),
        consortium=consortium_a,
        author=resident,
        kind="sensor",
        title="駅前に混雑センサーを",
        body="朝の駅前の混雑を測ってください。",
    )


def test_anonymous_visitors_are_sent_to_sign_in(client, proposal):
    for method, url in [
        ("get", reverse("participation:proposals")),
        ("get", reverse("participation:proposal_new")),
        ("post", reverse("participation:proposal_new")),
        ("get", reverse("participation:proposal", args=[proposal.pk])),
        ("post", reverse("participation:proposal", args=[proposal.pk])),
        ("get", reverse("participation:my_proposals")),
    ]:
        response = getattr(client, method)(url, {"title": "x"})
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("consent:signin")), url
    assert Proposal.objects.count() == 1 and not Support.objects.exists()


def test_a_resident_proposes_and_finds_it(resident):
    client = signed_in(resident.user)
    assert client.get(reverse("participation:proposal_new")).status_code == 200
    response = client.post(
        reverse("participation:proposal_new"),
        {"kind": "data_use", "title": "バスの乗降データの公開", "body": "時刻表の改善に。"},
    )
    assert response.status_code == 302
    proposal = Proposal.objects.get()
    assert (proposal.author, proposal.kind) == (resident, "data_use")
    assert (
        "バスの乗降データの公開" in client.get(reverse("participation:proposals")).content.decode()
    )
    assert (
        "バスの乗降データの公開"
        in client.get(reverse("participation:my_proposals")).content.decode()
    )


def test_an_empty_proposal_gets_japanese_field_errors_and_keeps_the_form(resident):
    response = signed_in(resident.user).post(
        reverse("participation:proposal_new"), {"kind": "sensor", "title": "公園に", "body": " "}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["body"] == ["提案の内容を書いてから送信してください。"]
    page = response.content.decode()
    assert 'value="公園に"' in page and 'value="sensor" selected' in page
    assert not Proposal.objects.exists()


def test_another_resident_supports_once_and_withdraws(proposal, other_resident):
    client = signed_in(other_resident.user)
    url = reverse("participation:proposal", args=[proposal.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"action": "support"}).status_code == 302
    second = client.post(url, {"action": "support"}, follow=True)
    assert "すでにこの提案に賛同しています。" in second.content.decode()
    assert proposal.supports.count() == 1
    assert "1件の賛同" in client.get(reverse("participation:proposals")).content.decode()
    client.post(url, {"action": "withdraw"})
    assert proposal.supports.count() == 0


def test_a_hidden_proposals_reason_is_for_its_author_only(
    proposal, clerk_a, resident, other_resident
):
    services.proposal_hide(actor=clerk_a, proposal=proposal, reason="個人名が含まれています。")
    url = reverse("participation:proposal", args=[proposal.pk])
    mine = signed_in(resident.user)
    assert (
        "個人名が含まれています。"
        in mine.get(reverse("participation:my_proposals")).content.decode()
    )
    assert "個人名が含まれています。" in mine.get(url).content.decode()
    other = signed_in(other_resident.user)
    assert other.get(url).status_code == 404
    assert other.post(url, {"action": "support"}).status_code == 404
    assert (
        "駅前に混雑センサーを" not in other.get(reverse("participation:proposals")).content.decode()
    )


def test_another_consortiums_resident_gets_404(proposal, resident_b):
    client = signed_in(resident_b.user)
    url = reverse("participation:proposal", args=[proposal.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "support"}).status_code == 404
    assert (
        "駅前に混雑センサーを"
        not in client.get(reverse("participation:proposals")).content.decode()
    )
    assert not Support.objects.exists()


# --- The secretariat's admin -----------------------------------------------------------------


def answer_form(**extra) -> dict:
    return {
        "decision": "answer",
        "outcome": "studied",
        "reasons_ja": "交通部会で検討します。",
        "reasons_en": "",
        "ticket": "",
        "purpose": "",
        "indicator_code": "",
        "hidden_reason": "",
        **extra,
    }


def test_the_secretariat_lists_filters_and_answers(proposal, clerk_a, resident):
    client = signed_in(clerk_a)
    listing = client.get(reverse("admin:participation_proposal_changelist") + "?kind__exact=sensor")
    assert listing.status_code == 200 and "駅前に混雑センサーを" in listing.content.decode()
    change = reverse("admin:participation_proposal_change", args=[proposal.pk])
    refused = client.post(change, answer_form(reasons_ja=""))
    assert refused.status_code == 200 and "reasons_ja" in refused.context["adminform"].form.errors
    assert Proposal.objects.get().status == "published"
    answered = client.post(change, answer_form())
    assert answered.status_code == 302
    assert (Proposal.objects.get().status, Proposal.objects.get().outcome) == (
        "answered",
        "studied",
    )
    page = signed_in(resident.user).get(reverse("participation:my_proposals")).content.decode()
    assert "交通部会で検討します。" in page


def test_the_secretariat_hides_with_a_reason(proposal, clerk_a):
    client = signed_in(clerk_a)
    change = reverse("admin:participation_proposal_change", args=[proposal.pk])
    refused = client.post(change, answer_form(decision="hide"))
    assert "hidden_reason" in refused.context["adminform"].form.errors
    client.post(change, answer_form(decision="hide", hidden_reason="重複しています。"))
    assert Proposal.objects.get().status == "hidden"


def test_another_consortiums_clerk_gets_404(proposal, clerk_b):
    client = signed_in(clerk_b)
    change = reverse("admin:participation_proposal_change", args=[proposal.pk])
    assert client.get(change).status_code == 404
    assert client.post(change, answer_form()).status_code == 404
    listing = client.get(reverse("admin:participation_proposal_changelist"))
    assert "駅前に混雑センサーを" not in listing.content.decode()
    assert Proposal.objects.get().status == "published"


# --- The public register ---------------------------------------------------------------------


def test_answered_proposals_are_on_the_register_and_in_its_open_data(
    client, consortium_a, proposal, clerk_a, other_resident
):
    services.support_add(
        actor=as_resident(other_resident), proposal=proposal, resident=other_resident
    )
    page = reverse("public:proposals", kwargs={"slug": consortium_a.slug, "lang": "ja"})
    assert "駅前に混雑センサーを" not in client.get(page).content.decode()  # not answered yet
    services.proposal_answer(
        actor=clerk_a, proposal=proposal, outcome="accepted", reasons_ja="来年度の計画に入れます。"
    )
    shown = client.get(page).content.decode()
    assert "駅前に混雑センサーを" in shown and "来年度の計画に入れます。" in shown
    assert "計画に採用" in shown
    assert "朝の駅前の混雑を測ってください。" not in shown  # the text stays in the portal
    download = reverse(
        "public:download", kwargs={"slug": consortium_a.slug, "key": "proposals", "fmt": "json"}
    )
    [row] = client.get(download).json()["rows"]
    assert (row["id"], row["kind"], row["supports"], row["outcome"]) == (
        proposal.pk,
        "sensor",
        1,
        "accepted",
    )
    assert row["reasons_en"] == "来年度の計画に入れます。"
    csv_body = client.get(
        reverse(
            "public:download", kwargs={"slug": consortium_a.slug, "key": "proposals", "fmt": "csv"}
        )
    ).content.decode("utf-8-sig")
    assert "来年度の計画に入れます。" in csv_body
