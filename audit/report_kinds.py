"""
The audit app's own report: the audit log over a period, for outside auditors.

Everything in it is summed up by the database (weasyprint lays out about 80 table rows a
second, so the PDF never lists a period's entries one by one); the entries themselves travel
inside the PDF as an export that ``tools/verify_audit_export.py`` checks.
"""

import datetime

from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.forms import JapaneseDateField

from . import reports, selectors, services
from .export import export
from .models import Checkpoint, Entry
from .verification import fault_label, verify_chain

KIND = "audit.period"
# Actions an auditor must see one by one: keys rotated or compromised, grants revoked or
# suspended, tickets suspended, failed verifications and reports.
EXCEPTIONAL_ACTIONS = ["key.rotated", "key.revoked", "audit.verification_failed", "report.failed"]
EXCEPTIONAL_SUFFIXES = [".revoked", ".suspended", ".compromised"]
LISTED_EXCEPTIONS = 100
LISTED_CHECKPOINTS = 20


def exceptional_filter() -> Q:
    condition = Q(action__in=EXCEPTIONAL_ACTIONS)
    for suffix in EXCEPTIONAL_SUFFIXES:
        condition |= Q(action__endswith=suffix)
    return condition


def consortia_for(user):
    # The audit log spans every consortium: its report is for the platform's administrators.
    return reports.ALL if user.is_superuser else []


class AuditPeriodForm(reports.ReportParametersForm):
    start = JapaneseDateField(label=gettext_lazy("first day"))
    end = JapaneseDateField(label=gettext_lazy("last day"))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", gettext_lazy("The last day must not be before the first day."))
        return data

    def parameters(self):
        data = self.cleaned_data
        return {"start": data["start"].isoformat(), "end": data["end"].isoformat()}, None


def period_bounds(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, ...]:
    """Return the period's [since, until) in the platform's time zone (Asia/Tokyo)."""
    zone = timezone.get_default_timezone()
    since = datetime.datetime.combine(start, datetime.time.min, tzinfo=zone)
    until = datetime.datetime.combine(
        end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    return since, until


def build(report, *, progress, workdir):
    start = datetime.date.fromisoformat(report.parameters["start"])
    end = datetime.date.fromisoformat(report.parameters["end"])
    since, until = period_bounds(start, end)

    services.seal()
    head = selectors.chain_head()
    head_seq = head.seq if head else 0
    walked = 0

    def verified(step: int) -> None:
        nonlocal walked
        walked += step
        progress(40 * walked // max(head_seq, 1))

    verdict = verify_chain(progress=verified)
    if not verdict.ok:
        services.verification_failure_record(verdict=verdict)

    # The period is the run of sequence numbers from its first entry to its last: entries are
    # sealed in the order their transactions committed, so the few whose time stamps straddle
    # a boundary belong to the run they were sealed in, and the attached export has no gap.
    bounds = Entry.objects.filter(time__gte=since, time__lt=until).aggregate(
        first=Min("seq"), last=Max("seq")
    )
    first, last = bounds["first"], bounds["last"]
    in_period = Entry.objects.filter(seq__gte=first or 0, seq__lte=last or -1)
    first_entry = Entry.objects.filter(seq=first).first() if first else None
    last_entry = Entry.objects.filter(seq=last).first() if last else None
    by_action = list(
        in_period.values("action").annotate(count=Count("seq")).order_by("-count", "action")
    )
    by_consortium = list(
        in_period.values("consortium_id").annotate(count=Count("seq")).order_by("consortium_id")
    )
    names = reports.consortium_names(row["consortium_id"] for row in by_consortium)
    for row in by_consortium:
        name = names.get(row["consortium_id"])
        row["name"] = name if name != str(row["consortium_id"]) else ""
    exceptional = in_period.filter(exceptional_filter()).order_by("seq")
    exceptional_count = exceptional.count()
    checkpoints = Checkpoint.objects.filter(time__gte=since, time__lt=until).select_related("key")
    checkpoint_count = checkpoints.count()
    progress(45)

    out = workdir / "export"
    total = (last - first + 1) if first else 0
    exported = 0

    def exporting(step: int) -> None:
        nonlocal exported
        exported += step
        progress(45 + 40 * exported // max(total, 1))

    manifest = export(
        out,
        start_seq=first or head_seq + 1,
        end_seq=last if first else head_seq,
        progress=exporting,
    )
    progress(88)
    attachments = [
        reports.Attachment(
            "entries.jsonl", out / "entries.jsonl", _("The period's audit entries (JSON Lines)")
        ),
        reports.Attachment("checkpoints.jsonl", out / "checkpoints.jsonl", _("Signed checkpoints")),
        reports.Attachment("jwks.json", out / "jwks.json", _("The platform's public keys (JWKS)")),
        reports.Attachment("manifest.json", out / "manifest.json", _("Export manifest")),
    ]
    return reports.Document(
        template="audit/reports/audit_period.html",
        title=_("Audit log report"),
        attachments=attachments,
        context={
            "start": start,
            "end": end,
            "generated_at": timezone.now(),
            "verdict": verdict,
            "first_problem": verdict.first,
            "first_problem_label": fault_label(verdict.first.kind) if verdict.first else "",
            "first_entry": first_entry,
            "last_entry": last_entry,
            "entry_count": total,
            "by_action": by_action,
            "by_consortium": by_consortium,
            "exceptional": list(exceptional[:LISTED_EXCEPTIONS]),
            "exceptional_count": exceptional_count,
            "exceptional_more": max(exceptional_count - LISTED_EXCEPTIONS, 0),
            "checkpoints": list(checkpoints.order_by("-seq")[:LISTED_CHECKPOINTS]),
            "checkpoint_count": checkpoint_count,
            "checkpoints_more": max(checkpoint_count - LISTED_CHECKPOINTS, 0),
            "manifest": manifest,
        },
    )


def describe(parameters: dict) -> str:
    return _("%(start)s to %(end)s") % {"start": parameters["start"], "end": parameters["end"]}


def register() -> None:
    reports.register(
        reports.ReportKind(
            kind=KIND,
            label=gettext_lazy("Audit log report for a period"),
            consortia_for=consortia_for,
            form_class=AuditPeriodForm,
            build=build,
            describe=describe,
        )
    )
