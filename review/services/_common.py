"""Helpers shared by the review services: the same as governance's, which review builds on."""

from governance.services._common import ActorLike, iso, record, set_fields

__all__ = ["ActorLike", "iso", "record", "set_fields"]
