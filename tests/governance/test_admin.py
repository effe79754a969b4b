"""The secretariat's admin: isolation between consortia, and saves that go through services."""

import datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from audit.models import PendingEntry
from governance import services
from governance.models import Attendance, BylawVersion, Organization, Resolution, Role, Vote
from review import services as review_services

from .conftest import ASSEMBLY_DAY, FOUNDED, corporate_number, make_user

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def build(consortium, clerk, label):
    """One record of every kind in ``consortium``, made by its clerk through the services."""
    version = services.bylaw_version_create(
        actor=clerk, consortium=consortium, title_ja=f"{label}規約", title_en=f"{label} bylaws"
    )
    services.bylaw_article_set(
        actor=clerk, version=version, number=1, title_ja="目的", text_ja="地域の発展を目的とする。"
    )
    services.bylaw_version_establish(
        actor=clerk, version=version, adopted_on=FOUNDED, effective_on=FOUNDED
    )
    draft = services.bylaw_version_create(
        actor=clerk,
        consortium=consortium,
        title_ja=f"{label}規約改正案",
        title_en="Draft",
        based_on=version,
    )
    services.bylaw_article_set(
        actor=clerk,
        version=draft,
        number=1,
        title_ja="目的",
        text_ja="地域の持続的な発展を目的とする。",
    )
    organization = services.organization_register(
        actor=clerk,
        registered_by=consortium,
        kind="company",
        name_ja=f"{label}商事",
        name_en=f"{label} Trading",
        corporate_number=corporate_number(),
    )
    membership = services.membership_admit(
        actor=clerk,
        consortium=consortium,
        organization=organization,
        member_class="regular",
        joined_on=FOUNDED,
    )
    role = services.role_assign(
        actor=clerk,
        consortium=consortium,
        kind=Role.Kind.CHAIR,
        user=make_user(f"chair-{label}"),
        start_on=FOUNDED,
    )
    board = review_services.ethics_board_set(
        actor=clerk, consortium=consortium, name_ja=f"{label}審査会", name_en="Board"
    )
    assembly = services.assembly_create(
        actor=clerk,
        consortium=consortium,
        title_ja=f"{label}総会",
        held_on=ASSEMBLY_DAY,
        online=True,
    )
    services.attendance_record(
        actor=clerk, assembly=assembly, membership=membership, status="present"
    )
    resolution = services.resolution_propose(
        actor=clerk, assembly=assembly, kind="budget", title_ja=f"{label}予算"
    )
    return SimpleNamespace(
        consortium=consortium,
        version=version,
        draft=draft,
        organization=organization,
        membership=membership,
        role=role,
        board=board,
        assembly=assembly,
        resolution=resolution,
    )


@pytest.fixture
def world(consortium_a, consortium_b, clerk_a, clerk_b):
    return SimpleNamespace(
        a=build(consortium_a, clerk_a, "会津"), b=build(consortium_b, clerk_b, "柏")
    )


MODELS = {
    "consortium": "consortium",
    "organization": "organization",
    "membership": "membership",
    "role": "role",
    "ethicsboard": "board",
    "bylawversion": "version",
    "generalassembly": "assembly",
    "resolution": "resolution",
}
# The board moved to the review app; its admin keeps the same scoping.
APP = {"ethicsboard": "review"}


def admin_url(model: str, view: str, *args) -> str:
    return reverse(f"admin:{APP.get(model, 'governance')}_{model}_{view}", args=args)


def login(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_a_clerk_sees_only_their_consortiums_records(client, world, clerk_a, model):
    login(client, clerk_a)
    own, other = getattr(world.a, MODELS[model]), getattr(world.b, MODELS[model])

    listing = client.get(admin_url(model, "changelist"))
    assert listing.status_code == 200
    assert admin_url(model, "change", own.pk) in listing.text
    assert admin_url(model, "change", other.pk) not in listing.text
    assert "柏" not in listing.text  # not even in the filters

    assert client.get(admin_url(model, "change", own.pk)).status_code == 200
    assert client.get(admin_url(model, "change", other.pk)).status_code == 404
    history = admin_url(model, "history", other.pk)
    assert client.get(history).status_code == 404
    posted = client.post(admin_url(model, "change", other.pk), {})
    assert posted.status_code == 404


@pytest.mark.parametrize("model", MODELS)
def test_anonymous_visitors_are_sent_to_the_login(client, world, model):
    own = getattr(world.a, MODELS[model])
    for url in [
        admin_url(model, "changelist"),
        admin_url(model, "change", own.pk),
        admin_url(model, "add"),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("model", [m for m in MODELS if m != "consortium"])
def test_the_add_form_offers_only_the_clerks_consortium(client, world, clerk_a, model):
    login(client, clerk_a)
    response = client.get(admin_url(model, "add"))
    assert response.status_code == 200
    assert "柏" not in response.text
    assert "Kashiwa" not in response.text


def test_only_superusers_add_consortia(client, world, clerk_a, superuser):
    login(client, clerk_a)
    assert client.get(reverse("admin:governance_consortium_add")).status_code == 403
    client.logout()
    login(client, superuser)
    assert client.get(reverse("admin:governance_consortium_add")).status_code == 200
    response = client.post(
        reverse("admin:governance_consortium_add"),
        {"slug": "tsukuba", "name_ja": "つくば協議会", "name_en": "Tsukuba", "status": "active"},
    )
    assert response.status_code == 302
    assert PendingEntry.objects.filter(action="consortium.created").count() == 1


def test_superusers_see_every_consortium(client, world, superuser):
    login(client, superuser)
    for record in (world.a.resolution, world.b.resolution):
        url = reverse("admin:governance_resolution_change", args=[record.pk])
        assert client.get(url).status_code == 200


def test_a_staff_user_of_no_consortium_gets_403(client, world):
    make_user("stranger", is_staff=True)
    client.force_login(get_user_model().objects.get(username="stranger"))
    assert client.get(reverse("admin:governance_resolution_changelist")).status_code == 403
    url = reverse("admin:governance_bylawversion_compare", args=[world.a.draft.pk])
    assert client.get(url).status_code == 404


def test_guardian_object_permission_grants_administration(client, world):
    from guardian.shortcuts import assign_perm

    auditor = make_user("delegate", is_staff=True)
    assign_perm("governance.administer_consortium", auditor, world.b.consortium)
    login(client, auditor)
    assert (
        client.get(
            reverse("admin:governance_resolution_change", args=[world.b.resolution.pk])
        ).status_code
        == 200
    )
    assert (
        client.get(
            reverse("admin:governance_resolution_change", args=[world.a.resolution.pk])
        ).status_code
        == 404
    )


def test_the_comparison_highlights_changes_and_stays_within_the_consortium(client, world, clerk_a):
    login(client, clerk_a)
    url = reverse("admin:governance_bylawversion_compare", args=[world.a.draft.pk])

    response = client.get(url)
    assert response.status_code == 200
    assert "<ins>持続的な</ins>" in response.text
    assert client.get(url, {"with": world.a.version.pk}).status_code == 200
    assert client.get(url, {"with": world.b.version.pk}).status_code == 404
    assert client.get(url, {"with": "x"}).status_code == 404
    assert client.get(url, {"with": "²"}).status_code == 404  # a digit to str.isdigit, no number
    assert client.get("/admin/governance/bylawversion/abc/compare/").status_code == 404
    assert client.get("/admin/governance/bylawversion/²/compare/").status_code == 404
    other = reverse("admin:governance_bylawversion_compare", args=[world.b.draft.pk])
    assert client.get(other).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_a_wrong_corporate_number_is_a_field_error_in_the_admin(client, world, clerk_a):
    login(client, clerk_a)
    response = client.post(
        reverse("admin:governance_organization_add"),
        {
            "registered_by": world.a.consortium.pk,
            "kind": "company",
            "name_ja": "会津誤番号",
            "name_en": "Wrong",
            "corporate_number": "1234567890123",
        },
    )
    assert response.status_code == 200
    assert "check digit" in response.text or "チェックデジット" in response.text
    assert not Organization.objects.filter(name_en="Wrong").exists()


def test_an_overlapping_chair_is_refused_in_the_admin(client, world, clerk_a):
    login(client, clerk_a)
    response = client.post(
        reverse("admin:governance_role_add"),
        {
            "consortium": world.a.consortium.pk,
            "kind": "chair",
            "user": make_user("pretender").pk,
            "start_on": "2026-04-01",
        },
    )
    assert response.status_code == 200
    assert "errorlist" in response.text
    assert Role.objects.filter(kind="chair", consortium=world.a.consortium).count() == 1


def test_a_clerk_cannot_attach_records_to_another_consortium(client, world, clerk_a):
    login(client, clerk_a)
    response = client.post(
        reverse("admin:governance_generalassembly_add"),
        {
            "consortium": world.b.consortium.pk,
            "kind": "ordinary",
            "title_ja": "乗っ取り総会",
            "held_on": "2026-07-01",
            "online": "on",
            **inline_management("attendances", 0),
            **inline_management("resolutions", 0),
        },
    )
    assert response.status_code == 200
    assert not world.b.consortium.assemblies.filter(title_ja="乗っ取り総会").exists()


def inline_management(prefix, initial, total=None):
    return {
        f"{prefix}-TOTAL_FORMS": str(total if total is not None else initial),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def resolution_post(resolution, recorded, new_rows):
    """The change form's POST data, with ``recorded`` existing votes and ``new_rows`` new ones."""
    data = {
        "kind": resolution.kind,
        "title_ja": resolution.title_ja,
        "title_en": resolution.title_en,
        "text": resolution.text,
        **inline_management("votes", len(recorded)),
        **inline_management("votes-2", 0, len(new_rows)),
    }
    for index, vote in enumerate(recorded):
        data[f"votes-{index}-id"] = vote.pk
        data[f"votes-{index}-resolution"] = resolution.pk
        data[f"votes-{index}-choice"] = vote.choice
    for index, (membership, choice) in enumerate(new_rows):
        data[f"votes-2-{index}-resolution"] = resolution.pk
        data[f"votes-2-{index}-membership"] = membership.pk
        data[f"votes-2-{index}-choice"] = choice
    return data


def test_votes_are_recorded_through_the_inline_and_closed_by_the_action(client, world, clerk_a):
    login(client, clerk_a)
    resolution = world.a.resolution
    url = reverse("admin:governance_resolution_change", args=[resolution.pk])

    response = client.post(url, resolution_post(resolution, [], [(world.a.membership, "for")]))

    assert response.status_code == 302, response.text
    assert Vote.objects.get(resolution=resolution).choice == "for"
    assert PendingEntry.objects.filter(action="vote.cast").count() == 1

    # A second vote by the same member is refused with the reason, and nothing changes.
    response = client.post(url, resolution_post(resolution, [], [(world.a.membership, "against")]))
    assert response.status_code == 200
    assert Vote.objects.filter(resolution=resolution).count() == 1

    changelist = reverse("admin:governance_resolution_changelist")
    response = client.post(
        changelist, {"action": "close_vote", "_selected_action": [resolution.pk]}, follow=True
    )
    assert response.status_code == 200
    resolution.refresh_from_db()
    assert resolution.outcome == Resolution.Outcome.CARRIED
    assert not resolution.is_open

    # Closed: the page is read-only and a forged POST is refused. It names the rule the bylaws
    # set and the figures it was applied to.
    page = client.get(url)
    assert "定足数: 正会員 1 名の 1/2 以上の出席 (委任状を含む)。出席 1 名で成立。" in page.text
    assert "議決: 賛否の投票数の過半数（この議案では 1）。賛成 1。" in page.text
    assert 'name="votes-0-choice"' not in page.text
    assert 'name="votes_for"' not in page.text
    vote = Vote.objects.get(resolution=resolution)
    forged = client.post(
        url, resolution_post(resolution, [vote], []) | {"votes-0-choice": "against"}
    )
    assert forged.status_code == 403
    assert Vote.objects.get(pk=vote.pk).choice == "for"


def test_closing_another_consortiums_resolution_by_action_does_nothing(client, world, clerk_a):
    login(client, clerk_a)
    client.post(
        reverse("admin:governance_resolution_changelist"),
        {"action": "close_vote", "_selected_action": [world.b.resolution.pk]},
    )
    world.b.resolution.refresh_from_db()
    assert world.b.resolution.is_open


def test_attendance_is_recorded_through_the_assembly(client, world, clerk_a):
    login(client, clerk_a)
    assembly = world.a.assembly
    late = services.organization_register(
        actor=clerk_a,
        registered_by=world.a.consortium,
        kind="civic_group",
        name_ja="Code for AIZU",
        name_en="Code for AIZU",
    )
    member = services.membership_admit(
        actor=clerk_a,
        consortium=world.a.consortium,
        organization=late,
        member_class="observer",
        joined_on=FOUNDED,
    )
    changelist = reverse("admin:governance_generalassembly_changelist")
    client.post(changelist, {"action": "prepare_attendance", "_selected_action": [assembly.pk]})
    row = Attendance.objects.get(assembly=assembly, membership=member)
    assert row.status == "absent"

    existing = list(
        Attendance.objects.filter(assembly=assembly).order_by("membership__organization__name_ja")
    )
    data = {
        "kind": assembly.kind,
        "title_ja": assembly.title_ja,
        "title_en": "",
        "held_on": assembly.held_on.isoformat(),
        "place": "",
        "online": "on",
        "agenda": "",
        **inline_management("attendances", len(existing)),
        **inline_management("resolutions", 1),
        "resolutions-0-id": world.a.resolution.pk,
        "resolutions-0-assembly": assembly.pk,
    }
    for index, attendance in enumerate(existing):
        data[f"attendances-{index}-id"] = attendance.pk
        data[f"attendances-{index}-assembly"] = assembly.pk
        data[f"attendances-{index}-status"] = attendance.status
        data[f"attendances-{index}-proxy_holder"] = ""
    index = existing.index(row)
    data[f"attendances-{index}-status"] = "proxy"

    refused = client.post(
        reverse("admin:governance_generalassembly_change", args=[assembly.pk]), data
    )
    assert refused.status_code == 200  # a proxy without its holder
    assert Attendance.objects.get(pk=row.pk).status == "absent"

    data[f"attendances-{index}-proxy_holder"] = "議長"
    done = client.post(reverse("admin:governance_generalassembly_change", args=[assembly.pk]), data)
    assert done.status_code == 302, done.text
    assert Attendance.objects.get(pk=row.pk).status == "proxy"


def test_adopted_bylaws_are_read_only_in_the_admin(client, world, clerk_a):
    login(client, clerk_a)
    url = reverse("admin:governance_bylawversion_change", args=[world.a.version.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert 'name="title_ja"' not in response.text
    assert 'name="articles-0-text_ja"' not in response.text
    forged = client.post(url, {"title_ja": "改ざん", **inline_management("articles", 1)})
    assert forged.status_code == 403
    assert BylawVersion.objects.get(pk=world.a.version.pk).title_ja == "会津規約"


def version_post(version, articles, extra_rows=()):
    data = {
        "title_ja": version.title_ja,
        "title_en": version.title_en,
        "quorum_numerator": version.quorum_numerator,
        "quorum_denominator": version.quorum_denominator,
        "proxies_counted": "on" if version.proxies_counted else "",
        "majority_basis": version.majority_basis,
        "special_majority_numerator": version.special_majority_numerator,
        "special_majority_denominator": version.special_majority_denominator,
        "admission_requires_resolution": "on",
        **inline_management("articles", len(articles), len(articles) + len(extra_rows)),
    }
    rows = [
        {
            "id": a.pk,
            "version": version.pk,
            "number": a.number,
            "title_ja": a.title_ja,
            "title_en": a.title_en,
            "text_ja": a.text_ja,
            "text_en": a.text_en,
        }
        for a in articles
    ] + list(extra_rows)
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"articles-{index}-{key}"] = value
    return data


def test_a_draft_is_edited_article_by_article_through_the_services(client, world, clerk_a):
    login(client, clerk_a)
    draft = world.a.draft
    url = reverse("admin:governance_bylawversion_change", args=[draft.pk])
    articles = list(draft.articles.all())
    new_row = {
        "version": draft.pk,
        "number": 2,
        "title_ja": "秘密保持",
        "title_en": "",
        "text_ja": "会員は秘密を守る。",
        "text_en": "",
    }
    data = version_post(draft, articles, [new_row])
    data["articles-0-text_ja"] = "地域の持続的かつ包摂的な発展を目的とする。"

    response = client.post(url, data)

    assert response.status_code == 302, response.text
    assert list(draft.articles.values_list("number", flat=True)) == [1, 2]
    assert draft.articles.get(number=1).text_ja == "地域の持続的かつ包摂的な発展を目的とする。"
    assert (
        PendingEntry.objects.filter(
            action="bylaw.article_set",
            object_id__in=[str(pk) for pk in draft.articles.values_list("pk", flat=True)],
        ).count()
        == 3
    )

    duplicate = dict(new_row, number=1)
    refused = client.post(url, version_post(draft, list(draft.articles.all()), [duplicate]))
    assert refused.status_code == 200
    assert draft.articles.count() == 2


def test_founding_bylaws_are_recorded_by_an_action(client, consortium_a, clerk_a):
    login(client, clerk_a)
    version = services.bylaw_version_create(
        actor=clerk_a, consortium=consortium_a, title_ja="設立規約", title_en="Founding"
    )
    services.bylaw_article_set(
        actor=clerk_a, version=version, number=1, title_ja="名称", text_ja="本会は…と称する。"
    )
    changelist = reverse("admin:governance_bylawversion_changelist")
    action = {"action": "establish", "_selected_action": [version.pk]}

    client.post(changelist, action)
    assert BylawVersion.objects.get(pk=version.pk).is_draft  # no established date yet

    services.consortium_update(
        actor=clerk_a, consortium=consortium_a, established_on=datetime.date(2024, 4, 1)
    )
    client.post(changelist, action)
    version.refresh_from_db()
    assert (version.status, version.effective_on) == ("adopted", datetime.date(2024, 4, 1))


def test_a_late_refusal_rolls_the_whole_save_back_and_says_why(client, world, clerk_a, monkeypatch):
    """A refusal raised while saving (e.g. after a concurrent change) leaves nothing half-done."""
    from django.core.exceptions import ValidationError

    from governance.services import assemblies

    login(client, clerk_a)
    assembly = world.a.assembly

    def refuse(**kwargs):
        raise ValidationError("A vote of this assembly has been closed meanwhile.")

    monkeypatch.setattr(assemblies, "attendance_record", refuse)
    monkeypatch.setattr("governance.services.attendance_record", refuse)
    attendance = Attendance.objects.get(assembly=assembly)
    data = {
        "kind": assembly.kind,
        "title_ja": "改題された総会",
        "title_en": "",
        "held_on": assembly.held_on.isoformat(),
        "place": "",
        "online": "on",
        "agenda": "",
        **inline_management("attendances", 1),
        "attendances-0-id": attendance.pk,
        "attendances-0-assembly": assembly.pk,
        "attendances-0-status": "absent",
        "attendances-0-proxy_holder": "",
        **inline_management("resolutions", 1),
        "resolutions-0-id": world.a.resolution.pk,
        "resolutions-0-assembly": assembly.pk,
    }
    url = reverse("admin:governance_generalassembly_change", args=[assembly.pk])

    response = client.post(url, data, follow=True)

    assert response.status_code == 200
    assert "closed meanwhile" in response.text
    assembly.refresh_from_db()
    assert assembly.title_ja == "会津総会"  # the assembly's own change was rolled back too
    assert not PendingEntry.objects.filter(action="assembly.updated").exists()


def membership_post(membership, **changes):
    data = {
        "member_class": membership.member_class,
        "representative": membership.representative_id or "",
        "left_on": "",
        "accepted_bylaw_version": membership.accepted_bylaw_version_id or "",
        "accepted_confidentiality": "on" if membership.accepted_confidentiality else "",
        "accepted_ip_terms": "on" if membership.accepted_ip_terms else "",
        "terms_accepted_on": membership.terms_accepted_on or "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_a_membership_is_changed_through_its_use_cases(client, world, clerk_a):
    login(client, clerk_a)
    membership = world.a.membership
    url = reverse("admin:governance_membership_change", args=[membership.pk])
    representative = make_user("rep-a")

    response = client.post(
        url,
        membership_post(
            membership,
            representative=representative.pk,
            accepted_bylaw_version=world.a.version.pk,
            accepted_confidentiality="on",
            accepted_ip_terms="on",
            terms_accepted_on="2024-04-01",
        ),
    )
    assert response.status_code == 302, response.text
    membership.refresh_from_db()
    assert membership.representative == representative
    assert membership.accepted_bylaw_version == world.a.version
    assert (
        PendingEntry.objects.filter(
            action="membership.updated", object_id=str(membership.pk)
        ).count()
        == 1
    )
    assert PendingEntry.objects.filter(action="membership.terms_accepted").count() == 1

    # Leaving before joining is refused on the form; a real date ends the membership.
    refused = client.post(url, membership_post(membership, left_on="2024-03-31"))
    assert refused.status_code == 200
    assert "errorlist" in refused.text
    client.post(url, membership_post(membership, left_on="2026-12-31"))
    membership.refresh_from_db()
    assert membership.left_on == datetime.date(2026, 12, 31)
    assert client.get(url).status_code == 200
    assert 'name="member_class"' not in client.get(url).text  # a former membership is history


def test_admission_without_the_required_resolution_is_a_form_error(client, world, clerk_a):
    login(client, clerk_a)
    newcomer = services.organization_register(
        actor=clerk_a,
        registered_by=world.a.consortium,
        kind="company",
        name_ja="新規会津",
        name_en="New Aizu",
        corporate_number=corporate_number(),
    )
    response = client.post(
        reverse("admin:governance_membership_add"),
        {
            "consortium": world.a.consortium.pk,
            "organization": newcomer.pk,
            "member_class": "regular",
            "joined_on": "2026-07-01",
        },
    )
    assert response.status_code == 200
    assert "errorlist" in response.text
    assert not newcomer.memberships.exists()

    observer = client.post(
        reverse("admin:governance_membership_add"),
        {
            "consortium": world.a.consortium.pk,
            "organization": newcomer.pk,
            "member_class": "observer",
            "joined_on": "2026-07-01",
        },
    )
    assert observer.status_code == 302
    assert newcomer.memberships.get().member_class == "observer"


def test_an_amendment_in_force_before_its_adoption_is_a_field_error(client, world, clerk_a):
    login(client, clerk_a)
    data = {
        "assembly": world.a.assembly.pk,
        "kind": "bylaw_amendment",
        "title_ja": "規約改正",
        "title_en": "",
        "text": "",
        "bylaw_version": world.a.draft.pk,
        "amendment_effective_on": "2026-06-19",  # the assembly meets on 2026-06-20
    }
    url = reverse("admin:governance_resolution_add")

    refused = client.post(url, data)
    assert refused.status_code == 200
    assert "2026-06-20" in refused.text
    assert not Resolution.objects.filter(kind="bylaw_amendment").exists()

    accepted = client.post(url, data | {"amendment_effective_on": "2026-07-01"})
    assert accepted.status_code == 302
    assert Resolution.objects.get(kind="bylaw_amendment").number == 2
    assert PendingEntry.objects.filter(action="resolution.proposed").count() == 3


def test_the_vote_form_offers_only_members_who_may_vote(client, world, clerk_a):
    login(client, clerk_a)
    observer_org = services.organization_register(
        actor=clerk_a,
        registered_by=world.a.consortium,
        kind="civic_group",
        name_ja="見学団体",
        name_en="Watcher",
    )
    observer = services.membership_admit(
        actor=clerk_a,
        consortium=world.a.consortium,
        organization=observer_org,
        member_class="observer",
        joined_on=FOUNDED,
    )
    services.attendance_record(
        actor=clerk_a, assembly=world.a.assembly, membership=observer, status="present"
    )
    url = reverse("admin:governance_resolution_change", args=[world.a.resolution.pk])

    page = client.get(url).text

    assert f'<option value="{world.a.membership.pk}">' in page
    assert f'<option value="{observer.pk}">' not in page
    forged = client.post(url, resolution_post(world.a.resolution, [], [(observer, "for")]))
    assert forged.status_code == 200
    assert not Vote.objects.filter(membership=observer).exists()


def test_each_change_form_saves_through_its_service(client, world, clerk_a):
    login(client, clerk_a)
    a = world.a

    def post(model, obj, data):
        url = admin_url(model, "change", obj.pk)
        response = client.post(url, data)
        assert response.status_code == 302, response.text
        return type(obj).objects.get(pk=obj.pk)

    consortium = post(
        "consortium",
        a.consortium,
        {
            "name_ja": a.consortium.name_ja,
            "name_en": a.consortium.name_en,
            "area": "会津若松市",
            "vision": "",
            "status": "active",
        },
    )
    assert consortium.area == "会津若松市"
    organization = post(
        "organization",
        a.organization,
        {
            "kind": "company",
            "name_ja": "会津商事株式会社",
            "name_en": "Aizu Trading",
            "corporate_number": a.organization.corporate_number,
        },
    )
    assert organization.name_ja == "会津商事株式会社"
    role = post(
        "role",
        a.role,
        {
            "kind": "chair",
            "user": a.role.user_id,
            "start_on": "2024-04-01",
            "end_on": "2026-03-31",
        },
    )
    assert role.end_on == datetime.date(2026, 3, 31)
    board = post(
        "ethicsboard",
        a.board,
        {
            "name_ja": "会津審査会",
            "name_en": "Board",
            "quorum": 4,
            "security_veto": "on",
            "review_days": 21,
            "approval_term_days": 365,
            "deletion_confirmation_days": 45,
            "overdue_critical": "suspend",
        },
    )
    assert (board.quorum, board.security_veto, board.legal_veto) == (4, True, False)
    assert board.overdue_critical == "suspend" and board.deletion_confirmation_days == 45
    assert [entry.action for entry in PendingEntry.objects.order_by("-id")[:4]] == [
        "ethics_board.updated",
        "role.updated",
        "organization.updated",
        "consortium.updated",
    ]

    # A new chair after the previous term ended, through the add form.
    successor = make_user("successor")
    response = client.post(
        reverse("admin:governance_role_add"),
        {
            "consortium": a.consortium.pk,
            "kind": "chair",
            "user": successor.pk,
            "start_on": "2026-04-01",
        },
    )
    assert response.status_code == 302
    assert Role.objects.get(kind="chair", user=successor).start_on == datetime.date(2026, 4, 1)

    response = client.post(
        reverse("admin:governance_generalassembly_add"),
        {
            "consortium": a.consortium.pk,
            "kind": "extraordinary",
            "title_ja": "臨時総会",
            "held_on": "2026-09-01",
            "place": "会津若松市役所",
            "agenda": "",
            **inline_management("attendances", 0),
            **inline_management("resolutions", 0),
        },
    )
    assert response.status_code == 302
    created = PendingEntry.objects.filter(action="assembly.created", consortium_id=a.consortium.pk)
    assert created.count() == 2


@pytest.mark.parametrize("typed", ["令和8年7月1日", "R8.7.1", "2026/07/01", "20260701"])
def test_a_clerk_types_the_assembly_date_as_clerks_do(client, world, clerk_a, typed):
    login(client, clerk_a)
    response = client.post(
        reverse("admin:governance_generalassembly_add"),
        {
            "consortium": world.a.consortium.pk,
            "kind": "ordinary",
            "title_ja": "臨時総会",
            "held_on": typed,
            "online": "on",
            **inline_management("attendances", 0),
            **inline_management("resolutions", 0),
        },
    )
    assert response.status_code == 302, response.text[:2000]
    assembly = world.a.consortium.assemblies.get(title_ja="臨時総会")
    assert assembly.held_on.isoformat() == "2026-07-01"


def test_a_date_that_is_none_is_refused_with_the_forms_it_takes(client, world, clerk_a):
    login(client, clerk_a)
    response = client.post(
        reverse("admin:governance_generalassembly_add"),
        {
            "consortium": world.a.consortium.pk,
            "kind": "ordinary",
            "title_ja": "臨時総会",
            "held_on": "7月1日",
            "online": "on",
            **inline_management("attendances", 0),
            **inline_management("resolutions", 0),
        },
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    assert response.status_code == 200
    assert "令和9年3月31日" in response.text and 'value="7月1日"' in response.text
    assert not world.a.consortium.assemblies.filter(title_ja="臨時総会").exists()
