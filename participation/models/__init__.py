"""Citizen participation: consultations, comments and answers, proposals and supports, meetings."""

from .consultations import (
    DECLARABLE_AGE_BANDS,
    OFFLINE_CHANNELS,
    AgeBand,
    Answer,
    Channel,
    Comment,
    Consultation,
    ConsultationPolicy,
    EmailParticipant,
    NoticeSection,
    Question,
)
from .meetings import Meeting, Registration
from .proposals import Proposal, Support

__all__ = [
    "DECLARABLE_AGE_BANDS",
    "OFFLINE_CHANNELS",
    "AgeBand",
    "Answer",
    "Channel",
    "Comment",
    "Consultation",
    "ConsultationPolicy",
    "EmailParticipant",
    "Meeting",
    "NoticeSection",
    "Proposal",
    "Question",
    "Registration",
    "Support",
]
