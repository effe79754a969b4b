"""
Demo data of the governance app, loaded by ``manage.py seed_demo``; idempotent.

A smart-city consortium of the kind Japanese cities run (会津若松市's is the model): the city,
a national university, companies for mobility, energy, telecom, retail and health care, a civic
tech group and an observer; founding bylaws and an amendment adopted by the 2025 general
assembly, where other resolutions were carried and one rejected; an ethics board of a security
expert, a lawyer, a data-ethics expert and a resident representative (the board itself, and its
review, are the review app's demo). Organisations other than
the city are fictitious. Everything is made through the services, so the audit log records it.
"""

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction

from . import services
from .models import Consortium, Role
from .validators import corporate_number_check_digit

DEMO_SLUG = "aizu-wakamatsu"
DEMO_PASSWORD = "demo-password-2026"
ESTABLISHED = datetime.date(2024, 4, 1)
ASSEMBLY_2025 = datetime.date(2025, 6, 14)
AMENDMENT_EFFECTIVE = datetime.date(2025, 7, 1)
ASSEMBLY_2027 = datetime.date(2027, 6, 12)


def _number(base: str) -> str:
    return f"{corporate_number_check_digit(base)}{base}"


# key: (kind, name_ja, name_en, corporate number base (12 digits) or "", class)
ORGANIZATIONS = {
    "city": ("municipality", "会津若松市", "Aizuwakamatsu City", "000020072028", "regular"),
    "university": (
        "university",
        "国立大学法人 会津先端科学大学",
        "Aizu Institute of Advanced Science (National University Corporation)",
        "380005012345",
        "regular",
    ),
    "mobility": (
        "company",
        "会津モビリティ株式会社",
        "Aizu Mobility Inc.",
        "380001020001",
        "regular",
    ),
    "energy": (
        "company",
        "磐梯エナジー株式会社",
        "Bandai Energy Co., Ltd.",
        "380001020002",
        "regular",
    ),
    "telecom": (
        "company",
        "鶴ヶ城テレコム株式会社",
        "Tsurugajo Telecom Inc.",
        "380001020003",
        "regular",
    ),
    "health": (
        "company",
        "会津ヘルスケア株式会社",
        "Aizu Healthcare Inc.",
        "380001020004",
        "regular",
    ),
    "retail": (
        "company",
        "会津まちなかリテール株式会社",
        "Aizu Machinaka Retail Co., Ltd.",
        "380001020005",
        "associate",
    ),
    "civic": ("civic_group", "シビックテック会津", "Civic Tech Aizu", "", "regular"),
    "npo": (
        "npo",
        "特定非営利活動法人 会津まちづくりネット",
        "Aizu Community Design Network (NPO)",
        "380005030001",
        "observer",
    ),
    # Receives the evacuation-support register (consent demo): a member, as every recipient
    # the data-ethics board approves is.
    "welfare": (
        "civic_group",
        "会津若松市社会福祉協議会",
        "Aizuwakamatsu Social Welfare Council",
        "",
        "observer",
    ),
}
# Admitted by the 2025 assembly after the founding.
NEWCOMER = (
    "company",
    "猪苗代データラボ株式会社",
    "Inawashiro Data Lab Inc.",
    "380001020006",
    "associate",
)

# username: (last name, first name, staff, superuser)
USERS = {
    "platform-admin": ("管理者", "プラットフォーム", True, True),
    "aizu-secretariat": ("事務局", "会津", True, False),
    "aizu-chair": ("会津", "一郎", False, False),
    "aizu-vice-chair": ("鶴城", "恵子", False, False),
    "aizu-rep-mobility": ("山田", "太郎", False, False),
    "ethics-security": ("佐藤", "健", False, False),
    "ethics-legal": ("高橋", "由美", False, False),
    "ethics-data": ("伊藤", "誠", False, False),
    "ethics-resident": ("渡辺", "花子", False, False),
}

# (number, title_ja, title_en, text_ja, text_en)
ARTICLES = [
    (
        1,
        "名称",
        "Name",
        "本会は、会津若松スマートシティ推進協議会（以下「本会」という。）と称する。",
        "This body is called the Aizuwakamatsu Smart City Council (the Council).",
    ),
    (
        2,
        "目的",
        "Purpose",
        "本会は、市民、企業、大学及び行政が連携し、データとデジタル技術を活用して、"
        "市民生活の質の向上と地域産業の振興を図ることを目的とする。",
        "The Council brings residents, companies, universities and the city together to use data "
        "and digital technology to improve residents' lives and promote local industry.",
    ),
    (
        3,
        "事業",
        "Business",
        "本会は、前条の目的を達成するため、次の事業を行う。\n"
        "一 都市OS（データ連携基盤）の運営\n二 市民向けデジタルサービスの実証及び提供\n"
        "三 データ利活用に関する調査研究\n四 その他目的を達成するために必要な事業",
        "To that end the Council: 1. runs the city's data platform; 2. trials and provides "
        "digital services for residents; 3. studies the use of data; 4. does what else the "
        "purpose requires.",
    ),
    (
        4,
        "会員",
        "Members",
        "本会の会員は、次のとおりとする。\n一 正会員　本会の目的に賛同し、事業に参画する団体\n"
        "二 賛助会員　本会の事業を賛助する団体\n三 オブザーバー　総会の承認なく参加できる団体"
        "（議決権を有しない）",
        "Members are: 1. regular members, organisations that take part in the business; "
        "2. associate members, organisations that support it; 3. observers, who join without a "
        "resolution and do not vote.",
    ),
    (
        5,
        "入会及び退会",
        "Admission and leaving",
        "正会員又は賛助会員として入会しようとする団体は、入会申込書を提出し、総会の承認を得なければ"
        "ならない。会員は、退会届を提出して任意に退会することができる。",
        "An organisation that wishes to become a regular or associate member applies in writing "
        "and needs the general assembly's approval. A member may leave by written notice.",
    ),
    (
        6,
        "役員",
        "Officers",
        "本会に、会長1名、副会長若干名を置く。役員は総会において正会員の代表者の中から選任し、"
        "任期は2年とする。会長は本会を代表し、会務を総理する。",
        "The Council has one chair and one or more vice-chairs, elected by the general assembly "
        "from the representatives of regular members for two years. The chair represents the "
        "Council.",
    ),
    (
        7,
        "総会",
        "General assembly",
        "定時総会は毎年1回開催し、臨時総会は会長が必要と認めるときに開催する。総会は、"
        "正会員の2分の1以上の出席（委任状による出席を含む。）がなければ開くことができない。"
        "オンラインによる出席は、出席とみなす。",
        "The ordinary general assembly meets once a year; the chair may call an extraordinary "
        "one. It needs at least half of the regular members present, proxies included. "
        "Attending online counts as present.",
    ),
    (
        8,
        "総会の議決事項",
        "Matters for the general assembly",
        "次の事項は、総会の議決を経なければならない。\n一 事業計画及び収支予算\n"
        "二 事業報告及び収支決算\n三 規約の変更\n四 会員の入会\n五 役員の選任\n六 解散",
        "The general assembly decides: 1. the business plan and budget; 2. the business report "
        "and settlement of accounts; 3. changes to these bylaws; 4. admission of members; "
        "5. election of officers; 6. dissolution.",
    ),
    (
        9,
        "議決",
        "Voting",
        "総会の議事は、出席した正会員の議決権の過半数で決する（棄権は算入しない）。ただし、"
        "規約の変更及び解散は、出席した正会員の議決権の3分の2以上の賛成を要する。"
        "正会員は各1個の議決権を有する。",
        "The assembly decides by a majority of the votes cast by the regular members present "
        "(abstentions not counted); changing these bylaws and dissolution need two thirds. "
        "Each regular member has one vote.",
    ),
    (
        10,
        "データ倫理審査会",
        "Data-ethics board",
        "本会に、データ利活用の適正を審査するため、セキュリティ、法律及びデータ倫理の有識者並びに"
        "市民代表からなるデータ倫理審査会を置く。",
        "The Council has a data-ethics board of security, legal and data-ethics experts and a "
        "resident representative, which reviews every use of data.",
    ),
    (
        11,
        "秘密保持",
        "Confidentiality",
        "会員は、本会の活動を通じて知り得た他の会員及び市民の秘密情報を、本会の目的以外に使用し、"
        "又は第三者に開示してはならない。退会後も同様とする。",
        "Members keep confidential what they learn of other members and residents through the "
        "Council, use it only for the Council's purpose, and do so after leaving too.",
    ),
    (
        12,
        "知的財産",
        "Intellectual property",
        "本会の事業により生じた知的財産権の帰属及び利用条件は、当該事業に参加した会員間の協議に"
        "より定める。会員が本会に持ち込んだ知的財産権は、当該会員に帰属する。",
        "Intellectual property arising from the Council's business belongs as agreed among the "
        "members who took part; what a member brings in remains its own.",
    ),
    (
        13,
        "事務局",
        "Secretariat",
        "本会の事務を処理するため、会津若松市に事務局を置く。",
        "The secretariat sits with Aizuwakamatsu City.",
    ),
]

# The 2025 amendment: opt-in consent written into the purpose, and a new article on personal data.
AMENDED_ARTICLES = [
    (
        2,
        "目的",
        "Purpose",
        "本会は、市民、企業、大学及び行政が連携し、市民本人の同意（オプトイン）に基づいて"
        "データとデジタル技術を活用し、市民生活の質の向上と地域産業の振興を図ることを目的とする。",
        "The Council brings residents, companies, universities and the city together to use data, "
        "with each resident's opt-in consent, and digital technology to improve residents' lives "
        "and promote local industry.",
    ),
    (
        14,
        "個人データの取扱い",
        "Personal data",
        "会員は、市民の個人データを、本人が同意した目的の範囲内でのみ取り扱い、"
        "データ倫理審査会の承認を得た利用に限り提供を受けることができる。",
        "Members handle residents' personal data only for the purposes each resident agreed to, "
        "and receive it only for uses the data-ethics board has approved.",
    ),
]


# The demo parts of apps that seed_demo's own app may not import (participation), registered in
# their ``AppConfig.ready()``: seed_demo runs them last, in the order registered.
_later_parts: list = []


def register_part(seed) -> None:
    """Have ``seed_demo`` call ``seed(stdout=...)`` after the apps it seeds itself."""
    if seed not in _later_parts:
        _later_parts.append(seed)


def later_parts() -> list:
    """Return the demo parts registered with ``register_part``."""
    return list(_later_parts)


def _write(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def demo_users() -> dict:
    User = get_user_model()
    users = {}
    for username, (last, first, staff, superuser) in USERS.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username=username,
                password=DEMO_PASSWORD,
                last_name=last,
                first_name=first,
                is_staff=staff,
                is_superuser=superuser,
            )
        users[username] = user
    return users


def demo_consortium() -> Consortium | None:
    """Return the demo consortium, or None before ``seed`` has run."""
    return Consortium.objects.filter(slug=DEMO_SLUG).first()


@transaction.atomic
def _build(users: dict) -> Consortium:
    clerk = users["aizu-secretariat"]
    consortium = services.consortium_create(
        actor=None,
        slug=DEMO_SLUG,
        name_ja="会津若松スマートシティ推進協議会",
        name_en="Aizuwakamatsu Smart City Council",
        area="福島県会津若松市",
        vision="市民一人ひとりが同意に基づいてデータを託し、誰一人取り残さない、"
        "安心・快適に暮らせるまちをつくる。",
        established_on=ESTABLISHED,
    )
    clerk.groups.add(consortium.secretariat_group)

    founding = services.bylaw_version_create(
        actor=clerk,
        consortium=consortium,
        title_ja="会津若松スマートシティ推進協議会規約",
        title_en="Bylaws of the Aizuwakamatsu Smart City Council",
    )
    for number, title_ja, title_en, text_ja, text_en in ARTICLES:
        services.bylaw_article_set(
            actor=clerk,
            version=founding,
            number=number,
            title_ja=title_ja,
            title_en=title_en,
            text_ja=text_ja,
            text_en=text_en,
        )
    founding = services.bylaw_version_establish(
        actor=clerk, version=founding, adopted_on=ESTABLISHED, effective_on=ESTABLISHED
    )

    members = {}
    for key, (kind, name_ja, name_en, base, member_class) in ORGANIZATIONS.items():
        organization = services.organization_register(
            actor=clerk,
            registered_by=consortium,
            kind=kind,
            name_ja=name_ja,
            name_en=name_en,
            corporate_number=_number(base) if base else "",
        )
        members[key] = services.membership_admit(
            actor=clerk,
            consortium=consortium,
            organization=organization,
            member_class=member_class,
            joined_on=ESTABLISHED,
            accepted_bylaw_version=founding,
            accepted_confidentiality=True,
            accepted_ip_terms=True,
            terms_accepted_on=ESTABLISHED,
        )
    services.membership_update(
        actor=clerk, membership=members["mobility"], representative=users["aizu-rep-mobility"]
    )
    services.membership_update(
        actor=clerk, membership=members["city"], representative=users["aizu-chair"]
    )
    services.membership_update(
        actor=clerk, membership=members["university"], representative=users["aizu-vice-chair"]
    )

    def role(kind, user, organization=None, expertise=""):
        services.role_assign(
            actor=clerk,
            consortium=consortium,
            kind=kind,
            user=users[user],
            organization=members[organization].organization if organization else None,
            expertise=expertise,
            start_on=ESTABLISHED,
        )

    role(Role.Kind.CHAIR, "aizu-chair", "city")
    role(Role.Kind.VICE_CHAIR, "aizu-vice-chair", "university")
    role(Role.Kind.SECRETARIAT, "aizu-secretariat", "city")
    role(Role.Kind.REPRESENTATIVE, "aizu-rep-mobility", "mobility")
    role(Role.Kind.ETHICS_BOARD_MEMBER, "ethics-security", expertise=Role.Expertise.SECURITY)
    role(Role.Kind.ETHICS_BOARD_MEMBER, "ethics-legal", expertise=Role.Expertise.LEGAL)
    role(Role.Kind.ETHICS_BOARD_MEMBER, "ethics-data", expertise=Role.Expertise.DATA_ETHICS)
    role(
        Role.Kind.ETHICS_BOARD_MEMBER,
        "ethics-resident",
        expertise=Role.Expertise.RESIDENT_REPRESENTATIVE,
    )

    # The draft amendment the 2025 assembly adopts.
    amendment = services.bylaw_version_create(
        actor=clerk,
        consortium=consortium,
        title_ja="会津若松スマートシティ推進協議会規約（2025年改正）",
        title_en="Bylaws of the Aizuwakamatsu Smart City Council (2025 amendment)",
        based_on=founding,
    )
    for number, title_ja, title_en, text_ja, text_en in AMENDED_ARTICLES:
        services.bylaw_article_set(
            actor=clerk,
            version=amendment,
            number=number,
            title_ja=title_ja,
            title_en=title_en,
            text_ja=text_ja,
            text_en=text_en,
        )

    assembly = services.assembly_create(
        actor=clerk,
        consortium=consortium,
        title_ja="令和7年度 定時総会",
        title_en="Ordinary General Assembly 2025",
        held_on=ASSEMBLY_2025,
        place="会津若松市役所 本庁舎 大会議室",
        online=True,
        agenda="第1号議案 令和6年度事業報告及び収支決算\n第2号議案 令和7年度事業計画\n"
        "第3号議案 令和7年度収支予算\n第4号議案 規約の改正\n第5号議案 会員の入会承認\n"
        "第6号議案 会費の改定",
    )
    attendance = {
        "city": "present",
        "university": "present",
        "mobility": "present",
        "energy": "proxy",
        "telecom": "present",
        "health": "absent",
        "civic": "present",
        "retail": "present",
        "npo": "present",
    }
    for key, status in attendance.items():
        services.attendance_record(
            actor=clerk,
            assembly=assembly,
            membership=members[key],
            status=status,
            proxy_holder="議長（会長）" if status == "proxy" else "",
        )

    voters = ["city", "university", "mobility", "energy", "telecom", "civic"]
    agenda = [
        (
            "settlement",
            "令和6年度事業報告及び収支決算の承認",
            "2024 report and accounts",
            {},
            "FFFFFF",
        ),
        ("business_plan", "令和7年度事業計画の承認", "2025 business plan", {}, "FFFFFA"),
        ("budget", "令和7年度収支予算の承認", "2025 budget", {}, "FFFFAX"),
        (
            "bylaw_amendment",
            "規約の一部改正（オプトイン同意の明記及び個人データの取扱い）",
            "Amendment: opt-in consent and personal data",
            {"bylaw_version": amendment, "amendment_effective_on": AMENDMENT_EFFECTIVE},
            "FFFFFX",
        ),
        (
            "admission",
            "猪苗代データラボ株式会社の入会承認",
            "Admission of Inawashiro Data Lab",
            {},
            "FFFFFF",
        ),
        (
            "other",
            "年会費の改定（正会員 10万円から20万円へ）",
            "Raising the annual fee",
            {},
            "FXXXAF",
        ),
    ]
    choices = {"F": "for", "X": "against", "A": "abstain"}
    resolutions = []
    for kind, title_ja, title_en, extra, votes in agenda:
        resolution = services.resolution_propose(
            actor=clerk,
            assembly=assembly,
            kind=kind,
            title_ja=title_ja,
            title_en=title_en,
            **extra,
        )
        for key, letter in zip(voters, votes, strict=True):
            services.resolution_vote_cast(
                actor=clerk,
                resolution=resolution,
                membership=members[key],
                choice=choices[letter],
            )
        resolutions.append(
            services.resolution_close(actor=clerk, resolution=resolution, today=ASSEMBLY_2025)
        )

    kind, name_ja, name_en, base, member_class = NEWCOMER
    newcomer = services.organization_register(
        actor=clerk,
        registered_by=consortium,
        kind=kind,
        name_ja=name_ja,
        name_en=name_en,
        corporate_number=_number(base),
    )
    services.membership_admit(
        actor=clerk,
        consortium=consortium,
        organization=newcomer,
        member_class=member_class,
        joined_on=AMENDMENT_EFFECTIVE,
        admission_resolution=resolutions[4],
        accepted_bylaw_version=resolutions[3].adopted_version,
        accepted_confidentiality=True,
        accepted_ip_terms=True,
        terms_accepted_on=AMENDMENT_EFFECTIVE,
    )

    # The next assembly, convened with its agenda, for the secretariat to run.
    upcoming = services.assembly_create(
        actor=clerk,
        consortium=consortium,
        title_ja="令和9年度 定時総会",
        title_en="Ordinary General Assembly 2027",
        held_on=ASSEMBLY_2027,
        place="會津稽古堂 多目的ホール",
        agenda="第1号議案 令和8年度事業報告及び収支決算\n第2号議案 令和9年度事業計画及び収支予算",
    )
    services.resolution_propose(
        actor=clerk,
        assembly=upcoming,
        kind="settlement",
        title_ja="令和8年度事業報告及び収支決算の承認",
        title_en="2026 report and accounts",
    )
    services.resolution_propose(
        actor=clerk,
        assembly=upcoming,
        kind="business_plan",
        title_ja="令和9年度事業計画及び収支予算の承認",
        title_en="2027 plan and budget",
    )
    return consortium


def seed(*, residents: int = 0, stdout=None) -> None:
    """Create the demo consortium once, and print the demo logins."""
    users = demo_users()
    if demo_consortium() is None:
        consortium = _build(users)
        _write(stdout, f"Governance: created the demo consortium {consortium.name_ja}.\n")
    else:
        _write(stdout, "Governance: the demo consortium already exists; nothing changed.\n")
    _write(stdout, f"Demo logins (password: {DEMO_PASSWORD}), admin at /admin/:\n")
    roles = {
        "platform-admin": "platform administrator (superuser)",
        "aizu-secretariat": "secretariat clerk (事務局) — the admin for this consortium",
        "aizu-chair": "chair (会長), representative of 会津若松市",
        "aizu-vice-chair": "vice-chair (副会長), representative of the university",
        "aizu-rep-mobility": "representative of 会津モビリティ株式会社",
        "ethics-security": "ethics board: security expert",
        "ethics-legal": "ethics board: lawyer",
        "ethics-data": "ethics board: data-ethics expert",
        "ethics-resident": "ethics board: resident representative",
    }
    for username, description in roles.items():
        _write(stdout, f"  {username:<20} {description}\n")
    _write(
        stdout,
        "platform-admin confirms each sign-in with a second factor: at the first sign-in, add\n"
        "a passkey (open the site at http://localhost:8000: a passkey cannot use 127.0.0.1) or\n"
        "scan the QR code the admin shows with an authenticator app, and keep the recovery\n"
        "codes (STAFF_SECOND_FACTOR=0 turns it off on a development machine). The consortium's\n"
        "people sign in with the password alone until its secretariat requires a second factor.\n"
        "Residents may add a passkey in the portal's My account and sign in with it.\n",
    )
