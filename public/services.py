"""
The register's own state changes: what a consortium publishes. Each is atomic, checks that
the actor runs the consortium's secretariat, and writes its audit entry (ids and facts only).
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit
from governance import selectors as governance_selectors
from governance.models import Consortium, Resolution

from .models import PublicationSettings, ResolutionPublication

ActorLike = AbstractBaseUser | audit.Actor | None


def _require_secretariat(actor: ActorLike, consortium: Consortium) -> None:
    # None is the system (the demo data, migrations); people must run the secretariat.
    if actor is None:
        return
    if not isinstance(actor, AbstractBaseUser) or not (
        governance_selectors.consortia_administered_by(actor).filter(pk=consortium.pk).exists()
    ):
        raise PermissionDenied(_("Only the consortium's secretariat decides what it publishes."))


@transaction.atomic
def publication_settings_set(
    *,
    actor: ActorLike,
    consortium: Consortium,
    publish_officers: bool,
    board_disclosure: str,
) -> PublicationSettings:
    """Decide what the register says of the consortium's officers and board members."""
    _require_secretariat(actor, consortium)
    settings_, created = PublicationSettings.objects.select_for_update().get_or_create(
        consortium=consortium
    )
    settings_.publish_officers = publish_officers
    settings_.board_disclosure = board_disclosure
    settings_.full_clean()
    settings_.save()
    audit.record(
        actor=actor,
        action="publication.settings_set",
        obj=settings_,
        consortium=consortium,
        payload={
            "publish_officers": publish_officers,
            "board_disclosure": board_disclosure,
            "created": created,
        },
    )
    return settings_


@transaction.atomic
def resolution_publish(
    *,
    actor: ActorLike,
    resolution: Resolution,
    minutes_ja: str = "",
    minutes_en: str = "",
) -> ResolutionPublication:
    """
    Publish a closed resolution with its tally and minutes on the register (a decision of its
    own); publishing again replaces the minutes and lifts a withdrawal.
    """
    resolution = Resolution.objects.select_related("assembly__consortium").get(pk=resolution.pk)
    consortium = resolution.assembly.consortium
    _require_secretariat(actor, consortium)
    if resolution.status != Resolution.Status.CLOSED:
        raise ValidationError(
            _("Only a resolution whose vote has closed can be published: close the vote first.")
        )
    publication = (
        ResolutionPublication.objects.select_for_update().filter(resolution=resolution).first()
    )
    republished = publication is not None
    if publication is None:
        publication = ResolutionPublication(resolution=resolution)
    publication.minutes_ja, publication.minutes_en = minutes_ja, minutes_en
    publication.published_at = timezone.now()
    publication.published_by = actor if isinstance(actor, AbstractBaseUser) else None
    publication.withdrawn_at = None
    publication.full_clean()
    publication.save()
    audit.record(
        actor=actor,
        action="publication.resolution_published",
        obj=publication,
        consortium=consortium,
        payload={
            "resolution": resolution.pk,
            "with_minutes": bool(minutes_ja or minutes_en),
            "republished": republished,
        },
    )
    return publication


@transaction.atomic
def resolution_unpublish(
    *, actor: ActorLike, publication: ResolutionPublication
) -> ResolutionPublication:
    """Take a published resolution off the register (the row stays, marked withdrawn)."""
    publication = (
        ResolutionPublication.objects.select_for_update()
        .select_related("resolution__assembly__consortium")
        .get(pk=publication.pk)
    )
    consortium = publication.resolution.assembly.consortium
    _require_secretariat(actor, consortium)
    if publication.withdrawn_at is not None:
        raise ValidationError(_("This resolution is not published."))
    publication.withdrawn_at = timezone.now()
    publication.save()
    audit.record(
        actor=actor,
        action="publication.resolution_withdrawn",
        obj=publication,
        consortium=consortium,
        payload={"resolution": publication.resolution_id},
    )
    return publication
