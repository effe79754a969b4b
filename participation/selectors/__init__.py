"""Read queries of the participation app, by topic; re-exported here."""

from .consultations import (  # noqa: F401
    SMALL_COUNT,
    ParticipationCounts,
    access_consultation_for_email,
    access_consultation_for_resident,
    access_own_comment,
    access_own_email_comment,
    comments_of_email_participants,
    comments_of_resident,
    consultations_for_resident,
    consultations_public,
    email_link_unused,
    email_participants_by_ids,
    email_participants_past_retention,
    email_participation_allowed,
    may_comment,
    may_comment_by_email,
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
