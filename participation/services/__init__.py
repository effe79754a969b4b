"""Every write of the participation app, by topic; re-exported here."""

from .consultations import (  # noqa: F401
    COMMENT_MAX_LENGTH,
    answer_save,
    check_purpose_may_open,
    comment_edit,
    comment_enter_offline,
    comment_hide,
    comment_restore,
    comment_submit,
    consultation_announce,
    consultation_policy_set,
    consultation_result_publish,
    consultation_save,
    question_save,
)
from .email_participants import (  # noqa: F401
    ERASE_BATCH,
    RESEND_AFTER,
    email_actor,
    email_comment_edit,
    email_comment_submit,
    email_participant_confirm,
    email_participant_erase,
    email_participant_request,
    email_participants_erase_expired,
    email_unconfirmed,
)
from .meetings import (  # noqa: F401
    meeting_announce,
    meeting_attendance_record,
    meeting_cancel_registration,
    meeting_minutes_publish,
    meeting_register,
    meeting_save,
)
from .proposals import (  # noqa: F401
    BODY_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    proposal_answer,
    proposal_hide,
    proposal_submit,
    support_add,
    support_withdraw,
)
