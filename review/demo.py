"""
Demo data of the review app, loaded by ``manage.py seed_demo`` after the governance and consent
demos; idempotent.

The demo consortium's data-ethics board (its members' seats are governance's roles), the mobility
company's request for the on-demand mobility purpose, approved with conditions for one year, and
a second request still in review. Everything is made through the services, so the audit log
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


def seed(*, stdout=None) -> None:
    """
    Set up the demo consortium's ethics board, and add the demo's review tickets: the mobility
    company's request for the on-demand mobility purpose, approved with conditions for one year,
    and a second request still in review. Needs the consent demo's purposes; idempotent.
    """
    consortium = demo_consortium()
    purpose = None
    if consortium is not None:
        _seed_board(consortium, demo_users())
        purposes = consortium.purposes.all()
        purpose = (
            purposes.filter(code="on-demand-mobility").first()
            or purposes.filter(title_ja__contains="オンデマンド交通").first()
        )
    if purpose is None:
        _write(stdout, "Review: no on-demand mobility purpose yet (seed consent first).\n")
        return
    if ReviewTicket.objects.filter(consortium=consortium, title=REVIEW_APPROVED_TITLE).exists():
        _write(stdout, "Review: the demo tickets already exist; nothing changed.\n")
        return
    users = demo_users()
    mobility = Organization.objects.get(
        memberships__consortium=consortium, name_ja=ORGANIZATIONS["mobility"][1]
    )
    _seed_review(consortium, purpose, mobility, users)
    _write(stdout, "Review: one approved ticket and one in review (/review/).\n")


@transaction.atomic
def _seed_review(consortium, purpose, mobility, users) -> None:
    clerk, rep = users["aizu-secretariat"], users["aizu-rep-mobility"]
    security, legal = users["ethics-security"], users["ethics-legal"]
    data, resident = users["ethics-data"], users["ethics-resident"]
    common = dict(
        actor=rep,
        consortium=consortium,
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
