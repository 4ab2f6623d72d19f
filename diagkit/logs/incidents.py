"""Incidents in logs: the windows where a log changes character.

An *incident* is a stretch of time in which, against the file's own baseline,

* one signature (see :mod:`diagkit.logs.signatures`) comes far more often than it usually does
  (a burst: ``412 x 'Failed password for <*> from <IP> ...'`` in 6 minutes where 2 an hour is
  usual),
* signatures never seen before in the file appear in a cluster (a new failure mode), or
* the error rate jumps (many different error messages at once: tracebacks, ids in the text).

How (all counting is numpy over the per-record arrays; no Python step per record):

1. every record gets its signature (:func:`~diagkit.logs.signatures.mine_logs`), level and time;
2. records are counted per (signature, time bin) (one ``np.unique`` over ``sig * bins + bin``)
   and per bin for errors; a cell is *flagged* when its count is at least ``min_count``, at least
   ``factor`` times the series' usual rate and unlikely under a Poisson law with that rate
   (log-likelihood ratio above ``threshold``). The usual rate is robust: flagged cells are left
   out of it (twice), and a series that comes in regular clumps (cron every hour: 50 lines in one
   minute, none in the next 59) compares against the size of its usual clump, not its mean;
3. a signature first seen after the file's warm-up whose first ``gap`` holds at least
   ``min_new`` records is flagged at its first record;
4. flagged cells closer than ``gap`` merge into one window; a window's start is its first record,
   its score the sum of the cells' surprises (errors weigh more);
5. hosts and sources come from the records themselves (a sample of each involved signature's
   records in the window, parsed), precursors are the warnings, errors and new signatures of
   the same hosts or sources within ``lookback`` before the start.

At most ``limit`` incidents (highest scores) are kept; how many were left out is
:attr:`Incidents.omitted`. ``to_json`` writes schema ``diagkit.log-incidents/1``.
"""

from __future__ import annotations

import math
import os
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from diagkit.logs.model import Level
from diagkit.logs.signatures import mine_ids
from diagkit.units import human_duration

SCHEMA = "diagkit.log-incidents/1"
ERRORS = -1  # the pseudo-signature of the error-rate series


@dataclass(frozen=True)
class RecordRef:
    """Where a record is: the log's label and the record number in it."""

    file: str
    index: int

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "index": self.index}


@dataclass(frozen=True)
class IncidentSignature:
    """One signature's part in an incident (``id`` -1: errors of many signatures)."""

    id: int
    template: str
    count: int  # records of it inside the incident
    first_record: RecordRef
    first_time: float  # epoch seconds of first_record
    usual_per_hour: float  # its robust baseline rate over the file
    level: Level
    new: bool  # first seen in this file during the incident

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "template": self.template, "count": self.count,
                "first_record": self.first_record.to_dict(),
                "first_time": _iso(self.first_time),
                "usual_per_hour": round(self.usual_per_hour, 3),
                "level": self.level.label, "new": self.new}


@dataclass(frozen=True)
class Precursor:
    """A warning, error or new signature of the same host or source shortly before."""

    time: float
    record: RecordRef
    level: Level
    template: str
    count: int  # records of this signature in the look-back window (on those hosts/sources)
    host: str
    source: str
    new: bool

    def to_dict(self) -> dict[str, object]:
        return {"time": _iso(self.time), "record": self.record.to_dict(),
                "level": self.level.label, "template": self.template, "count": self.count,
                "host": self.host, "source": self.source, "new": self.new}


@dataclass(frozen=True)
class Incident:
    """A window where the log changed character. Times are epoch seconds."""

    start: float
    end: float
    hosts: tuple[str, ...]
    sources: tuple[str, ...]
    signatures: tuple[IncidentSignature, ...]  # highest share of the score first
    records: int
    score: float
    summary: str
    precursors: tuple[Precursor, ...]

    @property
    def first_record(self) -> RecordRef:
        return min(self.signatures, key=lambda s: s.first_time).first_record

    def start_time(self) -> datetime:
        return datetime.fromtimestamp(self.start).astimezone()

    def end_time(self) -> datetime:
        return datetime.fromtimestamp(self.end).astimezone()

    def to_dict(self) -> dict[str, object]:
        return {"start": _iso(self.start), "end": _iso(self.end), "hosts": list(self.hosts),
                "sources": list(self.sources),
                "signatures": [s.to_dict() for s in self.signatures], "records": self.records,
                "score": round(self.score, 1), "summary": self.summary,
                "precursors": [p.to_dict() for p in self.precursors]}


class Incidents(list[Incident]):
    """The incidents found, sorted by start; ``omitted``: lower-scored ones left out by the
    limit; ``warnings``: what the reader should know (no timestamps, a file too short)."""

    def __init__(self, items: Sequence[Incident] = (), *, omitted: int = 0,
                 warnings: Sequence[str] = ()) -> None:
        super().__init__(items)
        self.omitted = omitted
        self.warnings = list(warnings)


def to_json(incidents: Sequence[Incident]) -> dict[str, object]:
    """The ``diagkit.log-incidents/1`` document, incidents sorted by start."""
    return {"schema": SCHEMA,
            "incidents": [i.to_dict() for i in sorted(incidents, key=lambda i: i.start)]}


@dataclass(frozen=True)
class Settings:
    """Detection knobs; the defaults are what the tests and real logs were checked with."""

    bin_seconds: float = 60.0
    gap: float = 300.0  # flagged cells closer than this merge; a new signature's first window
    factor: float = 5.0  # a burst is at least this many times the usual rate
    min_count: int = 8  # records of one series in one bin before it can be a burst
    min_new: int = 3  # records of a new signature within `gap` of its first
    threshold: float = 18.0  # Poisson log-likelihood ratio of a flagged cell (nats)
    warmup: float = 0.05  # share of the span (at most a day) in which nothing counts as new
    lookback: float = 1800.0  # precursors: this long before the start
    limit: int = 10
    sample: int = 300  # records parsed per signature of an incident for its hosts/sources
    max_window_records: int = 2_000_000  # per log: a longer window is read only this far


def find_incidents(logs_or_paths: Sequence[Any], *, settings: Settings | None = None,
                   mined: tuple[Sequence[str], list[np.ndarray]] | None = None,
                   cancel: threading.Event | None = None,
                   progress: Callable[[float], None] | None = None) -> Incidents:
    """Incidents in these logs (LogFile objects, or paths opened here and closed after).

    ``mined``: the templates and per-file signature ids of the same logs when the caller has
    them (the log viewer, from :func:`~diagkit.logs.signatures.mine_logs`), so they are not
    mined twice. Errors: :class:`~diagkit.errors.LogFormatError` for paths that cannot be
    opened."""
    cfg = settings or Settings()
    if logs_or_paths and all(isinstance(x, (str, os.PathLike)) for x in logs_or_paths):
        from diagkit.logs.logfile import open_logs
        opened = open_logs([Path(x) for x in logs_or_paths])
        try:
            found = find_incidents(list(opened), settings=cfg, cancel=cancel, progress=progress)
            found.warnings[:0] = opened.warnings
            return found
        finally:
            for log in opened:
                log.close()
    logs = list(logs_or_paths)
    if not logs:
        return Incidents()
    for log in logs:
        log.wait()
    if mined is not None:
        templates, maps = mined
        counting = _Counting(logs, maps, cfg.bin_seconds)
        counting.finish()  # the ids are all there: count in this thread
        lookup = np.append(np.arange(len(templates), dtype=np.int32), np.int32(-1))
    else:
        # the records are counted in a thread beside the miner, each batch as soon as its
        # records are mined (numpy there, Python here: two cores)
        maps = [np.full(log.record_count, -1, dtype=np.int32) for log in logs]
        counting = _Counting(logs, maps, cfg.bin_seconds)
        counting.start()
        try:
            templates, maps, lookup = mine_ids(logs, cancel=cancel, ids=maps, renumber=False,
                                               progress=counting.progress(progress))
        finally:
            counting.finish()
    return _Detector(logs, templates, maps, lookup, counting, cfg).run()


# --- detection --------------------------------------------------------------------------------


def _llr(k: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Poisson log-likelihood ratio of observing ``k`` where ``lam`` is expected (k > lam)."""
    k = k.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(k > lam, k * np.log(k / lam) - (k - lam), 0.0)


@dataclass
class _Window:
    lo: int  # first and last bin
    hi: int
    cells: list[tuple[int, int, int, float]]  # (series, bin, count, surprise)
    new: set[int]


@dataclass(frozen=True)
class _Slice:
    """The records of a time range across the logs, in time order (small: one window)."""

    t: np.ndarray
    sig: np.ndarray
    lvl: np.ndarray
    file: np.ndarray
    idx: np.ndarray


_M = 1 << 26  # cells are keyed bin * _M + cluster id (cluster ids stay far below)


class _Counts:
    """What one pass over every record leaves: records per (cluster, bin) and errors per bin
    (bins of absolute time), each cluster's first record and worst level, and per log and
    bin the first and last record (to find a window's records again). Fed batch by batch,
    from two threads; keyed by the miner's cluster ids (merged later through ``lookup``)."""

    def __init__(self, width: float) -> None:
        self.width = width
        self.lock = threading.Lock()
        self.parts: list[tuple[int, Any]] = []
        self.timeless: Counter[int] = Counter()

    def add(self, f: int, a: int, ids: np.ndarray, lv: np.ndarray, tm: np.ndarray) -> None:
        ok = ~np.isnan(tm) & (ids >= 0)
        idx = np.flatnonzero(ok)
        if len(idx) < len(ok):
            with self.lock:
                self.timeless[f] += int(np.count_nonzero(np.isnan(tm)))
        if not len(idx):
            return
        t, s, lev = tm[idx], ids[idx].astype(np.int64), lv[idx]
        bins = np.floor(t / self.width).astype(np.int64)
        b0, span, width_s = int(bins.min()), int(bins.max() - bins.min()) + 1, int(s.max()) + 1
        if span * width_s <= 8 * len(s) + 4096:  # the usual batch: a few bins, few clusters
            grid = np.bincount((bins - b0) * width_s + s, minlength=span * width_s)
            nz = np.flatnonzero(grid)
            cells, counts = (nz // width_s + b0) * _M + nz % width_s, grid[nz]
        else:
            cells, counts = np.unique(bins * _M + s, return_counts=True)
        errors, err_counts = np.unique(bins[lev >= int(Level.ERROR)], return_counts=True)
        if len(t) < 2 or bool((np.diff(t) >= 0).all()):  # in time order (nearly always)
            change = np.flatnonzero(np.diff(bins)) + 1
            first = np.concatenate(([0], change))
            last = np.concatenate((change - 1, [len(bins) - 1]))
            ub = bins[first]
            us, fi = np.unique(s, return_index=True)
        else:
            ub, first = np.unique(bins, return_index=True)
            _, last = np.unique(bins[::-1], return_index=True)  # the same bins, sorted
            last = len(bins) - 1 - last
            order = np.argsort(t, kind="stable")
            us, fo = np.unique(s[order], return_index=True)
            fi = order[fo]
        worst = np.zeros(width_s, dtype=np.int8)
        np.maximum.at(worst, s, lev)
        part = (cells, counts, errors, err_counts, ub, a + idx[first], a + idx[last],
                us, t[fi], a + idx[fi], worst)
        with self.lock:
            self.parts.append((f, part))


class _Counting:
    """The pass over every record's level and time, batch by batch (nothing per record is
    kept), in a thread beside the miner: a batch waits until its records are mined and reads
    their cluster ids. A log whose times need the whole file (year-less dates) is counted from
    its arrays instead."""

    def __init__(self, logs: list[Any], ids: list[np.ndarray], width: float) -> None:
        self.logs = logs
        self.ids = ids
        self.counts = _Counts(width)
        self.arrays: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.starts = np.concatenate(([0], np.cumsum([len(a) for a in ids]))).tolist()
        self.total = self.starts[-1] or 1
        self.mined = 0.0
        self.cond = threading.Condition()
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="incident counts", daemon=True)
        self.thread.start()

    def progress(self, user: Callable[[float], None] | None) -> Callable[[float], None]:
        """The miner's progress callback: records before ``fraction`` of all are mined."""
        def report(fraction: float) -> None:
            with self.cond:
                self.mined = max(self.mined, round(fraction * self.total))
                self.cond.notify_all()
            if user is not None:
                user(fraction)
        return report

    def finish(self) -> None:
        """Mining is over (done, cancelled or failed): count what is left, wait, re-raise."""
        with self.cond:
            self.mined = math.inf
            self.cond.notify_all()
        if self.thread is None:
            self._run()
        else:
            self.thread.join()
        if self.error is not None:
            raise self.error

    def _wait(self, f: int, b: int) -> None:
        with self.cond:
            self.cond.wait_for(lambda: self.mined >= self.starts[f] + b)

    def _run(self) -> None:
        try:
            for f, log in enumerate(self.logs):
                self._count(f, log, self.ids[f])
        except BaseException as exc:  # noqa: BLE001 - raised again by finish()
            self.error = exc

    def _count(self, f: int, log: Any, ids: np.ndarray) -> None:
        n = len(ids)
        add = self.counts.add

        def sink(a: int, b: int, lv: np.ndarray, tm: np.ndarray) -> None:
            self._wait(f, b)
            add(f, a, ids[a:b], lv, tm)

        mark = len(self.counts.parts)
        if log.header_batches(sink, stop=n):
            return
        # year-less dates or inherited times: the whole file's arrays decide them
        with self.counts.lock:
            del self.counts.parts[mark:]
            self.counts.timeless[f] = 0
        lv, tm = np.asarray(log.levels())[:n], np.asarray(log.timestamps())[:n]
        self.arrays[f] = (lv, tm)
        self._wait(f, n)
        step = 1 << 17
        for a in range(0, n, step):
            add(f, a, ids[a: a + step], lv[a: a + step], tm[a: a + step])


class _Detector:
    def __init__(self, logs: list[Any], templates: Sequence[str], maps: list[np.ndarray],
                 lookup: np.ndarray, counting: _Counting, cfg: Settings) -> None:
        self.logs = logs
        self.templates = list(templates)
        self.maps = maps  # per log: record -> cluster id (signature id = lookup[cluster id])
        self.lookup = lookup
        self.counts = counting.counts
        self.arrays = counting.arrays
        self.cfg = cfg
        self.warnings: list[str] = []

    # -- what the pass over every record left ------------------------------------------------

    def _merge_counts(self) -> bool:
        counts, lookup = self.counts, self.lookup
        m = max(len(self.templates), 1)
        for f, log in enumerate(self.logs):
            if len(self.maps[f]) and counts.timeless[f] >= len(self.maps[f]):
                self.warnings.append(f"{log.label}: no record has a time; it has no incidents.")
        parts = counts.parts
        if not parts:
            return False
        # cells of clusters -> cells of signatures (merged clusters add up)
        raw = np.concatenate([p[0] for _, p in parts])
        cells = (raw // _M) * m + lookup[raw % _M]
        uniq, inv = np.unique(cells, return_inverse=True)
        k = np.bincount(inv, weights=np.concatenate([p[1] for _, p in parts])).astype(np.int64)
        abs_bins, self.cell_sig = uniq // m, uniq % m
        self.b0 = int(abs_bins.min())
        self.nb = int(abs_bins.max()) - self.b0 + 1
        self.cell_bin, self.cell_k = abs_bins - self.b0, k
        ue, inv = np.unique(np.concatenate([p[2] for _, p in parts]), return_inverse=True)
        self.err_bin = ue - self.b0
        self.err_k = np.bincount(inv, weights=np.concatenate([p[3] for _, p in parts]),
                                 minlength=len(ue)).astype(np.int64)
        # per log: the first and last record of each bin
        self.bounds: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for f in sorted({f for f, _ in parts}):
            lo = np.full(self.nb, np.iinfo(np.int64).max, dtype=np.int64)
            hi = np.full(self.nb, -1, dtype=np.int64)
            for g, p in parts:
                if g == f:
                    np.minimum.at(lo, p[4] - self.b0, p[5])
                    np.maximum.at(hi, p[4] - self.b0, p[6])
            self.bounds[f] = (lo, hi)
        self.first_time = np.full(m, np.inf)
        self.first_ref = np.full((m, 2), -1, dtype=np.int64)
        self.worst = np.zeros(m, dtype=np.int8)
        for f, p in parts:
            sig, ft, fi = lookup[p[7]], p[8], p[9]
            for j in np.flatnonzero(ft < self.first_time[sig]):  # few: new clusters only
                if ft[j] < self.first_time[sig[j]]:
                    self.first_time[sig[j]] = ft[j]
                    self.first_ref[sig[j]] = (f, fi[j])
            np.maximum.at(self.worst, lookup[np.arange(len(p[10]))], p[10])
        self.t0 = float(self.first_time.min())
        self.t1 = (self.b0 + self.nb) * self.cfg.bin_seconds
        return True

    def _slice(self, t_lo: float, t_hi: float) -> _Slice:
        """The records with a time in [t_lo, t_hi), read again from the logs."""
        w = self.cfg.bin_seconds
        blo = max(0, int(np.floor(t_lo / w)) - self.b0)
        bhi = min(self.nb - 1, int(np.floor(t_hi / w)) - self.b0)
        parts = []
        for f, (lo, hi) in self.bounds.items():
            if bhi < blo:
                continue
            a = int(lo[blo: bhi + 1].min())
            b = int(hi[blo: bhi + 1].max()) + 1
            if b <= a:
                continue
            b = min(b, a + self.cfg.max_window_records)
            lv, tm = self._headers(f, a, b)
            sig = self.lookup[self.maps[f][a: a + len(tm)]]
            keep = np.flatnonzero((tm >= t_lo) & (tm < t_hi) & (sig >= 0))
            parts.append((tm[keep], sig[keep], lv[keep], np.full(len(keep), f, dtype=np.int16),
                          keep + a))
        if not parts:
            empty = np.empty(0)
            return _Slice(empty, empty.astype(np.int32), empty.astype(np.int8),
                          empty.astype(np.int16), empty.astype(np.int64))
        t = np.concatenate([p[0] for p in parts])
        order = np.argsort(t, kind="stable")
        return _Slice(t[order], *(np.concatenate([p[i] for p in parts])[order]
                                  for i in range(1, 5)))

    def _headers(self, f: int, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Levels and times of records a..b of log ``f``, read again (or from its arrays)."""
        if f in self.arrays:
            lv, tm = self.arrays[f]
            return lv[a:b], tm[a:b]
        got: list[tuple[int, np.ndarray, np.ndarray]] = []

        def sink(x: int, y: int, lv: np.ndarray, tm: np.ndarray) -> None:
            got.append((x, lv, tm))  # (atomic: batches run in threads)

        self.logs[f].header_batches(sink, first=a, stop=b)
        got.sort(key=lambda g: g[0])
        return (np.concatenate([g[1] for g in got]) if got else np.zeros(0, np.int8),
                np.concatenate([g[2] for g in got]) if got else np.zeros(0))

    # -- the series --------------------------------------------------------------------------

    def run(self) -> Incidents:
        cfg = self.cfg
        if not self._merge_counts():
            return Incidents(warnings=self.warnings)
        if (self.t1 - self.t0) < 3600:
            self.warnings.append("The logs span less than an hour: the usual rates are guesses.")
        self.warm = self.t0 + min((self.t1 - self.t0) * cfg.warmup, 86400.0)
        cells = self._burst_cells() + self._error_cells()
        new = self._new_cells()
        windows = self._merge(cells, new)
        incidents = [i for i in (self._incident(w) for w in windows) if i is not None]
        incidents.sort(key=lambda i: -i.score)
        kept = incidents[: cfg.limit]
        kept.sort(key=lambda i: i.start)
        return Incidents(kept, omitted=len(incidents) - len(kept), warnings=self.warnings)

    def _flag(self, series: np.ndarray, counts: np.ndarray,
              n_series: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Which cells (one per series and non-empty bin) are bursts; with each series' usual
        rate per bin (robust) and each cell's surprise."""
        cfg = self.cfg
        nb = self.nb
        total = np.bincount(series, weights=counts, minlength=n_series)
        nonzero = np.bincount(series, minlength=n_series)
        # the usual clump: median count of the bins where the series occurs, when it occurs
        # in many bins (cron's hourly 50); a series seen in few bins has no usual clump
        order = np.lexsort((counts, series))
        starts = np.concatenate(([0], np.cumsum(nonzero)[:-1]))
        med = counts[order][np.minimum(starts + nonzero // 2, len(counts) - 1)]
        clump = np.where(nonzero >= 50, med, 1.0).astype(np.float64)
        flagged = np.zeros(len(counts), dtype=bool)
        rate = surprise = np.zeros(0)
        for _ in range(3):
            out_k = np.bincount(series[flagged], weights=counts[flagged], minlength=n_series)
            out_n = np.bincount(series[flagged], minlength=n_series)
            # a rate below one record per file span is no rate: floored
            rate = np.maximum((total - out_k) / np.maximum(nb - out_n, 1), 1.0 / nb)
            lam = rate[series]
            surprise = _llr(counts, lam)
            ref = np.maximum(lam, clump[series])
            flagged = ((counts >= cfg.min_count) & (counts >= cfg.factor * ref)
                       & (surprise >= cfg.threshold))
        return flagged, rate, surprise

    def _burst_cells(self) -> list[tuple[int, int, int, float]]:
        series, bins, counts = self.cell_sig, self.cell_bin, self.cell_k
        flagged, self.rate, surprise = self._flag(series, counts, len(self.templates))
        return [(int(s), int(b), int(k), float(x)) for s, b, k, x in
                zip(series[flagged], bins[flagged], counts[flagged], surprise[flagged])]

    def _error_cells(self) -> list[tuple[int, int, int, float]]:
        if not len(self.err_k):
            self.error_rate = 0.0
            return []
        flagged, rate, surprise = self._flag(np.zeros(len(self.err_k), dtype=np.int64),
                                             self.err_k, 1)
        self.error_rate = float(rate[0])
        return [(ERRORS, int(b), int(k), float(x)) for b, k, x in
                zip(self.err_bin[flagged], self.err_k[flagged], surprise[flagged])]

    def _new_cells(self) -> list[tuple[int, int, int, float]]:
        """Signatures first seen after the warm-up with ``min_new`` records in the bins of
        their first ``gap``: those bins, the surprise on the first."""
        cfg = self.cfg
        new = np.isfinite(self.first_time) & (self.first_time > self.warm)
        if not new.any():
            return []
        w = cfg.bin_seconds
        first_bin = np.floor(np.where(new, self.first_time, 0) / w).astype(np.int64) - self.b0
        s = self.cell_sig
        early = new[s] & (self.cell_bin - first_bin[s] <= math.ceil(cfg.gap / w))
        k_new = np.bincount(s[early], weights=self.cell_k[early], minlength=len(new))
        out = []
        lam = 1.0 / self.nb
        chosen = new & (k_new >= cfg.min_new)
        # every bin of its first gap belongs to the window: the surprise sits on the first
        for c in np.flatnonzero(early & chosen[s]):
            sig, b = int(s[c]), int(self.cell_bin[c])
            first = b == first_bin[sig]
            surprise = float(_llr(np.array([k_new[sig]]), np.array([lam]))[0]) if first else 0.0
            out.append((sig, b, int(k_new[sig]) if first else int(self.cell_k[c]), surprise))
        return out

    def _merge(self, cells: list[tuple[int, int, int, float]],
               new: list[tuple[int, int, int, float]]) -> list[_Window]:
        gap_bins = max(1, math.ceil(self.cfg.gap / self.cfg.bin_seconds))
        tagged = sorted([(c, False) for c in cells] + [(c, True) for c in new],
                        key=lambda ct: ct[0][1])
        windows: list[_Window] = []
        for cell, is_new in tagged:
            b = cell[1]
            if windows and b - windows[-1].hi <= gap_bins:
                w = windows[-1]
                w.hi = max(w.hi, b)
            else:
                w = _Window(b, b, [], set())
                windows.append(w)
            w.cells.append(cell)
            if is_new:
                w.new.add(cell[0])
        return windows

    # -- describing a window -----------------------------------------------------------------

    def _incident(self, w: _Window) -> Incident | None:
        cfg = self.cfg
        lo_t = (self.b0 + w.lo) * cfg.bin_seconds
        hi_t = (self.b0 + w.hi + 1) * cfg.bin_seconds
        # a burst often starts a little before its first flagged bin: look back one gap for
        # the run-up of the same signatures
        win = self._slice(lo_t - cfg.gap, hi_t)
        score_of: dict[int, float] = {}
        for s, _, _, x in w.cells:
            score_of[s] = score_of.get(s, 0.0) + x
        sig_ids = [s for s in score_of if s != ERRORS]
        if sig_ids:
            score_of.pop(ERRORS, None)  # errors of a burst already counted: once is enough
        involved = (np.isin(win.sig, sig_ids) if sig_ids
                    else win.lvl >= int(Level.ERROR))
        rows = np.flatnonzero(involved)
        if not len(rows):
            return None
        rows = self._trim_runup(rows, win.t, lo_t)
        start, end = float(win.t[rows[0]]), float(win.t[rows[-1]])
        parts = [self._signature_part(s, rows, win, w)
                 for s in sorted(score_of, key=lambda s: -score_of[s])]
        weight = max((1.5 if p.level >= Level.ERROR else 1.2 if p.level >= Level.WARNING
                      else 1.0) for p in parts)
        score = sum(score_of.values()) * weight
        hosts, sources = self._hosts(parts, rows, win)
        summary = self._summary(parts, hosts, start, end)
        pre = self._precursors(start, hosts, sources, {p.id for p in parts})
        return Incident(start=start, end=end, hosts=hosts, sources=sources,
                        signatures=tuple(parts), records=len(rows), score=score,
                        summary=summary, precursors=pre)

    def _trim_runup(self, rows: np.ndarray, t: np.ndarray, lo_t: float) -> np.ndarray:
        """Records before the first flagged bin belong to the incident when they lead into it
        densely (no two further apart than a bin); the rest is ordinary traffic."""
        times = t[rows]
        before = np.flatnonzero(times < lo_t)
        if not len(before):
            return rows
        j = min(int(before[-1]) + 1, len(rows) - 1)  # the first record in the flagged bins
        while j > 0 and times[j] - times[j - 1] <= self.cfg.bin_seconds:
            j -= 1
        return rows[j:]

    def _signature_part(self, s: int, rows: np.ndarray, win: _Slice,
                        w: _Window) -> IncidentSignature:
        if s == ERRORS:
            mine = rows
            template, level, new = "errors (all signatures)", Level.ERROR, False
            usual = self.error_rate
        else:
            mine = rows[win.sig[rows] == s]
            template, level, new = self.templates[s], Level(int(self.worst[s])), s in w.new
            usual = float(self.rate[s])
        if len(mine):
            p = int(mine[0])
            ref = RecordRef(self.logs[int(win.file[p])].label, int(win.idx[p]))
            first = float(win.t[p])
        else:  # a new signature seen before the window's records (cut by max_window_records)
            f, i = self.first_ref[s]
            ref, first = RecordRef(self.logs[int(f)].label, int(i)), float(self.first_time[s])
        return IncidentSignature(
            id=s, template=template, count=len(mine), first_record=ref, first_time=first,
            usual_per_hour=0.0 if new else usual * 3600.0 / self.cfg.bin_seconds,
            level=level, new=new)

    def _record(self, win: _Slice, r: int) -> Any:
        return self.logs[int(win.file[r])].record(int(win.idx[r]))

    def _hosts(self, parts: Sequence[IncidentSignature], rows: np.ndarray,
               win: _Slice) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Hosts and sources of the incident's records (a sample of each signature's, parsed);
        a host or source with under 5 % of them is ordinary traffic that happened to be there."""
        hosts: Counter[str] = Counter()
        sources: Counter[str] = Counter()
        for part in parts:
            mine = rows if part.id == ERRORS else rows[win.sig[rows] == part.id]
            if len(mine) > self.cfg.sample:
                mine = mine[np.linspace(0, len(mine) - 1, self.cfg.sample).astype(np.int64)]
            for r in mine:
                rec = self._record(win, int(r))
                if rec.host:
                    hosts[rec.host] += 1
                if rec.source:
                    sources[rec.source] += 1

        def main(c: Counter[str]) -> tuple[str, ...]:
            total = sum(c.values())
            return tuple(sorted(k for k, v in c.items() if v >= 0.05 * total))
        return main(hosts), main(sources)

    def _precursors(self, start: float, hosts: tuple[str, ...], sources: tuple[str, ...],
                    own: set[int]) -> tuple[Precursor, ...]:
        cfg = self.cfg
        since = start - cfg.lookback
        win = self._slice(since, start)
        if not len(win.t):
            return ()
        # new: first seen in the look-back window, after the file's warm-up
        fresh = self.first_time >= max(since, self.warm)
        warn = win.lvl >= int(Level.WARNING)
        is_new = fresh[win.sig]
        cand = np.flatnonzero((warn | is_new) & ~np.isin(win.sig, list(own)))
        # the latest records first: what came just before matters most; parse a bounded number
        found: dict[int, list[Any]] = {}
        for r in cand[::-1][:2000]:
            rec = self._record(win, int(r))
            # a new signature counts from any host (the database that went down before its
            # clients failed); a warning only from the incident's own hosts or sources
            if (hosts or sources) and rec.host not in hosts and rec.source not in sources \
                    and not is_new[r]:
                continue
            entry = found.setdefault(int(win.sig[r]), [r, rec, 0])
            entry[0], entry[1] = r, rec  # walking backwards: ends on the earliest
            entry[2] += 1
        out = []
        expected = cfg.lookback / cfg.bin_seconds
        for s, (r, rec, count) in found.items():
            new = bool(fresh[s])
            if not new and count <= 2 * expected * self.rate[s] + 1:
                continue  # as usual: a warning that comes this often anyway came first by chance
            out.append(Precursor(time=float(win.t[r]),
                                 record=RecordRef(self.logs[int(win.file[r])].label,
                                                  int(win.idx[r])),
                                 level=Level(int(win.lvl[r])), template=self.templates[s],
                                 count=count, host=rec.host, source=rec.source, new=new))
        out.sort(key=lambda pr: pr.time)
        return tuple(out[-10:])

    def _summary(self, parts: Sequence[IncidentSignature], hosts: tuple[str, ...],
                 start: float, end: float) -> str:
        top = parts[0]
        where = ""
        if hosts:
            where = (f" on host {hosts[0]}" if len(hosts) == 1 else
                     f" on {len(hosts)} hosts ({', '.join(hosts[:3])}"
                     f"{', …' if len(hosts) > 3 else ''})")
        span = _duration(end - start)
        if top.id == ERRORS:
            text = f"{top.count} errors of many kinds{where} in {span}"
        else:
            text = f"{top.count} × '{_short(top.template)}'{where} in {span}"
        text += " (never seen before)" if top.new else f" (usual {_rate(top.usual_per_hour)})"
        if len(parts) > 1:
            newer = sum(1 for p in parts[1:] if p.new)
            text += f"; +{len(parts) - 1} more signature{'s' if len(parts) > 2 else ''}"
            if newer:
                text += f" ({newer} new)"
        return text


def _short(template: str, width: int = 70) -> str:
    return template if len(template) <= width else template[: width - 1] + "…"


def _duration(seconds: float) -> str:
    """An incident's length in the house spelling (:func:`diagkit.units.human_duration`,
    coarse), rounded to the minute from 90 s on: the bins are a minute wide."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return human_duration(round(seconds / 60) * 60, coarse=True)


def _rate(per_hour: float) -> str:
    if per_hour >= 1:
        return f"{per_hour:.0f}/h"
    per_day = per_hour * 24
    if per_day >= 1:
        return f"{per_day:.0f}/day"
    return "almost never"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="seconds")


def format_text(incidents: Incidents) -> list[str]:
    """The lines ``diagkit logs incidents`` prints: one per incident, precursors indented
    (the warnings are the caller's to show: on standard error)."""
    lines = []
    for inc in incidents:
        hosts = ",".join(inc.hosts) or "-"
        lines.append(f"{_iso(inc.start)} .. {_iso(inc.end)}  [{hosts}]  score {inc.score:.0f}  "
                     f"{inc.summary}")
        for p in inc.precursors:
            tag = "new " if p.new else ""
            lines.append(f"    before: {_iso(p.time)} {tag}{p.level.label} {p.count} × "
                         f"'{_short(p.template)}' ({p.host or p.source or '-'})")
    if incidents.omitted:
        lines.append(f"({incidents.omitted} lower-scored incident"
                     f"{'s' if incidents.omitted > 1 else ''} left out; --limit shows more)")
    if not incidents:
        lines.append("No incidents: the logs keep their usual character.")
    return lines


__all__ = ["SCHEMA", "Incident", "IncidentSignature", "Incidents", "Precursor", "RecordRef", "Settings", "find_incidents", "format_text", "to_json"]
