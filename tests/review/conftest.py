"""Fixtures of the review tests: consortium A's ethics board, a purpose, and tickets to review."""

import pytest

from review import services
from tests.conftest import make_user
from tests.governance import conftest as governance_fixtures

# The governance tests' consortium A with its founding bylaws and members.
founding_bylaws = governance_fixtures.founding_bylaws
add_member = governance_fixtures.add_member
assembly = governance_fixtures.assembly
requester_a = governance_fixtures.requester_a
rep_a = governance_fixtures.rep_a
other_member_a = governance_fixtures.other_member_a
_english = governance_fixtures._english  # autouse: assert on the English messages
FOUNDED = governance_fixtures.FOUNDED
ASSEMBLY_DAY = governance_fixtures.ASSEMBLY_DAY
corporate_number = governance_fixtures.corporate_number

PIA = [
    {
        "risk": "再識別",
        "likelihood": "medium",
        "impact": "high",
        "mitigation": "仮名化と集計単位の制限",
    }
]


@pytest.fixture
def board_a(consortium_a, reviewer_a):
    """Consortium A's board: reviewer_a (legal) and three more experts; quorum 3."""
    from tests.conftest import seat_on_ethics_board

    board = consortium_a.ethics_board
    board.quorum = 3
    board.save()
    board.security = seat_on_ethics_board(
        make_user("security_a", email="sec@example.jp"), consortium_a, "security"
    )
    board.data = seat_on_ethics_board(
        make_user("data_a", email="data@example.jp"), consortium_a, "data_ethics"
    )
    board.resident = seat_on_ethics_board(
        make_user("resident_a", email="res@example.jp"), consortium_a, "resident_representative"
    )
    board.legal = reviewer_a
    return board


@pytest.fixture
def category_a(db):
    from consent.models import DataCategory

    return DataCategory.objects.create(code="trips", name_ja="移動履歴", name_en="Trips")


@pytest.fixture
def purpose_a(consortium_a, requester_a, category_a):
    from consent.models import Purpose

    purpose = Purpose.objects.create(
        consortium=consortium_a,
        code="mobility",
        title_ja="オンデマンド交通",
        title_en="On-demand mobility",
        explanation_ja="配車のため",
        explanation_en="For dispatch",
        controller=requester_a,
        retention_days=365,
    )
    purpose.categories.add(category_a)
    return purpose


@pytest.fixture
def make_ticket(consortium_a, rep_a, requester_a, purpose_a, category_a):
    """File a complete draft as the requester's representative: make_ticket(**overrides)."""

    def make(**overrides):
        fields = dict(
            actor=rep_a,
            consortium=consortium_a,
            requester=requester_a,
            title="オンデマンド交通の配車最適化",
            service_name="あいづ乗合",
            purpose=purpose_a,
            categories=[category_a],
            recipients=[],
            retention_days=365,
            deletion_method="保存期間の終了後に消去",
            security_measures="暗号化とアクセス制御",
            anonymisation="pseudonymised",
            anonymisation_details="利用者IDを仮名IDに置き換える",
            pia=PIA,
        )
        fields.update(overrides)
        return services.ticket_create(**fields)

    return make


@pytest.fixture
def in_review(make_ticket, board_a, clerk_a, rep_a):
    """A submitted ticket with three reviewers assigned and declared, in review."""

    def make(reviewers=None, **overrides):
        ticket = services.ticket_submit(actor=rep_a, ticket=make_ticket(**overrides))
        for reviewer in reviewers or [board_a.legal, board_a.security, board_a.data]:
            services.reviewer_assign(actor=clerk_a, ticket=ticket, reviewer=reviewer)
            services.conflict_declare(actor=reviewer, ticket=ticket, has_conflict=False)
        return services.ticket_review_start(actor=clerk_a, ticket=ticket)

    return make


REPORT = {
    "kind": "periodic_report",
    "text": "利用状況を年1回報告すること",
    "due": "yearly",
    "years": 2,
}
AUDIT = {
    "kind": "security_audit",
    "text": "外部のセキュリティ監査を受けること",
    "due": "days",
    "days": 90,
    "critical": True,
}


@pytest.fixture
def approve(in_review, board_a):
    """Approve a ticket in review with the lawyer's structured conditions."""

    def make(obligations=(REPORT, AUDIT), today=None):
        from review.models import ReviewTicket

        ticket = in_review()
        services.review_vote_cast(
            actor=board_a.legal,
            ticket=ticket,
            choice="approve_with_conditions",
            obligations=list(obligations),
            today=today,
        )
        for reviewer in (board_a.security, board_a.data):
            services.review_vote_cast(actor=reviewer, ticket=ticket, choice="approve", today=today)
        ticket.refresh_from_db()
        assert ticket.state == ReviewTicket.State.APPROVED
        return ticket

    return make
