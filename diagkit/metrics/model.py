"""The figures of one period as a typed report, with its JSON (``diagkit.metrics/1``) and long
CSV forms; the definitions are in :mod:`diagkit.metrics`."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

JSON_SCHEMA_METRICS = "diagkit.metrics/1"
AGE_BUCKETS: tuple[str, ...] = ("<1d", "1-3d", "3-7d", "7-30d", ">30d")
TOP_N = 10


@dataclass(frozen=True)
class EngineerRow:
    """One engineer's figures (definitions as in :class:`MetricsReport`)."""

    engineer: str
    opened: int = 0
    resolved: int = 0
    frt_median: timedelta | None = None
    ttr_median: timedelta | None = None
    breached: int = 0
    sla_counted: int = 0
    csat_share_4_5: float | None = None
    backlog: int = 0


@dataclass(frozen=True)
class SeriesPoint:
    """One bucket ``[start, end)`` of the series; ``backlog`` is the count open at ``end``."""

    start: datetime
    end: datetime
    opened: int
    resolved: int
    backlog: int


@dataclass(frozen=True)
class MetricsReport:
    """Every figure of one period; see the module docstring for the definitions."""

    since: datetime
    until: datetime
    engineer: str | None
    opened: int
    resolved: int
    frt_median: timedelta | None
    frt_p90: timedelta | None
    frt_count: int
    ttr_median: timedelta | None
    ttr_p90: timedelta | None
    ttr_count: int
    breach_rate: Mapping[str, tuple[int, int]]
    breach_first_response: Mapping[str, tuple[int, int]]
    breach_resolution: Mapping[str, tuple[int, int]]
    csat_share_4_5: float | None
    csat_distribution: Mapping[int, int]
    backlog: int
    backlog_ageing: Mapping[str, int]
    top_signatures: list[tuple[str, int]]
    top_articles: list[tuple[str, str, int]]
    per_engineer: Mapping[str, EngineerRow]
    series: list[SeriesPoint]
    bucket: str = "day"
    now: datetime | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``"schema": "diagkit.metrics/1"``, durations in seconds)."""
        return {
            "schema": JSON_SCHEMA_METRICS,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "engineer": self.engineer,
            "opened": self.opened,
            "resolved": self.resolved,
            "frt_median_s": _secs(self.frt_median),
            "frt_p90_s": _secs(self.frt_p90),
            "frt_count": self.frt_count,
            "ttr_median_s": _secs(self.ttr_median),
            "ttr_p90_s": _secs(self.ttr_p90),
            "ttr_count": self.ttr_count,
            "sla": {
                sev: {
                    "breached": self.breach_rate[sev][0],
                    "total": self.breach_rate[sev][1],
                    "first_response": list(self.breach_first_response.get(sev, (0, 0))),
                    "resolution": list(self.breach_resolution.get(sev, (0, 0))),
                }
                for sev in self.breach_rate
            },
            "csat_share_4_5": self.csat_share_4_5,
            "csat_distribution": {str(k): v for k, v in self.csat_distribution.items()},
            "backlog": self.backlog,
            "backlog_ageing": dict(self.backlog_ageing),
            "top_signatures": [{"signature": s, "cases": n} for s, n in self.top_signatures],
            "top_articles": [{"slug": s, "title": t, "cases": n}
                             for s, t, n in self.top_articles],
            "per_engineer": [
                {"engineer": r.engineer, "opened": r.opened, "resolved": r.resolved,
                 "frt_median_s": _secs(r.frt_median), "ttr_median_s": _secs(r.ttr_median),
                 "sla_breached": r.breached, "sla_total": r.sla_counted,
                 "csat_share_4_5": r.csat_share_4_5, "backlog": r.backlog}
                for r in self.per_engineer.values()
            ],
            "bucket": self.bucket,
            "series": [
                {"start": p.start.isoformat(), "end": p.end.isoformat(), "opened": p.opened,
                 "resolved": p.resolved, "backlog": p.backlog}
                for p in self.series
            ],
        }

    def to_csv(self) -> str:
        """Long ("tidy") CSV: ``section,key,metric,value`` rows, one figure each.

        ``section`` is summary, sla, csat, ageing, signature, article, engineer or series;
        ``key`` names the row within it (severity, score, engineer, bucket start...);
        durations are seconds. One table for everything, easy to pivot in a spreadsheet.
        """
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(("section", "key", "metric", "value"))
        for name, value in (
            ("since", self.since.isoformat()), ("until", self.until.isoformat()),
            ("engineer", self.engineer or ""), ("opened", self.opened),
            ("resolved", self.resolved), ("frt_median_s", _secs(self.frt_median)),
            ("frt_p90_s", _secs(self.frt_p90)), ("frt_count", self.frt_count),
            ("ttr_median_s", _secs(self.ttr_median)), ("ttr_p90_s", _secs(self.ttr_p90)),
            ("ttr_count", self.ttr_count), ("csat_share_4_5", self.csat_share_4_5),
            ("backlog", self.backlog),
        ):
            w.writerow(("summary", "", name, _cell(value)))
        for sev, (b, t) in self.breach_rate.items():
            fb, ft = self.breach_first_response.get(sev, (0, 0))
            rb, rt = self.breach_resolution.get(sev, (0, 0))
            for name, value in (("breached", b), ("total", t),
                                ("first_response_breached", fb), ("first_response_total", ft),
                                ("resolution_breached", rb), ("resolution_total", rt)):
                w.writerow(("sla", sev, name, value))
        for score, n in self.csat_distribution.items():
            w.writerow(("csat", score, "cases", n))
        for bucket, n in self.backlog_ageing.items():
            w.writerow(("ageing", bucket, "cases", n))
        for sig, n in self.top_signatures:
            w.writerow(("signature", sig, "cases", n))
        for slug, title, n in self.top_articles:
            w.writerow(("article", slug, "title", title))
            w.writerow(("article", slug, "cases", n))
        for row in self.per_engineer.values():
            for name, value in (("opened", row.opened), ("resolved", row.resolved),
                                ("frt_median_s", _secs(row.frt_median)),
                                ("ttr_median_s", _secs(row.ttr_median)),
                                ("sla_breached", row.breached), ("sla_total", row.sla_counted),
                                ("csat_share_4_5", row.csat_share_4_5),
                                ("backlog", row.backlog)):
                w.writerow(("engineer", row.engineer, name, _cell(value)))
        for p in self.series:
            for name, value in (("opened", p.opened), ("resolved", p.resolved),
                                ("backlog", p.backlog)):
                w.writerow(("series", p.start.isoformat(), name, value))
        return buf.getvalue()


def _secs(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _cell(value: object) -> object:
    return "" if value is None else value

