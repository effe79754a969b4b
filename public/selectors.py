"""
What the public register shows, read from every app through its selectors.

Each dataset is a list of plain rows (dicts with stable keys, names in Japanese and English),
so that the pages, the CSV and JSON downloads and the CKAN-compatible API show the same
values. Only what is decided and published appears: never a draft, a ticket under review, a
reviewer's vote or comment, a resident, or a count under 10.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from audit import selectors as audit_selectors
from consent import reports as consent_reports
from consent import selectors as consent_selectors
from consent.models import DataCategory
from governance import selectors as governance_selectors
from governance.models import BylawVersion, Consortium, Organization, Role
from grants import selectors as grants_selectors
from participation import selectors as participation_selectors
from review import selectors as review_selectors
from review.models import ReviewTicket

from .models import (
    Indicator,
    Measurement,
    PdcaReview,
    PublicationSettings,
    ResolutionPublication,
)

# Counts below this are shown as "fewer than 10" (the consent statistics' rule).
SMALL_COUNT = consent_reports.SMALL_COUNT
# The register's public state of a use: the ticket's, or "expired" once an approval's term ended.
EXPIRED = "expired"


def hidden_if_small(count: int | None) -> int | None:
    """Return ``count``, or None when it is under 10 (so that no resident can be singled out)."""
    if count is None or count < SMALL_COUNT:
        return None
    return count


def names(obj, field: str = "name") -> dict:
    return {f"{field}_ja": getattr(obj, f"{field}_ja"), f"{field}_en": getattr(obj, f"{field}_en")}


# --- Consortia ---------------------------------------------------------------------------------


def consortia() -> list[Consortium]:
    return list(governance_selectors.consortia_public())


def consortium_by_slug(slug: str) -> Consortium:
    """Return the public consortium ``slug``; Http404 for a missing one or one in preparation."""
    consortium = governance_selectors.consortia_public().filter(slug=slug).first()
    if consortium is None:
        raise Http404("no such consortium")
    return consortium


def publication_settings(consortium: Consortium) -> PublicationSettings:
    """Return the consortium's publication settings (the defaults when none were decided)."""
    found = PublicationSettings.objects.filter(consortium=consortium).first()
    return found or PublicationSettings(consortium=consortium)


# --- Uses of residents' data (decided review tickets) -----------------------------------------


def public_state(ticket: ReviewTicket, today: datetime.date) -> str:
    if (
        ticket.state == ReviewTicket.State.APPROVED
        and ticket.valid_until is not None
        and ticket.valid_until < today
    ):
        return EXPIRED
    return ticket.state


def decided_tickets(consortium: Consortium):
    """Return the consortium's decided tickets (a queryset, newest decision first)."""
    return review_selectors.tickets_decided(consortium)


# What a use's summary needs of its ticket (the uses list loads nothing more).
SUMMARY_FIELDS = (
    "title",
    "state",
    "decided_at",
    "valid_until",
    "service_name",
    "proposed_purpose_title",
    "requester__name_ja",
    "requester__name_en",
    "purpose__code",
    "purpose__title_ja",
    "purpose__title_en",
)


def use_summaries(tickets) -> QuerySet[ReviewTicket]:
    """
    Return ``tickets`` (a queryset of decided ones) loading only what a use's summary shows,
    in one query: the uses list pages through it.
    """
    return tickets.select_related(None).select_related("requester", "purpose").only(*SUMMARY_FIELDS)


def use_summary(ticket: ReviewTicket, today: datetime.date) -> dict:
    """Return the summary of a decided ticket: what the uses list shows of each use."""
    purpose = ticket.purpose
    return {
        "id": ticket.pk,
        "title": ticket.title,
        "state": public_state(ticket, today),
        "decided_on": ticket.decided_at.date() if ticket.decided_at else None,
        **{f"requester_{k[5:]}": v for k, v in names(ticket.requester).items()},
        "service": ticket.service_name,
        "purpose_code": purpose.code if purpose else "",
        "purpose_ja": purpose.title_ja if purpose else ticket.proposed_purpose_title,
        "purpose_en": purpose.title_en if purpose else ticket.proposed_purpose_title,
    }


def use_rows(tickets, today: datetime.date) -> list[dict]:
    """Return the register's rows of ``tickets`` (decided ones), loading what they need at once."""
    tickets = list(
        ReviewTicket.objects.filter(pk__in=[ticket.pk for ticket in tickets])
        .select_related("requester", "purpose")
        .prefetch_related(
            Prefetch("categories", queryset=DataCategory.objects.order_by("code")),
            Prefetch("recipients", queryset=Organization.objects.order_by("name_ja")),
        )
        .order_by("-decided_at", "-pk")
    )
    ids = [ticket.pk for ticket in tickets]
    tallies = review_selectors.decided_vote_counts(ids)
    grants = grants_selectors.grants_for_tickets(ids)
    entries = review_selectors.decision_entries(ids)
    obligations = review_selectors.obligations_for_tickets(ids)
    reported = outcome_values(
        [obligation.pk for found in obligations.values() for obligation in found]
    )
    rows = []
    for ticket in tickets:
        entry = entries.get(ticket.pk)
        # Each .all() of a prefetched relation builds a manager: take the lists once.
        categories = list(ticket.categories.all())
        recipients = list(ticket.recipients.all())
        rows.append(
            {
                **use_summary(ticket, today),
                "categories_ja": [c.name_ja for c in categories],
                "categories_en": [c.name_en for c in categories],
                "sensitive": any(c.sensitive for c in categories),
                "recipients_ja": [o.name_ja for o in recipients],
                "recipients_en": [o.name_en for o in recipients],
                "third_party_provision": ticket.third_party_provision,
                "retention_days": ticket.retention_days,
                "anonymisation": ticket.anonymisation,
                "anonymisation_details": ticket.anonymisation_details,
                "conditions": ticket.conditions,
                "valid_from": ticket.valid_from,
                "valid_until": ticket.valid_until,
                "votes": tallies.get(ticket.pk, {}),
                "grants": [
                    {
                        "jti": grant.jti,
                        "status": grant.status,
                        "issued_at": grant.issued_at,
                        "expires_at": grant.expires_at,
                    }
                    for grant in grants.get(ticket.pk, [])
                ],
                "obligations": [
                    {
                        "kind": obligation.kind,
                        "text": obligation.text,
                        "due_on": obligation.due_on,
                        "state": obligation.state,
                        "values": reported.get(obligation.pk, []),
                    }
                    for obligation in obligations.get(ticket.pk, [])
                ],
                "audit_seq": entry.seq if entry else None,
                "audit_hash": entry.hash if entry else "",
            }
        )
    return rows


def outcome_values(obligation_ids: list[int]) -> dict[int, list[dict]]:
    """
    Return {obligation id: the values of public indicators its requester filed with it}, oldest
    first: what an outcome report carries on the register (a non-public indicator's never).
    """
    found: dict[int, list[dict]] = {}
    if not obligation_ids:
        return found
    measurements = (
        Measurement.objects.filter(obligation_id__in=obligation_ids, indicator__is_public=True)
        .select_related("indicator")
        .order_by("measured_on", "indicator__code")
    )
    for measurement in measurements:
        found.setdefault(measurement.obligation_id, []).append(
            {
                "code": measurement.indicator.code,
                **names(measurement.indicator),
                "unit": measurement.indicator.unit,
                "measured_on": measurement.measured_on,
                "value": measurement.value,
            }
        )
    return found


def use_by_id(consortium: Consortium, ticket_id: int) -> ReviewTicket:
    """Return decided ticket ``ticket_id`` of ``consortium``; Http404 for any other ticket."""
    ticket = decided_tickets(consortium).filter(pk=ticket_id).first()
    if ticket is None:
        raise Http404("no such decided use")
    return ticket


@dataclass(frozen=True)
class Proof:
    """Where to check that an entry is in the log: the tree size a checkpoint covers."""

    index: int
    size: int


def inclusion_proof_for(seq: int | None) -> Proof | None:
    """Return the inclusion proof's parameters for entry ``seq``, once a checkpoint covers it."""
    if seq is None:
        return None
    checkpoint = audit_selectors.checkpoint_latest_merkle()
    if checkpoint is None or checkpoint.seq < seq:
        return None
    return Proof(index=seq - 1, size=checkpoint.seq)


# --- Members, officers, board --------------------------------------------------------------------


def member_rows(consortium: Consortium) -> list[dict]:
    rows = []
    for membership in governance_selectors.memberships_all(consortium):
        organization = membership.organization
        rows.append(
            {
                **names(organization),
                "kind": organization.kind,
                "corporate_number": organization.corporate_number,
                "member_class": membership.member_class,
                "joined_on": membership.joined_on,
                "left_on": membership.left_on,
            }
        )
    return rows


OFFICER_KINDS = (Role.Kind.CHAIR, Role.Kind.VICE_CHAIR)


def officer_rows(consortium: Consortium, today: datetime.date) -> list[dict]:
    """Return the chair and vice-chairs today, by name, if the consortium publishes them."""
    from governance.people import person_name

    if not publication_settings(consortium).publish_officers:
        return []
    roles = (
        governance_selectors.roles_on(consortium, today)
        .filter(kind__in=OFFICER_KINDS)
        .select_related("user", "organization")
        .order_by("kind", "start_on")
    )
    return [
        {
            "kind": role.kind,
            "name": person_name(role.user),
            "organization_ja": role.organization.name_ja if role.organization else "",
            "organization_en": role.organization.name_en if role.organization else "",
            "since": role.start_on,
        }
        for role in roles
    ]


def board_rows(consortium: Consortium, today: datetime.date) -> list[dict]:
    """
    Return the ethics board's seats today as the consortium publishes them: nothing, each
    seat's expertise, or names and expertise.
    """
    from governance.people import person_name

    disclosure = publication_settings(consortium).board_disclosure
    if disclosure == PublicationSettings.BoardDisclosure.NONE:
        return []
    roles = (
        governance_selectors.roles_on(consortium, today, Role.Kind.ETHICS_BOARD_MEMBER)
        .select_related("user")
        .order_by("expertise", "start_on")
    )
    with_names = disclosure == PublicationSettings.BoardDisclosure.NAMES
    return [
        {
            "expertise": role.expertise,
            "name": person_name(role.user) if with_names else "",
            "since": role.start_on,
        }
        for role in roles
    ]


# --- Bylaws and resolutions --------------------------------------------------------------------


def bylaw_versions(consortium: Consortium) -> list[BylawVersion]:
    return list(governance_selectors.bylaws_adopted(consortium))


def bylaw_in_force(consortium: Consortium, today: datetime.date) -> BylawVersion | None:
    return governance_selectors.bylaw_in_force(consortium, today)


def bylaw_version(consortium: Consortium, number: int) -> BylawVersion:
    """Return adopted version ``number``; Http404 for a draft or a missing one."""
    version = governance_selectors.bylaws_adopted(consortium).filter(number=number).first()
    if version is None:
        raise Http404("no such adopted bylaw version")
    return version


def bylaw_rows(consortium: Consortium, today: datetime.date) -> list[dict]:
    in_force = bylaw_in_force(consortium, today)
    rows = []
    for version in governance_selectors.bylaws_adopted(consortium).prefetch_related("articles"):
        for article in version.articles.all():
            rows.append(
                {
                    "version": version.number,
                    "in_force": in_force is not None and version.pk == in_force.pk,
                    "adopted_on": version.adopted_on,
                    "effective_on": version.effective_on,
                    "article": article.number,
                    "title_ja": article.title_ja,
                    "title_en": article.title_en,
                    "text_ja": article.text_ja,
                    "text_en": article.text_en,
                }
            )
    return rows


def resolution_publications(consortium: Consortium) -> list[ResolutionPublication]:
    """Return the consortium's published (not withdrawn) resolutions, newest assembly first."""
    closed = governance_selectors.resolutions_closed(consortium)
    return list(
        ResolutionPublication.objects.filter(resolution__in=closed, withdrawn_at__isnull=True)
        .select_related("resolution__assembly")
        .order_by("-resolution__assembly__held_on", "resolution__number")
    )


def resolution_rows(consortium: Consortium) -> list[dict]:
    rows = []
    for publication in resolution_publications(consortium):
        resolution = publication.resolution
        rows.append(
            {
                "id": resolution.pk,
                "assembly_ja": resolution.assembly.title_ja,
                "assembly_en": resolution.assembly.title_en or resolution.assembly.title_ja,
                "held_on": resolution.assembly.held_on,
                "number": resolution.number,
                "kind": resolution.kind,
                "title_ja": resolution.title_ja,
                "title_en": resolution.title_en or resolution.title_ja,
                "outcome": resolution.outcome,
                "regular_members": resolution.regular_members,
                "members_present": resolution.members_present,
                "votes_for": resolution.votes_for,
                "votes_against": resolution.votes_against,
                "votes_abstain": resolution.votes_abstain,
                "minutes_ja": publication.minutes_ja,
                "minutes_en": publication.minutes_en or publication.minutes_ja,
                "published_on": publication.published_at.date(),
            }
        )
    return rows


# --- Statistics ----------------------------------------------------------------------------------


def months_back(today: datetime.date, count: int = 12) -> list[str]:
    """Return the ``count`` months ending with ``today``'s, oldest first ('YYYY-MM')."""
    year, month = today.year, today.month
    for _ in range(count - 1):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return consent_reports.months_between(datetime.date(year, month, 1), today)


def consent_rows(consortium: Consortium, today: datetime.date, months: int = 12) -> list[dict]:
    """
    Return per purpose and month the consents given, declined and withdrawn (counts under 10
    as None), over the ``months`` months up to ``today``.
    """
    from django.utils import timezone

    purposes = list(consent_selectors.purposes_published(consortium))
    span = months_back(today, months)
    first = datetime.date.fromisoformat(f"{span[0]}-01")
    since = timezone.make_aware(datetime.datetime.combine(first, datetime.time()))
    until = timezone.make_aware(
        datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time())
    )
    counts = consent_reports.monthly_counts([p.pk for p in purposes], since, until)
    rows = []
    for purpose in purposes:
        for month in span:
            found = counts.get((purpose.pk, month), {})
            rows.append(
                {
                    "purpose_code": purpose.code,
                    "purpose_ja": purpose.title_ja,
                    "purpose_en": purpose.title_en,
                    "month": month,
                    **{
                        series: hidden_if_small(found.get(series, 0))
                        for series in consent_reports.SERIES
                    },
                }
            )
    return rows


def consent_current(consortium: Consortium) -> list[dict]:
    """Return per purpose the residents opted in and out now (counts under 10 as None)."""
    rows = []
    for purpose in consent_selectors.purposes_published(consortium):
        counts = consent_selectors.purpose_counts(purpose)
        rows.append(
            {
                "purpose_code": purpose.code,
                "purpose_ja": purpose.title_ja,
                "purpose_en": purpose.title_en,
                "status": purpose.status,
                "opted_in": hidden_if_small(counts.opted_in),
                "opted_out": hidden_if_small(counts.opted_out),
            }
        )
    return rows


def access_rows(consortium: Consortium) -> list[dict]:
    """Return per service, purpose and month the residents' data released (under 10 as None)."""
    organizations = {
        org.pk: org for org in Organization.objects.filter(memberships__consortium=consortium)
    }
    purposes = {p.pk: p for p in consent_selectors.purposes_published(consortium)}
    rows = []
    for row in consent_selectors.access_counts_by_month(consortium):
        organization = organizations.get(row["organization_id"])
        purpose = purposes.get(row["purpose_id"])
        rows.append(
            {
                "month": row["month"].strftime("%Y-%m"),
                "organization_ja": organization.name_ja if organization else "",
                "organization_en": organization.name_en if organization else "",
                "service": row["service_name"],
                "purpose_code": purpose.code if purpose else "",
                "residents": hidden_if_small(row["residents"]),
            }
        )
    return rows


def checkpoint():
    """Return the newest signed checkpoint over the audit log's Merkle tree, or None."""
    return audit_selectors.checkpoint_latest_merkle()


def data_version() -> str:
    """
    Return a token that changes whenever anything the register shows may have changed: every
    state change appends an audit entry (pending until sealed), so the log's head is enough.
    """
    head = audit_selectors.chain_head()
    return f"{head.seq if head else 0}.{audit_selectors.pending_count()}"


# --- KPIs and PDCA ----------------------------------------------------------------------------


@dataclass
class IndicatorCard:
    """One public indicator on the scorecard: its latest value and the share of the way done."""

    indicator: Indicator
    measurements: list[Measurement]
    reviews: list[PdcaReview]

    @property
    def latest(self) -> Measurement | None:
        return self.measurements[-1] if self.measurements else None

    @property
    def progress(self) -> int | None:
        """Return how far the latest value went from the baseline to the target, in %."""
        latest = self.latest
        span = self.indicator.target_value - self.indicator.baseline_value
        if latest is None or span == 0:
            return None
        return int(round((latest.value - self.indicator.baseline_value) * 100 / span))


def indicators_public(consortium: Consortium) -> list[IndicatorCard]:
    """Return the consortium's public indicators with their values and reviews, by code."""
    return indicator_cards(consortium)


def indicator_cards(
    consortium: Consortium, *, public_only: bool = True, until: datetime.date | None = None
) -> list[IndicatorCard]:
    """
    Return the consortium's indicators (only the public ones unless told otherwise) with their
    values measured up to ``until`` (every one by default) and their reviews, by code.
    """
    indicators = Indicator.objects.filter(consortium=consortium)
    if public_only:
        indicators = indicators.filter(is_public=True)
    measurements = Measurement.objects.order_by("measured_on")
    if until is not None:
        measurements = measurements.filter(measured_on__lte=until)
    indicators = indicators.prefetch_related(
        Prefetch("measurements", queryset=measurements),
        Prefetch(
            "reviews",
            queryset=PdcaReview.objects.select_related("resolution__assembly").order_by(
                "-period_end"
            ),
        ),
    ).order_by("code")
    return [
        IndicatorCard(indicator, list(indicator.measurements.all()), list(indicator.reviews.all()))
        for indicator in indicators
    ]


def indicator_rows(consortium: Consortium, today: datetime.date) -> list[dict]:
    """Return one row per value of each public indicator (the scorecard's dataset)."""
    rows = []
    for card in indicators_public(consortium):
        indicator = card.indicator
        for measurement in card.measurements:
            rows.append(
                {
                    "code": indicator.code,
                    "name_ja": indicator.name_ja,
                    "name_en": indicator.name_en,
                    "unit": indicator.unit,
                    "direction": indicator.direction,
                    "baseline_value": str(indicator.baseline_value),
                    "baseline_on": indicator.baseline_on,
                    "target_value": str(indicator.target_value),
                    "target_on": indicator.target_on,
                    "measured_on": measurement.measured_on,
                    "value": str(measurement.value),
                    "computed": measurement.computed,
                    "source": measurement.source,
                    "evidence": measurement.evidence,
                    "reported_by_requester": measurement.reported_by_id is not None,
                }
            )
    return rows


# --- Consultations -------------------------------------------------------------------------------


def consultation_rows(consortium: Consortium, today: datetime.date | None = None) -> list[dict]:
    """Return the consortium's announced and answered consultations, newest first, one row each."""
    rows = []
    for consultation in participation_selectors.consultations_public(consortium):
        counts = participation_selectors.participation_counts(consultation)
        rows.append(
            {
                "id": consultation.pk,
                "subject": consultation.subject,
                "purpose_code": consultation.purpose.code if consultation.purpose_id else "",
                "title_ja": consultation.title_ja,
                "title_en": consultation.title_en or consultation.title_ja,
                "opens_at": consultation.opens_at,
                "closes_at": consultation.closes_at,
                "phase": consultation.phase(),
                "result_published_at": consultation.answered_at,
                "participants": counts.total,
                **{f"channel_{value}": count for value, _label, count in counts.by_channel},
                **{f"age_{value}": count for value, _label, count in counts.by_age_band},
            }
        )
    return rows


def consultation_detail(consortium: Consortium, consultation_id: int) -> dict:
    """Return one consultation of the register: documents, questions, counts and result."""
    consultation = participation_selectors.public_consultation(consortium, consultation_id)
    return {
        "consultation": consultation,
        "phase": consultation.phase(),
        "counts": participation_selectors.participation_counts(consultation),
        "result": participation_selectors.result_rows(consultation),
        # People without a portal account may take part with a confirmed e-mail address.
        "by_email": participation_selectors.email_participation_allowed(consultation.consortium_id),
    }


def consultation_answer_rows(
    consortium: Consortium, today: datetime.date | None = None
) -> list[dict]:
    """Return every published answer (提出意見, 考慮した結果及びその理由) of the consortium."""
    rows = []
    for consultation in participation_selectors.consultations_public(consortium).filter(
        status="answered"
    ):
        for row in participation_selectors.result_rows(consultation):
            rows.append(
                {
                    "consultation_id": consultation.pk,
                    "number": row["number"],
                    "opinion_ja": row["opinion_ja"],
                    "opinion_en": row["opinion_en"] or row["opinion_ja"],
                    "response_ja": row["response_ja"],
                    "response_en": row["response_en"] or row["response_ja"],
                    "changed": row["changed"],
                    "comments": row["comments"],
                }
            )
    return rows


# --- Proposals -----------------------------------------------------------------------------------


def proposal_rows(consortium: Consortium, today: datetime.date | None = None) -> list[dict]:
    """Return the consortium's answered proposals, latest answer first, one row each."""
    return [
        {
            "id": proposal.pk,
            "kind": proposal.kind,
            "title": proposal.title,
            "supports": proposal.support_count,
            "outcome": proposal.outcome,
            "reasons_ja": proposal.reasons_ja,
            "reasons_en": proposal.reasons_en or proposal.reasons_ja,
            "answered_at": proposal.answered_at,
            "purpose_code": proposal.purpose.code if proposal.purpose_id else "",
            "indicator_code": proposal.indicator_code,
        }
        for proposal in participation_selectors.proposals_public(consortium).select_related(
            "purpose"
        )
    ]


# --- Meetings ------------------------------------------------------------------------------------


def meeting_rows(consortium: Consortium, today: datetime.date | None = None) -> list[dict]:
    """
    Return the consortium's announced, held and minuted meetings, latest first, one row each.
    Attendance is a head count of a public meeting, tied to no attribute of anyone, so it is
    published as counted (no small-count rule); the online link is for registered residents.
    """
    rows = []
    for meeting in participation_selectors.meetings_public(consortium):
        held = meeting.status != "announced"
        rows.append(
            {
                "id": meeting.pk,
                "title_ja": meeting.title_ja,
                "title_en": meeting.title_en or meeting.title_ja,
                "agenda_ja": meeting.agenda_ja,
                "agenda_en": meeting.agenda_en or meeting.agenda_ja,
                "format": meeting.format,
                "place": meeting.place,
                "starts_at": meeting.starts_at,
                "ends_at": meeting.ends_at,
                "capacity": meeting.capacity,
                "status": meeting.status,
                "registered": meeting.registered_count,
                "attended": meeting.attended_count + meeting.walk_ins if held else None,
                "walk_ins": meeting.walk_ins if held else None,
                "minutes_published_at": meeting.minutes_published_at,
                "minutes_ja": meeting.minutes_ja,
                "minutes_en": meeting.minutes_en or meeting.minutes_ja,
                "consultations": [c.pk for c in meeting.consultations.all()],
                "proposals": [p.pk for p in meeting.proposals.all() if p.status == "answered"],
            }
        )
    return rows


def meeting_detail(consortium: Consortium, meeting_id: int) -> dict:
    """Return one meeting of the register with the consultations and proposals it discussed."""
    meeting = participation_selectors.public_meeting(consortium, meeting_id)
    return {
        "meeting": meeting,
        "consultations": [c for c in meeting.consultations.all() if c.status != "draft"],
        "proposals": [p for p in meeting.proposals.all() if p.status == "answered"],
        "attended": meeting.attended_count + meeting.walk_ins,
    }
