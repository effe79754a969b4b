"""
Offline-verifiable proofs that an entry is in the log, in the C2SP tlog-proof form::

    c2sp.org/tlog-proof@v1
    extra <base64 of the entry's leaf data: its canonical JSON, which the verifier hashes>
    index <leaf index: the entry's sequence number - 1>
    <the RFC 6962 inclusion proof, one base64 hash a line, from the leaf's sibling up>

    <the checkpoint, with every cosignature held>

The checkpoint is the first Merkle checkpoint that covers the entry, so that the proof of one
entry stays the same once made (only cosignatures may be added to it).
"""

import base64

from . import selectors, tree
from .models import Checkpoint, Entry

HEADER = "c2sp.org/tlog-proof@v1"


def entry_proof(entry: Entry) -> str | None:
    """Return the tlog-proof of ``entry``; None until a signed checkpoint covers it."""
    checkpoint = (
        Checkpoint.objects.exclude(root="").filter(seq__gte=entry.seq).order_by("seq", "id").first()
    )
    if checkpoint is None:
        return None
    (row,) = list(selectors.chain_rows(start_seq=entry.seq, end_seq=entry.seq))
    _leaf, path = tree.inclusion_proof(entry.seq - 1, checkpoint.seq)
    lines = [
        HEADER,
        "extra " + base64.b64encode(tree.leaf_data(row.text())).decode(),
        f"index {entry.seq - 1}",
        *(base64.b64encode(value).decode() for value in path),
    ]
    return "\n".join(lines) + "\n\n" + selectors.checkpoint_note_cosigned(checkpoint)


def object_entry_proof(*, object_type: str, object_id: str, action_prefix: str = "") -> dict:
    """
    Return ``{"origin", "seq", "proof"}`` for the first sealed entry about the object (whose
    action starts with ``action_prefix``): ``seq`` and ``proof`` None while it is pending or
    no checkpoint covers it yet.
    """
    from django.conf import settings

    entries = selectors.entries_for_object(object_type=object_type, object_id=object_id)
    entry = entries.filter(action__startswith=action_prefix).first()
    return {
        "origin": settings.AUDIT_LOG_ORIGIN,
        "seq": entry.seq if entry else None,
        "proof": entry_proof(entry) if entry else None,
    }
