"""
The register's datasets as open data: each consortium publishes the same datasets, built from
the rows the register's pages show (``selectors``), so that a download says what the page says.

CSV is UTF-8 with a byte-order mark (spreadsheets in Japan read it so), lists joined with "; ",
and a count under 10 written as "<10". JSON keeps types: lists as lists, a hidden count as null
(``hidden_below`` says why).
"""

import csv
import datetime
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.models import Consortium
from participation.models import AgeBand, Channel

from . import selectors

LICENCE_ID = "cc-by"
LICENCE_TITLE = "Creative Commons Attribution 4.0 (CC BY 4.0)"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
HIDDEN = "<10"
# Stable ids for CKAN clients that keep them: derived from the names, the same on every server.
ID_NAMESPACE = uuid.UUID("6f1c2f43-3f55-4b0e-9a55-0c8b3f1d9a10")


@dataclass(frozen=True)
class Dataset:
    """One dataset every consortium publishes."""

    key: str
    title: object  # a lazy translation
    description: object
    columns: tuple[str, ...]
    rows: Callable[[Consortium, datetime.date], list[dict]]
    counts: frozenset[str] = frozenset()  # columns hidden under 10

    def name(self, consortium: Consortium) -> str:
        """Return the dataset's CKAN name: lowercase, digits, - and _ (2 to 100 characters)."""
        return f"{consortium.slug}-{self.key}".lower()[:100]


def _use_rows(consortium: Consortium, today: datetime.date) -> list[dict]:
    rows = selectors.use_rows(selectors.decided_tickets(consortium), today)
    flat = []
    for row in rows:
        votes = row["votes"]
        flat.append(
            {
                **{
                    key: value
                    for key, value in row.items()
                    if key not in ("votes", "grants", "obligations")
                },
                **{f"votes_{choice}": votes.get(choice, 0) for choice in VOTE_CHOICES},
                "grants": [f"{grant['jti']}:{grant['status']}" for grant in row["grants"]],
                "obligations": [
                    f"{obligation['kind']}:{obligation['state']}"
                    for obligation in row["obligations"]
                ],
            }
        )
    return flat


VOTE_CHOICES = ("approve", "approve_with_conditions", "request_changes", "reject", "abstain")

DATASETS = [
    Dataset(
        key="uses",
        title=_("Uses of residents' data"),
        description=_(
            "Every request to use residents' data that the data-ethics board decided, with its "
            "terms, the board's tally (counts only), grants and the decision's audit entry."
        ),
        columns=(
            "id",
            "title",
            "state",
            "decided_on",
            "requester_ja",
            "requester_en",
            "service",
            "purpose_code",
            "purpose_ja",
            "purpose_en",
            "categories_ja",
            "categories_en",
            "sensitive",
            "recipients_ja",
            "recipients_en",
            "third_party_provision",
            "retention_days",
            "anonymisation",
            "anonymisation_details",
            "conditions",
            "valid_from",
            "valid_until",
            *(f"votes_{choice}" for choice in VOTE_CHOICES),
            "grants",
            "obligations",
            "audit_seq",
            "audit_hash",
        ),
        rows=_use_rows,
    ),
    Dataset(
        key="members",
        title=_("Member organisations"),
        description=_("The consortium's member organisations, past and present, with their class."),
        columns=(
            "name_ja",
            "name_en",
            "kind",
            "corporate_number",
            "member_class",
            "joined_on",
            "left_on",
        ),
        rows=lambda consortium, today: selectors.member_rows(consortium),
    ),
    Dataset(
        key="bylaws",
        title=_("Bylaws"),
        description=_("Every adopted version of the bylaws, article by article."),
        columns=(
            "version",
            "in_force",
            "adopted_on",
            "effective_on",
            "article",
            "title_ja",
            "title_en",
            "text_ja",
            "text_en",
        ),
        rows=selectors.bylaw_rows,
    ),
    Dataset(
        key="resolutions",
        title=_("Resolutions and minutes"),
        description=_("General assembly resolutions the secretariat published, with the tally."),
        columns=(
            "id",
            "held_on",
            "assembly_ja",
            "assembly_en",
            "number",
            "kind",
            "title_ja",
            "title_en",
            "outcome",
            "regular_members",
            "members_present",
            "votes_for",
            "votes_against",
            "votes_abstain",
            "minutes_ja",
            "minutes_en",
            "published_on",
        ),
        rows=lambda consortium, today: selectors.resolution_rows(consortium),
    ),
    Dataset(
        key="consent-statistics",
        title=_("Consent statistics"),
        description=_(
            "Per purpose and month, consents given, declined and withdrawn; counts under 10 hidden."
        ),
        columns=(
            "purpose_code",
            "purpose_ja",
            "purpose_en",
            "month",
            "given",
            "declined",
            "withdrawn",
        ),
        rows=selectors.consent_rows,
        counts=frozenset({"given", "declined", "withdrawn"}),
    ),
    Dataset(
        key="data-releases",
        title=_("Data released to services"),
        description=_(
            "Per month, service and purpose, the residents' records released under grants; "
            "counts under 10 hidden."
        ),
        columns=(
            "month",
            "organization_ja",
            "organization_en",
            "service",
            "purpose_code",
            "residents",
        ),
        rows=lambda consortium, today: selectors.access_rows(consortium),
        counts=frozenset({"residents"}),
    ),
    Dataset(
        key="indicators",
        title=_("Indicators (KPIs)"),
        description=_(
            "The consortium's public indicators: baseline, target and every value measured or "
            "computed, with its source."
        ),
        columns=(
            "code",
            "name_ja",
            "name_en",
            "unit",
            "direction",
            "baseline_value",
            "baseline_on",
            "target_value",
            "target_on",
            "measured_on",
            "value",
            "computed",
            "source",
            "evidence",
            "reported_by_requester",
        ),
        rows=selectors.indicator_rows,
    ),
    Dataset(
        key="consultations",
        title=pgettext_lazy("register", "Consultations"),
        description=_(
            "Every consultation announced (意見募集): its period, its phase and how many took "
            "part by channel and by declared age band; counts under 10 hidden."
        ),
        columns=(
            "id",
            "subject",
            "purpose_code",
            "title_ja",
            "title_en",
            "opens_at",
            "closes_at",
            "phase",
            "result_published_at",
            "participants",
            *(f"channel_{value}" for value in Channel.values),
            *(f"age_{value}" for value in AgeBand.values),
        ),
        rows=selectors.consultation_rows,
        counts=frozenset(
            {
                "participants",
                *(f"channel_{value}" for value in Channel.values),
                *(f"age_{value}" for value in AgeBand.values),
            }
        ),
    ),
    Dataset(
        key="consultation-answers",
        title=_("Consultation results"),
        description=_(
            "The published results of consultations: the opinions submitted (提出意見), the "
            "consortium's answer with its reasons (考慮した結果及びその理由), whether the draft "
            "changed, and the comments answered (without their authors)."
        ),
        columns=(
            "consultation_id",
            "number",
            "opinion_ja",
            "opinion_en",
            "response_ja",
            "response_en",
            "changed",
            "comments",
        ),
        rows=selectors.consultation_answer_rows,
    ),
    Dataset(
        key="proposals",
        title=pgettext_lazy("register", "Proposals"),
        description=_(
            "Residents' proposals the secretariat has answered: their kind and title, how many "
            "residents support them, the outcome and its reasons, and what follows (a purpose, "
            "a KPI)."
        ),
        columns=(
            "id",
            "kind",
            "title",
            "supports",
            "outcome",
            "reasons_ja",
            "reasons_en",
            "answered_at",
            "purpose_code",
            "indicator_code",
        ),
        rows=selectors.proposal_rows,
    ),
    Dataset(
        key="meetings",
        title=pgettext_lazy("register", "Meetings"),
        description=_(
            "Open meetings announced (説明会・意見交換会): agenda, time, place, capacity, how many "
            "registered and attended, the minutes once published, and the consultations and "
            "proposals discussed (by id)."
        ),
        columns=(
            "id",
            "title_ja",
            "title_en",
            "agenda_ja",
            "agenda_en",
            "format",
            "place",
            "starts_at",
            "ends_at",
            "capacity",
            "status",
            "registered",
            "attended",
            "walk_ins",
            "minutes_published_at",
            "minutes_ja",
            "minutes_en",
            "consultations",
            "proposals",
        ),
        rows=selectors.meeting_rows,
    ),
]
BY_KEY = {dataset.key: dataset for dataset in DATASETS}


def register(dataset: Dataset) -> None:
    """Add a dataset every consortium publishes (other parts of the register add theirs)."""
    if dataset.key not in BY_KEY:
        DATASETS.append(dataset)
        BY_KEY[dataset.key] = dataset


def find(name: str) -> tuple[Consortium, Dataset] | None:
    """Return the public consortium and dataset of CKAN name ``name``, or None."""
    for consortium in selectors.consortia():
        prefix = f"{consortium.slug}-"
        if name.startswith(prefix) and name[len(prefix) :] in BY_KEY:
            return consortium, BY_KEY[name[len(prefix) :]]
    return None


def package_id(name: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"package:{name}"))


def organization_id(consortium: Consortium) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"organization:{consortium.slug}"))


def resource_id(name: str, fmt: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"resource:{name}:{fmt}"))


def _plain(value):
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


def json_rows(dataset: Dataset, rows: list[dict]) -> list[dict]:
    return [{column: _plain(row.get(column)) for column in dataset.columns} for row in rows]


def _cell(dataset: Dataset, column: str, value) -> str:
    if value is None:
        return HIDDEN if column in dataset.counts else ""
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(_plain(value))


def csv_text(dataset: Dataset, rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(dataset.columns)
    for row in rows:
        writer.writerow([_cell(dataset, column, row.get(column)) for column in dataset.columns])
    return "\ufeff" + buffer.getvalue()
