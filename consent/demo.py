"""
Demo data of the consent app, loaded by ``manage.py seed_demo``; idempotent.

The demo consortium's purposes come from the kind of services a Japanese smart city runs
(walking-steps health points, on-demand mobility, BLE-tag watch-over, evacuation support), each
with its notice in Japanese and English. Demo residents have real histories: consent given,
withdrawn, given again under a new notice version, and one decision recorded on paper.
``residents=N`` tops the consortium up to N generated residents with random decisions, in bulk.
"""

import random
import uuid
from datetime import timedelta

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import reset_queries, transaction
from django.utils import timezone

from audit.services import Actor, EntrySpec, object_label, record_many
from config.progress import progress_bar
from governance import services as governance_services
from governance.demo import DEMO_SLUG as GOVERNANCE_DEMO_SLUG
from governance.validators import corporate_number_check_digit

from . import services
from .models import (
    ConsentRecord,
    ConsentState,
    DataCategory,
    Notice,
    Purpose,
    Relationship,
    Representation,
    Resident,
    ResidentProfile,
    new_pseudonymous_id,
)

# The governance demo makes the demo consortium (GOVERNANCE_DEMO_SLUG); this stand-in is made
# only when this app is seeded alone, so that it still works.
STANDALONE_CONSORTIUM_SLUG = "aizu-demo"
DEMO_RESIDENT_EMAIL = "resident@example.jp"
DEMO_RESIDENT_PASSWORD = "aizu-resident-2026"
DEMO_CLERK_USERNAME = "consent-clerk"
DEMO_CLERK_PASSWORD = "aizu-secretariat-2026"
BATCH = 5000

CATEGORIES = [
    # code, name ja, name en, sensitive
    ("walking-steps", "歩数", "Daily walking steps", False),
    ("health-checkup", "特定健診の結果", "Health check-up results", True),
    ("trip-history", "乗車・移動の履歴", "Ride and trip history", False),
    ("age-band", "年代", "Age band", False),
    (
        "ble-detections",
        "見守りタグの検知位置と時刻",
        "Watch-over tag detections (place and time)",
        False,
    ),
    ("household", "世帯構成", "Household members", False),
    ("care-needs", "要介護度・障がいの状況", "Care level and disabilities", True),
    ("home-area", "住所（町丁目まで）", "Home area (down to the block)", False),
]

# The governance demo's member organisations where it has them (found by name), registered
# here through governance's service otherwise.
ORGANIZATIONS = [
    # name ja, name en, kind, corporate number without its check digit ("" for a civic group)
    ("会津若松市", "Aizuwakamatsu City", "municipality", "000020072028"),
    ("会津ヘルスケア株式会社", "Aizu Healthcare Inc.", "company", "380001020004"),
    ("会津モビリティ株式会社", "Aizu Mobility Inc.", "company", "380001020001"),
    (
        "国立大学法人 会津先端科学大学",
        "Aizu Institute of Advanced Science (National University Corporation)",
        "university",
        "380005012345",
    ),
    (
        "特定非営利活動法人 会津まちづくりネット",
        "Aizu Community Design Network (NPO)",
        "npo",
        "380005030001",
    ),
    ("会津若松市社会福祉協議会", "Aizuwakamatsu Social Welfare Council", "civic_group", ""),
]

PURPOSES = [
    {
        "code": "walking-health-points",
        "title_ja": "歩いて貯まる健康ポイント",
        "title_en": "Health points for walking",
        "explanation_ja": (
            "スマートフォンの歩数に応じて、市内の店舗で使える健康ポイントを付与します。"
            "健診結果は、歩数と健康の関係を大学が匿名化して分析するためだけに使います。"
        ),
        "explanation_en": (
            "We give you health points, usable in shops in the city, for the steps your phone "
            "counts. Check-up results are used only for the university's anonymised study of "
            "how walking relates to health."
        ),
        "categories": ["walking-steps", "health-checkup"],
        "controller": "会津若松市",
        "recipients": ["会津ヘルスケア株式会社"],
        "retention_days": 1095,
        "consent_valid_days": None,
        # Version 2 adds the university as a recipient: residents are asked again.
        "recipients_v2": ["会津ヘルスケア株式会社", "国立大学法人 会津先端科学大学"],
    },
    {
        "code": "on-demand-mobility",
        "title_ja": "オンデマンド交通の運行計画",
        "title_en": "Planning on-demand buses",
        "explanation_ja": (
            "予約制の乗合バスの乗車履歴と年代から、走るルートと時間帯を決めます。"
            "個人を特定した広告には使いません。"
        ),
        "explanation_en": (
            "Your ride history and age band help decide the routes and hours of the "
            "on-demand shared buses. They are never used for personalised advertising."
        ),
        "categories": ["trip-history", "age-band"],
        "controller": "会津若松市",
        "recipients": ["会津モビリティ株式会社"],
        "retention_days": 730,
        "consent_valid_days": 365,
        # As the board approved the mobility company's request (review.demo).
        "processing": "pseudonymised",
    },
    {
        "code": "ble-watch-over",
        "title_ja": "見守りタグによる子どもと高齢者の見守り",
        "title_en": "Watch-over of children and older people with BLE tags",
        "explanation_ja": (
            "ランドセルやかばんに付けた見守りタグが、街角の受信機を通った場所と時刻を"
            "ご家族に知らせます。行方が分からないときは、ご家族の依頼で捜索に使います。"
        ),
        "explanation_en": (
            "A tag on a school bag or handbag tells the family where and when it passed a "
            "receiver in the street. When someone goes missing, the family can ask for the "
            "data to be used in the search."
        ),
        "categories": ["ble-detections", "household"],
        "controller": "会津若松市",
        "recipients": ["特定非営利活動法人 会津まちづくりネット"],
        "retention_days": 90,
        "consent_valid_days": None,
    },
    {
        "code": "evacuation-support",
        "title_ja": "災害時の避難支援",
        "title_en": "Help to evacuate in a disaster",
        "explanation_ja": (
            "大雨や地震のとき、ひとりで避難するのが難しい方の住所と必要な支援を、"
            "避難を手伝う社会福祉協議会に事前に伝えます（避難行動要支援者名簿）。"
        ),
        "explanation_en": (
            "For people who would find it hard to evacuate alone in heavy rain or an "
            "earthquake, we tell the social welfare council in advance where they live and "
            "what help they need, so that it can help them evacuate."
        ),
        "categories": ["home-area", "household", "care-needs"],
        "controller": "会津若松市",
        "recipients": ["会津若松市社会福祉協議会"],
        "retention_days": 1825,
        "consent_valid_days": None,
    },
]


def _write(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def demo_consortium():
    """
    Return the governance demo's consortium; when it has not been made (this app seeded
    alone), get or create a stand-in by the slug ``aizu-demo``.
    """
    consortium_model = apps.get_model("governance", "Consortium")
    consortium = consortium_model.objects.filter(slug=GOVERNANCE_DEMO_SLUG).first()
    if consortium is None:
        consortium, _ = consortium_model.objects.get_or_create(
            slug=STANDALONE_CONSORTIUM_SLUG,
            defaults={
                "name_ja": "会津若松スマートシティ推進協議会",
                "name_en": "Aizuwakamatsu Smart City Council",
                "area": "福島県会津若松市",
            },
        )
    if consortium.secretariat_group_id is None:
        consortium.secretariat_group, _ = Group.objects.get_or_create(
            name=f"secretariat: {consortium.slug}"
        )
        consortium.save(update_fields=["secretariat_group"])
    return consortium


def _organization(name_ja: str, consortium):
    organization_model = apps.get_model("governance", "Organization")
    found = organization_model.objects.filter(name_ja=name_ja).order_by("pk").first()
    if found:
        return found
    name_en, kind, base = next(row[1:] for row in ORGANIZATIONS if row[0] == name_ja)
    return governance_services.organization_register(
        actor=None,
        registered_by=consortium,
        kind=kind,
        name_ja=name_ja,
        name_en=name_en,
        corporate_number=f"{corporate_number_check_digit(base)}{base}" if base else "",
    )


def _clerk(consortium):
    """Return a secretariat clerk of the consortium (to record the paper decision)."""
    clerk = consortium.secretariat_group.user_set.filter(is_staff=True, is_active=True).first()
    if clerk:
        return clerk, False
    clerk = get_user_model().objects.filter(username=DEMO_CLERK_USERNAME).first()
    created = clerk is None
    if created:
        clerk = get_user_model().objects.create_user(
            username=DEMO_CLERK_USERNAME, password=DEMO_CLERK_PASSWORD, is_staff=True
        )
    clerk.groups.add(consortium.secretariat_group)
    return clerk, created


def seed_purposes(*, stdout=None) -> dict[str, Purpose]:
    """
    Create the demo's data categories and purposes, as drafts; idempotent. The data-ethics
    board approves them (``review.demo.seed_approvals``) before ``seed`` opens them.
    """
    return _seed_purposes(demo_consortium())


@transaction.atomic
def _seed_purposes(consortium) -> dict[str, Purpose]:
    categories = {}
    for code, name_ja, name_en, sensitive in CATEGORIES:
        category = DataCategory.objects.filter(code=code).first()
        if category is None:
            category = services.data_category_save(
                actor=None,
                category=DataCategory(
                    code=code, name_ja=name_ja, name_en=name_en, sensitive=sensitive
                ),
            )
        categories[code] = category
    purposes = {}
    for spec in PURPOSES:
        purpose = Purpose.objects.filter(consortium=consortium, code=spec["code"]).first()
        if purpose is None:
            purpose = services.purpose_save(
                actor=None,
                purpose=Purpose(
                    consortium=consortium,
                    controller=_organization(spec["controller"], consortium),
                    **{
                        key: spec[key]
                        for key in (
                            "code",
                            "title_ja",
                            "title_en",
                            "explanation_ja",
                            "explanation_en",
                            "retention_days",
                            "consent_valid_days",
                        )
                    },
                    processing=spec.get("processing", Purpose.Processing.NONE),
                ),
                categories=[categories[code] for code in spec["categories"]],
                recipients=[_organization(name, consortium) for name in spec["recipients"]],
            )
        purposes[spec["code"]] = purpose
    return purposes


def _open_purposes(purposes: dict[str, Purpose], stdout=None) -> bool:
    """Open the draft demo purposes; False when one waits for the board's approval."""
    opened = True
    for code, purpose in purposes.items():
        if purpose.status != Purpose.Status.DRAFT:
            continue
        try:
            purposes[code] = services.purpose_publish(actor=None, purpose=purpose)
        except ValidationError as error:
            _write(stdout, f"Consent: {code} stays a draft: {' '.join(error.messages)}\n")
            opened = False
    return opened


@transaction.atomic
def _seed_demo_residents(consortium, purposes: dict[str, Purpose], clerk) -> bool:
    """Create the named demo residents and their histories; False if they exist already."""
    user_model = get_user_model()
    if user_model.objects.filter(username=DEMO_RESIDENT_EMAIL).exists():
        return False
    now = timezone.now()
    health = purposes["walking-health-points"]
    mobility = purposes["on-demand-mobility"]
    watch = purposes["ble-watch-over"]
    evacuation = purposes["evacuation-support"]

    user = user_model.objects.create_user(
        username=DEMO_RESIDENT_EMAIL, email=DEMO_RESIDENT_EMAIL, password=DEMO_RESIDENT_PASSWORD
    )
    hanako = services.resident_register(
        actor=None,
        consortia=[consortium],
        user=user,
        full_name="会津 花子",
        contact_email=DEMO_RESIDENT_EMAIL,
    )
    me = Actor.resident(hanako.pseudonymous_id)
    services.consent_give(actor=me, resident=hanako, purpose=health, now=now - timedelta(days=60))
    services.consent_give(actor=me, resident=hanako, purpose=mobility, now=now - timedelta(days=50))
    services.consent_withdraw(
        actor=me, resident=hanako, purpose=mobility, now=now - timedelta(days=20)
    )
    services.consent_give(actor=me, resident=hanako, purpose=watch, now=now - timedelta(days=10))

    # The health-points purpose gains a recipient: notice version 2; Hanako agrees again.
    spec = PURPOSES[0]
    services.purpose_save(
        actor=clerk,
        purpose=health,
        categories=list(health.categories.all()),
        recipients=[_organization(name, consortium) for name in spec["recipients_v2"]],
    )
    health.refresh_from_db()
    services.consent_give(actor=me, resident=hanako, purpose=health, now=now - timedelta(days=5))

    # An older resident without a smartphone, registered and recorded at the counter.
    matsu = services.resident_register(
        actor=clerk,
        consortia=[consortium],
        full_name="会津 松",
        phone="0242-00-0000",
    )
    services.consent_record_paper(
        actor=clerk,
        resident=matsu,
        purpose=evacuation,
        decision=ConsentRecord.Decision.GIVEN,
        paper_reference="AIZU-2026-0001",
    )
    services.consent_record_paper(
        actor=clerk,
        resident=matsu,
        purpose=watch,
        decision=ConsentRecord.Decision.WITHDRAWN,
        paper_reference="AIZU-2026-0002",
    )
    # Matsu comes back and, with a clerk's help at the counter, joins the walking points.
    services.consent_record_counter(
        actor=clerk, resident=matsu, purpose=health, decision=ConsentRecord.Decision.GIVEN
    )

    # Hanako's daughter (10), registered at the counter without an account: Hanako, her
    # parent, decides for her until she turns 18, and agrees to the watch-over tags for her.
    sakura = services.resident_register(
        actor=clerk, consortia=[consortium], full_name="会津 さくら"
    )
    today = timezone.localdate()
    birth = today - timedelta(days=10 * 365 + 100)
    representation = services.representation_register(
        actor=clerk,
        consortium=consortium,
        representative=hanako,
        represented=sakura,
        relationship=Relationship.PARENT,
        evidence_kind=Representation.EvidenceKind.FAMILY_REGISTER,
        evidence_checked_on=today - timedelta(days=30),
        valid_from=today - timedelta(days=30),
        comes_of_age_on=services.coming_of_age(birth),
    )
    services.consent_decide_for(actor=me, representation=representation, purpose=watch, agree=True)
    return True


def seed(*, residents: int = 0, stdout=None) -> None:
    """Create this app's part of the demo consortium; top it up to ``residents`` generated ones."""
    consortium = demo_consortium()
    purposes = _seed_purposes(consortium)
    if not _open_purposes(purposes, stdout):
        _write(stdout, "Consent: no demo residents until the board approves the purposes.\n")
        return
    clerk, clerk_created = _clerk(consortium)
    if _seed_demo_residents(consortium, purposes, clerk):
        _write(stdout, "Consent: demo purposes and residents created.\n")
    _write(
        stdout,
        f"  Resident portal: /portal/  sign in as {DEMO_RESIDENT_EMAIL} "
        f"/ {DEMO_RESIDENT_PASSWORD}\n",
    )
    if clerk_created or clerk.username == DEMO_CLERK_USERNAME:
        _write(
            stdout,
            f"  Consent secretariat (admin): {DEMO_CLERK_USERNAME} / {DEMO_CLERK_PASSWORD}\n",
        )
    if residents:
        added = seed_residents(consortium=consortium, target=residents, stdout=stdout)
        _write(stdout, f"  Generated residents: {added} added (target {residents}).\n")


# --- Bulk ------------------------------------------------------------------------------------


def generated_count(consortium) -> int:
    """Count the generated residents: those without personal details (named ones have them)."""
    return (
        Resident.objects.filter(consortia=consortium, erased_at__isnull=True)
        .exclude(pk__in=ResidentProfile.objects.values("resident_id"))
        .count()
    )


def seed_residents(*, consortium, target: int, stdout=None, seed_value: int | None = None) -> int:
    """
    Add generated residents until the consortium has ``target`` of them, each with random
    decisions on its open purposes; return how many were added.

    Bulk inserts in batches of 5,000 with their audit entries (``record_many``), one
    transaction per batch, so that an interrupted run keeps what it committed and a new run
    goes on from there.
    """
    missing = target - generated_count(consortium)
    if missing <= 0:
        return 0
    rng = random.Random(seed_value)
    purposes = list(
        Purpose.objects.filter(consortium=consortium, status=Purpose.Status.OPEN).order_by("pk")
    )
    notices = {
        purpose.pk: list(Notice.objects.filter(purpose=purpose).order_by("version"))
        for purpose in purposes
    }
    bar = progress_bar(total=missing, desc="residents", unit="residents")
    added = 0
    try:
        while added < missing:
            size = min(BATCH, missing - added)
            _seed_batch(consortium, purposes, notices, size, rng)
            # With DEBUG on (make run), Django keeps the SQL of the last 9,000 queries, and a
            # bulk insert's SQL is large: forget it, so memory stays flat over a million.
            reset_queries()
            added += size
            bar.update(size)
    finally:
        bar.close()
    return added


@transaction.atomic
def _seed_batch(consortium, purposes, notices, size: int, rng: random.Random) -> None:
    now = timezone.now()
    through = Resident.consortia.through
    new = []
    for _ in range(size):
        registered = now - timedelta(days=rng.randint(30, 400), seconds=rng.randint(0, 86400))
        new.append(
            Resident(pseudonymous_id=new_pseudonymous_id(), language="ja", registered_at=registered)
        )
    Resident.objects.bulk_create(new, batch_size=BATCH)
    through.objects.bulk_create(
        [through(resident_id=r.pk, consortium_id=consortium.pk) for r in new], batch_size=BATCH
    )
    records = []
    for resident in new:
        for purpose in purposes:
            records.extend(_random_history(resident, purpose, notices[purpose.pk], now, rng))
    ConsentRecord.objects.bulk_create(records, batch_size=BATCH)
    latest = {}  # each history is in order, so the last record of a pair is its state
    for consent in records:
        latest[consent.resident_id, consent.purpose_id] = consent
    ConsentState.objects.bulk_create(
        [
            ConsentState(
                purpose_id=consent.purpose_id,
                resident_id=consent.resident_id,
                record_id=consent.pk,
                decision=consent.decision,
                notice_id=consent.notice_id,
                expires_at=consent.expires_at,
            )
            for consent in latest.values()
        ],
        batch_size=BATCH,
    )
    label = Resident._meta.label_lower
    specs = [
        EntrySpec(
            action="resident.registered",
            actor=Actor.resident(r.pk),
            object_type=label,
            object_id=r.pk,
            consortium_id=consortium.pk,
            payload={"resident": r.pk, "with_account": False, "language": "ja"},
        )
        for r in new
    ]
    notice_by_id = {n.pk: n for versions in notices.values() for n in versions}
    for consent in records:
        object_type, object_id = object_label(consent)
        specs.append(
            EntrySpec(
                action=f"consent.{consent.decision}",
                actor=Actor.resident(consent.resident_id),
                object_type=object_type,
                object_id=object_id,
                consortium_id=consortium.pk,
                payload=services.decision_payload(consent, notice_by_id[consent.notice_id]),
            )
        )
    record_many(specs)


def _random_history(resident, purpose, versions, now, rng: random.Random) -> list[ConsentRecord]:
    """Return a plausible random history of one resident on one purpose (often empty)."""
    roll = rng.random()
    if roll < 0.40:
        return []  # never decided: no consent
    start = resident.registered_at + timedelta(days=rng.randint(0, 20))
    current = versions[-1]
    old = versions[0]

    def decision(decision, notice, when):
        expires = None
        if decision == ConsentRecord.Decision.GIVEN and purpose.consent_valid_days:
            expires = when + timedelta(days=purpose.consent_valid_days)
        return ConsentRecord(
            receipt_id=uuid.uuid4(),
            resident_id=resident.pk,
            purpose_id=purpose.pk,
            notice_id=notice.pk,
            decision=decision,
            decided_at=min(when, now),
            method=ConsentRecord.Method.PORTAL,
            expires_at=expires,
        )

    given, withdrawn = ConsentRecord.Decision.GIVEN, ConsentRecord.Decision.WITHDRAWN
    if roll < 0.75:
        return [decision(given, current, start)]
    if roll < 0.85:
        return [decision(withdrawn, current, start)]
    if roll < 0.93:
        later = start + timedelta(days=rng.randint(1, 20))
        return [decision(given, current, start), decision(withdrawn, current, later)]
    # Agreed under the first notice; a later version asks again (or agreed again to it).
    records = [decision(given, old, start)]
    if current.pk != old.pk and rng.random() < 0.5:
        records.append(decision(given, current, start + timedelta(days=rng.randint(1, 20))))
    return records
