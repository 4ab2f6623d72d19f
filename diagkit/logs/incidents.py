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
from diagkit.logs.signatures import Signature, mine_logs

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


class Incidents(list):  # type: ignore[type-arg]
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


def find_incidents(logs_or_paths: Sequence[Any], *, settings: Settings | None = None,
                   mined: tuple[list[Signature], list[np.ndarray]] | None = None,
                   cancel: threading.Event | None = None,
                   progress: Callable[[float], None] | None = None) -> Incidents:
    """Incidents in these logs (LogFile objects, or paths opened here and closed after).

    ``mined``: the result of :func:`mine_logs` on the same logs when the caller has it (the
    log viewer), so they are not mined twice. Errors: :class:`LogFormatError` for paths that
    cannot be opened."""
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
    sigs, maps = mined if mined is not None else mine_logs(logs, cancel=cancel,
                                                           progress=progress)
    return _Detector(logs, sigs, maps, cfg).run()


# --- detection --------------------------------------------------------------------------------


def _llr(k: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Poisson log-likelihood ratio of observing ``k`` where ``lam`` is expected (k > lam)."""
    k = k.astype(np.float64)
    return np.where(k > lam, k * np.log(k / lam) - (k - lam), 0.0)


@dataclass
class _Window:
    lo: int  # first and last bin
    hi: int
    cells: list[tuple[int, int, int, float]]  # (series, bin, count, surprise)
    new: set[int]


class _Detector:
    def __init__(self, logs: list[Any], sigs: list[Signature], maps: list[np.ndarray],
                 cfg: Settings) -> None:
        self.logs = logs
        self.sigs = sigs
        self.cfg = cfg
        self.warnings: list[str] = []
        parts_t, parts_s, parts_l, parts_f, parts_i = [], [], [], [], []
        for f, (log, ids) in enumerate(zip(logs, maps)):
            n = len(ids)
            t = np.asarray(log.timestamps(), dtype=np.float64)[:n]
            keep = ~np.isnan(t) & (ids >= 0)
            if n and not keep.any():
                self.warnings.append(f"{log.label}: no record has a time; it has no incidents.")
            idx = np.flatnonzero(keep)
            parts_t.append(t[idx])
            parts_s.append(ids[idx])
            parts_l.append(np.asarray(log.levels())[:n][idx])
            parts_f.append(np.full(len(idx), f, dtype=np.int16))
            parts_i.append(idx.astype(np.int64))
        # every record with a time, in time order across the files
        t_all = np.concatenate(parts_t) if parts_t else np.empty(0)
        order = np.argsort(t_all, kind="stable")
        self.t = t_all[order]
        self.sig = np.concatenate(parts_s)[order]
        self.lvl = np.concatenate(parts_l)[order]
        self.file = np.concatenate(parts_f)[order]
        self.idx = np.concatenate(parts_i)[order]

    # -- the series --------------------------------------------------------------------------

    def run(self) -> Incidents:
        cfg = self.cfg
        if len(self.t) == 0:
            return Incidents(warnings=self.warnings)
        t0, t1 = float(self.t[0]), float(self.t[-1])
        self.t0 = t0
        self.nb = nb = max(1, int((t1 - t0) // cfg.bin_seconds) + 1)
        self.bins = ((self.t - t0) // cfg.bin_seconds).astype(np.int64)
        cells = self._burst_cells()
        cells += self._error_cells()
        new = self._new_cells(t1 - t0)
        windows = self._merge(cells, new)
        incidents = [self._incident(w) for w in windows]
        incidents = [i for i in incidents if i is not None]
        incidents.sort(key=lambda i: -i.score)
        kept = incidents[: cfg.limit]
        kept.sort(key=lambda i: i.start)
        if nb * cfg.bin_seconds < 3600:
            self.warnings.append("The logs span less than an hour: the usual rates are guesses.")
        return Incidents(kept, omitted=len(incidents) - len(kept), warnings=self.warnings)

    def _flag(self, series: np.ndarray, bins: np.ndarray, counts: np.ndarray,
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
        med = counts[order][np.minimum(starts + nonzero // 2, max(len(counts) - 1, 0))] \
            if len(counts) else np.zeros(n_series)
        clump = np.where(nonzero >= 50, med, 1.0).astype(np.float64)
        flagged = np.zeros(len(counts), dtype=bool)
        for _ in range(3):
            out_k = np.bincount(series[flagged], weights=counts[flagged], minlength=n_series)
            out_n = np.bincount(series[flagged], minlength=n_series)
            rate = (total - out_k) / np.maximum(nb - out_n, 1)
            # a rate below one record per file span is no rate: floor it
            rate = np.maximum(rate, 1.0 / nb)
            lam = rate[series]
            surprise = _llr(counts, lam)
            ref = np.maximum(lam, clump[series])
            flagged = ((counts >= cfg.min_count) & (counts >= cfg.factor * ref)
                       & (surprise >= cfg.threshold))
        return flagged, rate, surprise

    def _burst_cells(self) -> list[tuple[int, int, int, float]]:
        n_sigs = len(self.sigs)
        key = self.sig.astype(np.int64) * self.nb + self.bins
        uniq, counts = np.unique(key, return_counts=True)
        series, bins = uniq // self.nb, uniq % self.nb
        flagged, rate, surprise = self._flag(series, bins, counts, n_sigs)
        self.rate = rate
        return [(int(s), int(b), int(k), float(x)) for s, b, k, x in
                zip(series[flagged], bins[flagged], counts[flagged], surprise[flagged])]

    def _error_cells(self) -> list[tuple[int, int, int, float]]:
        err = self.lvl >= int(Level.ERROR)
        if not err.any():
            self.error_rate = 0.0
            return []
        bins, counts = np.unique(self.bins[err], return_counts=True)
        series = np.zeros(len(bins), dtype=np.int64)
        flagged, rate, surprise = self._flag(series, bins, counts, 1)
        self.error_rate = float(rate[0])
        return [(ERRORS, int(b), int(k), float(x)) for b, k, x in
                zip(bins[flagged], counts[flagged], surprise[flagged])]

    def _new_cells(self, span: float) -> list[tuple[int, int, int, float]]:
        """Signatures first seen after the warm-up with ``min_new`` records in their first
        ``gap``: one cell at their first record."""
        cfg = self.cfg
        warm = self.t0 + min(span * cfg.warmup, 86400.0)
        n_sigs = len(self.sigs)
        first = np.full(n_sigs, -1, dtype=np.int64)
        # position of each signature's first record (records are in time order)
        _, pos = np.unique(self.sig, return_index=True)
        present = np.unique(self.sig)
        first[present] = pos
        out = []
        self.first_pos = first
        for s in present[self.t[first[present]] > warm]:
            p = int(first[s])
            t = float(self.t[p])
            hi = int(np.searchsorted(self.t, t + cfg.gap, side="right"))
            k = int(np.count_nonzero(self.sig[p:hi] == s))
            if k < cfg.min_new:
                continue
            lam = 1.0 / self.nb
            surprise = float(_llr(np.array([k]), np.array([lam]))[0])
            out.append((int(s), int(self.bins[p]), k, surprise))
        return out

    def _merge(self, cells: list[tuple[int, int, int, float]],
               new: list[tuple[int, int, int, float]]) -> list[_Window]:
        gap_bins = max(1, int(math.ceil(self.cfg.gap / self.cfg.bin_seconds)))
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
        lo_t = self.t0 + w.lo * cfg.bin_seconds
        hi_t = self.t0 + (w.hi + 1) * cfg.bin_seconds
        # a burst often starts a little before its first flagged bin: look back one gap for
        # the run-up of the same signatures
        a = int(np.searchsorted(self.t, lo_t - cfg.gap, side="left"))
        b = int(np.searchsorted(self.t, hi_t, side="left"))
        score_of: dict[int, float] = {}
        for s, _, _, x in w.cells:
            score_of[s] = score_of.get(s, 0.0) + x
        sig_ids = [s for s in score_of if s != ERRORS]
        if sig_ids:
            score_of.pop(ERRORS, None)  # errors of a burst already counted: once is enough
        win_sig = self.sig[a:b]
        win_t = self.t[a:b]
        win_err = self.lvl[a:b] >= int(Level.ERROR)
        involved = np.isin(win_sig, sig_ids) if sig_ids else win_err
        rows = np.flatnonzero(involved)
        if not len(rows):
            return None
        # the run-up counts only when it is already above the usual rate: the first record
        # after the last quiet stretch (a gap of more than `usual` between records)
        rows = self._trim_runup(rows, win_t, lo_t, w)
        start = float(win_t[rows[0]])
        end = float(win_t[rows[-1]])
        parts = []
        for s in sorted(score_of, key=lambda s: -score_of[s]):
            parts.append(self._signature_part(s, rows, a, w))
        weight = max((1.5 if p.level >= Level.ERROR else 1.2 if p.level >= Level.WARNING
                      else 1.0) for p in parts)
        score = sum(score_of.values()) * weight
        hosts, sources = self._hosts(parts, rows, a)
        summary = self._summary(parts, hosts, start, end)
        pre = self._precursors(start, hosts, sources, {p.id for p in parts})
        return Incident(start=start, end=end, hosts=hosts, sources=sources,
                        signatures=tuple(parts), records=len(rows), score=score,
                        summary=summary, precursors=pre)

    def _trim_runup(self, rows: np.ndarray, win_t: np.ndarray, lo_t: float,
                    w: _Window) -> np.ndarray:
        before = win_t[rows] < lo_t
        if not before.any():
            return rows
        # records before the first flagged bin belong to the incident when they are dense:
        # no two further apart than a bin
        j = min(int(np.flatnonzero(before)[-1]) + 1, len(rows) - 1)  # first row in the bins
        times = win_t[rows]
        while j > 0 and times[j] - times[j - 1] <= self.cfg.bin_seconds:
            j -= 1
        return rows[j:]

    def _signature_part(self, s: int, rows: np.ndarray, a: int, w: _Window) -> IncidentSignature:
        if s == ERRORS:
            mine = rows
            template, level, new = "errors (all signatures)", Level.ERROR, False
            usual = self.error_rate
        else:
            mine = rows[self.sig[a + rows] == s]
            if not len(mine):  # a new signature's first record is always in the window
                mine = rows[:1]
            sig = self.sigs[s]
            template, level, new = sig.template, sig.worst_level, s in w.new
            usual = float(self.rate[s])
        p = a + int(mine[0])
        log = self.logs[int(self.file[p])]
        return IncidentSignature(
            id=s, template=template, count=len(mine),
            first_record=RecordRef(log.label, int(self.idx[p])), first_time=float(self.t[p]),
            usual_per_hour=0.0 if new else usual * 3600.0 / self.cfg.bin_seconds,
            level=Level(level), new=new)

    def _record(self, p: int) -> Any:
        return self.logs[int(self.file[p])].record(int(self.idx[p]))

    def _hosts(self, parts: Sequence[IncidentSignature], rows: np.ndarray,
               a: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Hosts and sources of the incident's records (a sample of each signature's, parsed);
        a host or source with under 5 % of them is ordinary traffic that happened to be there."""
        hosts: Counter[str] = Counter()
        sources: Counter[str] = Counter()
        for part in parts:
            mine = rows if part.id == ERRORS else rows[self.sig[a + rows] == part.id]
            if len(mine) > self.cfg.sample:
                mine = mine[np.linspace(0, len(mine) - 1, self.cfg.sample).astype(np.int64)]
            for r in mine:
                rec = self._record(a + int(r))
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
        a = int(np.searchsorted(self.t, start - cfg.lookback, side="left"))
        b = int(np.searchsorted(self.t, start, side="left"))
        if a >= b:
            return ()
        sig = self.sig[a:b]
        warn = self.lvl[a:b] >= int(Level.WARNING)
        is_new = self.first_pos[sig] >= a  # first seen in the look-back window
        cand = np.flatnonzero((warn | is_new) & ~np.isin(sig, list(own)))
        if not len(cand):
            return ()
        # the latest records first: what came just before matters most; parse a bounded number
        cand = cand[::-1][:2000]
        found: dict[int, list[Any]] = {}
        for r in cand:
            p = a + int(r)
            rec = self._record(p)
            # a new signature counts from any host (the database that went down before its
            # clients failed); a warning only from the incident's own hosts or sources
            if (hosts or sources) and rec.host not in hosts and rec.source not in sources \
                    and not is_new[r]:
                continue
            entry = found.setdefault(int(self.sig[p]), [p, rec, 0])
            entry[0], entry[1] = p, rec  # walking backwards: ends on the earliest
            entry[2] += 1
        out = []
        expected = self.cfg.lookback / self.cfg.bin_seconds
        for s, (p, rec, count) in found.items():
            new = bool(self.first_pos[s] >= a)
            if not new and count <= 2 * expected * self.rate[s] + 1:
                continue  # as usual: a warning that comes this often anyway came first by chance
            out.append(Precursor(time=float(self.t[p]),
                                 record=RecordRef(self.logs[int(self.file[p])].label,
                                                  int(self.idx[p])),
                                 level=Level(int(self.lvl[p])), template=self.sigs[s].template,
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
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


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
    """The lines ``diagkit logs incidents`` prints: one per incident, precursors indented."""
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
    lines.extend(f"warning: {w}" for w in incidents.warnings)
    return lines


__all__ = ["SCHEMA", "Incident", "IncidentSignature", "Incidents", "Precursor", "RecordRef", "Settings", "find_incidents", "format_text", "to_json"]
