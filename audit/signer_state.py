"""
The signer's own record of the last checkpoint it signed, kept outside the database.

A database insider can delete checkpoint rows, or restore an older database, and so make the
log look as if a rewritten tree were the only one ever signed. The signer therefore keeps its
last signed checkpoint note where the database role cannot write: a file at
``settings.AUDIT_CHECKPOINT_STATE`` (environment ``AUDIT_CHECKPOINT_STATE``), replaced
atomically after each signature. Before signing, ``services.checkpoint_create`` checks that the
database still holds exactly that checkpoint as its newest and that the tree extends it (a
consistency proof); ``audit_verify`` checks that the log is not shorter than it nor inconsistent
with it.
"""

import os
import tempfile
from pathlib import Path

from django.conf import settings


def path() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_STATE)


def read() -> str | None:
    """Return the last signed checkpoint note, or None if the signer has signed none."""
    try:
        return path().read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def write(note: str) -> None:
    """Replace the record with ``note``, atomically and durably."""
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(note)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
