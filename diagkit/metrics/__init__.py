"""Support metrics over a period: volumes, response/resolution times, SLA breaches, CSAT,
backlog, top signatures and KB articles, per engineer and over time.

:func:`compute` reads a period ``[since, until)`` through a few bulk queries of the store
(:class:`diagkit.store.contract.MetricsStore`) and does the arithmetic here. Definitions (also in
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from diagkit.cases.lifecycle import Status
from diagkit.cases.sla import Calendar, SlaPolicy, add_business_time, default_policies
from diagkit.errors import ConfigError
from diagkit.store.contract import MetricsStore
from diagkit.timegrammar import TimeSyntaxError, as_utc, parse_moment

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

def parse_since(text: str, *, now: datetime) -> datetime:
    """A period bound from the command line, in the one grammar of :mod:`diagkit.timegrammar`:
    ``30d``, ``12h``, ``2w`` (back from ``now``) or a time such as ``2024-03-01`` or
    ``2024-03-01T09:00`` (without a zone: local time). Returned as an aware UTC datetime."""
    try:
        return as_utc(parse_moment(text, now=now))
    except TimeSyntaxError as exc:
        raise ConfigError(str(exc)) from None


# --- time arithmetic -------------------------------------------------------------------------

Span = tuple[float, float]  # POSIX seconds; pauses merged, in order
_INF = math.inf


class _OpenTime:
    """Cumulative open seconds of a calendar: ``at(b) - at(a)`` equals
    ``diagkit.cases.sla.elapsed(calendar, a, b)`` without walking the days each time (a
    per-local-day table with prefix sums, built once per report), which is what makes SLA
    figures over 100,000 cases affordable. :meth:`at_many` is the same over a numpy array."""

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self.base = 0
        self.opens: list[float] = []
        self.closes: list[float] = []
        self.cum: list[float] = []
        # numpy copies for at_many: local midnights (as POSIX seconds) bound each day's row
        self._starts = np.empty(0)
        self._opens = self._closes = self._cum = np.empty(0)

    def _build(self, first: int, last: int) -> None:
        cal = self.calendar
        # Values already handed out must stay valid (callers subtract at() results taken
        # before and after a rebuild): keep the old base's cumulative value where it was.
        old_base, old_zero = self.base, (self.cum[0] if self.cum else None)
        self.base = first
        self.opens, self.closes, self.cum = [], [], []
        starts = []
        total = 0.0
        for ordinal in range(first, last + 1):
            day = date.fromordinal(ordinal)
            self.cum.append(total)
            starts.append(datetime.combine(day, datetime.min.time(), tzinfo=cal.zone)
                          .timestamp())
            if cal.is_open_day(day):
                o = datetime.combine(day, cal.start, tzinfo=cal.zone).timestamp()
                c = datetime.combine(day, cal.end, tzinfo=cal.zone).timestamp()
                self.opens.append(o)
                self.closes.append(c)
                total += max(0.0, c - o)
            else:
                self.opens.append(0.0)
                self.closes.append(0.0)
        if old_zero is not None:
            # Sums of whole seconds: exact in floats, so the shift is exact too.
            shift = old_zero - self.cum[old_base - first]
            self.cum = [v + shift for v in self.cum]
        self._starts = np.array(starts)
        self._opens = np.array(self.opens)
        self._closes = np.array(self.closes)
        self._cum = np.array(self.cum)

    def _cover(self, ts: float) -> int:
        """Row of ``ts``'s local day, extending the table (a year either side) if needed."""
        i = datetime.fromtimestamp(ts, self.calendar.zone).toordinal() - self.base
        if not 0 <= i < len(self.cum):
            ordinal = i + self.base
            lo = min(ordinal, self.base if self.cum else ordinal) - 366
            hi = max(ordinal, self.base + len(self.cum)) + 366
            self._build(lo, hi)
            i = ordinal - self.base
        return i

    def at(self, ts: float) -> float:
        if self.calendar.always_open:
            return ts
        i = self._cover(ts)
        o, c = self.opens[i], self.closes[i]
        if ts <= o:
            return self.cum[i]
        if ts >= c:
            return self.cum[i] + max(0.0, c - o)
        return self.cum[i] + (ts - o)

    def at_many(self, ts: np.ndarray) -> np.ndarray:
        """:meth:`at` of every (finite) element, with the same float operations."""
        if self.calendar.always_open or ts.size == 0:
            return ts
        self._cover(float(ts.min()))
        self._cover(float(ts.max()))
        i = np.searchsorted(self._starts, ts, side="right") - 1
        o, c, cum = self._opens[i], self._closes[i], self._cum[i]
        return np.where(ts <= o, cum,
                        np.where(ts >= c, cum + np.maximum(0.0, c - o), cum + (ts - o)))


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


@dataclass(frozen=True)
class _Spans:
    """Merged spans of many cases as parallel arrays, sorted by case row then start: the
    vectorised form of ``{case: _merge(spans)}``."""

    row: np.ndarray    # case row (index into the case columns)
    lo: np.ndarray
    hi: np.ndarray     # inf: still in that status

    @staticmethod
    def of(row: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> _Spans:
        if row.size == 0:
            return _Spans(row, lo, hi)
        order = np.lexsort((hi, lo, row))  # as _merge's sorted(): by start, then end
        row, lo, hi = row[order], lo[order], hi[order]
        # A span joins the previous one when it starts at or before that one's end. History
        # intervals are disjoint and in order, so ends never decrease within a case and the
        # previous row's end is the merged end so far.
        new = np.ones(row.size, dtype=bool)
        new[1:] = (row[1:] != row[:-1]) | (lo[1:] > hi[:-1])
        starts = np.flatnonzero(new)
        return _Spans(row[starts], lo[starts], np.maximum.reduceat(hi, starts))

    def __add__(self, other: _Spans) -> _Spans:
        return _Spans.of(np.concatenate((self.row, other.row)),
                         np.concatenate((self.lo, other.lo)),
                         np.concatenate((self.hi, other.hi)))

    def of_case(self, r: int) -> list[Span]:
        a, b = np.searchsorted(self.row, [r, r + 1])
        return list(zip(self.lo[a:b].tolist(), self.hi[a:b].tolist(), strict=True))


def _net_many(clock: _OpenTime, rows: np.ndarray, start: np.ndarray, end: np.ndarray,
              pauses: _Spans, n: int) -> np.ndarray:
    """:func:`_net` for the cases ``rows`` (of ``n``), with the same float operations in the
    same order (np.subtract.at applies its updates one by one, in order)."""
    pos = np.full(n, -1)
    pos[rows] = np.arange(rows.size)
    total = np.where(end <= start, 0.0, clock.at_many(end) - clock.at_many(start))
    k = pos[pauses.row]
    k = k[k >= 0]
    mine = pos[pauses.row] >= 0
    s, e = start[k], end[k]
    lo = np.maximum(pauses.lo[mine], s)
    hi = np.minimum(pauses.hi[mine], e)
    ok = (lo < hi) & (s < e)
    np.subtract.at(total, k[ok], clock.at_many(hi[ok]) - clock.at_many(lo[ok]))
    return total


def _td(seconds: float) -> timedelta:
    return timedelta(microseconds=round(seconds * 1e6))


def _rank(values: Sequence[float], p: int) -> timedelta | None:
    """Nearest-rank percentile of sorted ``values``."""
    if not len(values):
        return None
    return _td(float(values[max(1, math.ceil(p * len(values) / 100)) - 1]))


# --- the report ------------------------------------------------------------------------------

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


def _floats(values: Sequence[float | None] | np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=float)  # None -> nan


def _codes(values: Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    index: dict[Any, int] = {}
    codes = [index.setdefault(v, len(index)) for v in values]
    return np.array(codes, dtype=np.intp), list(index)


def _intervals(cols: Any, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = np.searchsorted(ids, np.array(cols.case_id, dtype=np.int64))
    end = np.array(cols.end, dtype=float)  # a copy: written below
    end[np.isnan(end)] = _INF  # still in that status
    return rows, _floats(cols.start), end


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
    :class:`SlaPolicy`; default :func:`diagkit.cases.sla.default_policies`.

    Arrays, not a loop over cases: each figure is computed for all cases at once with numpy,
    with the same float operations the per-case definitions use (tests compare with a
    straightforward per-case reference)."""
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
    period = {"since": since, "until": until, "engineer": engineer}

    cols = store.metrics_cases(**period)
    n = len(cols.id)
    ids = np.array(cols.id, dtype=np.int64)
    created = _floats(cols.created)
    fr = _floats(cols.first_response_at)
    res = _floats(cols.resolved_at)
    csat = np.nan_to_num(_floats(cols.csat)).astype(np.intp)  # 0: no rating
    eng, names = _codes(cols.engineer)
    n_eng = len(names)
    done_now = np.array(cols.done, dtype=bool)

    hist = store.metrics_history(**period)
    irregular = np.isin(ids, np.array(list(hist.irregular), dtype=np.int64))
    wait = _Spans.of(*_intervals(hist.waits, ids))
    # Resolved/closed stretches: [resolved_at, inf) for regular histories, the history's
    # intervals for the others (diagkit.store.contract, "Regular histories").
    d_rows, d_lo, d_hi = _intervals(hist.done, ids)
    regular = np.flatnonzero(~irregular & done_now & ~np.isnan(res))
    finished = _Spans.of(np.concatenate((d_rows, regular)),
                         np.concatenate((d_lo, res[regular])),
                         np.concatenate((d_hi, np.full(regular.size, _INF))))
    paused_res = wait + finished

    def by_eng(mask: np.ndarray) -> np.ndarray:
        return np.bincount(eng[mask], minlength=n_eng)

    # opened / resolved / FRT / TTR / CSAT
    edges = _bucket_edges(since, until, bucket)
    edge_ts = np.array([e.timestamp() for e in edges])
    n_b = len(edges) - 1
    is_opened = (created >= t0) & (created < t1)
    opened_b = np.bincount(np.searchsorted(edge_ts, created[is_opened], "right") - 1,
                           minlength=n_b)
    fr_in = np.flatnonzero((fr >= t0) & (fr < t1))  # nan compares False
    frt = _net_many(_ALWAYS, fr_in, created[fr_in], fr[fr_in], wait, n)
    res_in = np.flatnonzero((res >= t0) & (res < t1))
    ttr = _net_many(_ALWAYS, res_in, created[res_in], res[res_in], paused_res, n)
    resolved_b = np.bincount(np.searchsorted(edge_ts, res[res_in], "right") - 1, minlength=n_b)
    rated = res_in[csat[res_in] > 0]
    csat_dist = {s: int(np.count_nonzero(csat[rated] == s)) for s in range(1, 6)}
    for s in set(csat[rated].tolist()) - set(csat_dist):
        csat_dist[s] = int(np.count_nonzero(csat[rated] == s))

    # Open spans: from creation to each resolved/closed stretch, from each reopen to the
    # next (a cursor that only moves forward, as max(created, previous stretch's end)).
    f = finished
    prev_hi = np.full(f.row.size, -_INF)
    if f.row.size:
        same = f.row[1:] == f.row[:-1]
        prev_hi[1:][same] = f.hi[:-1][same]
    cursor = np.maximum(created[f.row], prev_hi)
    gap = f.lo > cursor
    last_hi = np.full(n, -_INF)
    last_hi[f.row] = f.hi  # rows sorted: the last stretch of each case wins
    tail_start = np.maximum(created, last_hi)
    tail = np.flatnonzero(tail_start < _INF)
    o_row = np.concatenate((f.row[gap], tail))
    o_lo = np.concatenate((cursor[gap], tail_start[tail]))
    o_hi = np.concatenate((f.lo[gap], np.full(tail.size, _INF)))
    # Counted at every bucket end t with lo < t <= hi, i.e. open just before t.
    a_i = np.maximum(1, np.searchsorted(edge_ts, o_lo, "right"))
    b_i = np.maximum(1, np.searchsorted(edge_ts, o_hi, "right"))
    m = a_i < b_i
    delta = np.zeros(n_b + 1, dtype=np.int64)
    np.add.at(delta, a_i[m] - 1, 1)
    np.add.at(delta, b_i[m] - 1, -1)
    backlog_series = np.cumsum(delta[:n_b]).tolist()
    at_end = o_row[(o_lo < t1) & (t1 <= o_hi)]
    ages = np.searchsorted(np.array(_AGE_LIMITS, dtype=float) * 86400, t1 - created[at_end],
                           "right")
    ageing = {name: int(np.count_nonzero(ages == i)) for i, name in enumerate(AGE_BUCKETS)}

    # SLA clocks, one severity (so one policy and calendar) at a time.
    clocks: dict[int, _OpenTime] = {}
    breach: dict[str, tuple[int, int]] = {}
    breach_fr: dict[str, tuple[int, int]] = {}
    breach_res: dict[str, tuple[int, int]] = {}
    eng_counted = np.zeros(n_eng, dtype=np.int64)
    eng_breached = np.zeros(n_eng, dtype=np.int64)
    sev_codes, sevs = _codes(cols.severity)
    for code, sev in enumerate(sevs):
        policy = pol.get(sev) if sev else None
        if policy is None:
            continue
        ot = clocks.get(id(policy.calendar))
        if ot is None:
            ot = clocks[id(policy.calendar)] = _OpenTime(policy.calendar)
        rows = np.flatnonzero(sev_codes == code)
        any_counted = np.zeros(rows.size, dtype=bool)
        any_breached = np.zeros(rows.size, dtype=bool)
        for clock, stop, pauses, table in (("first_response", fr, wait, breach_fr),
                                           ("resolution", res, paused_res, breach_res)):
            target = policy.target(clock).total_seconds()
            st = stop[rows]
            stopped = st < clock_end  # nan: still running
            stop_in = stopped & (st >= t0)
            counted = stop_in.copy()
            late = np.zeros(rows.size, dtype=bool)
            k = np.flatnonzero(stop_in)
            late[k] = _net_many(ot, rows[k], created[rows[k]], st[k], pauses, n) > target + 5e-7
            k = np.flatnonzero(~stopped & (created[rows] < clock_end))
            past = _net_many(ot, rows[k], created[rows[k]], np.full(k.size, clock_end),
                             pauses, n) > target + 5e-7
            for j in k[past].tolist():  # running and overdue: did it fall due in the period?
                r = int(rows[j])
                # It fell due after its creation, so in the period when created in it.
                if created[r] >= t0 or _due(policy, ot, float(created[r]), clock_end,
                                            pauses.of_case(r), target) >= t0:
                    counted[j] = late[j] = True
            table[sev] = (int(np.count_nonzero(late & counted)), int(np.count_nonzero(counted)))
            any_counted |= counted
            any_breached |= counted & late
        if any_counted.any():
            breach[sev] = (int(np.count_nonzero(any_breached)),
                           int(np.count_nonzero(any_counted)))
            eng_counted += np.bincount(eng[rows[any_counted]], minlength=n_eng)
            eng_breached += np.bincount(eng[rows[any_breached]], minlength=n_eng)

    series = [SeriesPoint(edges[i], edges[i + 1], int(opened_b[i]), int(resolved_b[i]),
                          int(backlog_series[i])) for i in range(n_b)]
    sigs, arts = _tops(store, since, until, engineer)

    e_opened = by_eng(is_opened)
    e_resolved = np.bincount(eng[res_in], minlength=n_eng)
    e_backlog = np.bincount(eng[at_end], minlength=n_eng)
    e_rated = np.bincount(eng[rated], minlength=n_eng)
    e_happy = np.bincount(eng[rated[csat[rated] >= 4]], minlength=n_eng)
    frt_by, ttr_by = _sorted_by(eng[fr_in], frt, n_eng), _sorted_by(eng[res_in], ttr, n_eng)
    per_engineer = {}
    for name in sorted(names):
        i = names.index(name)
        per_engineer[name] = EngineerRow(
            engineer=name, opened=int(e_opened[i]), resolved=int(e_resolved[i]),
            frt_median=_rank(frt_by[i], 50), ttr_median=_rank(ttr_by[i], 50),
            breached=int(eng_breached[i]), sla_counted=int(eng_counted[i]),
            csat_share_4_5=int(e_happy[i]) / int(e_rated[i]) if e_rated[i] else None,
            backlog=int(e_backlog[i]),
        )
    frt.sort()
    ttr.sort()
    order = sorted(breach, key=_sev_key)
    return MetricsReport(
        since=since, until=until, engineer=engineer,
        opened=int(np.count_nonzero(is_opened)), resolved=int(res_in.size),
        frt_median=_rank(frt, 50), frt_p90=_rank(frt, 90), frt_count=int(frt.size),
        ttr_median=_rank(ttr, 50), ttr_p90=_rank(ttr, 90), ttr_count=int(ttr.size),
        breach_rate={s: breach[s] for s in order},
        breach_first_response={s: breach_fr.get(s, (0, 0)) for s in order},
        breach_resolution={s: breach_res.get(s, (0, 0)) for s in order},
        csat_share_4_5=(int(np.count_nonzero(csat[rated] >= 4)) / int(rated.size)
                        if rated.size else None),
        csat_distribution=csat_dist,
        backlog=int(at_end.size), backlog_ageing=ageing,
        top_signatures=sigs, top_articles=arts, per_engineer=per_engineer,
        series=series, bucket=bucket, now=now,
    )


def _sorted_by(group: np.ndarray, values: np.ndarray, n: int) -> list[np.ndarray]:
    """``values`` split by ``group`` (0..n-1), each part sorted."""
    order = np.lexsort((values, group))
    bounds = np.searchsorted(group[order], np.arange(n + 1))
    v = values[order]
    return [v[bounds[i]:bounds[i + 1]] for i in range(n)]


def _sev_key(sev: str) -> tuple[int, str]:
    return (0, sev) if sev.startswith("S") else (1, sev)


def _tops(store: MetricsStore, since: datetime, until: datetime,
          engineer: str | None) -> tuple[list[tuple[str, int]], list[tuple[str, str, int]]]:
    counts = store.metrics_ref_counts(since=since, until=until, engineer=engineer)
    sigs = [(c.key, c.cases) for c in counts if c.kind == "signature"]
    arts = [(c.key, c.title, c.cases) for c in counts if c.kind == "article"]
    top_sigs = sorted(sigs, key=lambda kv: (-kv[1], kv[0]))[:TOP_N]
    top_arts = sorted(arts, key=lambda a: (-a[2], a[0]))[:TOP_N]
    return top_sigs, top_arts


__all__ = [
    "AGE_BUCKETS",
    "JSON_SCHEMA_METRICS",
    "EngineerRow",
    "MetricsReport",
    "SeriesPoint",
    "compute",
    "parse_since",
]
