"""
Demo data of the review app, loaded by ``manage.py seed_demo``; idempotent.

The demo consortium's data-ethics board (its members' seats are governance's roles) and the
approvals that let the consent demo's purposes open (``seed_approvals``, run before the purposes
open: the mobility company's request for the on-demand mobility purpose, approved with
conditions for one year, and the city's requests for the other purposes), then a second request
still in review (``seed``). Everything is made through the services, so the audit log
records it.
"""

from django.db import transaction

from governance.demo import ORGANIZATIONS, demo_consortium, demo_users
from governance.models import Organization

from . import services
from .models import EthicsBoard, ReviewTicket


def _write(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def _seed_board(consortium, users: dict) -> None:
    """Set up the demo consortium's data-ethics board once."""
    if EthicsBoard.objects.filter(consortium=consortium).exists():
        return
    services.ethics_board_set(
        actor=users["aizu-secretariat"],
        consortium=consortium,
        name_ja="会津若松データ倫理審査会",
        name_en="Aizuwakamatsu Data Ethics Board",
        quorum=3,
    )


REVIEW_APPROVED_TITLE = "オンデマンド交通の運行計画のための乗車履歴の利用"
REVIEW_IN_REVIEW_TITLE = "乗降データによる需要予測モデルの開発"
REVIEW_PIA = [
    {
        "risk": "乗車履歴から個人の生活パターンが推測される",
        "likelihood": "medium",
        "impact": "high",
        "mitigation": "利用者IDを仮名化し、分析は250m四方・1時間単位に集計してから行う",
    },
    {
        "risk": "委託先での目的外利用",
        "likelihood": "low",
        "impact": "high",
        "mitigation": "委託契約で目的外利用を禁止し、アクセスログを四半期ごとに監査する",
    },
    {
        "risk": "保存期間を過ぎたデータの残存",
        "likelihood": "low",
        "impact": "medium",
        "mitigation": "保存期間の満了日に自動消去し、消去記録を事務局に提出する",
    },
]


# The approvals the city, the purposes' controller, asked for, one per demo purpose other than
# on-demand mobility (the mobility company's request below): {purpose code: (title, changes)}.
CITY_APPROVALS = {
    "walking-health-points": (
        "歩いて貯まる健康ポイントのための歩数と健診結果の利用",
        # The university joins as a recipient in the notice's second version: approved at once.
        {"extra_recipients": ["国立大学法人 会津先端科学大学"]},
    ),
    "ble-watch-over": ("見守りタグの検知記録による見守り", {}),
    "evacuation-support": ("避難行動要支援者名簿の社会福祉協議会への提供", {}),
}


def seed_approvals(*, stdout=None) -> None:
    """
    Set up the board and approve the demo's purposes before they open (a purpose opens only
    under an approval in force that covers it): the consent demo's purposes are made as drafts
    first, then one approved request covers each. Idempotent.
    """
    from consent import demo as consent_demo

    consortium = demo_consortium()
    if consortium is None:
        _write(stdout, "Review: no demo consortium yet (seed governance first).\n")
        return
    users = demo_users()
    _seed_board(consortium, users)
    purposes = consent_demo.seed_purposes(stdout=stdout)
    mobility = Organization.objects.get(
        memberships__consortium=consortium, name_ja=ORGANIZATIONS["mobility"][1]
    )
    made = 0
    if not ReviewTicket.objects.filter(consortium=consortium, title=REVIEW_APPROVED_TITLE).exists():
        _seed_mobility_approval(consortium, purposes["on-demand-mobility"], mobility, users)
        made += 1
    city = Organization.objects.get(
        memberships__consortium=consortium, name_ja=ORGANIZATIONS["city"][1]
    )
    for code, (title, changes) in CITY_APPROVALS.items():
        if ReviewTicket.objects.filter(consortium=consortium, title=title).exists():
            continue
        _seed_city_approval(consortium, purposes[code], city, users, title, **changes)
        made += 1
    if made:
        _write(stdout, f"Review: {made} approved requests cover the demo purposes.\n")


def _common(purpose, requester) -> dict:
    """A complete request for ``purpose`` as it stands, by ``requester``."""
    return dict(
        consortium=purpose.consortium,
        requester=requester,
        categories=list(purpose.categories.all()),
        recipients=list(purpose.recipients.all()),
        third_party_provision=purpose.recipients.exists(),
        retention_days=purpose.retention_days,
        deletion_method="保存期間の満了日に自動消去し、消去記録を事務局に提出する。",
        security_measures=(
            "国内データセンターで暗号化して保管。アクセスは担当者に限定し、"
            "多要素認証とアクセスログの監査を行う。"
        ),
        anonymisation=purpose.processing,
        anonymisation_details=(
            "" if purpose.processing == "none" else "利用者IDを仮名IDに置き換える。"
        ),
        pia=REVIEW_PIA,
    )


def _approve(ticket, users, *, obligations=None) -> None:
    """Take ``ticket`` through the board: three experts assigned, declared, and approving."""
    clerk = users["aizu-secretariat"]
    experts = [users["ethics-security"], users["ethics-legal"], users["ethics-data"]]
    services.ticket_submit(actor=ticket.filed_by, ticket=ticket)
    for reviewer in experts:
        services.reviewer_assign(actor=clerk, ticket=ticket, reviewer=reviewer)
        services.conflict_declare(actor=reviewer, ticket=ticket, has_conflict=False)
    services.ticket_review_start(actor=clerk, ticket=ticket)
    for reviewer in experts:
        services.review_vote_cast(actor=reviewer, ticket=ticket, choice="approve")


@transaction.atomic
def _seed_city_approval(consortium, purpose, city, users, title, extra_recipients=()) -> None:
    fields = _common(purpose, city)
    fields["recipients"] += [
        Organization.objects.get(name_ja=name)
        for name in extra_recipients
        if not any(recipient.name_ja == name for recipient in fields["recipients"])
    ]
    # Filed by the city's staff at the secretariat's counter: the system acts for it.
    ticket = services.ticket_create(
        actor=None, title=title, service_name=purpose.title_ja, purpose=purpose, **fields
    )
    _approve(ticket, users)


def seed(*, stdout=None) -> None:
    """
    Set up the demo consortium's ethics board and its approvals (``seed_approvals``), and add
    a second request of the mobility company still in review. Idempotent.
    """
    seed_approvals(stdout=stdout)
    consortium = demo_consortium()
    purpose = consortium.purposes.filter(code="on-demand-mobility").first() if consortium else None
    if purpose is None:
        _write(stdout, "Review: no on-demand mobility purpose yet (seed consent first).\n")
        return
    if ReviewTicket.objects.filter(consortium=consortium, title=REVIEW_IN_REVIEW_TITLE).exists():
        _write(stdout, "Review: the demo tickets already exist; nothing changed.\n")
        return
    users = demo_users()
    mobility = Organization.objects.get(
        memberships__consortium=consortium, name_ja=ORGANIZATIONS["mobility"][1]
    )
    _seed_review(consortium, purpose, mobility, users)
    _write(stdout, "Review: approved requests and one in review (/review/).\n")


def _mobility_request(purpose, mobility, rep) -> dict:
    """The mobility company's request for the on-demand mobility purpose, as its rep files it."""
    return dict(
        actor=rep,
        consortium=purpose.consortium,
        requester=mobility,
        service_name="あいづ乗合バス",
        categories=list(purpose.categories.all()),
        recipients=[mobility],
        third_party_provision=True,
        retention_days=730,
        deletion_method="保存期間の満了日に自動消去し、消去記録を事務局に提出する。",
        security_measures=(
            "国内データセンターで暗号化して保管。アクセスは運行計画担当者に限定し、"
            "多要素認証とアクセスログの監査を行う。"
        ),
        anonymisation=ReviewTicket.Anonymisation.PSEUDONYMISED,
        anonymisation_details="利用者IDを仮名IDに置き換え、年代は10歳刻みに丸める。",
        pia=REVIEW_PIA,
    )


@transaction.atomic
def _seed_mobility_approval(consortium, purpose, mobility, users) -> None:
    rep = users["aizu-rep-mobility"]
    common = _mobility_request(purpose, mobility, rep)
    clerk = users["aizu-secretariat"]
    security, legal = users["ethics-security"], users["ethics-legal"]
    data = users["ethics-data"]

    approved = services.ticket_create(title=REVIEW_APPROVED_TITLE, purpose=purpose, **common)
    services.ticket_submit(actor=rep, ticket=approved)
    for reviewer in (security, legal, data):
        services.reviewer_assign(actor=clerk, ticket=approved, reviewer=reviewer)
        services.conflict_declare(actor=reviewer, ticket=approved, has_conflict=False)
    services.ticket_review_start(actor=clerk, ticket=approved)
    services.comment_add(
        actor=legal,
        ticket=approved,
        kind="question",
        visibility="requester",
        text="乗車履歴を広告に利用しないことを、委託先との契約でどのように担保しますか。",
    )
    services.comment_add(
        actor=rep,
        ticket=approved,
        kind="answer",
        text="委託契約書第8条で目的外利用と広告への利用を禁止し、違反時は契約を解除します。",
    )
    services.review_vote_cast(
        actor=legal,
        ticket=approved,
        choice="approve_with_conditions",
        obligations=[
            {"kind": "other", "text": "乗車履歴を個人向け広告に利用しないこと。"},
            {
                "kind": "deletion_certificate",
                "text": "保存期間の終了後、乗車履歴の消去証明書を事務局へ提出すること。",
                "due": "retention_end",
            },
        ],
    )
    services.review_vote_cast(
        actor=security,
        ticket=approved,
        choice="approve_with_conditions",
        obligations=[
            {
                "kind": "security_audit",
                "text": "アクセスログの監査結果を四半期ごとに事務局へ報告すること。",
                "due": "days",
                "days": 90,
                "critical": True,
            },
            {
                "kind": "outcome_report",
                "text": "事業終了後5年間、毎年度の利用実績と効果を報告すること。",
                "due": "yearly",
                "years": 5,
            },
        ],
    )
    services.review_vote_cast(actor=data, ticket=approved, choice="approve")


@transaction.atomic
def _seed_review(consortium, purpose, mobility, users) -> None:
    clerk, rep = users["aizu-secretariat"], users["aizu-rep-mobility"]
    security, legal = users["ethics-security"], users["ethics-legal"]
    data, resident = users["ethics-data"], users["ethics-resident"]
    common = _mobility_request(purpose, mobility, rep)
    pending = services.ticket_create(
        title=REVIEW_IN_REVIEW_TITLE,
        proposed_purpose_title="乗降データによる需要予測",
        proposed_purpose_explanation=(
            "停留所ごとの乗降数から時間帯別の需要を予測し、増便や減便を決めます。"
        ),
        **common,
    )
    services.ticket_submit(actor=rep, ticket=pending)
    for reviewer in (security, legal, data, resident):
        services.reviewer_assign(actor=clerk, ticket=pending, reviewer=reviewer)
        services.conflict_declare(actor=reviewer, ticket=pending, has_conflict=False)
    services.ticket_review_start(actor=clerk, ticket=pending)
    services.comment_add(
        actor=data,
        ticket=pending,
        text="予測モデルの説明可能性について、次回の審査会で議論したい。",
    )
    services.review_vote_cast(actor=security, ticket=pending, choice="approve")
