"""
The audit log report for a period of 1,000,000 entries on PostgreSQL (aim: under 60 s), beside
exporting the same entries to JSON Lines (``audit.export.export``) in the same run.

The report verifies the whole chain, sums the period up in the database, exports its entries
and embeds them in the PDF; so the export alone is the floor it is compared with.

    python bench/audit_report.py   # BENCH_DATABASE_URL (default: .../smartcity_bench)
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

from _setup import machine, setup


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()
    media = tempfile.mkdtemp(prefix="bench-reports-")
    os.environ["MEDIA_ROOT"] = media
    setup()
    from audit_verify import ensure_entries
    from django.db.models import Max, Min
    from django.utils import timezone

    from audit import services
    from audit.export import export
    from audit.models import Entry, Report

    ensure_entries(args.entries)
    print(f"audit report benchmark: {machine()}")
    services.seal()
    bounds = Entry.objects.aggregate(first=Min("time"), last=Max("time"))
    zone = timezone.get_default_timezone()
    start = bounds["first"].astimezone(zone).date()
    end = bounds["last"].astimezone(zone).date()

    report = services.report_request(
        actor=None,
        kind="audit.period",
        parameters={"start": start.isoformat(), "end": end.isoformat()},
        consortium_id=None,
        language="ja",
        enqueue=False,
    )
    started = time.perf_counter()
    report = services.report_build(report_id=report.pk)
    report_seconds = time.perf_counter() - started
    assert report.state == Report.State.DONE, report.failure_reason
    entries = report.after_seq  # the period covers the whole chain up to the report

    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        manifest = export(Path(out), start_seq=1, end_seq=report.after_seq)
        export_seconds = time.perf_counter() - started
    print(f"entries in the period:           {entries:>12,}")
    print(f"PDF size:                        {report.size / 1e6:>12,.1f} MB")
    print(f"audit report (verify + sums + export + PDF): {report_seconds:8.2f} s")
    print(f"export to JSON Lines alone ({manifest['entries']:,} entries): {export_seconds:8.2f} s")
    print(f"ratio report / export:           {report_seconds / export_seconds:>12.2f}")
    print(f"aim: under 60 s -> {'met' if report_seconds < 60 else 'NOT met'}")


if __name__ == "__main__":
    main()
