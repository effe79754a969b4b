"""
Every write of the consent app. Each function is atomic, takes keyword-only arguments with the
actor first, and writes one audit entry naming residents by pseudonymous id only.

Actors: ``Actor.resident(pid)`` for a resident acting in the portal, the staff user for the
secretariat (paper consents, purposes), None for the system.
"""

import hashlib
import logging
import secrets
import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.chain import format_time
from audit.services import Actor, EntrySpec, record, record_many
from governance import passkeys

from .. import approvals, notices, pairwise, publication_checks
from ..models import (
    ConsentRecord,
    ConsentState,
    DataAccess,
    DataAccessBatch,
    DataCategory,
    Notice,
    PairwiseSubject,
    Purpose,
    RecipientNotice,
    Representation,
    Resident,
    ResidentProfile,
)
from ..signals import consent_withdrawn, purpose_closed

# The services of representations, re-exported.
from .representatives import (  # noqa: F401
    coming_of_age,
    representation_approve,
    representation_end,
    representation_refuse,
    representation_register,
    representation_request,
    representations_end_due,
    representations_end_for,
)

logger = logging.getLogger(__name__)

# --- Residents -------------------------------------------------------------------------------


@transaction.atomic
def resident_register(
    *,
    actor,
    consortia,
    user=None,
    language: str = "ja",
    full_name: str = "",
    contact_email: str = "",
    phone: str = "",
) -> Resident:
    """
    Register a resident of ``consortia`` (one consortium or several), with an account (portal
    sign-up) or without one (registered on paper by the secretariat). Pass ``actor=None`` for a
    resident signing up themselves: the entry names them by their new pseudonymous id.
    """
    if not hasattr(consortia, "__iter__"):
        consortia = [consortia]
    consortia = list(consortia)
    if not consortia:
        raise ValidationError(_("Choose the consortium of the area you live in."))
    resident = Resident(user=user, language=language)
    resident.full_clean()
    resident.save(force_insert=True)
    resident.consortia.set(consortia)
    profile = ResidentProfile(
        resident=resident, full_name=full_name, contact_email=contact_email, phone=phone
    )
    profile.full_clean()
    profile.save()
    for consortium in consortia:
        record(
            actor=actor if actor is not None else Actor.resident(resident.pseudonymous_id),
            action="resident.registered",
            obj=resident,
            consortium=consortium,
            payload={
                "resident": resident.pseudonymous_id,
                "with_account": user is not None,
                "language": language,
            },
        )
    return resident


@transaction.atomic
def resident_account_open(*, actor, resident: Resident, email: str) -> Resident:
    """
    Open a portal account for a resident registered without one (a child come of age, a
    person registered at the counter): the secretariat gives the address, and the person sets
    their own password through the password reset, so nobody else ever knows it.
    """
    from django.contrib.auth import get_user_model

    users = get_user_model()
    email = users.objects.normalize_email(email.strip()).lower()
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    if resident.is_erased or resident.user_id is not None:
        raise ValidationError(_("This resident already has an account, or it was deleted."))
    if users.objects.filter(username__iexact=email).exists():
        raise ValidationError({"email": _("This address already has an account.")})
    # A long random password nobody knows: usable, so that the password reset mails a link.
    resident.user = users.objects.create_user(
        username=email, email=email, password=secrets.token_urlsafe(32)
    )
    resident.save(update_fields=["user"])
    record(
        actor=actor,
        action="resident.account_opened",
        obj=resident,
        payload={"resident": resident.pseudonymous_id},
    )
    return resident


@transaction.atomic
def resident_set_language(*, actor, resident: Resident, language: str) -> Resident:
    """Set the language the resident's screens and receipts use."""
    resident.language = language
    resident.full_clean()
    resident.save(update_fields=["language"])
    record(
        actor=actor,
        action="resident.language_set",
        obj=resident,
        payload={"resident": resident.pseudonymous_id, "language": language},
    )
    return resident


@transaction.atomic
def resident_passkey_add(*, actor, resident: Resident, state: dict | None, response: dict):
    """
    Register the passkey the resident's browser created, to sign in with it instead of the
    password (``state`` is the ceremony's, taken from the session); raise
    ``governance.passkeys.PasskeyError`` when the answer is refused.
    """
    credential = passkeys.register(user=resident.user, state=state, response=response)
    record(
        actor=actor,
        action="resident.passkey_added",
        obj=resident,
        payload={"resident": resident.pseudonymous_id, "passkey": credential.pk},
    )
    return credential


@transaction.atomic
def resident_passkey_remove(*, actor, resident: Resident, passkey_id: int) -> None:
    """
    Forget one of the resident's passkeys (a lost phone); another person's passkey raises
    ``DoesNotExist``, as a missing one does.
    """
    credential = passkeys.passkeys_of(resident.user).select_for_update().get(pk=passkey_id)
    credential.delete()
    record(
        actor=actor,
        action="resident.passkey_removed",
        obj=resident,
        payload={"resident": resident.pseudonymous_id, "passkey": passkey_id},
    )


@transaction.atomic
def resident_erase(*, actor, resident: Resident) -> Resident:
    """
    Erase a resident's personal details and account, after withdrawing every consent.

    The pseudonymous resident, the consent records and the audit chain stay: they hold no
    name and no contact, and the chain must stay verifiable.
    """
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    if resident.is_erased:
        return resident
    withdrawn = _withdraw_all(actor=actor, resident=resident)
    representations_end_for(actor=actor, resident=resident)
    ResidentProfile.objects.filter(resident=resident).delete()
    user = resident.user
    resident.user = None
    resident.erased_at = timezone.now()
    resident.save(update_fields=["user", "erased_at"])
    if user is not None:
        user.delete()
    for consortium_id in resident.consortia.values_list("pk", flat=True):
        record(
            actor=actor,
            action="resident.erased",
            obj=resident,
            consortium=consortium_id,
            payload={"resident": resident.pseudonymous_id, "consents_withdrawn": len(withdrawn)},
        )
    return resident


# --- Data categories, purposes, notices ------------------------------------------------------


@transaction.atomic
def data_category_save(*, actor, category: DataCategory) -> DataCategory:
    """Create or change a data category; open purposes using it get a new notice version."""
    created = category.pk is None
    category.full_clean()
    category.save()
    record(
        actor=actor,
        action="data_category.created" if created else "data_category.changed",
        obj=category,
        payload={"code": category.code, "sensitive": category.sensitive},
    )
    if not created:
        for purpose in category.purposes.filter(status=Purpose.Status.OPEN):
            _renew_notice_if_changed(actor=actor, purpose=purpose)
    return category


@transaction.atomic
def purpose_save(*, actor, purpose: Purpose, categories, recipients) -> Purpose:
    """
    Create or change a purpose. While it is open, a change to what is collected, why, who
    controls or receives it, or for how long, publishes a new notice version: consents given
    under the previous one lapse, and residents are asked again.
    """
    created = purpose.pk is None
    if not created:
        locked = Purpose.objects.select_for_update().get(pk=purpose.pk)
        if locked.consortium_id != purpose.consortium_id:
            raise ValidationError({"consortium": _("A purpose cannot move to another consortium.")})
        purpose.status = locked.status
        purpose.current_notice_id = locked.current_notice_id
    if purpose.status == Purpose.Status.CLOSED:
        raise ValidationError(_("A closed purpose cannot be changed."))
    purpose.full_clean(exclude=["categories", "recipients"])
    categories = list(categories)
    if not categories:
        raise ValidationError({"categories": _("Choose at least one data category.")})
    purpose.save()
    purpose.categories.set(categories)
    purpose.recipients.set(list(recipients))
    record(
        actor=actor,
        action="purpose.created" if created else "purpose.changed",
        obj=purpose,
        consortium=purpose.consortium_id,
        payload={"code": purpose.code, "status": purpose.status},
    )
    if purpose.status == Purpose.Status.OPEN:
        _renew_notice_if_changed(actor=actor, purpose=purpose)
    return purpose


def _renew_notice_if_changed(*, actor, purpose: Purpose) -> Notice | None:
    current = purpose.current_notice
    if current is not None and notices.terms_equal(current.terms, notices.purpose_terms(purpose)):
        return None
    return notice_version_create(actor=actor, purpose=purpose)


def purpose_change_check(*, purpose: Purpose, categories, recipients) -> None:
    """
    Raise ValidationError (``{field: [message]}``) if saving ``purpose`` with ``categories``
    and ``recipients`` would publish a new notice that no approval in force covers: a change
    that widens what the board approved needs a new approval (an amendment). Nothing is saved;
    forms call it to show the refusal on their fields.
    """
    if purpose.pk is None or purpose.status != Purpose.Status.OPEN:
        return
    terms = notices.purpose_terms(purpose, categories=categories, recipients=recipients)
    current = purpose.current_notice
    if current is not None and notices.terms_equal(current.terms, terms):
        return
    approvals.require(purpose, terms)


@transaction.atomic
def notice_version_create(*, actor, purpose: Purpose) -> Notice:
    """
    Freeze the purpose's present terms into a new notice version and make it current, under
    the board's approval in force that covers them (``consent.approvals``): a change that
    widens what was approved is refused until a new approval (an amendment) covers it; one
    that narrows or only rewords is published and recorded with the names of the terms that
    changed. Consents given under earlier versions no longer count: residents are asked again.
    """
    purpose = Purpose.objects.select_for_update().select_related("consortium").get(pk=purpose.pk)
    if purpose.status == Purpose.Status.CLOSED:
        raise ValidationError(_("A closed purpose gets no new notice."))
    last = purpose.notices.order_by("-version").first()
    version = last.version + 1 if last else 1
    terms = notices.purpose_terms(purpose)
    approval = approvals.require(purpose, terms)
    text_ja = notices.notice_text(purpose=purpose, terms=terms, language="ja", approval=approval)
    text_en = notices.notice_text(purpose=purpose, terms=terms, language="en", approval=approval)
    notice = Notice(
        purpose=purpose,
        version=version,
        text_ja=text_ja,
        text_en=text_en,
        terms=terms,
        sha256=notices.notice_sha256(
            purpose_id=purpose.pk, version=version, text_ja=text_ja, text_en=text_en, terms=terms
        ),
        approval_ticket=approval.ticket_id if approval else None,
        approval_decided_on=approval.decided_on if approval else None,
    )
    notice.full_clean()
    notice.save()
    purpose.current_notice = notice
    purpose.save(update_fields=["current_notice"])
    record(
        actor=actor,
        action="notice.published",
        obj=notice,
        consortium=purpose.consortium_id,
        payload={
            "purpose": purpose.pk,
            "version": version,
            "sha256": notice.sha256,
            "ticket_id": notice.approval_ticket,
            "previous_version": last.version if last else None,
            # Which terms changed since the previous version (names only, never texts).
            "changed": notices.changed_terms(last.terms if last else None, terms),
        },
    )
    return notice


@transaction.atomic
def notice_easy_text_set(*, actor, notice: Notice, text: str) -> Notice:
    """
    Set (or clear, with "") the notice version's text in やさしい日本語, which residents reading
    the portal in Easy Japanese see instead of the ordinary Japanese notice. The notice's terms
    and SHA-256 do not change: the Easy text is a reading aid, the Japanese text binds.
    """
    notice = Notice.objects.select_for_update().select_related("purpose").get(pk=notice.pk)
    text = (text or "").strip().replace("\r\n", "\n")
    if text == notice.text_ja_easy:
        return notice
    notice.text_ja_easy = text
    notice.full_clean()
    notice.save(update_fields=["text_ja_easy"])
    record(
        actor=actor,
        action="notice.easy_text_set",
        obj=notice,
        consortium=notice.purpose.consortium_id,
        payload={
            "purpose": notice.purpose_id,
            "version": notice.version,
            # The text itself is public (the portal shows it); its hash says which one it was.
            "sha256": hashlib.sha256(text.encode()).hexdigest() if text else None,
        },
    )
    return notice


@transaction.atomic
def purpose_publish(*, actor, purpose: Purpose) -> Purpose:
    """Open a draft purpose for consent, publishing its first (or a renewed) notice."""
    purpose = Purpose.objects.select_for_update().get(pk=purpose.pk)
    if purpose.status != Purpose.Status.DRAFT:
        raise ValidationError(_("Only a draft purpose can be opened for consent."))
    if not purpose.categories.exists():
        raise ValidationError(_("Choose at least one data category before opening the purpose."))
    publication_checks.check_all(purpose)
    _renew_notice_if_changed(actor=actor, purpose=purpose)
    purpose.refresh_from_db(fields=["current_notice"])
    purpose.status = Purpose.Status.OPEN
    purpose.save(update_fields=["status"])
    record(
        actor=actor,
        action="purpose.published",
        obj=purpose,
        consortium=purpose.consortium_id,
        payload={"code": purpose.code, "notice_version": purpose.current_notice.version},
    )
    return purpose


@transaction.atomic
def purpose_close(*, actor, purpose: Purpose) -> Purpose:
    """Close a purpose: it asks for no more consent and its data may no longer be used."""
    purpose = Purpose.objects.select_for_update().get(pk=purpose.pk)
    if purpose.status != Purpose.Status.OPEN:
        raise ValidationError(_("Only a purpose open for consent can be closed."))
    purpose.status = Purpose.Status.CLOSED
    purpose.save(update_fields=["status"])
    record(
        actor=actor,
        action="purpose.closed",
        obj=purpose,
        consortium=purpose.consortium_id,
        payload={"code": purpose.code},
    )
    closed = purpose
    transaction.on_commit(lambda: purpose_closed.send(sender=Purpose, purpose=closed))
    return purpose


# --- Consent decisions -----------------------------------------------------------------------


def _latest(resident: Resident, purpose: Purpose) -> ConsentRecord | None:
    return ConsentRecord.objects.filter(resident=resident, purpose=purpose).order_by("-id").first()


def _decide(
    *,
    actor,
    resident: Resident,
    purpose: Purpose,
    decision: str,
    method: str,
    recorded_by=None,
    paper_reference: str = "",
    representation: Representation | None = None,
    now=None,
) -> ConsentRecord:
    # Decisions of one resident are serialised, so that a double tap records one decision.
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    purpose = Purpose.objects.select_related("current_notice").get(pk=purpose.pk)
    if resident.is_erased:
        raise ValidationError(_("This resident's account has been deleted."))
    acted_by_id = None
    if representation is not None:
        representation = Representation.objects.get(pk=representation.pk)
        if representation.represented_id != resident.pk or not representation.is_in_force(
            timezone.localdate(now) if now else None
        ):
            raise ValidationError(_("You can no longer decide for this person."))
        if purpose.own_decision_only:
            raise ValidationError(
                _(
                    "Only the person can decide on this purpose: the data ethics board asked "
                    "for their own decision. A representative cannot decide for them."
                )
            )
        acted_by_id = representation.representative_id
    if not resident.consortia.filter(pk=purpose.consortium_id).exists():
        raise ValidationError(_("This purpose belongs to another consortium."))
    if decision == ConsentRecord.Decision.GIVEN and purpose.status != Purpose.Status.OPEN:
        raise ValidationError(_("This purpose is not open for consent."))
    if purpose.current_notice is None:
        raise ValidationError(_("This purpose has no notice yet."))
    now = now or timezone.now()
    latest = _latest(resident, purpose)
    # Repeating the decision in force changes nothing (a resubmitted form, a double tap); the
    # same decision by someone else (the person confirming what their representative decided)
    # is a new record.
    if latest is not None and latest.decision == decision and latest.acted_by_id == acted_by_id:
        same_notice = latest.notice_id == purpose.current_notice_id
        unexpired = latest.expires_at is None or latest.expires_at > now
        if decision == ConsentRecord.Decision.WITHDRAWN or (same_notice and unexpired):
            return latest
    expires_at = None
    if decision == ConsentRecord.Decision.GIVEN and purpose.consent_valid_days:
        expires_at = now + timedelta(days=purpose.consent_valid_days)
    consent = ConsentRecord(
        resident=resident,
        purpose=purpose,
        notice=purpose.current_notice,
        decision=decision,
        decided_at=now,
        method=method,
        recorded_by=recorded_by,
        paper_reference=paper_reference,
        expires_at=expires_at,
        acted_by_id=acted_by_id,
        representation=representation,
        relationship=representation.relationship if representation else "",
    )
    consent.full_clean()
    consent.save(force_insert=True)
    ConsentState.objects.update_or_create(
        purpose=purpose,
        resident=resident,
        defaults={
            "record": consent,
            "decision": decision,
            "notice": purpose.current_notice,
            "expires_at": expires_at,
        },
    )
    record(
        actor=actor,
        action=f"consent.{decision}",
        obj=consent,
        consortium=purpose.consortium_id,
        payload=decision_payload(consent, purpose.current_notice),
    )
    if (
        decision == ConsentRecord.Decision.WITHDRAWN
        and latest is not None
        and latest.decision == ConsentRecord.Decision.GIVEN
    ):
        # The services that received the resident's data under it hear of it (grants).
        resident_id, purpose_id, record_id = resident.pk, purpose.pk, consent.pk
        transaction.on_commit(
            lambda: consent_withdrawn.send(
                sender=ConsentRecord,
                resident_id=resident_id,
                purpose_id=purpose_id,
                record_id=record_id,
            )
        )
    return consent


def decision_payload(consent: ConsentRecord, notice: Notice) -> dict:
    """Return the audit payload of a decision: ids and facts, the resident by pseudonym only."""
    payload = {
        "resident": consent.resident_id,
        "purpose": consent.purpose_id,
        "notice_version": notice.version,
        "notice_sha256": notice.sha256,
        "method": consent.method,
        "paper_reference": consent.paper_reference or None,
        "receipt": str(consent.receipt_id),
        "decided_at": format_time(consent.decided_at),
        "expires_at": format_time(consent.expires_at) if consent.expires_at else None,
    }
    if consent.acted_by_id:
        # "By representative X for Y, relationship R": pseudonymous ids only.
        payload["acted_by"] = consent.acted_by_id
        payload["representation"] = consent.representation_id
        payload["relationship"] = consent.relationship
    return payload


@transaction.atomic
def consent_give(*, actor, resident: Resident, purpose: Purpose, now=None) -> ConsentRecord:
    """Record the resident's consent to ``purpose`` under its current notice (portal)."""
    return _decide(
        actor=actor,
        resident=resident,
        purpose=purpose,
        decision=ConsentRecord.Decision.GIVEN,
        method=ConsentRecord.Method.PORTAL,
        now=now,
    )


@transaction.atomic
def consent_withdraw(*, actor, resident: Resident, purpose: Purpose, now=None) -> ConsentRecord:
    """Record that the resident withdraws (or declines) consent to ``purpose`` (portal)."""
    return _decide(
        actor=actor,
        resident=resident,
        purpose=purpose,
        decision=ConsentRecord.Decision.WITHDRAWN,
        method=ConsentRecord.Method.PORTAL,
        now=now,
    )


@transaction.atomic
def consent_decide_at_sign_in(
    *, actor, resident: Resident, purpose: Purpose, agree: bool, now=None
) -> ConsentRecord:
    """
    Record the resident's choice on ``purpose`` made on the authorization page of a member
    service's sign-in (method ``oidc``): a consent record with its receipt like any other.
    """
    return _decide(
        actor=actor,
        resident=resident,
        purpose=purpose,
        decision=ConsentRecord.Decision.GIVEN if agree else ConsentRecord.Decision.WITHDRAWN,
        method=ConsentRecord.Method.OIDC,
        now=now,
    )


@transaction.atomic
def consent_record_paper(
    *,
    actor,
    resident: Resident,
    purpose: Purpose,
    decision: str,
    paper_reference: str,
    now=None,
) -> ConsentRecord:
    """
    Record a decision a resident made on a paper form at the secretariat; ``actor`` is the
    staff member who records it, named on the record and in the audit entry.
    """
    if getattr(actor, "pk", None) is None or not actor.is_staff:
        raise ValidationError(_("A paper decision is recorded by a member of the secretariat."))
    paper_reference = (paper_reference or "").strip()
    if not paper_reference:
        raise ValidationError({"paper_reference": _("Enter the reference of the paper form.")})
    if decision not in ConsentRecord.Decision.values:
        raise ValidationError({"decision": _("Choose whether consent was given or withdrawn.")})
    return _decide(
        actor=actor,
        resident=resident,
        purpose=purpose,
        decision=decision,
        method=ConsentRecord.Method.PAPER,
        recorded_by=actor,
        paper_reference=paper_reference,
        now=now,
    )


@transaction.atomic
def consent_decide_for(
    *, actor, representation: Representation, purpose: Purpose, agree: bool, now=None
) -> ConsentRecord:
    """
    Record the decision a representative makes in the portal for the person they represent
    (``actor`` is the representative): refused when the representation is not in force or
    the board asked for the person's own decision on ``purpose``.
    """
    if representation.represented_id is None:
        raise ValidationError(_("You can no longer decide for this person."))
    return _decide(
        actor=actor,
        resident=representation.represented,
        purpose=purpose,
        decision=ConsentRecord.Decision.GIVEN if agree else ConsentRecord.Decision.WITHDRAWN,
        method=ConsentRecord.Method.PORTAL,
        representation=representation,
        now=now,
    )


@transaction.atomic
def consent_record_counter(
    *, actor, resident: Resident, purpose: Purpose, decision: str, now=None
) -> ConsentRecord:
    """
    Record a decision a resident made at the secretariat's counter with a clerk's help;
    ``actor`` is the clerk, named on the record (channel ``counter``) and in the audit entry.
    """
    if getattr(actor, "pk", None) is None or not actor.is_staff:
        raise ValidationError(_("A counter decision is recorded by a member of the secretariat."))
    if decision not in ConsentRecord.Decision.values:
        raise ValidationError({"decision": _("Choose whether consent was given or withdrawn.")})
    return _decide(
        actor=actor,
        resident=resident,
        purpose=purpose,
        decision=decision,
        method=ConsentRecord.Method.COUNTER,
        recorded_by=actor,
        now=now,
    )


@transaction.atomic
def consent_confirm(*, actor, resident: Resident, purpose: Purpose, now=None) -> ConsentRecord:
    """
    Record, as the resident's own, the decision in force that a representative made for them
    (after the representation ended): the same decision, now by the resident themselves.
    """
    latest = _latest(resident, purpose)
    if latest is None or latest.acted_by_id is None:
        raise ValidationError(_("There is no decision made for you on this purpose to confirm."))
    return _decide(
        actor=actor,
        resident=resident,
        purpose=purpose,
        decision=latest.decision,
        method=ConsentRecord.Method.PORTAL,
        now=now,
    )


def _withdraw_all(*, actor, resident: Resident) -> list[ConsentRecord]:
    given = (
        ConsentRecord.objects.filter(resident=resident)
        .order_by("purpose_id", "-id")
        .values_list("purpose_id", "decision")
    )
    latest: dict[int, str] = {}
    for purpose_id, decision in given:
        latest.setdefault(purpose_id, decision)
    withdrawn = []
    for purpose in Purpose.objects.filter(
        pk__in=[pk for pk, decision in latest.items() if decision == ConsentRecord.Decision.GIVEN]
    ):
        withdrawn.append(
            _decide(
                actor=actor,
                resident=resident,
                purpose=purpose,
                decision=ConsentRecord.Decision.WITHDRAWN,
                method=ConsentRecord.Method.PORTAL,
            )
        )
    return withdrawn


@transaction.atomic
def consent_withdraw_all(*, actor, resident: Resident) -> list[ConsentRecord]:
    """Withdraw every consent the resident has given; return the new records."""
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    return _withdraw_all(actor=actor, resident=resident)


# --- Data accesses (written by the grants API) -------------------------------------------------


def data_access_batch_digest(*, grant_jti: str, accessed_at, pseudonymous_ids) -> str:
    """
    Return the hex SHA-256 that commits to one batch of accesses: the UTF-8 bytes of the grant
    id, the time (audit time format) and the sorted pseudonymous ids, each line ending in "\\n".
    """
    lines = [grant_jti, format_time(accessed_at), *sorted(pseudonymous_ids)]
    return hashlib.sha256("".join(f"{line}\n" for line in lines).encode()).hexdigest()


@transaction.atomic
def data_access_record_batch(
    *,
    actor,
    purpose: Purpose,
    organization,
    service_name: str,
    grant_jti: str,
    pseudonymous_ids,
    accessed_at=None,
) -> str:
    """
    Record that ``service_name`` of ``organization`` received the data of these residents under
    the grant ``grant_jti``: one batch row and one audit entry that commits to it. Return the
    batch's SHA-256 (see ``data_access_batch_digest``); the empty batch writes nothing.

    The per-resident rows of "who used my data" are copied from the batch after the commit
    (``data_access_expand``, queued here and scheduled every minute), so that the API call does
    not wait for thousands of indexed rows (bench/grants_check.py).
    """
    ids = sorted(set(pseudonymous_ids))
    accessed_at = accessed_at or timezone.now()
    digest = data_access_batch_digest(
        grant_jti=grant_jti, accessed_at=accessed_at, pseudonymous_ids=ids
    )
    if not ids:
        return digest
    DataAccessBatch.objects.create(
        purpose=purpose,
        organization=organization,
        service_name=service_name,
        grant_jti=grant_jti,
        batch_sha256=digest,
        accessed_at=accessed_at,
        resident_ids="\n".join(ids),
        residents=len(ids),
    )
    record(
        actor=actor,
        action="data.accessed",
        object_type="grants.grant",
        object_id=grant_jti,
        consortium=purpose.consortium_id,
        payload={
            "purpose": purpose.pk,
            "organization": organization.pk,
            "residents": len(ids),
            "batch_sha256": digest,
            "time": format_time(accessed_at),
        },
    )
    transaction.on_commit(_queue_expansion)
    return digest


def _queue_expansion() -> None:
    from django_q.tasks import async_task

    try:
        async_task("consent.tasks.data_access_expand", task_name="consent: copy data accesses")
    except Exception:  # noqa: BLE001 - the schedule copies it within a minute anyway
        logger.warning("could not queue the copy of data accesses", exc_info=True)


def data_access_expand(*, limit: int | None = None, progress=None) -> int:
    """
    Copy batches of accesses not yet copied into one ``DataAccess`` row per resident, oldest
    first, each batch in its own transaction; return the number of batches copied.

    Safe to run in several workers at once (a batch is taken under a row lock, skipping locked
    ones). It writes no audit entry: the batch's own entry already commits to every row.
    """
    done = 0
    while limit is None or done < limit:
        with transaction.atomic():
            batch = (
                DataAccessBatch.objects.select_for_update(skip_locked=True)
                .filter(expanded_at__isnull=True)
                .order_by("id")
                .first()
            )
            if batch is None:
                break
            _copy_batch(batch)
            batch.expanded_at = timezone.now()
            batch.save(update_fields=["expanded_at"])
        done += 1
        if progress:
            progress(1)
    return done


def _copy_batch(batch: DataAccessBatch) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {DataAccess._meta.db_table} (resident_id, purpose_id, "
                "organization_id, service_name, grant_jti, batch_sha256, accessed_at) "
                "SELECT unnest(string_to_array(resident_ids, E'\\n')), purpose_id, "
                "organization_id, service_name, grant_jti, batch_sha256, accessed_at "
                f"FROM {DataAccessBatch._meta.db_table} WHERE id = %s",
                [batch.pk],
            )
        return
    DataAccess.objects.bulk_create([batch.access_of(pid) for pid in batch.ids()], batch_size=2000)


# --- Pairwise subject identifiers ---------------------------------------------------------------


@transaction.atomic
def pairwise_subject_issue(*, actor, resident: Resident, sector: str) -> PairwiseSubject:
    """
    Return the resident's pairwise subject at ``sector`` (OpenID Connect Core §8.1), storing it
    the first time so that the sector's services can name the resident by it afterwards. The
    audit entry names neither the resident nor the subject: the public log must not link them.
    """
    found = PairwiseSubject.objects.filter(resident=resident, sector=sector).first()
    if found is not None:
        return found
    subject = PairwiseSubject(
        resident=resident,
        sector=sector,
        subject=pairwise.subject_for(sector, resident.pseudonymous_id),
    )
    subject.full_clean()
    subject.save()
    record(
        actor=actor,
        action="resident.pairwise_subject_issued",
        obj=subject,
        payload={"sector": sector},
    )
    return subject


@transaction.atomic
def pairwise_subjects_issue_many(*, resident_ids: list[str], sector: str) -> dict[str, str]:
    """
    Return ``{pseudonymous id: pairwise subject at sector}`` for many residents at once, as
    ``pairwise_subject_issue`` does for one: the subjects not yet stored are stored, each with
    its own audit entry naming the sector only.
    """
    found = dict(
        PairwiseSubject.objects.filter(sector=sector, resident_id__in=resident_ids).values_list(
            "resident_id", "subject"
        )
    )
    missing = [
        PairwiseSubject(
            resident_id=resident_id,
            sector=sector,
            subject=pairwise.subject_for(sector, resident_id),
        )
        for resident_id in dict.fromkeys(resident_ids)
        if resident_id not in found
    ]
    if missing:
        PairwiseSubject.objects.bulk_create(missing)
        stored = PairwiseSubject.objects.filter(
            sector=sector, resident_id__in=[subject.resident_id for subject in missing]
        ).values_list("pk", "resident_id", "subject")
        specs = []
        for pk, resident_id, subject in stored:
            found[resident_id] = subject
            specs.append(
                EntrySpec(
                    action="resident.pairwise_subject_issued",
                    object_type=PairwiseSubject._meta.label_lower,
                    object_id=str(pk),
                    payload={"sector": sector},
                )
            )
        record_many(specs)
    return found


# --- Notices of withdrawal to recipients (written by the grants app) ---------------------------


@transaction.atomic
def recipient_notices_create_many(
    *, purpose: Purpose, reason: str, notices: list[dict], at, grant_jti: str = ""
) -> list[RecipientNotice]:
    """
    Store a chunk of a fan-out's notices (signed Security Event Tokens) at once, with one audit
    entry for the chunk: its ``batch`` id (stored on every notice of the chunk), how many, and
    the SHA-256 of their event ids (sorted, one a line), so that an auditor finds exactly the
    notices it covers and can check them. ``notices`` are dicts of ``resident_id``,
    ``organization_id``, ``service_id``, ``service_name``, ``subject``, ``jti``, ``token`` and
    ``due_at``. A notice that already exists (the purpose's closing,
    or the grant's end, told to that resident and service) makes the whole chunk fail with an
    IntegrityError: callers leave out what was told.
    """
    if not notices:
        return []
    batch = uuid.uuid4()
    rows = [
        RecipientNotice(
            batch=batch,
            purpose=purpose,
            reason=reason,
            grant_jti=grant_jti,
            created_at=at,
            due_at=notice["due_at"],
            resident_id=notice["resident_id"],
            organization_id=notice["organization_id"],
            service_id=notice["service_id"],
            service_name=notice["service_name"],
            subject=notice["subject"],
            jti=notice["jti"],
            token=notice["token"],
        )
        for notice in notices
    ]
    created = RecipientNotice.objects.bulk_create(rows)
    jtis = sorted(row.jti for row in rows)
    record(
        actor=None,
        action="consent.recipient_notices_created",
        object_type=RecipientNotice._meta.label_lower,
        object_id=str(batch),
        consortium=purpose.consortium_id,
        payload={
            "batch": str(batch),
            "purpose": purpose.pk,
            "reason": reason,
            "grant": grant_jti or None,
            "count": len(rows),
            "residents": len({row.resident_id for row in rows}),
            "services": sorted({row.service_id for row in rows}),
            "jtis_sha256": hashlib.sha256("\n".join(jtis).encode()).hexdigest(),
        },
    )
    return created


@transaction.atomic
def recipient_notice_create(
    *,
    resident_id: str,
    purpose: Purpose,
    organization_id: int,
    service_id: int,
    service_name: str,
    subject: str,
    reason: str,
    jti: str,
    token: str,
    at,
    due_at,
    withdrawal_id: int | None = None,
    grant_jti: str = "",
) -> RecipientNotice:
    """
    Store the withdrawal notice (a signed Security Event Token) to one recipient service, of
    the withdrawal ``withdrawal_id`` (the consent record; none for a closed purpose), or of the
    end of the grant ``grant_jti`` (reason ``grant_ended``).
    """
    notice = RecipientNotice(
        jti=jti,
        withdrawal_id=withdrawal_id,
        grant_jti=grant_jti,
        resident_id=resident_id,
        purpose=purpose,
        organization_id=organization_id,
        service_id=service_id,
        service_name=service_name,
        subject=subject,
        reason=reason,
        token=token,
        created_at=at,
        due_at=due_at,
    )
    notice.full_clean(validate_unique=False)
    notice.save(force_insert=True)
    record(
        actor=None,
        action="consent.recipient_notice_created",
        obj=notice,
        consortium=purpose.consortium_id,
        payload={
            "resident": resident_id,
            "purpose": purpose.pk,
            "service": service_id,
            "jti": jti,
            "reason": reason,
        },
    )
    return notice


@transaction.atomic
def recipient_notices_delivered(
    *, actor, service_id: int, jtis: list[str], at, acknowledged: bool
) -> int:
    """
    Store that the service received these notices (by push or poll) and, if ``acknowledged``,
    that it acknowledged them (RFC 8935 §2.2 202, RFC 8936 ``ack``); return how many changed.
    """
    notices = RecipientNotice.objects.filter(service_id=service_id, jti__in=jtis)
    changed = notices.filter(delivered_at__isnull=True).update(delivered_at=at)
    if acknowledged:
        changed = notices.filter(acknowledged_at__isnull=True).update(acknowledged_at=at)
        if changed:
            record(
                actor=actor,
                action="consent.recipient_notice_acknowledged",
                obj=None,
                payload={"service": service_id, "jtis": sorted(jtis), "count": changed},
            )
    return changed


@transaction.atomic
def recipient_notice_confirm(
    *, actor, service_id: int, jti: str, outcome: str, retained_until=None, at=None
) -> RecipientNotice:
    """Store what the service did with the resident's data (deleted, anonymised, retained)."""
    notice = RecipientNotice.objects.select_for_update().get(service_id=service_id, jti=jti)
    if outcome not in RecipientNotice.Outcome.values:
        raise ValidationError(
            {"outcome": _("Say whether the data was deleted, anonymised or kept.")}
        )
    if (outcome == RecipientNotice.Outcome.RETAINED) != (retained_until is not None):
        raise ValidationError(
            {
                "retained_until": _(
                    "Give the date until which the law obliges you to keep the data, and only "
                    "when you keep it."
                )
            }
        )
    at = at or timezone.now()
    notice.outcome, notice.retained_until, notice.confirmed_at = outcome, retained_until, at
    if notice.acknowledged_at is None:
        notice.acknowledged_at = at
    if notice.delivered_at is None:
        notice.delivered_at = at
    notice.save(
        update_fields=[
            "outcome",
            "retained_until",
            "confirmed_at",
            "acknowledged_at",
            "delivered_at",
        ]
    )
    record(
        actor=actor,
        action="consent.recipient_notice_confirmed",
        obj=notice,
        consortium=notice.purpose.consortium_id,
        payload={
            "resident": notice.resident_id,
            "jti": jti,
            "outcome": outcome,
            "retained_until": retained_until.isoformat() if retained_until else None,
        },
    )
    return notice


@transaction.atomic
def recipient_notices_push_attempted(*, delivered: list[int], failed: list[int], at) -> None:
    """
    Count one push attempt on each of many notices at once (a chunk pushed over one
    connection); a delivered push (202) is received and acknowledged.
    """
    from django.db.models import F
    from django.db.models.functions import Coalesce

    if failed:
        RecipientNotice.objects.filter(pk__in=failed).update(push_attempts=F("push_attempts") + 1)
    if delivered:
        RecipientNotice.objects.filter(pk__in=delivered).update(
            push_attempts=F("push_attempts") + 1,
            delivered_at=Coalesce("delivered_at", at),
            acknowledged_at=Coalesce("acknowledged_at", at),
        )


@transaction.atomic
def recipient_notice_push_attempted(*, notice_id: int, delivered: bool, at) -> None:
    """Count one push attempt; a delivered push (202) is received and acknowledged."""
    notice = RecipientNotice.objects.select_for_update().get(pk=notice_id)
    notice.push_attempts += 1
    fields = ["push_attempts"]
    if delivered:
        notice.delivered_at = notice.delivered_at or at
        notice.acknowledged_at = notice.acknowledged_at or at
        fields += ["delivered_at", "acknowledged_at"]
    notice.save(update_fields=fields)
