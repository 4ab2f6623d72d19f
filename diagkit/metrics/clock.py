"""Time arithmetic of the metrics, over many cases at once: open time of an SLA calendar as
prefix sums (:class:`OpenTime`), merged pause spans as arrays (:class:`Spans`), net open time
and due moments, nearest-rank percentiles."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from diagkit.cases.sla import Calendar, SlaPolicy, add_business_time

Span = tuple[float, float]  # POSIX seconds; pauses merged, in order
INF = math.inf


class OpenTime:
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


ALWAYS = OpenTime(Calendar.twenty_four_seven())


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1]:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out



def due_at(policy: SlaPolicy, clock: OpenTime, start: float, end: float,
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
class Spans:
    """Merged spans of many cases as parallel arrays, sorted by case row then start: the
    vectorised form of ``{case: merge_spans(spans)}``."""

    row: np.ndarray    # case row (index into the case columns)
    lo: np.ndarray
    hi: np.ndarray     # inf: still in that status

    @staticmethod
    def of(row: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> Spans:
        if row.size == 0:
            return Spans(row, lo, hi)
        order = np.lexsort((hi, lo, row))  # as merge_spans's sorted(): by start, then end
        row, lo, hi = row[order], lo[order], hi[order]
        # A span joins the previous one when it starts at or before that one's end. History
        # intervals are disjoint and in order, so ends never decrease within a case and the
        # previous row's end is the merged end so far.
        new = np.ones(row.size, dtype=bool)
        new[1:] = (row[1:] != row[:-1]) | (lo[1:] > hi[:-1])
        starts = np.flatnonzero(new)
        return Spans(row[starts], lo[starts], np.maximum.reduceat(hi, starts))

    def __add__(self, other: Spans) -> Spans:
        return Spans.of(np.concatenate((self.row, other.row)),
                         np.concatenate((self.lo, other.lo)),
                         np.concatenate((self.hi, other.hi)))

    def of_case(self, r: int) -> list[Span]:
        a, b = np.searchsorted(self.row, [r, r + 1])
        return list(zip(self.lo[a:b].tolist(), self.hi[a:b].tolist(), strict=True))


def net_many(clock: OpenTime, rows: np.ndarray, start: np.ndarray, end: np.ndarray,
              pauses: Spans, n: int) -> np.ndarray:
    """Open seconds of ``clock`` in ``[start, end)`` outside ``pauses``, for the cases ``rows``
    (of ``n``): ``at(end) - at(start)`` less ``at(hi) - at(lo)`` of each pause clipped to it,
    subtracted in order (np.subtract.at applies its updates one by one), as a per-case loop
    would."""
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


def td(seconds: float) -> timedelta:
    return timedelta(microseconds=round(seconds * 1e6))


def rank(values: Sequence[float] | np.ndarray, p: int) -> timedelta | None:
    """Nearest-rank percentile of sorted ``values``."""
    if not len(values):
        return None
    return td(float(values[max(1, math.ceil(p * len(values) / 100)) - 1]))

