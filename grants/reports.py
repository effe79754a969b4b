"""
The grants app's report: the third-party provision record (第三者提供記録).

After the record-keeping rules of APPI arts. 29 and 30: for a consortium and a period, per
grant and recipient, which data categories were provided for which purpose, on which consent
basis (opt-in consent under a notice version, with the notice's SHA-256), when (first and last
provision, distinct residents per month) and to how many residents, never who. Every count of
residents below 10 is shown as "fewer than 10", the rule of the consent statistics. Everything
is summed up by the database from the access rows the grants check writes (``DataAccess``).
Registered with the audit app's report machinery from ``GrantsConfig.ready``.
"""

import datetime
import zoneinfo

from django.db.models import Count, Max, Min, OuterRef, Subquery
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit import reports
from consent import services as consent_services
from consent.models import ConsentRecord, DataAccess, DataCategory, Notice
from consent.reports import StatisticsForm, consortia_for, localized, months_between, shown

from .models import Grant

KIND = "grants.provision_record"
# APPI art. 29(2) / 30(4) and the Enforcement Rules (art. 21 / 25): the records of a provision
# are kept for 3 years in general.
RECORD_RETENTION_YEARS = 3
JAPAN = zoneinfo.ZoneInfo("Asia/Tokyo")


class ProvisionRecordForm(StatisticsForm):
    """The consortium (only the clerk's own) and the period."""


def _basis_subquery():
    """The notice of the resident's latest consent given on the purpose before the access."""
    return Subquery(
        ConsentRecord.objects.filter(
            resident_id=OuterRef("resident_id"),
            purpose_id=OuterRef("purpose_id"),
            decision=ConsentRecord.Decision.GIVEN,
            decided_at__lte=OuterRef("accessed_at"),
        )
        .order_by("-id")
        .values("notice_id")[:1]
    )


def _month_key(value) -> str:
    if isinstance(value, datetime.datetime):
        return value.astimezone(JAPAN).strftime("%Y-%m")
    return value.strftime("%Y-%m")


def build(report, *, progress, workdir):
    from django.apps import apps

    consortium = (
        apps.get_model("governance", "Consortium").objects.filter(pk=report.consortium_id).first()
    )
    if consortium is None:
        raise reports.ReportError(_("The record this report is about no longer exists."))
    start = datetime.date.fromisoformat(report.parameters["start"])
    end = datetime.date.fromisoformat(report.parameters["end"])
    zone = timezone.get_default_timezone()
    since = datetime.datetime.combine(start, datetime.time.min, tzinfo=zone)
    until = datetime.datetime.combine(
        end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    grants = {
        grant.jti: grant
        for grant in Grant.objects.filter(consortium=consortium).select_related(
            "service", "service__organization", "purpose"
        )
    }
    # Every access of the period in the table first: batches of the consent check not yet
    # copied (at most a minute old while the task cluster runs) are copied now.
    consent_services.data_access_expand()
    accesses = DataAccess.objects.filter(
        grant_jti__in=list(grants), accessed_at__gte=since, accessed_at__lt=until
    )
    totals = {
        (row["grant_jti"], row["organization_id"]): row
        for row in accesses.values("grant_jti", "organization_id").annotate(
            residents=Count("resident_id", distinct=True),
            first=Min("accessed_at"),
            last=Max("accessed_at"),
            provisions=Count("id"),
        )
    }
    progress(30)
    monthly: dict[tuple, dict[str, int]] = {}
    for row in (
        accesses.annotate(month=TruncMonth("accessed_at", tzinfo=JAPAN))
        .values("grant_jti", "organization_id", "month")
        .annotate(residents=Count("resident_id", distinct=True))
    ):
        key = (row["grant_jti"], row["organization_id"])
        monthly.setdefault(key, {})[_month_key(row["month"])] = row["residents"]
    progress(50)
    bases: dict[tuple, list[tuple[int, int]]] = {}
    for row in (
        accesses.annotate(notice=_basis_subquery())
        .values("grant_jti", "organization_id", "notice")
        .annotate(residents=Count("resident_id", distinct=True))
    ):
        key = (row["grant_jti"], row["organization_id"])
        bases.setdefault(key, []).append((row["notice"], row["residents"]))
    progress(70)
    notices = Notice.objects.in_bulk(
        {notice for rows in bases.values() for notice, _count in rows if notice}
    )
    organizations = apps.get_model("governance", "Organization").objects.in_bulk(
        {organization for _jti, organization in totals}
    )
    categories = {c.code: c for c in DataCategory.objects.all()}
    months = months_between(start, end)
    sections = []
    for key in sorted(totals, key=lambda k: (grants[k[0]].issued_at, k[0], k[1])):
        jti, organization_id = key
        grant, row = grants[jti], totals[key]
        basis = []
        for notice_id, count in sorted(bases.get(key, []), key=lambda b: (b[0] is None, b[0])):
            notice = notices.get(notice_id)
            basis.append(
                {
                    "version": notice.version if notice else None,
                    "sha256": notice.sha256 if notice else "",
                    "residents": shown(count),
                }
            )
        sections.append(
            {
                "jti": jti,
                "ticket": grant.ticket_id,
                "service": grant.service.name,
                "status": grant.get_status_display(),
                "issued_at": grant.issued_at,
                "expires_at": grant.expires_at,
                "recipient": localized(organizations[organization_id], "name"),
                "purpose": localized(grant.purpose, "title"),
                "purpose_code": grant.purpose.code,
                "retention_days": grant.purpose.retention_days,
                "categories": [
                    localized(categories[code], "name") if code in categories else code
                    for code in grant.categories
                ],
                "basis": basis,
                "first": row["first"],
                "last": row["last"],
                "residents": shown(row["residents"]),
                "months": [
                    {"month": m, "residents": shown(monthly.get(key, {}).get(m, 0))} for m in months
                ],
            }
        )
    progress(85)
    return reports.Document(
        template="grants/reports/provision_record.html",
        title=_("Third-party provision record"),
        context={
            "consortium": localized(consortium, "name"),
            "start": start,
            "end": end,
            "sections": sections,
            "small": 10,
            "record_retention_years": RECORD_RETENTION_YEARS,
        },
    )


def register() -> None:
    reports.register(
        reports.ReportKind(
            kind=KIND,
            label=gettext_lazy("Third-party provision record of a consortium"),
            consortia_for=consortia_for,
            form_class=ProvisionRecordForm,
            build=build,
        )
    )
