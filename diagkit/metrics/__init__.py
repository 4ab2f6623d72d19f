"""Support metrics over a period: volumes, response/resolution times, SLA breaches, CSAT,
backlog, top signatures and KB articles, per engineer and over time.

:func:`compute` reads a period ``[since, until)`` through three bulk queries of the store
(:class:`diagkit.store.metrics.MetricsStore`) and does the arithmetic here. Definitions (also in
``docs/metrics.md``; "in the period" always means ``since <= t < until``):

* **opened**: cases created in the period.
* **resolved**: cases whose ``resolved_at`` is in the period. A case resolved, reopened and
  resolved again has only its last resolution stored, and counts there.
* **FRT** (first response time): ``first_response_at - created`` minus the time spent in
  ``waiting_on_customer`` (net wall-clock time, 24x7: :func:`diagkit.cases.sla.elapsed` with
  :func:`~diagkit.cases.sla.pauses_from_history` pauses), over cases whose first response is
  in the period.
* **TTR** (time to resolve): ``resolved_at - created`` minus the time in
  ``waiting_on_customer`` and, for reopened cases, the time it sat resolved/closed before the
  reopen (as the SLA resolution clock counts it), over cases resolved in the period.
* **median / p90**: nearest-rank percentiles: the value at rank ``ceil(p/100 * n)`` of the
  sorted values (so the median of an even count is the lower middle value). ``None`` when no
  case qualifies.
* **SLA breaches** per severity, over cases with a severity that has a policy (the store's
  ``default_policies()`` unless ``policies`` is given). Each case has two clocks, measured in
  the policy's calendar (business hours or 24x7) net of pauses like FRT/TTR: first response
  (stopped by ``first_response_at``) and resolution (stopped by ``resolved_at``). A clock counts
  in the period when it **stopped** in the period (breached if more than the target elapsed),
  or, still running at ``min(now, until)`` and already past its target, when it fell **due** in
  the period (breached). A running clock not yet due is not counted. So a clock that fell due
  in one period and stopped in a later one counts (breached) in both. ``breach_first_response``
  and ``breach_resolution`` give ``(breached, counted)`` per clock; ``breach_rate`` combines
  them per case: counted if any of its clocks counted, breached if any counted clock breached.
* **CSAT**: among cases resolved in the period with a rating, the share rated 4 or 5, and the
  count per score 1..5.
* **backlog**: cases open at ``until`` (created before it and not resolved/closed then, from
  the status history), with ageing buckets by ``until - created``: ``<1d``, ``1-3d``,
  ``3-7d``, ``7-30d``, ``>30d`` (lower bound included).
* **top signatures / top articles**: distinct cases per masked log signature (``log_excerpt``
  entries' ``signatures``) and per KB article slug (``kb_article`` + ``known_issue`` entries),
  over journal entries written in the period; most cases first, ties by name.
* **per engineer**: the same figures per ``Case.engineer`` (``""`` = unassigned).
* **series**: per UTC day (or ISO week, starting Monday) bucket clipped to the period: cases
  opened and resolved in it and the backlog at its end.

``engineer`` keeps only that engineer's cases for every figure.
"""

from __future__ import annotations

import csv
import io
import math
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from diagkit.cases.lifecycle import Status
from diagkit.cases.sla import Calendar, SlaPolicy, add_business_time, default_policies
from diagkit.errors import ConfigError
from diagkit.store.metrics import MetricsCase, MetricsStore, StatusInterval

JSON_SCHEMA_METRICS = "diagkit.metrics/1"
AGE_BUCKETS: tuple[str, ...] = ("<1d", "1-3d", "3-7d", "7-30d", ">30d")
_AGE_LIMITS = (1, 3, 7, 30)  # days; the lower bound of each next bucket
TOP_N = 10

_WAIT = Status.WAITING_ON_CUSTOMER.value
_DONE = frozenset({Status.RESOLVED.value, Status.CLOSED.value})


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


# --- period parsing --------------------------------------------------------------------------

_RELATIVE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$", re.IGNORECASE)


def parse_since(text: str, *, now: datetime) -> datetime:
    """A period bound from the command line: ``30d``, ``12h``, ``2w`` (before ``now``) or an
    ISO date/datetime (a date is midnight UTC; a naive datetime is taken as UTC)."""
    m = _RELATIVE.match(text)
    if m:
        amount, unit = int(m.group(1)), m.group(2).lower()
        delta = {"h": timedelta(hours=amount), "d": timedelta(days=amount),
                 "w": timedelta(weeks=amount)}[unit]
        return now - delta
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            return datetime.combine(date.fromisoformat(text.strip()), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"{text!r} is not a period start: give a relative one like 30d, 12h or 2w, or an "
            "ISO date such as 2024-03-01 (or 2024-03-01T09:00)."
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- time arithmetic -------------------------------------------------------------------------

Span = tuple[float, float]  # POSIX seconds; pauses merged, in order


class _OpenTime:
    """Cumulative open seconds of a calendar: ``at(b) - at(a)`` equals
    ``diagkit.cases.sla.elapsed(calendar, a, b)`` without walking the days each time (a
    per-local-day table with prefix sums, built once per report), which is what makes SLA
    figures over 100,000 cases affordable."""

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self.base = 0
        self.opens: list[float] = []
        self.closes: list[float] = []
        self.cum: list[float] = []

    def _build(self, first: int, last: int) -> None:
        cal = self.calendar
        self.base = first
        self.opens, self.closes, self.cum = [], [], []
        total = 0.0
        for ordinal in range(first, last + 1):
            day = date.fromordinal(ordinal)
            self.cum.append(total)
            if cal.is_open_day(day):
                o = datetime.combine(day, cal.start, tzinfo=cal.zone).timestamp()
                c = datetime.combine(day, cal.end, tzinfo=cal.zone).timestamp()
                self.opens.append(o)
                self.closes.append(c)
                total += max(0.0, c - o)
            else:
                self.opens.append(0.0)
                self.closes.append(0.0)

    def at(self, ts: float) -> float:
        if self.calendar.always_open:
            return ts
        i = datetime.fromtimestamp(ts, self.calendar.zone).toordinal() - self.base
        if not 0 <= i < len(self.cum):
            ordinal = i + self.base
            lo = min(ordinal, self.base if self.cum else ordinal) - 366
            hi = max(ordinal, self.base + len(self.cum)) + 366
            self._build(lo, hi)
            i = ordinal - self.base
        o, c = self.opens[i], self.closes[i]
        if ts <= o:
            return self.cum[i]
        if ts >= c:
            return self.cum[i] + max(0.0, c - o)
        return self.cum[i] + (ts - o)


_ALWAYS = _OpenTime(Calendar.twenty_four_seven())


def _merge(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1]:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def _net(clock: _OpenTime, start: float, end: float, pauses: Sequence[Span]) -> float:
    """Open seconds in ``[start, end)`` outside ``pauses`` (merged spans)."""
    if end <= start:
        return 0.0
    total = clock.at(end) - clock.at(start)
    for lo, hi in pauses:
        lo, hi = max(lo, start), min(hi, end)
        if lo < hi:
            total -= clock.at(hi) - clock.at(lo)
    return total


def _due(policy: SlaPolicy, clock: _OpenTime, start: float, end: float,
         pauses: Sequence[Span], target: float) -> float:
    """When ``target`` open seconds outside ``pauses`` had run since ``start`` (it did by
    ``end``): walk the gaps between pauses, then let sla.add_business_time place it."""
    run = 0.0
    cursor = start
    for lo, hi in [*pauses, (end, end)]:
        lo, hi = max(lo, start), min(hi, end)
        if hi <= cursor:
            continue
        gap_end = max(lo, cursor)
        got = clock.at(gap_end) - clock.at(cursor)
        if run + got >= target:
            moment = datetime.fromtimestamp(cursor, UTC)
            return add_business_time(policy, moment, timedelta(seconds=target - run)).timestamp()
        run += got
        cursor = max(cursor, hi)
    return end


def _td(seconds: float) -> timedelta:
    return timedelta(microseconds=round(seconds * 1e6))


def _rank(values: Sequence[float], p: int) -> timedelta | None:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return None
    return _td(values[max(1, math.ceil(p * len(values) / 100)) - 1])


def _age_bucket(age_s: float) -> str:
    for limit, name in zip(_AGE_LIMITS, AGE_BUCKETS, strict=False):
        if age_s < limit * 86400:
            return name
    return AGE_BUCKETS[-1]


# --- the report ------------------------------------------------------------------------------

@dataclass
class _Acc:
    """Per-group working figures (everyone, then each engineer)."""

    opened: int = 0
    resolved: int = 0
    frt: list[float] = field(default_factory=list)
    ttr: list[float] = field(default_factory=list)
    breached: int = 0
    counted: int = 0
    csat: list[int] = field(default_factory=list)
    backlog: int = 0


def _bucket_edges(since: datetime, until: datetime, bucket: str) -> list[datetime]:
    if bucket not in ("day", "week"):
        raise ConfigError(f"Unknown series bucket {bucket!r}: use 'day' or 'week'.")
    start = since.astimezone(UTC)
    edge = datetime.combine(start.date(), datetime.min.time(), UTC)
    if bucket == "week":
        edge -= timedelta(days=edge.weekday())
    step = timedelta(days=1 if bucket == "day" else 7)
    edges = [start]
    edge += step
    while edge < until:
        edges.append(edge)
        edge += step
    edges.append(until)
    return edges


def compute(
    store: MetricsStore,
    *,
    since: datetime,
    until: datetime | None = None,
    engineer: str | None = None,
    policies: Mapping[Any, SlaPolicy] | None = None,
    now: datetime | None = None,
    bucket: str = "day",
) -> MetricsReport:
    """The metrics of ``[since, until)`` (``until`` defaults to ``now``, which defaults to the
    current time). ``policies`` maps severity (``CaseSeverity`` or its string) to
    :class:`SlaPolicy`; default :func:`diagkit.cases.sla.default_policies`."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    until = (until or now).astimezone(UTC)
    since = since.astimezone(UTC)
    if since >= until:
        raise ConfigError(
            f"The metrics period starts ({since.isoformat()}) at or after its end "
            f"({until.isoformat()}): give an earlier --since or a later --until."
        )
    pol = {str(k): v for k, v in (default_policies() if policies is None else policies).items()}
    t0, t1, tnow = since.timestamp(), until.timestamp(), now.timestamp()
    clock_end = min(tnow, t1)

    cases = store.metrics_cases(since=since, until=until, engineer=engineer)
    intervals = store.metrics_intervals(since=since, until=until, engineer=engineer,
                                        statuses=(_WAIT, *sorted(_DONE)))
    waits: dict[int, list[Span]] = defaultdict(list)
    done: dict[int, list[Span]] = defaultdict(list)
    inf = math.inf
    for iv in intervals:
        span = (iv.start.timestamp(), iv.end.timestamp() if iv.end is not None else inf)
        (waits if iv.status == _WAIT else done)[iv.case_id].append(span)

    clocks: dict[int, _OpenTime] = {}

    def clock_for(p: SlaPolicy) -> _OpenTime:
        c = clocks.get(id(p.calendar))
        if c is None:
            c = clocks[id(p.calendar)] = _OpenTime(p.calendar)
        return c

    everyone = _Acc()
    groups: dict[str, _Acc] = defaultdict(_Acc)
    breach: dict[str, list[int]] = {}
    breach_fr: dict[str, list[int]] = {}
    breach_res: dict[str, list[int]] = {}
    csat_dist = dict.fromkeys(range(1, 6), 0)
    ageing = dict.fromkeys(AGE_BUCKETS, 0)
    edges = _bucket_edges(since, until, bucket)
    edge_ts = [e.timestamp() for e in edges]
    n_b = len(edges) - 1
    opened_b = [0] * n_b
    resolved_b = [0] * n_b
    backlog_delta = [0] * (n_b + 1)  # difference array over bucket ends

    for case in cases:
        cid = case.id
        created = case.created.timestamp()
        fr = case.first_response_at.timestamp() if case.first_response_at else None
        res = case.resolved_at.timestamp() if case.resolved_at else None
        wait = _merge(waits.get(cid, ()))
        finished = _merge(done.get(cid, ()))
        paused_res = _merge([*wait, *finished])
        acc = groups[case.engineer]
        pair = (everyone, acc)

        if t0 <= created < t1:
            for a in pair:
                a.opened += 1
            opened_b[bisect_right(edge_ts, created) - 1] += 1
        if fr is not None and t0 <= fr < t1:
            net = _net(_ALWAYS, created, fr, wait)
            for a in pair:
                a.frt.append(net)
        if res is not None and t0 <= res < t1:
            net = _net(_ALWAYS, created, res, paused_res)
            resolved_b[bisect_right(edge_ts, res) - 1] += 1
            for a in pair:
                a.resolved += 1
                a.ttr.append(net)
                if case.csat is not None:
                    a.csat.append(case.csat)
            if case.csat is not None:
                csat_dist[case.csat] = csat_dist.get(case.csat, 0) + 1

        # Open spans (created until each done interval, reopen until the next): counted at
        # every bucket end t with start < t <= end, i.e. open just before t.
        cursor = created
        for lo, hi in [*finished, (inf, inf)]:
            if lo > cursor:
                a_i = bisect_right(edge_ts, cursor, lo=1)  # first edge > cursor
                b_i = bisect_right(edge_ts, lo, lo=1)  # first edge > lo
                if a_i < b_i:
                    backlog_delta[a_i - 1] += 1
                    backlog_delta[b_i - 1] -= 1
                if cursor < t1 <= lo:
                    for a in pair:
                        a.backlog += 1
                    ageing[_age_bucket(t1 - created)] += 1
            cursor = max(cursor, hi)

        policy = pol.get(case.severity) if case.severity else None
        if policy is not None:
            counted = breached = False
            ot = clock_for(policy)
            for kind, stop, pauses, table in (
                ("fr", fr, wait, breach_fr), ("res", res, paused_res, breach_res),
            ):
                target = policy.target("first_response" if kind == "fr"
                                       else "resolution").total_seconds()
                row = table.setdefault(case.severity, [0, 0])
                if stop is not None and stop < clock_end:
                    if not t0 <= stop:
                        continue
                    late = _net(ot, created, stop, pauses) > target + 5e-7
                else:
                    if created >= clock_end or _net(ot, created, clock_end, pauses) <= target + 5e-7:
                        continue  # still running, not due yet
                    if _due(policy, ot, created, clock_end, pauses, target) < t0:
                        continue  # fell due before the period: reported there
                    late = True
                row[1] += 1
                row[0] += late
                counted = True
                breached = breached or late
            if counted:
                row = breach.setdefault(case.severity, [0, 0])
                row[1] += 1
                row[0] += breached
                for a in pair:
                    a.counted += 1
                    a.breached += breached

    backlog_series = []
    running = 0
    for i in range(n_b):
        running += backlog_delta[i]
        backlog_series.append(running)
    series = [SeriesPoint(edges[i], edges[i + 1], opened_b[i], resolved_b[i], backlog_series[i])
              for i in range(n_b)]

    sigs, arts = _tops(store, since, until, engineer)
    everyone.frt.sort()
    everyone.ttr.sort()
    per_engineer = {}
    for name in sorted(groups):
        a = groups[name]
        a.frt.sort()
        a.ttr.sort()
        per_engineer[name] = EngineerRow(
            engineer=name, opened=a.opened, resolved=a.resolved, frt_median=_rank(a.frt, 50),
            ttr_median=_rank(a.ttr, 50), breached=a.breached, sla_counted=a.counted,
            csat_share_4_5=_share(a.csat), backlog=a.backlog,
        )
    order = sorted(breach, key=_sev_key)
    return MetricsReport(
        since=since, until=until, engineer=engineer,
        opened=everyone.opened, resolved=everyone.resolved,
        frt_median=_rank(everyone.frt, 50), frt_p90=_rank(everyone.frt, 90),
        frt_count=len(everyone.frt),
        ttr_median=_rank(everyone.ttr, 50), ttr_p90=_rank(everyone.ttr, 90),
        ttr_count=len(everyone.ttr),
        breach_rate={s: (breach[s][0], breach[s][1]) for s in order},
        breach_first_response={s: tuple(breach_fr.get(s, (0, 0))) for s in order},
        breach_resolution={s: tuple(breach_res.get(s, (0, 0))) for s in order},
        csat_share_4_5=_share(everyone.csat), csat_distribution=csat_dist,
        backlog=everyone.backlog, backlog_ageing=ageing,
        top_signatures=sigs, top_articles=arts, per_engineer=per_engineer,
        series=series, bucket=bucket, now=now,
    )



def _sev_key(sev: str) -> tuple[int, str]:
    return (0, sev) if sev.startswith("S") else (1, sev)


def _share(scores: Sequence[int]) -> float | None:
    if not scores:
        return None
    return sum(1 for s in scores if s >= 4) / len(scores)


def _tops(store: MetricsStore, since: datetime, until: datetime,
          engineer: str | None) -> tuple[list[tuple[str, int]], list[tuple[str, str, int]]]:
    sig_cases: dict[str, set[int]] = defaultdict(set)
    art_cases: dict[str, set[int]] = defaultdict(set)
    titles: dict[str, str] = {}
    for ref in store.metrics_journal_refs(since=since, until=until, engineer=engineer):
        if ref.kind == "log_excerpt":
            sig_cases[ref.key].add(ref.case_id)
        else:
            art_cases[ref.key].add(ref.case_id)
            if ref.title:
                titles[ref.key] = ref.title  # refs come oldest first: the latest title wins
    sigs = {k: len(v) for k, v in sig_cases.items()}
    arts = {k: len(v) for k, v in art_cases.items()}
    top_sigs = sorted(sigs.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_N]
    top_arts = [(slug, titles.get(slug, ""), n)
                for slug, n in sorted(arts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_N]]
    return top_sigs, top_arts


__all__ = [
    "AGE_BUCKETS",
    "JSON_SCHEMA_METRICS",
    "EngineerRow",
    "MetricsCase",
    "MetricsReport",
    "SeriesPoint",
    "StatusInterval",
    "compute",
    "parse_since",
]
