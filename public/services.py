"""
The register's own state changes: what a consortium publishes. Each is atomic, checks that
the actor runs the consortium's secretariat, and writes its audit entry (ids and facts only).
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit
from governance import selectors as governance_selectors
from governance.models import Consortium, Resolution
from review import selectors as review_selectors
from review.models import Obligation

from .models import Indicator, Measurement, PdcaReview, PublicationSettings, ResolutionPublication

ActorLike = AbstractBaseUser | audit.Actor | None


def _require_secretariat(actor: ActorLike, consortium: Consortium) -> None:
    # None is the system (the demo data, migrations); people must run the secretariat.
    governance_selectors.require_secretariat(
        actor, consortium, _("Only the consortium's secretariat decides what it publishes.")
    )


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


# --- KPIs and their PDCA ------------------------------------------------------------------------

INDICATOR_FIELDS = {
    "code",
    "name_ja",
    "name_en",
    "definition_ja",
    "definition_en",
    "unit",
    "direction",
    "source",
    "baseline_value",
    "baseline_on",
    "target_value",
    "target_on",
    "owner",
    "purpose",
    "plan",
    "ticket",
    "is_public",
}


def _indicator_payload(indicator: Indicator, changed: list[str]) -> dict:
    return {
        "code": indicator.code,
        "source": indicator.source,
        "is_public": indicator.is_public,
        "purpose": indicator.purpose_id,
        "changed": changed,
    }


@transaction.atomic
def indicator_define(*, actor: ActorLike, consortium: Consortium, **fields) -> Indicator:
    """Define one of the consortium's indicators (KPI) with its baseline and target."""
    _require_secretariat(actor, consortium)
    unknown = set(fields) - INDICATOR_FIELDS
    if unknown:
        raise TypeError(f"unknown indicator fields {sorted(unknown)}")
    indicator = Indicator(consortium=consortium, **fields)
    indicator.full_clean()
    indicator.save()
    audit.record(
        actor=actor,
        action="indicator.defined",
        obj=indicator,
        consortium=consortium,
        payload=_indicator_payload(indicator, sorted(fields)),
    )
    return indicator


@transaction.atomic
def indicator_update(*, actor: ActorLike, indicator: Indicator, **fields) -> Indicator:
    """Change an indicator's definition, target, owner or publication."""
    indicator = Indicator.objects.select_for_update().get(pk=indicator.pk)
    _require_secretariat(actor, indicator.consortium)
    unknown = set(fields) - (INDICATOR_FIELDS - {"code"})
    if unknown:
        raise TypeError(f"cannot change {sorted(unknown)} here")
    changed = sorted(name for name, value in fields.items() if getattr(indicator, name) != value)
    for name, value in fields.items():
        setattr(indicator, name, value)
    indicator.full_clean()
    indicator.save()
    audit.record(
        actor=actor,
        action="indicator.updated",
        obj=indicator,
        consortium=indicator.consortium,
        payload=_indicator_payload(indicator, changed),
    )
    return indicator


@transaction.atomic
def measurement_record(
    *,
    actor: ActorLike,
    indicator: Indicator,
    measured_on,
    value,
    source: str,
    evidence: str = "",
) -> Measurement:
    """Record the value of an indicator the secretariat measures, with its source and evidence."""
    _require_secretariat(actor, indicator.consortium)
    if indicator.is_computed:
        raise ValidationError(
            _("The platform computes this indicator's values; they cannot be entered.")
        )
    if not source.strip():
        raise ValidationError({"source": _("Say where the value comes from.")})
    measurement = Measurement(
        indicator=indicator,
        measured_on=measured_on,
        value=value,
        source=source,
        evidence=evidence,
        recorded_by=actor if isinstance(actor, AbstractBaseUser) else None,
    )
    measurement.full_clean()
    measurement.save()
    audit.record(
        actor=actor,
        action="indicator.measured",
        obj=measurement,
        consortium=indicator.consortium,
        payload={
            "indicator": indicator.pk,
            "measured_on": measurement.measured_on.isoformat(),
            "value": str(measurement.value),
        },
    )
    return measurement


# The states of a use whose requester still reports on its indicators: outcome reports are owed
# for years after a project ends (the seeds: five years after a subsidised project).
REPORTING_STATES = ("approved", "suspended", "closed")


@transaction.atomic
def measurement_report(
    *,
    actor: audit.Actor,
    ticket,
    code: str,
    measured_on,
    value,
    source: str,
    evidence: str = "",
    obligation: int | None = None,
) -> Measurement:
    """
    Record a value that the requester of an approved use reports for one of the indicators
    that follow that use (an outcome report), with its source and evidence, and optionally the
    use's outcome-report obligation (id) it is filed for. ``ticket`` is the requester's own,
    already checked by the caller (grants' ``access_service_ticket``). Raise
    Indicator.DoesNotExist for an indicator, and Obligation.DoesNotExist for an obligation,
    that is not this use's.
    """
    indicator = (
        Indicator.objects.select_for_update()
        .filter(ticket=ticket, code=code, consortium_id=ticket.consortium_id)
        .first()
    )
    if indicator is None:
        raise Indicator.DoesNotExist("no such indicator of this use")
    if ticket.state not in REPORTING_STATES:
        raise ValidationError(
            _("Values can be reported only for a use the board approved."), code="not_approved"
        )
    if indicator.is_computed:
        raise ValidationError(
            _("The platform computes this indicator's values; they cannot be entered."),
            code="computed",
        )
    if not source.strip():
        raise ValidationError({"source": _("Say where the value comes from.")})
    report = None
    if obligation is not None:
        owed = review_selectors.obligations_for_tickets([ticket.pk]).get(ticket.pk, [])
        report = next((found for found in owed if found.pk == obligation), None)
        if report is None:
            raise Obligation.DoesNotExist("no such obligation of this use")
        if report.kind != Obligation.Kind.OUTCOME_REPORT:
            raise ValidationError(
                _("Values are filed with an outcome report, not with this kind of obligation."),
                code="not_outcome_report",
            )
    measurement = Measurement(
        indicator=indicator,
        measured_on=measured_on,
        value=value,
        source=source,
        evidence=evidence,
        reported_by_id=ticket.requester_id,
        obligation=report,
    )
    measurement.full_clean()
    measurement.save()
    audit.record(
        actor=actor,
        action="indicator.measured",
        obj=measurement,
        consortium=indicator.consortium,
        payload={
            "indicator": indicator.pk,
            "measured_on": measurement.measured_on.isoformat(),
            "value": str(measurement.value),
            "reported_by": ticket.requester_id,
            "obligation": report.pk if report else None,
        },
    )
    return measurement


@transaction.atomic
def indicator_compute(*, indicator: Indicator, today) -> Measurement | None:
    """
    Compute a platform indicator's value for ``today`` from the platform's records and record
    it (replacing the day's earlier value); None when there is nothing to publish (no data, or
    a count of residents under 10).
    """
    from . import kpi

    if not indicator.is_computed:
        return None
    value = kpi.compute(indicator, today)
    if value is None:
        return None
    measurement, created = Measurement.objects.update_or_create(
        indicator=indicator,
        measured_on=today,
        defaults={"value": value, "source": "platform", "computed": True, "evidence": ""},
    )
    audit.record(
        actor=audit.Actor.system("public.indicators_compute"),
        action="indicator.computed",
        obj=measurement,
        consortium=indicator.consortium_id,
        payload={
            "indicator": indicator.pk,
            "measured_on": measurement.measured_on.isoformat(),
            "value": str(measurement.value),
            "replaced": not created,
        },
    )
    return measurement


def indicators_compute(*, today=None) -> int:
    """Compute every platform indicator for ``today`` (the django-q schedule); return how many."""
    today = today or timezone.localdate()
    done = 0
    for indicator in Indicator.objects.exclude(source=Indicator.Source.ENTERED).order_by("pk"):
        if indicator_compute(indicator=indicator, today=today) is not None:
            done += 1
    return done


PDCA_FIELDS = {"period_start", "period_end", "plan", "done", "assessment", "causes", "actions"}


@transaction.atomic
def pdca_review_record(
    *, actor: ActorLike, indicator: Indicator, decision: str, **fields
) -> PdcaReview:
    """Record the Check and Act of an indicator for a period, with the decision taken."""
    _require_secretariat(actor, indicator.consortium)
    unknown = set(fields) - PDCA_FIELDS
    if unknown:
        raise TypeError(f"unknown review fields {sorted(unknown)}")
    review = PdcaReview(
        indicator=indicator,
        decision=decision,
        recorded_by=actor if isinstance(actor, AbstractBaseUser) else None,
        **fields,
    )
    review.full_clean()
    review.save()
    audit.record(
        actor=actor,
        action="pdca.reviewed",
        obj=review,
        consortium=indicator.consortium,
        payload={
            "indicator": indicator.pk,
            "period_start": review.period_start.isoformat(),
            "period_end": review.period_end.isoformat(),
            "decision": decision,
        },
    )
    return review


@transaction.atomic
def pdca_review_to_assembly(*, actor: ActorLike, review: PdcaReview, assembly) -> PdcaReview:
    """
    Put a PDCA review on a general assembly's agenda: governance proposes it as a resolution
    (kind "business plan" when the target is revised or the measure stopped, else "other") and
    the review keeps the link.
    """
    from governance import services as governance_services

    review = PdcaReview.objects.select_for_update().select_related("indicator").get(pk=review.pk)
    consortium = review.indicator.consortium
    _require_secretariat(actor, consortium)
    if assembly.consortium_id != consortium.pk:
        raise ValidationError({"assembly": _("Choose a general assembly of this consortium.")})
    if review.resolution_id is not None:
        raise ValidationError(_("This review is already on a general assembly's agenda."))
    kind = (
        Resolution.Kind.BUSINESS_PLAN
        if review.decision in (PdcaReview.Decision.REVISE_TARGET, PdcaReview.Decision.STOP)
        else Resolution.Kind.OTHER
    )
    indicator = review.indicator
    resolution = governance_services.resolution_propose(
        actor=actor,
        assembly=assembly,
        kind=kind,
        title_ja=f"{indicator.name_ja}の評価と改善（{review.period_start:%Y/%m/%d}〜"
        f"{review.period_end:%Y/%m/%d}）",
        title_en=f"Review of {indicator.name_en} ({review.period_start} to {review.period_end})",
        text="\n\n".join(
            part for part in (review.assessment, review.causes, review.actions) if part
        ),
    )
    review.resolution = resolution
    review.save(update_fields=["resolution"])
    audit.record(
        actor=actor,
        action="pdca.put_to_assembly",
        obj=review,
        consortium=consortium,
        payload={"resolution": resolution.pk, "assembly": assembly.pk},
    )
    return review
