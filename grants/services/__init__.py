"""
Every write of the grants app: services and their credentials, grants and their status, and
the consent check that records each release of data. Each function is atomic, takes
keyword-only arguments with the actor first, and writes its audit entry.
"""

import datetime
import logging
import secrets
import uuid
from typing import TYPE_CHECKING

import jwt
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import keys
from audit import selectors as audit_selectors
from audit.chain import format_time
from audit.services import Actor, record, sign_jwt, signing_key_revoke
from consent import selectors as consent_selectors
from consent import services as consent_services
from consent.models import PSEUDONYMOUS_ID_LENGTH

from .. import selectors
from ..models import (
    AutoIssuance,
    Grant,
    GrantEvent,
    IssuanceRule,
    Service,
    ServiceCredential,
    WebhookDelivery,
    hash_secret,
    issuer_for,
)

if TYPE_CHECKING:
    from audit.models import SigningKey

GRANT_TYP = "grant+jwt"
DEFAULT_OVERLAP = datetime.timedelta(hours=24)
MAX_CHECK = 10_000

logger = logging.getLogger(__name__)


# --- Services and credentials ----------------------------------------------------------------


@transaction.atomic
def service_register(
    *, actor, consortium, organization, name: str, webhook_url: str = "", events_url: str = ""
) -> Service:
    """Register a member organisation's service in ``consortium``."""
    from governance import selectors as governance_selectors

    members = governance_selectors.members_in_good_standing(consortium, timezone.localdate())
    if not members.filter(organization=organization).exists():
        raise ValidationError(
            {"organization": _("Only a current member organisation can register a service.")}
        )
    service = Service(
        consortium=consortium,
        organization=organization,
        name=name,
        webhook_url=webhook_url,
        events_url=events_url,
    )
    service.full_clean()
    service.save()
    record(
        actor=actor,
        action="service.registered",
        obj=service,
        consortium=consortium,
        payload={"organization": organization.pk},
    )
    return service


@transaction.atomic
def service_update(
    *,
    actor,
    service: Service,
    name: str,
    webhook_url: str,
    is_active: bool,
    events_url: str | None = None,
):
    """
    Change a service's name, webhook URL, security event push URL (None: unchanged) or
    whether it may call the API at all.
    """
    from governance import selectors as governance_selectors

    service = Service.objects.select_for_update().get(pk=service.pk)
    if is_active and not service.is_active:
        members = governance_selectors.members_in_good_standing(
            service.consortium, timezone.localdate()
        )
        if not members.filter(organization_id=service.organization_id).exists():
            raise ValidationError(
                {
                    "is_active": _(
                        "The organisation is no longer a member in good standing: its service "
                        "stays inactive."
                    )
                }
            )
    if events_url is None:
        events_url = service.events_url
    changed = sorted(
        field
        for field, value in (
            ("name", name),
            ("webhook_url", webhook_url),
            ("events_url", events_url),
            ("is_active", is_active),
        )
        if getattr(service, field) != value
    )
    service.name, service.webhook_url, service.is_active = name, webhook_url, is_active
    service.events_url = events_url
    service.full_clean()
    service.save()
    if changed:
        record(
            actor=actor,
            action="service.updated",
            obj=service,
            consortium=service.consortium_id,
            payload={"changed": changed, "is_active": is_active},
        )
    return service


@transaction.atomic
def credential_issue(
    *, actor, service: Service, overlap: datetime.timedelta = DEFAULT_OVERLAP
) -> tuple[ServiceCredential, str]:
    """
    Issue a new client credential and return it with its secret, which is shown only now.
    Credentials already valid keep working for ``overlap`` (zero ends them at once), so that a
    service can roll the new secret out without downtime.
    """
    now = timezone.now()
    secret = secrets.token_urlsafe(32)  # 256 bits
    previous = list(service.credentials.select_for_update().filter(revoked_at__isnull=True))
    ended = []
    for old in previous:
        if old.expires_at is None or old.expires_at > now + overlap:
            old.expires_at = now + overlap
            old.save(update_fields=["expires_at"])
            ended.append(old.client_id)
    credential = ServiceCredential(service=service, secret_sha256=hash_secret(secret))
    credential.save()
    record(
        actor=actor,
        action="credential.issued",
        obj=credential,
        consortium=service.consortium_id,
        payload={
            "service": service.pk,
            "client_id": credential.client_id,
            "previous_until": format_time(now + overlap) if ended else None,
            "previous": ended,
        },
    )
    return credential, secret


@transaction.atomic
def credential_revoke(*, actor, credential: ServiceCredential) -> ServiceCredential:
    """End a credential now (a leaked secret)."""
    credential = ServiceCredential.objects.select_for_update().get(pk=credential.pk)
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["revoked_at"])
        record(
            actor=actor,
            action="credential.revoked",
            obj=credential,
            consortium=credential.service.consortium_id,
            payload={"service": credential.service_id, "client_id": credential.client_id},
        )
    return credential


# --- Grants ----------------------------------------------------------------------------------


def _term_bounds(ticket) -> tuple:
    """Return the approval's term as aware datetimes: start of its first day, end of its last."""
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(ticket.valid_from, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(
        ticket.valid_until + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )
    return start, end


@transaction.atomic
def grant_issue(
    *,
    actor,
    service: Service,
    ticket,
    expires_at=None,
    not_before=None,
    algorithm: str = keys.EDDSA,
) -> Grant:
    """
    Issue a grant to ``service`` for its organisation's approved review ticket: sign it with the
    platform's active key for ``algorithm`` and store it active. The grant's purpose, data
    categories and conditions are the ticket's; its audience is the purpose's controller and the
    ticket's recipients (the data holders); it ends with the approval's term at the latest.
    """
    from review import selectors as review_selectors
    from review.models import ReviewTicket

    now = timezone.now().replace(microsecond=0)
    try:
        ticket = review_selectors.ticket_approved(
            getattr(ticket, "pk", ticket),
            requester=service.organization,
            day=timezone.localdate(),
        )
    except ReviewTicket.DoesNotExist:
        raise ValidationError(
            {
                "ticket": _(
                    "A grant needs a review ticket of this service's organisation that is "
                    "approved and within its term."
                )
            }
        ) from None
    if ticket.consortium_id != service.consortium_id:
        raise ValidationError({"ticket": _("The ticket belongs to another consortium.")})
    if ticket.purpose_id is None:
        raise ValidationError(
            {
                "ticket": _(
                    "The ticket proposes a new purpose: the secretariat creates it from the "
                    "approved ticket first."
                )
            }
        )
    purpose = ticket.purpose
    term_start, term_end = _term_bounds(ticket)
    not_before = max((not_before or now).replace(microsecond=0), term_start)
    expires_at = (expires_at or term_end).replace(microsecond=0)
    if expires_at > term_end:
        raise ValidationError(
            {
                "expires_at": _("A grant cannot outlast the approval's term (until %(day)s).")
                % {"day": ticket.valid_until.isoformat()}
            }
        )
    if expires_at <= max(now, not_before):
        raise ValidationError({"expires_at": _("A grant must expire after it becomes valid.")})
    if algorithm not in keys.ALGORITHMS:
        raise ValidationError({"algorithm": _("Unsupported signing algorithm.")})
    audience = [purpose.controller, *ticket.recipients.all()]
    conditions = [line.strip() for line in ticket.conditions.splitlines() if line.strip()]
    ticket_id = ticket.pk
    categories = sorted(category.code for category in ticket.categories.all())
    aud = list(dict.fromkeys(f"organization:{org.pk}" for org in audience))
    jti = str(uuid.uuid4())
    claims = {
        "iss": issuer_for(service.consortium),
        "sub": service.subject,
        "aud": aud,
        "iat": int(now.timestamp()),
        "nbf": int(not_before.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": jti,
        "purpose": purpose.pk,
        "purpose_code": purpose.code,
        "data_categories": categories,
        "ticket": ticket_id,
        "conditions": conditions,
    }
    token = sign_jwt(claims, typ=GRANT_TYP, algorithm=algorithm)
    kid = jwt.get_unverified_header(token)["kid"]
    grant = Grant(
        jti=jti,
        consortium=service.consortium,
        service=service,
        purpose=purpose,
        ticket_id=ticket_id,
        audience=aud,
        categories=categories,
        conditions=claims["conditions"],
        issued_at=now,
        not_before=not_before,
        expires_at=expires_at,
        kid=kid,
        algorithm=algorithm,
        token=token,
    )
    grant.full_clean()
    grant.save()
    record(
        actor=actor,
        action="grant.issued",
        obj=grant,
        consortium=service.consortium_id,
        payload={
            "jti": jti,
            "service": service.pk,
            "purpose": purpose.pk,
            "ticket": ticket_id,
            "kid": kid,
            "nbf": format_time(not_before),
            "exp": format_time(expires_at),
        },
    )
    return grant


def _change_status(
    *, actor, grant: Grant, status: str, reason: str, action: str, only_from: tuple = ()
) -> Grant:
    grant = Grant.objects.select_related("service").select_for_update(of=("self",)).get(pk=grant.pk)
    if grant.status in (Grant.Status.REVOKED, Grant.Status.EXPIRED):
        raise ValidationError(_("A revoked or expired grant cannot change any more."))
    if only_from and grant.status not in only_from:
        raise ValidationError(_("Only a suspended grant can be reinstated."))
    if grant.status == status:
        return grant
    now = timezone.now()
    grant.status = status
    grant.status_reason = reason
    grant.status_changed_at = now
    grant.save(update_fields=["status", "status_reason", "status_changed_at"])
    event = _announce(grant, status=status, reason=reason, at=now)
    record(
        actor=actor,
        action=action,
        obj=grant,
        consortium=grant.consortium_id,
        payload={"jti": grant.jti, "reason": reason or None, "event": event.pk},
    )
    return grant


def _announce(grant: Grant, *, status: str, reason: str, at) -> GrantEvent:
    """
    Add ``grant``'s status change to the revocation feed, and push it to its service's webhook
    once the transaction commits.
    """
    from .. import tasks

    event = GrantEvent.objects.create(grant=grant, status=status, reason=reason, at=at)
    if grant.service.webhook_url:
        transaction.on_commit(lambda: tasks.enqueue_delivery(event.pk))
    if status in (Grant.Status.REVOKED, Grant.Status.EXPIRED) and (
        reason != Grant.Reason.PURPOSE_CLOSED
    ):
        # The service hears, per resident whose data it received under the grant, that it may
        # hold it no more (a closed purpose is told per resident by its own notices).
        grant_id = grant.pk
        transaction.on_commit(lambda: tasks.queue("grants.tasks.notify_grant_ended", grant_id))
    return event


@transaction.atomic
def grant_suspend(*, actor, grant: Grant, reason: str = Grant.Reason.TICKET_SUSPENDED) -> Grant:
    """Suspend an active grant (its ticket is suspended): no data flows until reinstated."""
    return _change_status(
        actor=actor,
        grant=grant,
        status=Grant.Status.SUSPENDED,
        reason=reason,
        action="grant.suspended",
    )


@transaction.atomic
def grant_reinstate(*, actor, grant: Grant) -> Grant:
    """Make a suspended grant active again."""
    return _change_status(
        actor=actor,
        grant=grant,
        status=Grant.Status.ACTIVE,
        reason="",
        action="grant.reinstated",
        only_from=(Grant.Status.SUSPENDED,),
    )


@transaction.atomic
def grant_revoke(*, actor, grant: Grant, reason: str) -> Grant:
    """Revoke a grant for good, with one of ``Grant.Reason``."""
    if reason not in Grant.Reason.values:
        raise ValidationError({"reason": _("Choose a reason for the revocation.")})
    return _change_status(
        actor=actor,
        grant=grant,
        status=Grant.Status.REVOKED,
        reason=reason,
        action="grant.revoked",
    )


@transaction.atomic
def signing_key_compromised(*, actor, kid: str) -> int:
    """Revoke the key ``kid`` and every grant it signed that is not already revoked."""
    key = audit_selectors.signing_key_by_kid(kid)
    if key is None:
        raise ValidationError(f"No signing key has the id {kid!r}.")
    signing_key_revoke(actor=actor, key=key, reason="compromised")
    count = 0
    for grant in Grant.objects.filter(kid=kid).exclude(
        status__in=[Grant.Status.REVOKED, Grant.Status.EXPIRED]
    ):
        grant_revoke(actor=actor, grant=grant, reason=Grant.Reason.KEY_COMPROMISED)
        count += 1
    return count


# --- The consent check -----------------------------------------------------------------------


@transaction.atomic
def grant_check(*, service: Service, grant: Grant, pseudonymous_ids: list[str]) -> dict:
    """
    Answer, for each resident, whether data may flow to ``service`` under ``grant`` now: the
    grant is active and the resident's current consent covers its purpose. Record every
    positive answer as an access the resident sees, with one audit entry for the batch.
    """
    now = timezone.now()
    if not grant.is_active(now):
        return {
            "grant_active": False,
            "results": dict.fromkeys(pseudonymous_ids, False),
            "batch": None,
        }
    results = consent_selectors.consent_allows_many(grant.purpose, pseudonymous_ids, at=now)
    allowed = [pid for pid, ok in results.items() if ok]
    digest = consent_services.data_access_record_batch(
        actor=Actor.service(service.pk),
        purpose=grant.purpose,
        organization=service.organization,
        service_name=service.name,
        grant_jti=grant.jti,
        pseudonymous_ids=allowed,
        accessed_at=now,
    )
    return {"grant_active": True, "results": results, "batch": digest if allowed else None}


def resident_ids_resolve(*, service: Service, resident_ids: list[str]) -> dict[str, str]:
    """
    Return ``{id the service sent: pseudonymous id}`` for the ids that name residents to
    ``service``: its pairwise subjects, once it has an OpenID client; before that (the
    transition of integrations that predate the OpenID Provider) the pseudonymous ids
    themselves, unless ``GRANTS_ACCEPT_PSEUDONYMOUS_IDS`` is off. Any other id is left out.
    """
    sectors = selectors.service_sectors(service.pk)
    if not sectors:
        if not settings.GRANTS_ACCEPT_PSEUDONYMOUS_IDS:
            return {}
        return {rid: rid for rid in resident_ids if len(rid) <= PSEUDONYMOUS_ID_LENGTH}
    found: dict[str, str] = {}
    for sector in sectors:
        found.update(consent_selectors.residents_by_pairwise_subject(sector, resident_ids))
    return found


@transaction.atomic
def grant_check_residents(*, service: Service, grant: Grant, resident_ids: list[str]) -> dict:
    """
    Answer ``grant_check`` for the residents as ``service`` names them (its pairwise ids):
    each id maps to whether data may flow now; ids that name no resident to this service (another
    service's ids, the platform's own pseudonymous ids once it has an OpenID client) are false
    and listed under ``unknown``.
    """
    mapping = resident_ids_resolve(service=service, resident_ids=resident_ids)
    answer = grant_check(
        service=service, grant=grant, pseudonymous_ids=list(dict.fromkeys(mapping.values()))
    )
    by_resident = answer["results"]
    return {
        "grant_active": answer["grant_active"],
        "results": {rid: by_resident.get(mapping.get(rid), False) for rid in resident_ids},
        "unknown": [rid for rid in dict.fromkeys(resident_ids) if rid not in mapping],
        "batch": answer["batch"],
    }


# --- Webhooks --------------------------------------------------------------------------------


def webhook_body(event: GrantEvent) -> bytes:
    """Return the signed body of a push: a JWS over the event (typ ``grant-event+jwt``)."""
    grant = event.grant
    claims = {
        "iss": issuer_for(grant.consortium),
        "aud": grant.service.subject,
        "iat": int(timezone.now().timestamp()),
        "event": event.pk,
        "jti": grant.jti,
        "status": event.status,
        "reason": event.reason,
        "at": format_time(event.at),
    }
    return sign_jwt(claims, typ="grant-event+jwt").encode()


def webhook_deliver(*, event_id: int, attempt: int, post) -> bool:
    """
    Push event ``event_id`` to its service's webhook with ``post(url, body) -> status``, and
    record the attempt (kept in the admin's delivery history). Return True on a 2xx answer.
    """
    event = GrantEvent.objects.select_related("grant__service", "grant__consortium").get(
        pk=event_id
    )
    service = event.grant.service
    if not service.webhook_url:
        return True
    status_code, error = None, ""
    try:
        status_code = post(service.webhook_url, webhook_body(event))
    except OSError as exc:  # connection refused, timeout, DNS
        error = f"{type(exc).__name__}: {exc}"[:300]
    delivered = status_code is not None and 200 <= status_code < 300
    with transaction.atomic():
        WebhookDelivery.objects.create(
            event=event,
            service=service,
            url=service.webhook_url,
            attempt=attempt,
            at=timezone.now(),
            status_code=status_code,
            error=error,
            delivered=delivered,
        )
        record(
            actor=None,
            action="webhook.delivered" if delivered else "webhook.failed",
            object_type="grants.grantevent",
            object_id=str(event.pk),
            consortium=event.grant.consortium_id,
            payload={
                "service": service.pk,
                "jti": event.grant.jti,
                "attempt": attempt,
                "status_code": status_code,
            },
        )
    return delivered


# --- Key rotation ----------------------------------------------------------------------------


@transaction.atomic
def signing_key_rotate(
    *, actor, algorithm: str = keys.EDDSA
) -> tuple["SigningKey", "SigningKey | None"]:
    """
    Make a new active key for ``algorithm`` and return it with the key it retired. The retired
    key stays in the JWKS until the last grant it signed expires; a key that also signed
    checkpoints (which never expire) stays published for ever.
    """
    from audit.services import signing_key_create, signing_key_set_publish_until

    previous = audit_selectors.signing_key_active(algorithm)
    key = signing_key_create(actor=actor, algorithm=algorithm)
    if previous is not None:
        previous.refresh_from_db()
        signed_checkpoints = audit_selectors.signing_key_signed_checkpoints(previous)
        last_expiry = (
            Grant.objects.filter(kid=previous.kid)
            .order_by("-expires_at")
            .values_list("expires_at", flat=True)
            .first()
        )
        if algorithm == keys.RS256:
            # The RSA key signs ID tokens: published until the last one it may have signed
            # has expired.
            from oauth2_provider.settings import oauth2_settings

            id_tokens_end = timezone.now() + datetime.timedelta(
                seconds=oauth2_settings.ID_TOKEN_EXPIRE_SECONDS
            )
            last_expiry = max(filter(None, [last_expiry, id_tokens_end]))
        if not signed_checkpoints:
            signing_key_set_publish_until(
                actor=actor, key=previous, until=last_expiry or timezone.now()
            )
    return key, previous


# --- The ticket's status reaches its grants ---------------------------------------------------


def grants_follow_ticket(*, ticket, old: str, new: str) -> int:
    """
    Suspend, reinstate or revoke the grants of ``ticket`` after its state changed from ``old``
    to ``new`` (review's ``ticket_status_changed``); return how many grants changed.
    """
    from review.models import ReviewTicket

    State = ReviewTicket.State
    grants = Grant.objects.filter(ticket_id=ticket.pk)
    changed = 0
    for grant in grants.exclude(status__in=[Grant.Status.REVOKED, Grant.Status.EXPIRED]):
        if new == State.SUSPENDED and grant.status == Grant.Status.ACTIVE:
            grant_suspend(actor=None, grant=grant, reason=Grant.Reason.TICKET_SUSPENDED)
        elif new == State.APPROVED and grant.status == Grant.Status.SUSPENDED:
            if grant.status_reason != Grant.Reason.TICKET_SUSPENDED:
                continue  # suspended for another reason: the secretariat reinstates it
            grant_reinstate(actor=None, grant=grant)
        elif new in (State.CLOSED, State.REJECTED):
            grant_revoke(actor=None, grant=grant, reason=Grant.Reason.TICKET_CLOSED)
        else:
            continue
        changed += 1
    return changed


@transaction.atomic
def services_cut_off(*, membership) -> int:
    """
    Deactivate the services of a member whose membership ended or was suspended (governance's
    ``membership_ended``), so that their credentials authenticate no more, and revoke their
    active and suspended grants with the reason ``member_left`` (the revocation feed and the
    webhooks carry it as any revocation); return how many grants were revoked.
    """
    services = Service.objects.select_for_update().filter(
        consortium_id=membership.consortium_id, organization_id=membership.organization_id
    )
    revoked = 0
    for service in services.order_by("pk"):
        if service.is_active:
            service.is_active = False
            service.save(update_fields=["is_active"])
            record(
                actor=None,
                action="service.updated",
                obj=service,
                consortium=service.consortium_id,
                payload={"changed": ["is_active"], "is_active": False, "reason": "member_left"},
            )
        live = Grant.objects.filter(
            service=service, status__in=[Grant.Status.ACTIVE, Grant.Status.SUSPENDED]
        )
        for grant in live.order_by("pk"):
            grant_revoke(actor=None, grant=grant, reason=Grant.Reason.MEMBER_LEFT)
            revoked += 1
    return revoked


@transaction.atomic
def grants_follow_purpose_closed(*, purpose) -> int:
    """
    Revoke, with the reason ``purpose_closed``, every active or suspended grant for ``purpose``
    once it is closed (consent's ``purpose_closed``); return how many grants were revoked.
    """
    live = Grant.objects.filter(
        purpose_id=purpose.pk, status__in=[Grant.Status.ACTIVE, Grant.Status.SUSPENDED]
    ).order_by("pk")
    revoked = 0
    for grant in live:
        grant_revoke(actor=None, grant=grant, reason=Grant.Reason.PURPOSE_CLOSED)
        revoked += 1
    return revoked


# --- Review requests filed by services --------------------------------------------------------


class InvalidReference(ValidationError):
    """A purpose, data category or organisation that does not exist for the consortium."""


def ticket_file(*, service: Service, submit: bool = True, **fields):
    """
    File a review request for ``service`` (its organisation is the requester) through
    review's ``ticket_create``, and submit it unless ``submit`` is False. ``purpose`` is a
    purpose id, ``categories`` category codes, ``recipients`` organisation ids.
    """
    from consent.models import DataCategory, Purpose
    from governance.models import Organization
    from review import services as review_services

    with transaction.atomic():
        purpose_id = fields.pop("purpose", None)
        purpose = None
        if purpose_id is not None:
            purpose = Purpose.objects.filter(pk=purpose_id, consortium=service.consortium).first()
            if purpose is None:
                raise InvalidReference(
                    _("No purpose %(id)s in this consortium.") % {"id": purpose_id}
                )
        codes = list(dict.fromkeys(fields.pop("categories")))
        categories = list(DataCategory.objects.filter(code__in=codes))
        if len(categories) != len(codes):
            missing = sorted(set(codes) - {c.code for c in categories})
            raise InvalidReference(
                _("Unknown data categories: %(codes)s.") % {"codes": ", ".join(missing)}
            )
        ids = list(dict.fromkeys(fields.pop("recipients", [])))
        recipients = list(Organization.objects.filter(pk__in=ids))
        if len(recipients) != len(ids):
            raise InvalidReference(_("Unknown recipient organisations."))
        actor = Actor.service(service.pk)
        ticket = review_services.ticket_create(
            actor=actor,
            consortium=service.consortium,
            requester=service.organization,
            service_name=service.name,
            purpose=purpose,
            categories=categories,
            recipients=recipients,
            **fields,
        )
        if submit:
            ticket = review_services.ticket_submit(actor=actor, ticket=ticket)
    return ticket


def obligation_evidence_file(*, service: Service, obligation, text: str, uploads=()):
    """
    File ``service``'s evidence for an obligation of its ticket, a text and ``uploads`` (files
    checked as on the review pages); review's service decides.
    """
    from review import services as review_services

    return review_services.obligation_evidence_submit(
        actor=Actor.service(service.pk), obligation=obligation, text=text, uploads=uploads
    )


# --- Automatic issuance on approval ------------------------------------------------------------


@transaction.atomic
def issuance_rule_set(
    *,
    actor,
    consortium,
    enabled: bool,
    algorithm: str = keys.EDDSA,
    third_party_provision: bool = False,
) -> IssuanceRule:
    """
    Set ``consortium``'s automatic issuance rule: whether an approved review ticket gets its
    grant at once, signed with ``algorithm``, and whether that includes requests with
    third-party provision.
    """
    rule, _created = IssuanceRule.objects.select_for_update().get_or_create(consortium=consortium)
    rule.enabled, rule.algorithm = enabled, algorithm
    rule.third_party_provision = third_party_provision
    rule.updated_at = timezone.now()
    rule.full_clean()
    rule.save()
    record(
        actor=actor,
        action="grant.issuance_rule_set",
        obj=rule,
        consortium=rule.consortium_id,
        payload={
            "enabled": enabled,
            "algorithm": algorithm,
            "third_party_provision": third_party_provision,
        },
    )
    return rule


def _rule_actor(rule: IssuanceRule) -> Actor:
    """The rule acting for the secretariat: the system, naming the rule and nobody's name."""
    return Actor.system(f"grants.issuancerule:{rule.pk}")


def _auto_issue_refusal(rule: IssuanceRule, ticket) -> tuple[str, Service | None]:
    """Return why ``rule`` issues nothing for ``ticket`` ("" if it may) and the service."""
    from review.models import ReviewTicket

    Reason = AutoIssuance.Reason
    if ticket.state != ReviewTicket.State.APPROVED:
        return Reason.NOT_ISSUABLE, None
    if ticket.third_party_provision and not rule.third_party_provision:
        return Reason.THIRD_PARTY, None
    service = selectors.ticket_service(ticket)
    if service is None:
        return Reason.NO_SERVICE, None
    if not service.is_active:
        return Reason.SERVICE_INACTIVE, service
    if ticket.purpose_id is None:
        return Reason.NEW_PURPOSE, service
    return "", service


def _auto_issue_skipped(*, rule, ticket, outcome: str, reason: str, error: str = ""):
    """Store and audit an approval the rule issued no grant for."""
    result = AutoIssuance.objects.create(
        consortium_id=ticket.consortium_id, ticket_id=ticket.pk, outcome=outcome, reason=reason
    )
    payload = {"ticket": ticket.pk, "reason": reason, "result": result.pk}
    if error:
        payload["error"] = error
    record(
        actor=_rule_actor(rule),
        action="grant.auto_issue_failed" if error else "grant.auto_issue_skipped",
        obj=result,
        consortium=ticket.consortium_id,
        payload=payload,
    )
    return result


def grant_auto_issue(*, ticket) -> AutoIssuance | None:
    """
    Apply the consortium's issuance rule to ``ticket``, which has just been approved: issue a
    grant to the service the request names, until the end of the approval's term, or record
    why not. Return what was done, or None when no rule is enabled.

    Run after the approval committed: nothing here can undo it. An approval seen again (a
    repeated signal, two workers) issues nothing more: the result is unique per ticket, and a
    second transaction that gets that far is rolled back whole, its grant with it.
    """
    from review.models import ReviewTicket

    rule = IssuanceRule.objects.filter(consortium_id=ticket.consortium_id, enabled=True).first()
    if rule is None:
        return None
    seen = AutoIssuance.objects.filter(ticket_id=ticket.pk).first()
    if seen is not None:
        return seen
    try:
        with transaction.atomic():
            ticket = ReviewTicket.objects.get(pk=ticket.pk)
            reason, service = _auto_issue_refusal(rule, ticket)
            if reason:
                return _auto_issue_skipped(
                    rule=rule, ticket=ticket, outcome=AutoIssuance.Outcome.SKIPPED, reason=reason
                )
            try:
                grant = grant_issue(
                    actor=_rule_actor(rule),
                    service=service,
                    ticket=ticket,
                    algorithm=rule.algorithm,
                )
            except ValidationError:
                # Its term ended, or it was suspended or closed, before the rule ran.
                return _auto_issue_skipped(
                    rule=rule,
                    ticket=ticket,
                    outcome=AutoIssuance.Outcome.SKIPPED,
                    reason=AutoIssuance.Reason.NOT_ISSUABLE,
                )
            return AutoIssuance.objects.create(
                consortium_id=ticket.consortium_id,
                ticket_id=ticket.pk,
                outcome=AutoIssuance.Outcome.ISSUED,
                grant=grant,
            )
    except Exception as error:  # noqa: BLE001 - the approval must stand whatever went wrong
        return _auto_issue_failed(rule=rule, ticket=ticket, error=error)


def _auto_issue_failed(*, rule, ticket, error: Exception) -> AutoIssuance | None:
    """Record, in a transaction of its own, that issuing failed; never raise."""
    try:
        seen = AutoIssuance.objects.filter(ticket_id=ticket.pk).first()
        if isinstance(error, IntegrityError) and seen is not None:
            return seen  # another worker handled the same approval first; its result stands
        logger.error("automatic issuance for ticket %s failed", ticket.pk, exc_info=error)
        with transaction.atomic():
            return _auto_issue_skipped(
                rule=rule,
                ticket=ticket,
                outcome=AutoIssuance.Outcome.FAILED,
                reason=AutoIssuance.Reason.ERROR,
                error=type(error).__name__,
            )
    except Exception:  # noqa: BLE001 - the database itself may be what failed
        logger.exception("recording the failed issuance for ticket %s failed", ticket.pk)
        return None


# --- Expiry ------------------------------------------------------------------------------------

EXPIRE_BATCH = 200


def grants_expire(*, now=None, batch_size: int = EXPIRE_BATCH, progress=None) -> int:
    """
    Store the status ``expired`` on every active or suspended grant whose expiry has passed at
    ``now``, each with its ``grant.expired`` audit entry and its event in the revocation feed
    (pushed to the service's webhook after the commit); return how many grants expired.

    One transaction per batch of ``batch_size`` grants. Safe to run twice at once: rows another
    run holds are skipped (PostgreSQL), and each grant changes only if it is still live
    (a conditional UPDATE), so no grant expires twice. ``progress(n)`` hears each batch.
    """
    now = now or timezone.now()
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    expired = 0
    after = 0
    while True:
        with transaction.atomic():
            batch = list(
                selectors.grants_expiring(now=now)
                .filter(pk__gt=after)
                .select_related("service")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")[:batch_size]
            )
            if not batch:
                break
            after = batch[-1].pk
            done = sum(_expire(grant) for grant in batch)
        expired += done
        if progress is not None:
            progress(len(batch))
    return expired


def _expire(grant: Grant) -> bool:
    """Expire one live grant inside the caller's transaction; False if it changed meanwhile."""
    at = grant.expires_at
    changed = Grant.objects.filter(pk=grant.pk, status__in=selectors.LIVE_STATUSES).update(
        status=Grant.Status.EXPIRED, status_reason="", status_changed_at=at
    )
    if not changed:
        return False
    event = _announce(grant, status=Grant.Status.EXPIRED, reason="", at=at)
    record(
        actor=None,
        action="grant.expired",
        obj=grant,
        consortium=grant.consortium_id,
        payload={
            "jti": grant.jti,
            "previous": grant.status,
            "exp": format_time(at),
            "event": event.pk,
        },
    )
    return True


from .events import grant_ended_notify as grant_ended_notify  # noqa: E402
from .events import overdue_confirmations_follow as overdue_confirmations_follow  # noqa: E402
from .events import purpose_closed_notify as purpose_closed_notify  # noqa: E402
from .events import purpose_closed_notify_chunk as purpose_closed_notify_chunk  # noqa: E402
from .events import purpose_closed_plan as purpose_closed_plan  # noqa: E402
from .events import undelivered_sweep as undelivered_sweep  # noqa: E402
from .events import withdrawal_notify as withdrawal_notify  # noqa: E402
from .events import withdrawal_poll as withdrawal_poll  # noqa: E402
from .events import withdrawal_push as withdrawal_push  # noqa: E402
from .events import withdrawal_push_many as withdrawal_push_many  # noqa: E402
from .openid import (  # noqa: E402 - the package's second room, re-exported
    openid_client_register as openid_client_register,
)
from .openid import (  # noqa: E402
    openid_client_secret_rotate as openid_client_secret_rotate,
)
from .openid import openid_client_update as openid_client_update  # noqa: E402
