"""
Fixtures of the public register's tests: consortium A with bylaws, members, a decided use with a
grant, and confidential records (a draft, a ticket in review, a comment, votes' reasons, a draft
bylaw version, an unpublished resolution) whose words must never reach the register.
"""

import datetime

import pytest
from django.utils import timezone

from audit import services as audit_services
from governance import services as governance_services
from review import services as review_services
from tests.grants import conftest as grants_fixtures
from tests.review import conftest as review_fixtures

steps = grants_fixtures.steps
checkup = grants_fixtures.checkup
purpose = grants_fixtures.purpose
founding_bylaws = grants_fixtures.founding_bylaws
requester_a = grants_fixtures.requester_a
rep_a = grants_fixtures.rep_a
board_a = grants_fixtures.board_a
file_ticket = grants_fixtures.file_ticket
ticket = grants_fixtures.ticket
service_a = grants_fixtures.service_a
grant = grants_fixtures.grant
add_member = review_fixtures.add_member
make_resident = grants_fixtures.make_resident

# Words of confidential records: none may appear on any register page or dataset.
SECRETS = {
    "draft_title": "下書きの申請SECRETDRAFT",
    "review_title": "審査中の申請SECRETREVIEW",
    "comment": "委員だけのコメントSECRETCOMMENT",
    "reason": "反対の理由SECRETREASON",
    "draft_bylaw": "改正案SECRETBYLAW",
    "resolution": "非公開の議案SECRETRESOLUTION",
}


@pytest.fixture
def register(
    consortium_a, clerk_a, rep_a, board_a, file_ticket, ticket, grant, founding_bylaws, add_member
):
    """Consortium A as the register sees it, with confidential records beside the public ones."""
    # A draft and a ticket in review, with a board-only comment.
    file_ticket(title=SECRETS["draft_title"])
    in_review = review_services.ticket_submit(
        actor=rep_a, ticket=file_ticket(title=SECRETS["review_title"])
    )
    for reviewer in (board_a.legal, board_a.security, board_a.data):
        review_services.reviewer_assign(actor=clerk_a, ticket=in_review, reviewer=reviewer)
        review_services.conflict_declare(actor=reviewer, ticket=in_review, has_conflict=False)
    in_review = review_services.ticket_review_start(actor=clerk_a, ticket=in_review)
    review_services.comment_add(actor=board_a.legal, ticket=in_review, text=SECRETS["comment"])
    review_services.review_vote_cast(
        actor=board_a.legal, ticket=in_review, choice="reject", reason=SECRETS["reason"]
    )
    # A rejected ticket: two rejects and an approval, with reasons.
    rejected = review_services.ticket_submit(
        actor=rep_a, ticket=file_ticket(title="却下された申請")
    )
    for reviewer in (board_a.legal, board_a.security, board_a.data):
        review_services.reviewer_assign(actor=clerk_a, ticket=rejected, reviewer=reviewer)
        review_services.conflict_declare(actor=reviewer, ticket=rejected, has_conflict=False)
    rejected = review_services.ticket_review_start(actor=clerk_a, ticket=rejected)
    for reviewer, choice in (
        (board_a.legal, "reject"),
        (board_a.security, "reject"),
        (board_a.data, "approve"),
    ):
        review_services.review_vote_cast(
            actor=reviewer, ticket=rejected, choice=choice, reason=SECRETS["reason"]
        )
    rejected.refresh_from_db()
    assert rejected.state == "rejected"
    # A draft bylaw amendment and a member who left.
    governance_services.bylaw_version_create(
        actor=clerk_a,
        consortium=consortium_a,
        title_ja=SECRETS["draft_bylaw"],
        title_en=SECRETS["draft_bylaw"],
        based_on=founding_bylaws,
    )
    former = add_member()
    governance_services.membership_leave(
        actor=clerk_a, membership=former, left_on=datetime.date(2025, 3, 31)
    )
    audit_services.seal()
    audit_services.checkpoint_create(force=True)
    return {
        "consortium": consortium_a,
        "approved": ticket,
        "rejected": rejected,
        "in_review": in_review,
        "grant": grant,
        "former": former,
        "now": timezone.now(),
    }
