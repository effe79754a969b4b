"""
Open meetings (説明会・意見交換会): the secretariat drafts and announces one, residents register
in the portal (and cancel) until it starts, staff record attendance at the door, and the
minutes are published afterwards, linked to the consultations and proposals it discussed.
Comments collected at a meeting go through ``comment_enter_offline(channel="meeting")``.

Every function is atomic, takes keyword-only arguments with the actor first, and writes one
audit entry with ids, numbers and states only: never the agenda, the minutes or a name.
"""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.chain import format_time
from audit.services import record
from consent.models import Resident
from governance.selectors import require_secretariat

from .. import selectors
from ..models import Consultation, Meeting, Proposal, Registration

logger = logging.getLogger(__name__)


def _check_links(meeting: Meeting, consultations, proposals) -> None:
    # As stored: a consultation announced since the caller read it is no longer a draft.
    consultations = Consultation.objects.filter(pk__in=[c.pk for c in consultations])
    proposals = Proposal.objects.filter(pk__in=[p.pk for p in proposals])
    errors = {}
    if consultations.exclude(consortium=meeting.consortium_id).exists():
        errors["consultations"] = _("Choose consultations of the same consortium.")
    elif consultations.filter(status=Consultation.Status.DRAFT).exists():
        errors["consultations"] = _("Choose announced consultations: a draft is not public.")
    if proposals.exclude(consortium=meeting.consortium_id).exists():
        errors["proposals"] = _("Choose proposals of the same consortium.")
    elif proposals.filter(status=Proposal.Status.HIDDEN).exists():
        errors["proposals"] = _("A hidden proposal is not discussed in public.")
    if errors:
        raise ValidationError(errors)


def _link_payload(meeting: Meeting) -> dict:
    return {
        "consultations": sorted(meeting.consultations.values_list("pk", flat=True)),
        "proposals": sorted(meeting.proposals.values_list("pk", flat=True)),
    }


@transaction.atomic
def meeting_save(*, actor, meeting: Meeting, consultations=None, proposals=None) -> Meeting:
    """
    Create a draft meeting or change one not yet held; once announced, only its agenda,
    place, link and the consultations and proposals it discusses may change, not its time
    or capacity (residents registered for them).
    """
    require_secretariat(actor, meeting.consortium)
    creating = meeting.pk is None
    if not creating:
        stored = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if stored.consortium_id != meeting.consortium_id:
            raise ValidationError({"consortium": _("A meeting stays with its consortium.")})
        if stored.status in (Meeting.Status.HELD, Meeting.Status.MINUTES):
            raise ValidationError(_("A meeting that has been held can no longer be changed."))
        if stored.status == Meeting.Status.ANNOUNCED and (
            stored.starts_at != meeting.starts_at
            or stored.ends_at != meeting.ends_at
            or stored.capacity != meeting.capacity
        ):
            raise ValidationError(
                _("The meeting is announced: its time and capacity can no longer change.")
            )
    consultations = list(consultations) if consultations is not None else None
    proposals = list(proposals) if proposals is not None else None
    meeting.full_clean()
    _check_links(meeting, consultations or [], proposals or [])
    meeting.save()
    if consultations is not None:
        meeting.consultations.set(consultations)
    if proposals is not None:
        meeting.proposals.set(proposals)
    record(
        actor=actor,
        action="meeting.created" if creating else "meeting.changed",
        obj=meeting,
        consortium=meeting.consortium_id,
        payload={"format": meeting.format, "capacity": meeting.capacity, **_link_payload(meeting)},
    )
    return meeting


@transaction.atomic
def meeting_announce(*, actor, meeting: Meeting, now=None) -> Meeting:
    """Announce a draft meeting: residents see it and may register until it starts."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    require_secretariat(actor, meeting.consortium)
    now = now or timezone.now()
    if meeting.status != Meeting.Status.DRAFT:
        raise ValidationError(_("This meeting has already been announced."))
    if meeting.starts_at <= now:
        raise ValidationError(
            {"starts_at": _("The meeting has already started: set a later time.")}
        )
    meeting.status = Meeting.Status.ANNOUNCED
    meeting.announced_at = now
    meeting.save(update_fields=["status", "announced_at"])
    record(
        actor=actor,
        action="meeting.announced",
        obj=meeting,
        consortium=meeting.consortium_id,
        payload={
            "starts_at": format_time(meeting.starts_at),
            "capacity": meeting.capacity,
            "format": meeting.format,
        },
    )
    return meeting


@transaction.atomic
def meeting_register(*, actor, meeting: Meeting, resident: Resident, now=None) -> Registration:
    """Register a resident of the consortium for an announced meeting, before it starts."""
    now = now or timezone.now()
    # Locked, so that two residents taking the last seat at once cannot both have it.
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not selectors.may_attend(resident, meeting):
        raise PermissionDenied(_("Only the consortium's residents may register."))
    if meeting.status != Meeting.Status.ANNOUNCED or meeting.has_started(now):
        raise ValidationError(_("The meeting has started: registration is closed."))
    if Registration.objects.filter(meeting=meeting, resident=resident).exists():
        raise ValidationError(_("You are already registered for this meeting."))
    if meeting.registrations.count() >= meeting.capacity:
        raise ValidationError(
            _("The meeting is full: all %(capacity)d places are taken.")
            % {"capacity": meeting.capacity}
        )
    try:
        with transaction.atomic():
            registration = Registration.objects.create(
                meeting=meeting, resident=resident, registered_at=now
            )
    except IntegrityError as error:  # a second request at the same moment
        raise ValidationError(_("You are already registered for this meeting.")) from error
    record(
        actor=actor,
        action="meeting.registered",
        obj=meeting,
        consortium=meeting.consortium_id,
        payload={"resident": resident.pseudonymous_id},
    )
    return registration


@transaction.atomic
def meeting_cancel_registration(*, actor, meeting: Meeting, resident: Resident, now=None) -> None:
    """Cancel a resident's registration before the meeting starts (the place is freed)."""
    now = now or timezone.now()
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.has_started(now):
        raise ValidationError(
            _("The meeting has started: a registration can no longer be cancelled.")
        )
    deleted, _rows = Registration.objects.filter(meeting=meeting, resident=resident).delete()
    if not deleted:
        raise ValidationError(_("You are not registered for this meeting."))
    record(
        actor=actor,
        action="meeting.registration_cancelled",
        obj=meeting,
        consortium=meeting.consortium_id,
        payload={"resident": resident.pseudonymous_id},
    )


@transaction.atomic
def meeting_attendance_record(
    *, actor, meeting: Meeting, present, walk_ins: int = 0, now=None
) -> Meeting:
    """
    Record who came, at the door or after: the registrations present (the others absent) and
    how many came without registering. The meeting is then held; recording again corrects it.
    """
    now = now or timezone.now()
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    require_secretariat(actor, meeting.consortium)
    if meeting.status == Meeting.Status.DRAFT:
        raise ValidationError(_("Announce the meeting before recording attendance."))
    if meeting.status == Meeting.Status.MINUTES:
        raise ValidationError(_("The minutes are published: attendance can no longer change."))
    if not meeting.has_started(now):
        raise ValidationError(_("Attendance is recorded once the meeting has started."))
    if walk_ins is None or walk_ins < 0:
        raise ValidationError({"walk_ins": _("Give the number of people, 0 or more.")})
    present_ids = {registration.pk for registration in present}
    registrations = meeting.registrations.all()
    if present_ids - set(registrations.values_list("pk", flat=True)):
        raise ValidationError({"present": _("Choose registrations of this meeting.")})
    registrations.filter(pk__in=present_ids).update(attended=True)
    registrations.exclude(pk__in=present_ids).update(attended=False)
    meeting.walk_ins = walk_ins
    meeting.status = Meeting.Status.HELD
    meeting.save(update_fields=["walk_ins", "status"])
    record(
        actor=actor,
        action="meeting.attendance_recorded",
        obj=meeting,
        consortium=meeting.consortium_id,
        payload={
            "registered": registrations.count(),
            "present": len(present_ids),
            "walk_ins": walk_ins,
        },
    )
    return meeting


@transaction.atomic
def meeting_minutes_publish(
    *,
    actor,
    meeting: Meeting,
    minutes_ja: str,
    minutes_en: str = "",
    consultations=None,
    proposals=None,
    now=None,
) -> Meeting:
    """
    Publish the minutes of a held meeting on the register, linked to the consultations and
    proposals it discussed (given, they replace the links). Each resident who registered is
    told (after the commit).
    """
    now = now or timezone.now()
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    require_secretariat(actor, meeting.consortium)
    if not (minutes_ja or "").strip():
        raise ValidationError({"minutes_ja": _("Write the minutes before publishing them.")})
    if meeting.status == Meeting.Status.MINUTES:
        raise ValidationError(_("The minutes are already published."))
    if meeting.status != Meeting.Status.HELD:
        raise ValidationError(_("Record the attendance first: minutes follow a held meeting."))
    consultations = list(consultations) if consultations is not None else None
    proposals = list(proposals) if proposals is not None else None
    _check_links(meeting, consultations or [], proposals or [])
    if consultations is not None:
        meeting.consultations.set(consultations)
    if proposals is not None:
        meeting.proposals.set(proposals)
    meeting.minutes_ja = minutes_ja.strip()
    meeting.minutes_en = (minutes_en or "").strip()
    meeting.status = Meeting.Status.MINUTES
    meeting.minutes_published_at = now
    meeting.save(update_fields=["minutes_ja", "minutes_en", "status", "minutes_published_at"])
    record(
        actor=actor,
        action="meeting.minutes_published",
        obj=meeting,
        consortium=meeting.consortium_id,
        payload=_link_payload(meeting),
    )
    _tell_registered(meeting)
    return meeting


def _tell_registered(meeting: Meeting) -> None:
    """Mail each resident who registered that the minutes are published (after the commit)."""
    residents = list(
        Resident.objects.filter(
            pk__in=meeting.registrations.values("resident"), erased_at__isnull=True
        ).select_related("profile")
    )
    meeting_id = meeting.pk

    def send() -> None:
        for resident in residents:
            address = getattr(getattr(resident, "profile", None), "contact_email", "")
            if not address:
                continue
            with translation.override(resident.language):
                send_mail(
                    subject=_("The minutes of a meeting you registered for"),
                    message=_(
                        "The consortium has published the minutes of a meeting you registered "
                        "for. Sign in to the resident portal and open “Meetings” to read them."
                    ),
                    from_email=None,
                    recipient_list=[address],
                    fail_silently=True,
                )
        logger.info("meeting %s: %d registered residents told", meeting_id, len(residents))

    transaction.on_commit(send)
