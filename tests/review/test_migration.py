"""
The review's move out of the governance app keeps every row: a database holding tickets made
before the move holds the same tickets, rounds, votes, attachments and permissions after it.
"""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("governance", "0004_review_attachments"), ("review", None)]


def migrate(targets):
    """
    Migrate to ``targets`` (as the schema's owner, on PostgreSQL with separate roles); return
    the models as the applied migrations define them.
    """
    from audit import roles

    with roles.as_owner():
        MigrationExecutor(connection).migrate(targets)
    executor = MigrationExecutor(connection)
    return executor._create_project_state(with_applied_migrations=True).apps


def leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_the_move_keeps_every_row_and_what_points_at_it():
    from django.contrib.contenttypes.models import ContentType

    if connection.vendor != "postgresql":
        # Production's data lives on PostgreSQL; on SQLite (development) each backward step
        # rebuilds its tables and the walk back and forth takes a minute and a half.
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")

    old = migrate(BEFORE)
    user = old.get_model("auth", "User").objects.create(username="reviewer")
    consortium = old.get_model("governance", "Consortium").objects.create(
        slug="aizu", name_ja="会津", name_en="Aizu"
    )
    organization = old.get_model("governance", "Organization").objects.create(
        kind="company", name_ja="会津モビリティ", name_en="Aizu Mobility"
    )
    seat = old.get_model("governance", "Role").objects.create(
        consortium=consortium,
        kind="ethics_board_member",
        user=user,
        expertise="legal",
        start_on=datetime.date(2024, 4, 1),
    )
    board = old.get_model("governance", "EthicsBoard").objects.create(
        consortium=consortium, name_ja="審査会", name_en="Board", quorum=1
    )
    category = old.get_model("consent", "DataCategory").objects.create(
        code="trips", name_ja="移動履歴", name_en="Trips"
    )
    ticket = old.get_model("governance", "ReviewTicket").objects.create(
        consortium=consortium,
        requester=organization,
        title="配車の最適化",
        service_name="あいづ乗合",
        proposed_purpose_title="配車",
        state="approved",
        round=1,
        valid_from=datetime.date(2026, 1, 1),
        valid_until=datetime.date(2026, 12, 31),
    )
    ticket.categories.add(category)
    ticket.recipients.add(organization)
    old.get_model("governance", "ReviewRound").objects.create(
        ticket=ticket,
        number=1,
        submitted_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        due_on=datetime.date(2026, 1, 15),
        request={"title": "配車の最適化"},
        outcome="approved",
    )
    assignment = old.get_model("governance", "ReviewAssignment").objects.create(
        ticket=ticket, reviewer=user, role=seat
    )
    old.get_model("governance", "ReviewVote").objects.create(
        ticket=ticket, round=1, assignment=assignment, choice="approve", reason="十分"
    )
    old.get_model("governance", "ReviewComment").objects.create(
        ticket=ticket, round=1, author=user, text="質問"
    )
    old.get_model("governance", "ReviewAttachment").objects.create(
        ticket=ticket,
        round=1,
        file="review/1/a.pdf",
        original_name="計画.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
    )
    # What points at the models' content type: a permission held by a user, and an object
    # permission (django-guardian) on the ticket.
    content_types = old.get_model("contenttypes", "ContentType").objects
    ticket_type, _ = content_types.get_or_create(app_label="governance", model="reviewticket")
    permission, _ = old.get_model("auth", "Permission").objects.get_or_create(
        content_type=ticket_type, codename="view_reviewticket", defaults={"name": "view"}
    )
    user.user_permissions.add(permission)
    old.get_model("guardian", "UserObjectPermission").objects.create(
        user=user, permission=permission, content_type=ticket_type, object_pk=str(ticket.pk)
    )

    migrate(leaves())
    ContentType.objects.clear_cache()

    from django.contrib.auth.models import User
    from guardian.shortcuts import get_perms

    from review.models import (
        EthicsBoard,
        ReviewAssignment,
        ReviewAttachment,
        ReviewComment,
        ReviewRound,
        ReviewTicket,
        ReviewVote,
    )

    moved = ReviewTicket.objects.get(pk=ticket.pk)
    assert moved.title == "配車の最適化" and moved.state == "approved"
    assert list(moved.categories.values_list("code", flat=True)) == ["trips"]
    assert list(moved.recipients.values_list("pk", flat=True)) == [organization.pk]
    assert EthicsBoard.objects.get(pk=board.pk).consortium_id == consortium.pk
    assert ReviewRound.objects.get(ticket=moved).request == {"title": "配車の最適化"}
    assert ReviewAssignment.objects.get(pk=assignment.pk).role_id == seat.pk
    assert ReviewVote.objects.get(assignment_id=assignment.pk).reason == "十分"
    assert ReviewComment.objects.get(ticket=moved).text == "質問"
    assert ReviewAttachment.objects.get(ticket=moved).original_name == "計画.pdf"
    # The tables carry the review app's names now.
    tables = connection.introspection.table_names()
    assert "review_reviewticket" in tables and "review_reviewticket_categories" in tables
    assert "governance_reviewticket" not in tables
    # The same content type, now the review app's: the permissions follow.
    assert ContentType.objects.get_for_model(ReviewTicket).pk == ticket_type.pk
    reviewer = User.objects.get(pk=user.pk)
    assert reviewer.has_perm("review.view_reviewticket")
    assert get_perms(reviewer, moved) == ["view_reviewticket"]
    # And a new ticket numbers on from the moved rows.
    assert (
        ReviewTicket.objects.create(
            consortium_id=consortium.pk,
            requester_id=organization.pk,
            title="次",
            service_name="次",
            proposed_purpose_title="次",
        ).pk
        > ticket.pk
    )
