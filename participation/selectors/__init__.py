"""Read queries of the participation app, by topic; re-exported here."""

from .consultations import (  # noqa: F401
    SMALL_COUNT,
    ParticipationCounts,
    access_consultation_for_resident,
    access_own_comment,
    comments_of_resident,
    consultations_for_resident,
    consultations_public,
    may_comment,
    participants_between,
    participation_counts,
    public_consultation,
    purpose_consultation_required,
    result_rows,
)
from .meetings import (  # noqa: F401
    access_meeting_for_resident,
    may_attend,
    meetings_for_resident,
    meetings_public,
    public_meeting,
    registered_meeting_ids,
)
from .proposals import (  # noqa: F401
    access_proposal_for_resident,
    may_propose,
    proposals_for_resident,
    proposals_of_resident,
    proposals_public,
    supports,
)
