"""
The links that confirm an e-mail participant's address: signed with the project's secret key
(Django's ``signing.Signer``), valid for ``LINK_MAX_AGE`` from when it was made, and good for
one use (the link carries the participant's current nonce, which confirming clears and a new
link replaces). The time it was made is signed inside it and passed in, not read from the
clock here, so that expiry is tested without waiting.
"""

import dataclasses
import datetime

from django.core import signing

# As long as a day: enough to read the mail at home after asking on a phone in the morning.
LINK_MAX_AGE = 24 * 60 * 60
_SALT = "participation.email-participant.link"


class LinkExpired(Exception):
    """The link is genuine but older than ``LINK_MAX_AGE``."""


class LinkInvalid(Exception):
    """The link was not made here, or was changed, or names what no longer allows it."""


class LinkUsed(Exception):
    """The link is genuine but was used already, or a newer link replaced it."""


@dataclasses.dataclass(frozen=True)
class Link:
    participant_id: int
    consultation_id: int
    nonce: str


def make_link_token(
    *, participant_id: int, consultation_id: int, nonce: str, now: datetime.datetime
) -> str:
    """Return the token of a confirmation link for the participant and the consultation."""
    return signing.Signer(salt=_SALT).sign_object(
        {"p": participant_id, "c": consultation_id, "n": nonce, "t": int(now.timestamp())}
    )


def read_link_token(token: str, *, now: datetime.datetime, max_age: int = LINK_MAX_AGE) -> Link:
    """Return what ``token`` says; raise LinkInvalid, or LinkExpired past ``max_age``."""
    try:
        data = signing.Signer(salt=_SALT).unsign_object(token)
        link = Link(int(data["p"]), int(data["c"]), str(data["n"]))
        made = int(data["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise LinkInvalid from error
    if now.timestamp() - made > max_age:
        raise LinkExpired
    return link
