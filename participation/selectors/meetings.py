"""Read queries about meetings: the portal's, the secretariat's and the public register's."""

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from consent.models import Resident
from governance.models import Consortium

from ..models import Meeting, Registration

# The meetings residents and the public see: all but drafts.
VISIBLE = [Meeting.Status.ANNOUNCED, Meeting.Status.HELD, Meeting.Status.MINUTES]


def may_attend(resident: Resident | None, meeting: Meeting) -> bool:
    """Return True if ``resident`` may register: a resident of its consortium, not erased."""
    return (
        resident is not None
        and not resident.is_erased
        and resident.consortia.filter(pk=meeting.consortium_id).exists()
    )


def _counted(queryset: QuerySet[Meeting]) -> QuerySet[Meeting]:
    return queryset.annotate(
        registered_count=Count("registrations", distinct=True),
        attended_count=Count(
            "registrations", filter=Q(registrations__attended=True), distinct=True
        ),
    ).select_related("consortium")


def meetings_for_resident(resident: Resident) -> QuerySet[Meeting]:
    """Return the announced and past meetings of the resident's consortia, newest first."""
    return _counted(
        Meeting.objects.filter(consortium__in=resident.consortia.all(), status__in=VISIBLE)
    ).order_by("-starts_at", "-id")


def access_meeting_for_resident(resident: Resident, meeting_id: int) -> Meeting:
    """Return one meeting the resident may see; 404 for any other, as for a missing one."""
    found = meetings_for_resident(resident).filter(pk=meeting_id).first()
    if found is None:
        raise Http404("no such meeting")
    return found


def registered_meeting_ids(resident: Resident) -> set[int]:
    """Return the ids of the meetings ``resident`` is registered for."""
    return set(Registration.objects.filter(resident=resident).values_list("meeting_id", flat=True))


def meetings_public(consortium: Consortium) -> QuerySet[Meeting]:
    """Return a consortium's announced, held and minuted meetings as the register lists them."""
    return (
        _counted(Meeting.objects.filter(consortium=consortium, status__in=VISIBLE))
        .prefetch_related("consultations", "proposals")
        .order_by("-starts_at", "-id")
    )


def public_meeting(consortium: Consortium, meeting_id: int) -> Meeting:
    """Return one meeting of the register; 404 for a draft, another's or a missing one."""
    found = meetings_public(consortium).filter(pk=meeting_id).first()
    if found is None:
        raise Http404("no such meeting")
    return found
