"""The consortium's data-ethics board: its names, quorum and review rules."""

from django.db import transaction

from governance.models import Consortium

from ..models import EthicsBoard
from ._common import ActorLike, record, set_fields

ETHICS_BOARD_FIELDS = {
    "name_ja",
    "name_en",
    "quorum",
    "legal_veto",
    "security_veto",
    "review_days",
    "approval_term_days",
    "overdue_critical",
    "deletion_confirmation_days",
}


@transaction.atomic
def ethics_board_set(
    *,
    actor: ActorLike,
    consortium: Consortium,
    name_ja: str,
    name_en: str,
    quorum: int = 3,
    **rules,
) -> EthicsBoard:
    """
    Create or update the consortium's data-ethics board: its names, quorum and review rules
    (``legal_veto``, ``security_veto``, ``review_days``, ``approval_term_days``,
    ``overdue_critical``, ``deletion_confirmation_days``).
    """
    board = EthicsBoard.objects.filter(consortium=consortium).first()
    created = board is None
    if created:
        board = EthicsBoard(consortium=consortium)
    changed = set_fields(
        board,
        {"name_ja": name_ja, "name_en": name_en, "quorum": quorum, **rules},
        ETHICS_BOARD_FIELDS,
    )
    board.full_clean()
    board.save()
    record(
        actor=actor,
        action="ethics_board.created" if created else "ethics_board.updated",
        obj=board,
        consortium=consortium,
        payload={
            "changed": changed,
            "quorum": board.quorum,
            "legal_veto": board.legal_veto,
            "security_veto": board.security_veto,
            "overdue_critical": board.overdue_critical,
            "deletion_confirmation_days": board.deletion_confirmation_days,
        },
    )
    return board
