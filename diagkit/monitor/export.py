"""Monitoring history out of diagkit: series as CSV (``diagkit watch --csv``, the History tab)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from diagkit.store.contract import SeriesData


def write_csv(data: Sequence[SeriesData], path: Path | str) -> int:
    """Write series as CSV (time in UTC ISO-8601, host, metric, resolution, avg, min, max);
    returns the rows written. OSError goes to the caller, which knows how to say it."""
    rows = 0
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["time", "host", "metric", "resolution", "avg", "min", "max"])
        for d in data:
            for i in range(len(d)):
                w.writerow([datetime.fromtimestamp(d.t[i], UTC).isoformat(timespec="seconds"),
                            d.host, d.metric, d.resolution, f"{d.avg[i]:.6g}",
                            f"{d.min[i]:.6g}", f"{d.max[i]:.6g}"])
                rows += 1
    return rows
