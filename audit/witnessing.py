"""
Witnessing, both sides of C2SP tlog-witness with C2SP tlog-cosignature.

**The platform's log, witnessed.** After each new checkpoint (``checkpoint_witness``, a
django-q2 task queued when the checkpoint commits, and retried by the checkpoint schedule),
the platform posts it to every witness of ``settings.AUDIT_WITNESSES`` at
``<prefix>/add-checkpoint`` with a consistency proof from the size that witness last cosigned
(its latest cosignature held here, or the size it answers with a 409), checks the cosignature it
gets back against the witness's key and stores it (``Cosignature``, append-only). Every
cosignature held is served on the checkpoint (``selectors.checkpoint_note_cosigned``). A
checkpoint cosigned by ``AUDIT_WITNESS_QUORUM`` of the configured witnesses counts as witnessed.

**The platform as a witness** of the logs the secretariat sets in the admin (``WitnessedLog``:
origin and the log's verifier key): ``witness_add_checkpoint`` answers ``add-checkpoint`` as the
specification says, keeping per log the last size and root it cosigned (its newest
``WitnessedCheckpoint``, append-only) and never cosigning a tree that does not extend it. Its
cosigning key is its own Ed25519 key (not a platform SigningKey, whose key name is the log's
origin), kept encrypted in ``settings.AUDIT_WITNESS_KEY_FILE`` outside the database.
"""

import base64
import datetime
import logging
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import cosignatures, keys, merkle, notes, tree
from .models import Checkpoint, Cosignature, WitnessedLog

logger = logging.getLogger(__name__)

SIZE_CONTENT_TYPE = "text/x.tlog.size"


# --- Configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Witness:
    """A witness this platform submits its checkpoints to."""

    cosigner: cosignatures.Cosigner
    url: str  # the submission prefix

    @property
    def name(self) -> str:
        return self.cosigner.name


def configured_witnesses() -> list[Witness]:
    """Return the witnesses of ``settings.AUDIT_WITNESSES``; ValueError when one is malformed."""
    witnesses = []
    for item in settings.AUDIT_WITNESSES:
        if len(item) != 2:
            raise ValueError("AUDIT_WITNESSES: each witness is '<verifier key> <URL prefix>'")
        vkey, url = item
        try:
            cosigner = cosignatures.parse_verifier_key(vkey)
        except notes.NoteError as exc:
            raise ValueError(f"AUDIT_WITNESSES: {exc}") from None
        witnesses.append(Witness(cosigner, url.rstrip("/")))
    return witnesses


def quorum() -> int:
    return min(settings.AUDIT_WITNESS_QUORUM, len(settings.AUDIT_WITNESSES))


# --- The platform's own witness key ----------------------------------------------------------


def _key_path() -> Path:
    return Path(settings.AUDIT_WITNESS_KEY_FILE)


def witness_private_key() -> ed25519.Ed25519PrivateKey:
    """
    Return the witness's cosigning key, made on first use and kept encrypted (AES-256-GCM
    under SIGNING_KEY_SECRET, bound to the witness name) in AUDIT_WITNESS_KEY_FILE.
    """
    path, name = _key_path(), settings.AUDIT_WITNESS_NAME
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        key = ed25519.Ed25519PrivateKey.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "wb") as stream:
            stream.write(keys.encrypt_private_key(key, name))
            stream.flush()
            os.fsync(stream.fileno())
        try:
            os.link(temporary, path)  # never replaces a key another process made meanwhile
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
        blob = path.read_bytes()
    return keys.decrypt_private_key(blob, name)


def witness_verifier_key() -> str:
    """Return this platform's witness verifier key (name+keyID+base64(0x04 || key))."""
    return cosignatures.verifier_key(
        settings.AUDIT_WITNESS_NAME, witness_private_key().public_key()
    )


# --- The platform as a witness ---------------------------------------------------------------


class WitnessRefusal(Exception):
    """An add-checkpoint request the witness refuses, with the HTTP status the spec gives."""

    def __init__(self, status: int, code: str, detail: str, body: str | None = None):
        super().__init__(detail)
        self.status, self.code, self.detail, self.body = status, code, detail, body


def _checkpoint_of(note: str, log: WitnessedLog) -> notes.TreeHead:
    """Return the tree head of ``note`` if the log's key signed it; else a 403 refusal."""
    try:
        name, public_key = notes.parse_verifier_key(log.verifier_key)
        if name != log.origin:
            raise notes.NoteError("the log's key name is not its origin")
        return notes.open_checkpoint(note, public_key, log.origin)
    except notes.NoteError as exc:
        raise WitnessRefusal(403, "bad_signature", f"no signature by the log's key: {exc}") from exc


def witness_add_checkpoint(*, body: bytes, now: datetime.datetime | None = None) -> str:
    """
    Answer a tlog-witness ``add-checkpoint`` request: return the cosignature line, or raise
    WitnessRefusal (400 malformed, 404 unknown origin, 403 no valid signature by the log's key,
    409 old size not the last cosigned or same size with another root, 422 consistency proof
    that does not verify).

    The check of the old size and the new record are one transaction under the log's row lock,
    so two requests never roll the recorded size back.
    """
    from . import services  # services imports this module for the other side

    try:
        request = cosignatures.parse_request(body)
        parsed = notes.parse_note(request.note)
        head = notes.parse_tree_head(parsed.text)
    except (cosignatures.RequestError, notes.NoteError) as exc:
        raise WitnessRefusal(400, "malformed", str(exc)) from exc
    now = now or timezone.now()
    evidence: dict = {}
    try:
        with transaction.atomic():
            line = _cosign_locked(request, parsed.text, head, now, evidence)
    except WitnessRefusal:
        if evidence:  # recorded apart: the refusal rolls the request's transaction back
            services.witness_record_inconsistency(**evidence)
        raise
    return line


def _cosign_locked(request, text: str, head: notes.TreeHead, now, evidence: dict) -> str:
    from . import services

    log = WitnessedLog.objects.select_for_update().filter(origin=head.origin, active=True).first()
    if log is None:
        raise WitnessRefusal(404, "unknown_log", "this witness does not witness that log")
    _checkpoint_of(request.note, log)
    if request.old_size > head.size:
        raise WitnessRefusal(400, "malformed", "the old size is larger than the checkpoint")
    last = log.checkpoints.order_by("-id").first()
    last_size = last.size if last else 0
    if request.old_size != last_size:
        raise WitnessRefusal(
            409,
            "old_size_mismatch",
            f"the last checkpoint cosigned is of size {last_size}",
            body=f"{last_size}\n",
        )
    if last is not None:
        last_root = bytes.fromhex(last.root)
        if head.size == last.size:
            if head.root != last_root:
                evidence.update(log=log, size=head.size, old_size=last.size, reason="fork")
                raise WitnessRefusal(409, "fork", "a checkpoint of the same size with another root")
        else:
            try:
                merkle.verify_consistency(last.size, head.size, request.proof, last_root, head.root)
            except merkle.ProofError as exc:
                evidence.update(log=log, size=head.size, old_size=last.size, reason="inconsistent")
                raise WitnessRefusal(
                    422, "inconsistent", f"the consistency proof does not verify: {exc}"
                ) from exc
    timestamp = int(now.timestamp())
    signature = cosignatures.cosign(
        text,
        name=settings.AUDIT_WITNESS_NAME,
        private_key=witness_private_key(),
        timestamp=timestamp,
    )
    services.witnessed_checkpoint_record(
        log=log,
        size=head.size,
        root=head.root,
        note=request.note,
        cosignature=signature.line(),
        cosigned_at=datetime.datetime.fromtimestamp(timestamp, datetime.UTC),
    )
    return signature.line()


# --- The platform's log, witnessed -----------------------------------------------------------


class SubmissionError(Exception):
    """A witness did not cosign (unreachable, refused, or an answer that does not verify)."""


def _post(url: str, body: bytes) -> tuple[int, str, str]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "text/plain; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.AUDIT_WITNESS_TIMEOUT) as response:
            return (
                response.status,
                response.headers.get("Content-Type", ""),
                response.read(cosignatures.MAX_REQUEST_BYTES).decode("utf-8", "replace"),
            )
    except urllib.error.HTTPError as error:
        content = error.read(cosignatures.MAX_REQUEST_BYTES).decode("utf-8", "replace")
        return error.code, error.headers.get("Content-Type", ""), content
    except (OSError, ValueError) as exc:
        raise SubmissionError(f"{url}: {exc}") from exc


def last_cosigned_size(witness: Witness, up_to: int) -> int:
    """Return the largest size at most ``up_to`` that ``witness`` cosigned here, or 0."""
    size = (
        Cosignature.objects.filter(
            witness=witness.name,
            key_id=witness.cosigner.key_id.hex(),
            checkpoint__seq__lte=up_to,
        )
        .order_by("-checkpoint__seq")
        .values_list("checkpoint__seq", flat=True)
        .first()
    )
    return size or 0


def submit(checkpoint: Checkpoint, witness: Witness) -> Cosignature:
    """
    Post ``checkpoint`` to ``witness`` (add-checkpoint), store and return its cosignature;
    SubmissionError when it does not cosign.
    """
    from . import services

    held = Cosignature.objects.filter(
        checkpoint=checkpoint, witness=witness.name, key_id=witness.cosigner.key_id.hex()
    ).first()
    if held is not None:
        return held
    text = notes.parse_note(checkpoint.note).text
    old = last_cosigned_size(witness, checkpoint.seq)
    for _ in range(2):  # a 409 tells the size the witness holds: one more try from it
        proof = tree.consistency_proof(old, checkpoint.seq) if old else []
        body = cosignatures.request_body(old, proof, checkpoint.note)
        status, content_type, content = _post(f"{witness.url}/add-checkpoint", body)
        if status == 409 and content_type.split(";")[0].strip() == SIZE_CONTENT_TYPE:
            given = content.strip()
            if not (given.isascii() and given.isdigit()) or int(given) == old:
                raise SubmissionError(f"{witness.name}: 409 {content.strip()[:100]}")
            old = int(given)
            if old > checkpoint.seq:
                raise SubmissionError(
                    f"{witness.name} has cosigned a tree of {old} entries, "
                    f"larger than {checkpoint.seq}"
                )
            continue
        break
    if status != 200:
        raise SubmissionError(f"{witness.name}: HTTP {status} {content.strip()[:200]}")
    try:
        lines = cosignatures.parse_signature_lines(content)
    except notes.NoteError as exc:
        raise SubmissionError(f"{witness.name}: {exc}") from exc
    for signature in lines:
        if (signature.name, signature.key_id) != (witness.name, witness.cosigner.key_id):
            continue  # the client ignores cosignatures from unknown keys
        try:
            timestamp = cosignatures.verify(text, signature, witness.cosigner)
        except notes.NoteError as exc:
            raise SubmissionError(f"{witness.name}: {exc}") from exc
        try:
            return services.cosignature_store(
                checkpoint=checkpoint,
                witness=witness.name,
                key_id=signature.key_id.hex(),
                timestamp=timestamp,
                line=signature.line(),
            )
        except IntegrityError:  # another worker stored it meanwhile
            return Cosignature.objects.get(
                checkpoint=checkpoint, witness=witness.name, key_id=signature.key_id.hex()
            )
    raise SubmissionError(f"{witness.name}: no cosignature by its key in the answer")


def checkpoint_witness(checkpoint: Checkpoint) -> dict[str, str]:
    """
    Submit ``checkpoint`` to every configured witness that has not cosigned it; return
    {witness name: "cosigned" or the reason it did not}.
    """
    outcome = {}
    for witness in configured_witnesses():
        try:
            submit(checkpoint, witness)
            outcome[witness.name] = "cosigned"
        except SubmissionError as exc:
            logger.warning(
                "witness %s did not cosign checkpoint %s: %s", witness.name, checkpoint.seq, exc
            )
            outcome[witness.name] = str(exc)
    return outcome


def is_witnessed(checkpoint: Checkpoint) -> bool:
    """Return True if a quorum of the configured witnesses cosigned ``checkpoint``."""
    wanted = {(w.name, w.cosigner.key_id.hex()) for w in configured_witnesses()}
    if not wanted:
        return False
    held = set(checkpoint.cosignatures.values_list("witness", "key_id"))
    return len(held & wanted) >= max(quorum(), 1)


def cosignature_lines(checkpoint: Checkpoint) -> str:
    """Return the signature lines of every cosignature held for ``checkpoint``."""
    return "".join(checkpoint.cosignatures.order_by("witness", "id").values_list("line", flat=True))


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()
