"""Read queries about proposals: the portal's, the secretariat's and the public register's."""

from django.db.models import Count, QuerySet
from django.http import Http404

from consent.models import Resident
from governance.models import Consortium

from ..models import Proposal, Support

# The proposals residents see: all but those hidden by moderation (their author still does).
VISIBLE = [Proposal.Status.PUBLISHED, Proposal.Status.ANSWERED]


def may_propose(resident: Resident | None, consortium: Consortium) -> bool:
    """Return True if ``resident`` may propose and support: a resident of it, not erased."""
    return (
        resident is not None
        and not resident.is_erased
        and resident.consortia.filter(pk=consortium.pk).exists()
    )


def _counted(queryset: QuerySet[Proposal]) -> QuerySet[Proposal]:
    return queryset.annotate(support_count=Count("supports")).select_related("consortium")


def proposals_for_resident(resident: Resident) -> QuerySet[Proposal]:
    """Return the visible proposals of the resident's consortia, newest first, with counts."""
    return _counted(
        Proposal.objects.filter(consortium__in=resident.consortia.all(), status__in=VISIBLE)
    ).order_by("-submitted_at", "-id")


def proposals_of_resident(resident: Resident) -> QuerySet[Proposal]:
    """Return the resident's own proposals, hidden ones included, newest first."""
    return _counted(Proposal.objects.filter(author=resident)).order_by("-submitted_at", "-id")


def access_proposal_for_resident(resident: Resident, proposal_id: int) -> Proposal:
    """
    Return one proposal the resident may see: a visible one of their consortia, or their own
    (even hidden); 404 for any other, as for a missing one.
    """
    found = (
        proposals_for_resident(resident).filter(pk=proposal_id).first()
        or proposals_of_resident(resident).filter(pk=proposal_id).first()
    )
    if found is None:
        raise Http404("no such proposal")
    return found


def supports(resident: Resident, proposal: Proposal) -> bool:
    """Return True if ``resident`` supports ``proposal``."""
    return Support.objects.filter(proposal=proposal, resident=resident).exists()


def proposals_public(consortium: Consortium) -> QuerySet[Proposal]:
    """Return a consortium's answered proposals as the public register lists them."""
    return _counted(
        Proposal.objects.filter(consortium=consortium, status=Proposal.Status.ANSWERED)
    ).order_by("-answered_at", "-id")
