"""Participation's audit actions and the payload fields each may carry (``audit.actions``).

Ids and states only: never a comment's or a proposal's text, nor a participant's name."""

ACTIONS: dict[str, list[str]] = {}
