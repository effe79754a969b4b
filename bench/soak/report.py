"""The soak's figures: per kind of request, per fault window, and the invariants' counts."""

import math
from collections import Counter, defaultdict


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def by_kind(requests: list[dict], duration: float) -> dict[str, dict]:
    """Requests/s, p50/p95/p99 (ms) and failures per kind of request."""
    grouped = defaultdict(list)
    for entry in requests:
        grouped[entry["k"]].append(entry)
    figures = {}
    for kind, entries in sorted(grouped.items()):
        times = [entry["ms"] for entry in entries]
        figures[kind] = {
            "count": len(entries),
            "rps": len(entries) / duration if duration else 0.0,
            "p50": percentile(times, 0.50),
            "p95": percentile(times, 0.95),
            "p99": percentile(times, 0.99),
            "failed": sum(1 for entry in entries if entry.get("e")),
            "5xx": sum(1 for entry in entries if entry["s"] >= 500),
            "lost": sum(1 for entry in entries if entry["s"] == 0),
        }
    return figures


def by_window(requests: list[dict], windows: list, t0: float) -> list[dict]:
    """
    Per fault window: when (seconds into the run), what, the probe's recovery, the clients'
    (the end of the last request that failed with a 5xx or lost its connection, from the
    fault), and the statuses of the requests that failed in it. The last row is everything
    outside the windows.
    """
    rows = []
    outside = Counter()
    outside_total = 0
    assigned = set()
    for window in windows:
        statuses = Counter()
        total = 0
        last_failure = None
        for index, entry in enumerate(requests):
            end = entry["t"] + entry["ms"] / 1000
            if not window.covers(entry["t"], end):
                continue
            assigned.add(index)
            total += 1
            if entry.get("e"):
                statuses[entry["s"]] += 1
            if entry["s"] >= 500 or entry["s"] == 0:
                last_failure = max(last_failure or end, end)
        rows.append(
            {
                "fault": window.fault,
                "at": window.start - t0,
                "detail": window.detail,
                "recovery": window.recovery_seconds,
                "client_recovery": None if last_failure is None else last_failure - window.start,
                "requests": total,
                "errors": dict(statuses),
            }
        )
    for index, entry in enumerate(requests):
        if index not in assigned:
            outside_total += 1
            if entry.get("e"):
                outside[entry["s"]] += 1
    rows.append({"fault": "outside windows", "requests": outside_total, "errors": dict(outside)})
    return rows


def _ms(value: float) -> str:
    return f"{value:7.0f}"


def render(runs: dict[str, dict]) -> str:
    """The figures of each run (``baseline``, ``faults``) side by side, then the windows."""
    lines = []
    names = list(runs)
    kinds = sorted({kind for run in runs.values() for kind in run["kinds"]})
    header = f"{'request':<22}" + "".join(
        f" | {name + ': req/s    p50    p95    p99 fail':<40}" for name in names
    )
    lines += [header, "-" * len(header)]
    for kind in kinds:
        row = f"{kind:<22}"
        for name in names:
            figures = runs[name]["kinds"].get(kind)
            if figures is None:
                row += f" | {'':<40}"
                continue
            row += (
                f" | {figures['rps']:>{len(name) + 8}.2f}{_ms(figures['p50'])}{_ms(figures['p95'])}"
                f"{_ms(figures['p99'])} {figures['failed']:>4}"
            )
        lines.append(row)
    for name in names:
        run = runs[name]
        lines.append(
            f"{name}: {run['requests']} requests in {run['duration']:.0f} s, "
            f"{run['requests'] / run['duration']:.2f} requests/s"
        )
    for name in names:
        for row in runs[name]["windows"]:
            if row["fault"] == "outside windows":
                lines.append(
                    f"{name}: outside the fault windows: {row['requests']} requests, "
                    f"failed by status {row['errors'] or 'none'}"
                )
                continue
            probe = "not seen" if row["recovery"] is None else f"{row['recovery']:.1f} s"
            client = (
                "no failure"
                if row["client_recovery"] is None
                else f"{row['client_recovery']:.1f} s"
            )
            lines.append(
                f"{name}: {row['fault']} at {row['at']:.0f} s ({row['detail']}): recovered "
                f"(health) {probe}, last client failure {client}; {row['requests']} requests, "
                f"failed by status {row['errors'] or 'none'}"
            )
    for name in names:
        for result in runs[name]["invariants"]:
            mark = "ok  " if not result["violations"] else "FAIL"
            lines.append(f"{name}: {mark} {result['name']}: {result['checked']} checked")
            lines.extend(f"        {violation}" for violation in result["violations"][:10])
            if len(result["violations"]) > 10:
                lines.append(f"        ... and {len(result['violations']) - 10} more")
    return "\n".join(lines)
