"""
Pairwise subject identifiers (OpenID Connect Core §8.1): the id a sector of services knows a
resident by, ``base64url(HMAC-SHA256(key, sector || 0x00 || pseudonymous id))``.

The key is derived (HKDF-SHA256) from ``settings.PAIRWISE_SUBJECT_SECRET``, so that the ids of
one resident at two sectors differ and neither can be computed from the other, nor from the
resident's pseudonymous id, without the platform's secret.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

# 256 bits as unpadded base64url.
SUBJECT_LENGTH = 43


@lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"consent.pairwise-subject.v1"
    ).derive(secret.encode())


def subject_for(sector: str, pseudonymous_id: str) -> str:
    """Return the pairwise ``sub`` of the resident ``pseudonymous_id`` at ``sector``."""
    message = sector.encode() + b"\x00" + pseudonymous_id.encode()
    digest = hmac.new(_key(settings.PAIRWISE_SUBJECT_SECRET), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
