"""
Every governance service writes exactly one audit entry, with ids and facts only.

Inside a test's transaction the entries stay pending (``audit.models.PendingEntry``) until
``audit.services.seal`` moves them into the chain.
"""

import datetime
import json

import pytest

from audit import services as audit_services
from audit.models import Entry, PendingEntry
from audit.verification import verify_chain
from governance import services
from governance.models import Role
from review import services as review_services

from .conftest import ASSEMBLY_DAY, FOUNDED, corporate_number, make_user

pytestmark = pytest.mark.django_db

PERSONAL = ["会員企業", "Member ", "会津", "Aizu", "山田", "議長", "chair1", "代表", "@"]


def entries_of(call):
    """Run ``call`` and return the entries it appended."""
    before = set(PendingEntry.objects.values_list("pk", flat=True))
    result = call()
    return result, list(PendingEntry.objects.exclude(pk__in=before))


def assert_one_clean_entry(entries, action):
    assert [entry.action for entry in entries] == [action]
    text = (
        json.dumps(entries[0].payload, ensure_ascii=False)
        if not isinstance(entries[0].payload, str)
        else entries[0].payload
    )
    for fragment in PERSONAL:
        assert fragment not in text, (action, fragment, text)


def test_every_service_writes_one_entry_without_personal_data(
    clerk_a, consortium_a, founding_bylaws, add_member, monkeypatch, settings
):
    steps = []
    called = set()
    for name in services.__all__:
        original = getattr(services, name)

        def spy(*args, _name=name, _original=original, **kwargs):
            called.add(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(services, name, spy)

    def run(action, call):
        result, entries = entries_of(call)
        assert_one_clean_entry(entries, action)
        steps.append(action)
        return result

    consortium = run(
        "consortium.created",
        lambda: services.consortium_create(
            actor=clerk_a, slug="tsukuba", name_ja="つくば協議会", name_en="Tsukuba"
        ),
    )
    run(
        "consortium.updated",
        lambda: services.consortium_update(actor=clerk_a, consortium=consortium, vision="住民中心"),
    )
    founding = services.bylaw_version_create(
        actor=clerk_a, consortium=consortium, title_ja="規約", title_en="Bylaws"
    )
    services.bylaw_article_set(
        actor=clerk_a, version=founding, number=1, title_ja="名称", text_ja="本会は…"
    )
    run(
        "bylaw.established",
        lambda: services.bylaw_version_establish(
            actor=clerk_a, version=founding, adopted_on=FOUNDED, effective_on=FOUNDED
        ),
    )
    organization = run(
        "organization.registered",
        lambda: services.organization_register(
            actor=clerk_a,
            registered_by=consortium_a,
            kind="company",
            name_ja="会津電力",
            name_en="Aizu Power",
            corporate_number=corporate_number(),
        ),
    )
    run(
        "organization.updated",
        lambda: services.organization_update(
            actor=clerk_a, organization=organization, name_en="Aizu Energy"
        ),
    )
    representative = make_user("代表者", email="rep@example.jp")
    membership = run(
        "membership.admitted",
        lambda: services.membership_admit(
            actor=clerk_a,
            consortium=consortium_a,
            organization=organization,
            member_class="regular",
            joined_on=FOUNDED,
            representative=representative,
        ),
    )
    run(
        "membership.updated",
        lambda: services.membership_update(
            actor=clerk_a, membership=membership, member_class="regular", representative=None
        ),
    )
    run(
        "membership.terms_accepted",
        lambda: services.membership_terms_accept(
            actor=clerk_a,
            membership=membership,
            bylaw_version=founding_bylaws,
            confidentiality=True,
            ip_terms=True,
            accepted_on=FOUNDED,
        ),
    )
    chair = make_user("chair1")
    role = run(
        "role.assigned",
        lambda: services.role_assign(
            actor=clerk_a,
            consortium=consortium_a,
            kind=Role.Kind.CHAIR,
            user=chair,
            start_on=FOUNDED,
        ),
    )
    run(
        "role.updated",
        lambda: services.role_update(
            actor=clerk_a, role=role, start_on=FOUNDED + datetime.timedelta(days=1)
        ),
    )
    run("role.ended", lambda: services.role_end(actor=clerk_a, role=role, end_on=ASSEMBLY_DAY))
    run(
        "ethics_board.created",
        lambda: review_services.ethics_board_set(
            actor=clerk_a, consortium=consortium_a, name_ja="審査会", name_en="Board"
        ),
    )
    run(
        "ethics_board.updated",
        lambda: review_services.ethics_board_set(
            actor=clerk_a, consortium=consortium_a, name_ja="審査会", name_en="Board", quorum=4
        ),
    )
    draft = run(
        "bylaw.version_created",
        lambda: services.bylaw_version_create(
            actor=clerk_a,
            consortium=consortium_a,
            title_ja="改正案",
            title_en="Draft",
            based_on=founding_bylaws,
        ),
    )
    run(
        "bylaw.version_updated",
        lambda: services.bylaw_version_update(
            actor=clerk_a, version=draft, associates_may_vote=True
        ),
    )
    article = run(
        "bylaw.article_set",
        lambda: services.bylaw_article_set(
            actor=clerk_a, version=draft, number=9, title_ja="知的財産", text_ja="会津の山田が…"
        ),
    )
    run(
        "bylaw.article_deleted",
        lambda: services.bylaw_article_delete(actor=clerk_a, article=article),
    )
    assembly = run(
        "assembly.created",
        lambda: services.assembly_create(
            actor=clerk_a,
            consortium=consortium_a,
            title_ja="総会",
            held_on=ASSEMBLY_DAY,
            place="会津若松市役所",
        ),
    )
    run(
        "assembly.updated",
        lambda: services.assembly_update(actor=clerk_a, assembly=assembly, online=True),
    )
    other = add_member()
    run(
        "attendance.prepared", lambda: services.attendance_prepare(actor=clerk_a, assembly=assembly)
    )
    run(
        "attendance.recorded",
        lambda: services.attendance_record(
            actor=clerk_a,
            assembly=assembly,
            membership=membership,
            status="proxy",
            proxy_holder="議長 山田",
        ),
    )
    run(
        "attendance.recorded",
        lambda: services.attendance_record(
            actor=clerk_a, assembly=assembly, membership=other, status="present"
        ),
    )
    resolution = run(
        "resolution.proposed",
        lambda: services.resolution_propose(
            actor=clerk_a,
            assembly=assembly,
            kind="bylaw_amendment",
            title_ja="規約改正",
            text="会津の山田が提案",
            bylaw_version=draft,
            amendment_effective_on=ASSEMBLY_DAY,
        ),
    )
    run(
        "resolution.updated",
        lambda: services.resolution_update(
            actor=clerk_a, resolution=resolution, title_en="Amendment"
        ),
    )
    vote = run(
        "vote.cast",
        lambda: services.resolution_vote_cast(
            actor=clerk_a, resolution=resolution, membership=membership, choice="against"
        ),
    )
    run(
        "vote.changed",
        lambda: services.resolution_vote_change(actor=clerk_a, vote=vote, choice="for"),
    )
    run(
        "vote.cast",
        lambda: services.resolution_vote_cast(
            actor=clerk_a, resolution=resolution, membership=other, choice="for"
        ),
    )
    closed = run(
        "resolution.closed",
        lambda: services.resolution_close(actor=clerk_a, resolution=resolution, today=ASSEMBLY_DAY),
    )
    # Leaving and suspension dated ahead: their cut-off is a step of its own.
    ahead = datetime.date.today() + datetime.timedelta(days=30)
    run(
        "membership.left",
        lambda: services.membership_leave(actor=clerk_a, membership=other, left_on=ahead),
    )
    run(
        "membership.cut_off",
        lambda: services.membership_cut_off(actor=clerk_a, membership=other),
    )
    run(
        "membership.suspended",
        lambda: services.membership_suspend(
            actor=clerk_a, membership=membership, suspended_on=ahead
        ),
    )
    run("membership.cut_off", lambda: services.memberships_cut_off(today=ahead))
    run(
        "membership.reinstated",
        lambda: services.membership_reinstate(actor=clerk_a, membership=membership),
    )
    account = run(
        "account.invited",
        lambda: services.account_invite(
            actor=clerk_a,
            consortium=consortium_a,
            username="chair1-new",
            last_name="山田",
            first_name="太郎",
            email="yamada@example.jp",
            base_url="https://platform.example.jp/",
        ),
    )
    run(
        "account.invitation_resent",
        lambda: services.account_invitation_resend(
            actor=clerk_a, account=account, base_url="https://platform.example.jp/"
        ),
    )
    run(
        "account.activated",
        lambda: services.account_activate(user=account.user, password="a long passphrase 2026"),
    )
    run(
        "account.deactivated",
        lambda: services.account_deactivate(actor=clerk_a, account=account),
    )
    # A person's own second factor (the codes come from the device the service set up).
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = run(
        "second_factor.enrolment_started",
        lambda: services.second_factor_enrol_start(user=clerk_a),
    )
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    _device, codes = run(
        "second_factor.enrolled",
        lambda: services.second_factor_enrol_confirm(user=clerk_a, token=f"{totp.token():06d}"),
    )
    run(
        "second_factor.recovery_code_used",
        lambda: services.second_factor_verify(user=clerk_a, token=codes[0]),
    )
    run("second_factor.removed", lambda: services.second_factor_remove(user=clerk_a))
    assert not TOTPDevice.objects.filter(user=clerk_a).exists()
    # Passkeys: a software authenticator answers the options the browser would get.
    from governance import passkeys
    from tests.passkey_authenticator import ORIGIN, Authenticator

    settings.OTP_WEBAUTHN_RP_ID, settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = "localhost", [ORIGIN]
    phone = Authenticator()
    options, state = passkeys.registration_options(user=clerk_a)
    passkey, _codes = run(
        "second_factor.passkey_added",
        lambda: services.second_factor_passkey_add(
            user=clerk_a, state=state, response=phone.create(options)
        ),
    )
    options, state = passkeys.authentication_options(user=clerk_a)
    # Using a factor is not logged (as with an app's code); changing one is.
    _used, entries = entries_of(
        lambda: services.second_factor_passkey_verify(
            user=clerk_a, state=state, response=phone.get(options)
        )
    )
    assert entries == []
    run(
        "second_factor.passkey_removed",
        lambda: services.second_factor_passkey_remove(user=clerk_a, passkey_id=passkey.pk),
    )
    run("second_factor.reset", lambda: services.second_factor_reset(actor=clerk_a, account=account))

    assert closed.outcome == "carried"
    # The ethics review's services have their own test (tests/review/test_review_audit.py); the
    # board's set-up is run above, where the consortium is made.
    writes = {name for name in services.__all__ if not name.startswith("check_")}
    assert writes - called == set(), "a service without its audit assertion"
    entry = PendingEntry.objects.get(action="resolution.closed")
    assert entry.object_id == str(closed.pk)
    assert entry.consortium_id == consortium_a.pk
    assert len(steps) == 44

    # Every payload seals into the chain and verifies.
    pending = PendingEntry.objects.count()
    assert audit_services.seal() == pending
    assert Entry.objects.filter(action="resolution.closed", object_id=str(closed.pk)).exists()
    assert verify_chain().ok


def test_a_refused_change_writes_no_entry(clerk_a, consortium_a):
    before = PendingEntry.objects.count()
    with pytest.raises(Exception):  # noqa: B017 - the ValidationError itself is tested elsewhere
        services.organization_register(
            actor=clerk_a,
            registered_by=consortium_a,
            kind="company",
            name_ja="x",
            name_en="x",
            corporate_number="1234567890123",
        )
    assert PendingEntry.objects.count() == before
