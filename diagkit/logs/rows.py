"""Random access to the records of one or several log files, in time order, through a filter.

A :class:`RecordView` is what a viewer scrolls: row ``n`` of the view is some record of some
file. With one file, rows follow the file; with several (several hosts), rows follow time and
each record names its file. A :class:`~diagkit.logs.model.Query` narrows the rows; the whole
thing is numpy arrays of (file, record) pairs, so millions of rows cost a few bytes each and no
record is parsed until it is shown.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from diagkit.logs.model import Histogram, Level, Query, Record

if TYPE_CHECKING:  # annotations only: the query code is imported where a filter runs
    from diagkit.logs.logfile import LogFile

_CACHE = 4096


@dataclass(frozen=True)
class ViewCounts:
    total: int  # rows in the view (after the filter)
    by_level: dict[Level, int]
    unfiltered: int  # records in all files


class RecordView:
    """Rows over ``logs`` (LogFile objects), optionally filtered. Not thread-safe for writes:
    build a new view (``filtered``) in a worker, then swap it in on the GUI thread."""

    def __init__(self, logs: Sequence[LogFile], *, query: Query | None = None,
                 file_ids: np.ndarray | None = None, record_ids: np.ndarray | None = None,
                 signature_filter: set[int] | None = None) -> None:
        self.logs = list(logs)
        self.query = query or Query()
        if file_ids is None or record_ids is None:
            file_ids, record_ids = self._all_rows()
        self.file_ids = file_ids
        self.record_ids = record_ids
        self.signature_filter = signature_filter
        self._cache: OrderedDict[int, Record] = OrderedDict()
        self._lock = threading.Lock()

    # --- building ------------------------------------------------------------------------------

    def _all_rows(self) -> tuple[np.ndarray, np.ndarray]:
        parts = [(np.full(log.record_count, i, dtype=np.int32),
                  np.arange(log.record_count, dtype=np.int64)) for i, log in enumerate(self.logs)]
        if not parts:
            return np.zeros(0, np.int32), np.zeros(0, np.int64)
        if len(parts) == 1:
            return parts[0]
        return self._time_order(parts)

    def _time_order(self, parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        """Interleave several files' rows by time. A record without a time keeps the time of the
        record before it in its file, so multi-part messages stay together."""
        times = []
        for file_ids, record_ids in parts:
            if not len(record_ids):
                times.append(np.zeros(0))
                continue
            log = self.logs[int(file_ids[0])]
            stamps = _forward_fill(np.asarray(log.timestamps(), dtype=np.float64))[record_ids]
            times.append(stamps)
        all_times = np.concatenate(times)
        file_ids = np.concatenate([p[0] for p in parts])
        record_ids = np.concatenate([p[1] for p in parts])
        # lexsort: last key first -> by time, then file, then record (stable, deterministic)
        order = np.lexsort((record_ids, file_ids, np.nan_to_num(all_times, nan=-np.inf)))
        return file_ids[order], record_ids[order]

    def filtered(self, query: Query, *, signature_ids: set[int] | None = None,
                 signature_map: Sequence[np.ndarray] | None = None,
                 cancel: threading.Event | None = None,
                 progress: Callable[[float], None] | None = None) -> RecordView:
        """A new view of the same files through ``query`` (run it in a worker: it scans files).

        ``signature_ids`` with ``signature_map`` (per file: record index -> signature id) keeps
        only records of those signatures.
        """
        from diagkit.logs.query import matching_indices

        parts = []
        for i, log in enumerate(self.logs):
            if query.is_empty:
                idx = np.arange(log.record_count, dtype=np.int64)
            else:
                idx = np.asarray(matching_indices(log, query, cancel=cancel), dtype=np.int64)
            if signature_ids is not None and signature_map is not None:
                sig = np.asarray(signature_map[i])
                keep = np.isin(sig[idx[idx < len(sig)]], list(signature_ids))
                idx = idx[idx < len(sig)][keep]
            parts.append((np.full(len(idx), i, dtype=np.int32), idx))
            if progress is not None:
                progress((i + 1) / len(self.logs))
        if len(parts) == 1:
            file_ids, record_ids = parts[0]
        elif parts:
            file_ids, record_ids = self._time_order(parts)
        else:
            file_ids, record_ids = np.zeros(0, np.int32), np.zeros(0, np.int64)
        return RecordView(self.logs, query=query, file_ids=file_ids, record_ids=record_ids,
                          signature_filter=signature_ids)

    # --- access --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.record_ids)

    def locate(self, row: int) -> tuple[LogFile, int]:
        return self.logs[int(self.file_ids[row])], int(self.record_ids[row])

    def record(self, row: int) -> Record:
        with self._lock:
            cached = self._cache.get(row)
            if cached is not None:
                self._cache.move_to_end(row)
                return cached
        log, index = self.locate(row)
        record = log.record(index)
        with self._lock:
            self._cache[row] = record
            if len(self._cache) > _CACHE:
                self._cache.popitem(last=False)
        return record

    def levels(self) -> np.ndarray:
        """Level (int) of every row."""
        out = np.zeros(len(self), dtype=np.int16)
        for i, log in enumerate(self.logs):
            mask = self.file_ids == i
            if mask.any():
                out[mask] = np.asarray(log.levels())[self.record_ids[mask]]
        return out

    def times(self) -> np.ndarray:
        """Epoch seconds of every row (NaN where the record has no time)."""
        out = np.full(len(self), np.nan)
        for i, log in enumerate(self.logs):
            mask = self.file_ids == i
            if mask.any():
                out[mask] = np.asarray(log.timestamps(), dtype=np.float64)[self.record_ids[mask]]
        return out

    def counts(self) -> ViewCounts:
        levels = self.levels()
        values, numbers = np.unique(levels, return_counts=True)
        by_level = {Level(int(v)): int(n) for v, n in zip(values, numbers, strict=True)
                    if int(v) in Level._value2member_map_}
        return ViewCounts(len(self), by_level, sum(log.record_count for log in self.logs))

    # --- navigation ----------------------------------------------------------------------------

    def row_at_time(self, when: datetime) -> int | None:
        """The first row at or after ``when`` (in time order), or None when all rows are earlier."""
        times = _forward_fill(self.times())
        target = when.timestamp()
        hits = np.flatnonzero(times >= target)
        return int(hits[0]) if len(hits) else None

    def row_of(self, file_index: int, record_index: int) -> int | None:
        """The row showing record ``record_index`` of ``self.logs[file_index]``, or None when the
        filter hides it (an incident's first record: the viewer jumps there)."""
        if len(self.logs) == 1 or not len(self.file_ids):
            if file_index != 0 and len(self.logs) == 1:
                return None
            at = int(np.searchsorted(self.record_ids, record_index))  # one file: in order
            hit = at < len(self.record_ids) and int(self.record_ids[at]) == record_index
            return at if hit else None
        hits = np.flatnonzero((self.file_ids == file_index) & (self.record_ids == record_index))
        return int(hits[0]) if len(hits) else None

    def next_row(self, row: int, *, min_level: Level = Level.ERROR, backwards: bool = False) -> int | None:
        """The next (or previous) row at ``min_level`` or worse, from ``row`` exclusive."""
        levels = self.levels()
        hits = np.flatnonzero(levels >= int(min_level))
        if backwards:
            hits = hits[hits < row]
            return int(hits[-1]) if len(hits) else None
        hits = hits[hits > row]
        return int(hits[0]) if len(hits) else None

    def histogram(self, bucket: timedelta | None = None, *, buckets: int = 120) -> Histogram:
        """Counts per time bucket and level of the rows (bucket chosen to give ~``buckets``)."""
        times = self.times()
        levels = self.levels()
        known = ~np.isnan(times)
        if not known.any():
            return Histogram(bucket or timedelta(minutes=1), (), {})
        lo, hi = float(times[known].min()), float(times[known].max())
        size = bucket.total_seconds() if bucket else _nice_bucket((hi - lo) / max(buckets, 1))
        first = np.floor(lo / size) * size
        slots = np.floor((times[known] - first) / size).astype(np.int64)
        n = int(slots.max()) + 1 if len(slots) else 0
        counts: dict[Level, tuple[int, ...]] = {}
        for level in np.unique(levels[known]):
            sel = levels[known] == level
            counts[Level(int(level))] = tuple(np.bincount(slots[sel], minlength=n).tolist())
        starts = tuple(datetime.fromtimestamp(first + i * size).astimezone() for i in range(n))
        return Histogram(timedelta(seconds=size), starts, counts)


def _forward_fill(times: np.ndarray) -> np.ndarray:
    """Replace NaN by the last known value before it (leading NaN stay NaN)."""
    if not len(times):
        return times
    idx = np.where(np.isnan(times), 0, np.arange(len(times)))
    np.maximum.accumulate(idx, out=idx)
    filled = times[idx]
    if np.isnan(times[0]):
        lead = np.flatnonzero(~np.isnan(times))
        if len(lead):
            filled[: lead[0]] = np.nan
    return filled


_NICE = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
         86400, 172800, 604800)


def _nice_bucket(seconds: float) -> float:
    for size in _NICE:
        if size >= seconds:
            return float(size)
    return float(_NICE[-1] * max(1, round(seconds / _NICE[-1])))
