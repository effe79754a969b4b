"""Citizen participation: consultations, comments and answers, proposals and supports, meetings."""
