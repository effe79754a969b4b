"""
The public register through the Django test client, as an anonymous visitor: what each page
shows, what it never shows, and its caching headers.
"""

import datetime
import re

import pytest
from django.urls import reverse

from audit import services as audit_services
from audit.models import Entry
from consent import services as consent_services
from governance import services as governance_services
from public import services
from public.models import PublicationSettings
from review.models import ReviewTicket
from tests.governance import conftest as governance_fixtures

from .conftest import SECRETS, make_resident

pytestmark = pytest.mark.django_db


def url(name: str, lang: str = "ja", **kwargs) -> str:
    return reverse(f"public:{name}", kwargs={**kwargs, "lang": lang})


def pages(consortium, register) -> list[str]:
    slug = consortium.slug
    return [
        url("index"),
        url("checkpoint"),
        url("consortium", slug=slug),
        url("uses", slug=slug),
        url("use", slug=slug, ticket_id=register["approved"].pk),
        url("use", slug=slug, ticket_id=register["rejected"].pk),
        url("members", slug=slug),
        url("bylaws", slug=slug),
        url("bylaw-version", slug=slug, number=1),
        url("resolutions", slug=slug),
        url("statistics", slug=slug),
        url("data", slug=slug),
    ]


def test_every_page_answers_anonymously_in_both_languages(client, register):
    for path in pages(register["consortium"], register):
        for lang_path in (path, f"/en{path}"):
            assert client.get(lang_path).status_code == 200, lang_path
    english = client.get(url("uses", "en", slug="aizu"))
    assert english["Content-Language"] == "en"
    assert b'lang="en"' in english.content
    assert "Uses of residents' data" in english.content.decode()
    japanese = client.get(url("uses", slug="aizu"))
    assert japanese["Content-Language"] == "ja"
    assert "住民データの利用" in japanese.content.decode()


def test_decided_uses_listed_with_what_the_issue_asks(client, register):
    approved, rejected = register["approved"], register["rejected"]
    listing = client.get(url("uses", "en", slug="aizu")).content.decode()
    assert approved.title in listing and rejected.title in listing
    page = client.get(url("use", "en", slug="aizu", ticket_id=approved.pk)).content.decode()
    for expected in (
        "Aizu Mobility",  # requester
        "Aizu mobility planner",  # service
        register["approved"].purpose.title_en,
        "aggregate before publication",  # the board's conditions
        register["grant"].jti,
        approved.valid_until.isoformat(),
        "365 days",
    ):
        assert expected in page, expected
    assert re.search(r"approve with conditions: 3", page)
    # The condition became an obligation of the requester; its state is public.
    assert re.search(r"aggregate before publication — <strong>open</strong>", page)
    entry = Entry.objects.get(
        action="ticket.approved", object_id=str(approved.pk), object_type="review.reviewticket"
    )
    assert f"entry {entry.seq}" in page and entry.hash in page
    proof = re.search(r'href="(/api/v1/audit/proofs/inclusion\?index=(\d+)&amp;size=(\d+))"', page)
    assert proof and int(proof.group(2)) == entry.seq - 1
    answer = client.get(proof.group(1).replace("&amp;", "&"))
    assert answer.status_code == 200 and answer.json()["index"] == entry.seq - 1

    page = client.get(url("use", "en", slug="aizu", ticket_id=rejected.pk)).content.decode()
    assert "rejected" in page
    assert re.search(r"reject: 2", page) and re.search(r"approve: 1", page)


def test_uses_list_loads_a_page_in_a_fixed_number_of_queries(
    client, register, django_assert_max_num_queries
):
    """
    The list shows each use's summary (decision, date, requester, service, purpose) and loads
    nothing else: the log's head, the consortium, the count and the page, however many uses.
    """
    approved = register["approved"]
    with django_assert_max_num_queries(5):
        listing = client.get(url("uses", "en", slug="aizu")).content.decode()
    summary = listing[listing.index(approved.title) :]
    summary = summary[: summary.index("</li>")]
    for expected in (
        "approved",
        approved.decided_at.date().isoformat(),
        "Aizu Mobility",
        "Aizu mobility planner",
        approved.purpose.title_en,
    ):
        assert expected in summary, expected
    assert "fewer than" not in summary  # no count, tally or grant on the list


def test_nothing_confidential_reaches_the_register(client, register, board_a):
    slug = register["consortium"].slug
    for path in pages(register["consortium"], register):
        for lang_path in (path, f"/ja-easy{path}", f"/en{path}"):
            body = client.get(lang_path).content.decode()
            for word in SECRETS.values():
                assert word not in body, (lang_path, word)
            # Reviewers' names and residents never appear (the board is published by expertise).
            for reviewer in (board_a.legal, board_a.security, board_a.data):
                assert reviewer.username not in body, (lang_path, reviewer.username)
            assert "@example.jp" not in body
    # Guessing the address of a draft or a ticket in review finds nothing.
    draft = ReviewTicket.objects.get(title=SECRETS["draft_title"])
    for ticket in (draft, register["in_review"]):
        for lang in ("ja", "ja-easy", "en"):
            assert client.get(url("use", lang, slug=slug, ticket_id=ticket.pk)).status_code == 404
    assert client.get(url("bylaw-version", slug=slug, number=2)).status_code == 404
    assert client.get(url("bylaw-compare", slug=slug, old=1, new=2)).status_code == 404
    assert client.get(url("uses", slug="no-such-consortium")).status_code == 404


def test_members_and_the_board_as_the_consortium_publishes_them(client, register, clerk_a, board_a):
    consortium = register["consortium"]
    page = client.get(url("members", "en", slug="aizu")).content.decode()
    assert "Aizu Mobility" in page
    assert register["former"].organization.name_en in page and "left 2025-03-31" in page
    assert "does not publish its officers" in page
    assert "legal" in page and board_a.legal.username not in page

    services.publication_settings_set(
        actor=clerk_a,
        consortium=consortium,
        publish_officers=True,
        board_disclosure=PublicationSettings.BoardDisclosure.NAMES,
    )
    page = client.get(url("members", "en", slug="aizu")).content.decode()
    assert board_a.legal.username in page
    audit_services.seal()
    entry = Entry.objects.filter(action="publication.settings_set").last()
    assert entry.data == {
        "publish_officers": True,
        "board_disclosure": "names",
        "created": True,
    }

    services.publication_settings_set(
        actor=clerk_a,
        consortium=consortium,
        publish_officers=False,
        board_disclosure=PublicationSettings.BoardDisclosure.NONE,
    )
    page = client.get(url("members", "en", slug="aizu")).content.decode()
    assert board_a.legal.username not in page
    assert "does not publish who sits" in page


def test_only_the_secretariat_changes_what_is_published(register, clerk_b, rep_a):
    from django.core.exceptions import PermissionDenied

    for actor in (clerk_b, rep_a):
        with pytest.raises(PermissionDenied):
            services.publication_settings_set(
                actor=actor,
                consortium=register["consortium"],
                publish_officers=True,
                board_disclosure="names",
            )
    assert not PublicationSettings.objects.exists()


def test_bylaws_in_force_history_and_comparison(client, register, clerk_a, founding_bylaws):
    consortium = register["consortium"]
    draft = consortium.bylaws.get(status="draft")
    draft.title_ja = draft.title_en = "改正規約"
    draft.save()
    governance_services.bylaw_article_set(
        actor=clerk_a,
        version=draft,
        number=2,
        title_ja="目的",
        text_ja="本会はデータで地域の発展を目的とする。",
    )
    members = [governance_fixtures.corporate_number() for _ in range(3)]
    memberships = [
        governance_services.membership_admit(
            actor=clerk_a,
            consortium=consortium,
            organization=governance_services.organization_register(
                actor=clerk_a,
                registered_by=consortium,
                kind="company",
                name_ja=f"会員{i}",
                name_en=f"Member {i}",
                corporate_number=number,
            ),
            member_class="regular",
            joined_on=governance_fixtures.FOUNDED,
        )
        for i, number in enumerate(members)
    ]
    assembly = governance_services.assembly_create(
        actor=clerk_a,
        consortium=consortium,
        title_ja="臨時総会",
        held_on=governance_fixtures.ASSEMBLY_DAY,
        place="市役所",
    )
    resolution = governance_services.resolution_propose(
        actor=clerk_a,
        assembly=assembly,
        kind="bylaw_amendment",
        title_ja="規約改正",
        bylaw_version=draft,
        amendment_effective_on=datetime.date(2026, 7, 1),
    )
    voters = [*memberships, register["approved"].requester.memberships.get()]
    for membership in voters:
        governance_services.attendance_record(
            actor=clerk_a, assembly=assembly, membership=membership, status="present"
        )
        governance_services.resolution_vote_cast(
            actor=clerk_a, resolution=resolution, membership=membership, choice="for"
        )
    governance_fixtures.close(resolution, clerk_a)

    page = client.get(url("bylaws", slug="aizu")).content.decode()
    assert "本会はデータで地域の発展を目的とする。" in page  # version 2 is in force
    compare = url("bylaw-compare", slug="aizu", old=1, new=2)
    assert compare in page
    body = client.get(compare).content.decode()
    assert "<ins>データで</ins>" in body
    assert client.get(url("bylaw-version", slug="aizu", number=1)).status_code == 200


def test_resolutions_appear_once_published_and_go_when_withdrawn(
    client, register, clerk_a, founding_bylaws
):
    consortium = register["consortium"]
    assembly = governance_services.assembly_create(
        actor=clerk_a,
        consortium=consortium,
        title_ja="定時総会",
        held_on=governance_fixtures.ASSEMBLY_DAY,
        place="市役所",
    )
    resolution = governance_services.resolution_propose(
        actor=clerk_a, assembly=assembly, kind="business_plan", title_ja=SECRETS["resolution"]
    )
    membership = register["approved"].requester.memberships.get()
    governance_services.attendance_record(
        actor=clerk_a, assembly=assembly, membership=membership, status="present"
    )
    governance_services.resolution_vote_cast(
        actor=clerk_a, resolution=resolution, membership=membership, choice="for"
    )
    # An open resolution cannot be published.
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.resolution_publish(actor=clerk_a, resolution=resolution)
    governance_fixtures.close(resolution, clerk_a)
    assert SECRETS["resolution"] not in client.get(url("resolutions", slug="aizu")).content.decode()

    publication = services.resolution_publish(
        actor=clerk_a, resolution=resolution, minutes_ja="議事録の本文"
    )
    page = client.get(url("resolutions", slug="aizu")).content.decode()
    assert SECRETS["resolution"] in page and "議事録の本文" in page
    audit_services.seal()
    entry = Entry.objects.filter(action="publication.resolution_published").last()
    assert entry.data == {"resolution": resolution.pk, "with_minutes": True, "republished": False}

    services.resolution_unpublish(actor=clerk_a, publication=publication)
    audit_services.seal()
    assert SECRETS["resolution"] not in client.get(url("resolutions", slug="aizu")).content.decode()
    assert Entry.objects.filter(action="publication.resolution_withdrawn").exists()


def test_statistics_hide_counts_under_ten(client, register, consortium_a, purpose):
    residents = [make_resident(f"s{i}@example.jp", consortium_a) for i in range(12)]
    for resident in residents:
        consent_services.consent_give(actor=None, resident=resident, purpose=purpose)
    for resident in residents[:3]:
        consent_services.consent_withdraw(actor=None, resident=resident, purpose=purpose)
    page = client.get(url("statistics", "en", slug="aizu")).content.decode()
    # 12 agreed this month (shown); 3 withdrew (fewer than 10); 9 agree today (fewer than 10).
    assert "<td>12</td>" in page
    assert "<td>fewer than 10</td>" in page
    assert "agreed: fewer than 10" in page
    assert "<td>3</td>" not in page and "<td>9</td>" not in page


def test_pages_are_cacheable_and_answer_304_until_something_changes(client, register, clerk_a):
    path = url("members", slug="aizu")
    first = client.get(path)
    assert first["Cache-Control"] == "public, max-age=300"
    assert first.has_header("ETag")
    assert "Set-Cookie" not in first.headers and not first.cookies
    assert "Cookie" not in first.get("Vary", "")
    again = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again["ETag"] == first["ETag"]
    # Another language is another page.
    assert client.get(url("members", "en", slug="aizu"))["ETag"] != first["ETag"]
    services.publication_settings_set(
        actor=clerk_a,
        consortium=register["consortium"],
        publish_officers=True,
        board_disclosure="names",
    )
    changed = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def test_every_page_reads_in_easy_japanese(client, register):
    """
    やさしい日本語 at /ja-easy/register/: every page, in short plain sentences, with the hard
    words of the page explained under it; the other languages have no such list.
    """
    slug = register["consortium"].slug
    for path in [*pages(register["consortium"], register), url("scorecard", slug=slug)]:
        easy = client.get(f"/ja-easy{path}")
        assert easy.status_code == 200, path
        assert easy["Content-Language"] == "ja-easy"
        assert '<html lang="ja-easy">' in easy.content.decode()
    listing = client.get(url("uses", "ja-easy", slug=slug)).content.decode()
    assert "住民の データの つかいかた" in listing
    assert "しんさかいが まだ きめて いない ものは のせません。" in listing
    use = client.get(
        url("use", "ja-easy", slug=slug, ticket_id=register["approved"].pk)
    ).content.decode()
    assert "この ページの ことば" in use
    assert "ようはいりょ こじん じょうほう（要配慮個人情報）" in use
    assert "ほうりつで とくに 大切に あつかいます。" in use
    assert "<dt>やくそく（ぎむ）</dt>" in use  # the register's label, not another app's
    for lang in ("ja", "en"):
        other = client.get(url("use", lang, slug=slug, ticket_id=register["approved"].pk))
        assert "ようはいりょ" not in other.content.decode()
        assert 'class="terms"' not in other.content.decode()
    checkpoint = client.get(url("checkpoint", "ja-easy")).content.decode()
    assert "かんさ ログ（監査ログ）" in checkpoint and "チェックポイント" in checkpoint
    scorecard = client.get(url("scorecard", "ja-easy", slug=slug)).content.decode()
    assert "KPI（ケーピーアイ）" in scorecard


def test_each_page_links_to_itself_in_the_other_two_languages(client, register):
    slug = register["consortium"].slug
    links = re.compile(r'<a class="language-link" href="([^"]+)" lang="([^"]+)"')
    japanese = client.get(url("members", slug=slug)).content.decode()
    assert links.findall(japanese) == [
        (f"/ja-easy/register/{slug}/members/", "ja-easy"),
        (f"/en/register/{slug}/members/", "en"),
    ]
    easy = client.get(url("uses", "ja-easy", slug=slug) + "?page=1").content.decode()
    assert links.findall(easy) == [
        (f"/register/{slug}/uses/?page=1", "ja"),
        (f"/en/register/{slug}/uses/?page=1", "en"),
    ]
    assert f'<link rel="alternate" hreflang="en" href="/en/register/{slug}/uses/?page=1">' in easy


def test_the_address_alone_sets_the_language_and_each_language_has_its_etag(client, register):
    slug = register["consortium"].slug
    answers = {
        lang: client.get(url("members", lang, slug=slug)) for lang in ("ja", "ja-easy", "en")
    }
    assert len({answer["ETag"] for answer in answers.values()}) == 3
    for lang, answer in answers.items():
        assert answer["Content-Language"] == lang
        assert "Cookie" not in answer.get("Vary", "") and not answer.cookies
    # A copy of another language is not current: the page is sent again.
    easy = client.get(
        url("members", "ja-easy", slug=slug), HTTP_IF_NONE_MATCH=answers["ja"]["ETag"]
    )
    assert easy.status_code == 200 and easy["ETag"] == answers["ja-easy"]["ETag"]
    again = client.get(
        url("members", "ja-easy", slug=slug), HTTP_IF_NONE_MATCH=answers["ja-easy"]["ETag"]
    )
    assert again.status_code == 304
    # Neither the browser's languages nor a language cookie change what an address shows.
    client.cookies["django_language"] = "en"
    easy = client.get(url("members", "ja-easy", slug=slug), HTTP_ACCEPT_LANGUAGE="en")
    assert easy["Content-Language"] == "ja-easy" and easy["ETag"] == answers["ja-easy"]["ETag"]
    assert "会員と やくいん" in easy.content.decode()


def test_register_refuses_other_methods(client, register):
    assert client.post(url("uses", slug="aizu")).status_code == 405


def test_an_approval_whose_term_ended_reads_as_expired(client, register):
    """The register's own state: an approval past its term is "expired", in every dataset too."""
    approved = register["approved"]
    ReviewTicket.objects.filter(pk=approved.pk).update(
        valid_from=datetime.date(2024, 4, 1), valid_until=datetime.date(2025, 3, 31)
    )
    page = client.get(url("use", "en", slug="aizu", ticket_id=approved.pk)).content.decode()
    assert 'class="state state-expired">expired<' in page
    listing = client.get(url("uses", "en", slug="aizu")).content.decode()
    assert 'class="state state-expired">expired<' in listing
    rows = client.get(
        reverse("public:download", kwargs={"slug": "aizu", "key": "uses", "fmt": "json"})
    ).json()["rows"]
    assert next(row for row in rows if row["id"] == approved.pk)["state"] == "expired"
    assert next(row for row in rows if row["id"] == register["rejected"].pk)["state"] == "rejected"
