"""Citizen participation: consultations, comments and answers, proposals and supports, meetings."""

from .consultations import (
    OFFLINE_CHANNELS,
    AgeBand,
    Answer,
    Channel,
    Comment,
    Consultation,
    ConsultationPolicy,
    NoticeSection,
    Question,
)
from .meetings import Meeting, Registration
from .proposals import Proposal, Support

__all__ = [
    "OFFLINE_CHANNELS",
    "AgeBand",
    "Answer",
    "Channel",
    "Comment",
    "Consultation",
    "ConsultationPolicy",
    "Meeting",
    "NoticeSection",
    "Proposal",
    "Question",
    "Registration",
    "Support",
]
