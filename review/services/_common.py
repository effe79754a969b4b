"""Helpers shared by the review services."""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from audit import services as audit

# Who acts: a staff user, an audit Actor (a service, a resident), or None for the system.
ActorLike = AbstractBaseUser | audit.Actor | None


def record(
    *,
    actor: ActorLike,
    action: str,
    consortium,
    payload: dict,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id="",
) -> None:
    """Append the one audit entry of a review use case (ids and facts only)."""
    audit.record(
        actor=actor,
        action=action,
        obj=obj,
        object_type=object_type,
        object_id=str(object_id),
        consortium=consortium,
        payload=payload,
    )


def iso(day: datetime.date | None) -> str | None:
    return day.isoformat() if day else None


def set_fields(instance: models.Model, fields: dict, allowed: set[str]) -> list[str]:
    """Set ``fields`` on ``instance`` and return the names that changed (sorted)."""
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"cannot change {sorted(unknown)} here")
    changed = []
    for field, value in fields.items():
        if getattr(instance, field) != value:
            setattr(instance, field, value)
            changed.append(field)
    return sorted(changed)
