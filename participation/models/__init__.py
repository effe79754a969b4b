"""Citizen participation: consultations, comments and answers, proposals and supports, meetings."""

from .consultations import (
    OFFLINE_CHANNELS,
    AgeBand,
    Answer,
    Channel,
    Comment,
    Consultation,
    ConsultationPolicy,
    Question,
)

__all__ = [
    "OFFLINE_CHANNELS",
    "AgeBand",
    "Answer",
    "Channel",
    "Comment",
    "Consultation",
    "ConsultationPolicy",
    "Question",
]
