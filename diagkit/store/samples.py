"""Monitoring history: metric samples per host, with retention and downsampling.

Samples live in their own SQLite file (``data_dir()/history.db``), not in the case database:
they arrive hundreds per second and are pruned all the time, a write pattern that should never
make a case save wait, and a damaged or deleted history must not touch cases.

Three resolutions, all written at sample time so an aggregate is always exact (never rebuilt
from already-thinned data):

* ``raw``  every sample, kept ``Retention.raw`` (default 24 h);
* ``1m``   per-minute count/sum/min/max, kept ``Retention.minute`` (default 7 days);
* ``1h``   per-hour count/sum/min/max, kept ``Retention.hour`` (default 400 days).

:meth:`SampleStore.read` picks the finest resolution that still covers the start of the asked
window, so "the last 10 minutes" is raw and "the last month" is hourly.
"""

from __future__ import annotations

import csv
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

import numpy as np

from diagkit import config
from diagkit.store import StoreError

DB_NAME = "history.db"
PRUNE_EVERY_S = 3600.0  # retention is applied by append() at most this often
RESOLUTIONS = ("raw", "1m", "1h")
_BUCKET = {"1m": 60, "1h": 3600}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    id     INTEGER PRIMARY KEY,
    host   TEXT NOT NULL,
    metric TEXT NOT NULL,
    UNIQUE (host, metric)
);
CREATE TABLE IF NOT EXISTS samples_raw (
    series INTEGER NOT NULL, t REAL NOT NULL, v REAL NOT NULL,
    PRIMARY KEY (series, t)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS samples_1m (
    series INTEGER NOT NULL, t INTEGER NOT NULL, n INTEGER NOT NULL, sum REAL NOT NULL,
    min REAL NOT NULL, max REAL NOT NULL,
    PRIMARY KEY (series, t)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS samples_1h (
    series INTEGER NOT NULL, t INTEGER NOT NULL, n INTEGER NOT NULL, sum REAL NOT NULL,
    min REAL NOT NULL, max REAL NOT NULL,
    PRIMARY KEY (series, t)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class Retention:
    """How long each resolution is kept, in seconds."""

    raw: float = 24 * 3600.0
    minute: float = 7 * 86400.0
    hour: float = 400 * 86400.0


@dataclass(frozen=True)
class SeriesData:
    """One series over a window: sample times and average/min/max (equal for raw samples)."""

    host: str
    metric: str
    resolution: str
    t: np.ndarray
    avg: np.ndarray
    min: np.ndarray
    max: np.ndarray

    def __len__(self) -> int:
        return int(self.t.size)


def finite_samples(
    samples: Iterable[tuple[str, float, Mapping[str, float | None]]],
) -> Iterator[tuple[str, str, float, float]]:
    """``(host, metric, t, v)`` for each value of ``samples`` that is set and finite."""
    for host, t, values in samples:
        for metric, v in values.items():
            if v is None or not np.isfinite(v):
                continue
            yield host, metric, float(t), float(v)


def series_data(host: str, metric: str, resolution: str,
                rows: Sequence[tuple[float, float, float, float]]) -> SeriesData:
    """A :class:`SeriesData` from rows of (t, avg, min, max)."""
    arr = np.asarray(rows, dtype=float).reshape(-1, 4)
    return SeriesData(host, metric, resolution, arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])


class SampleRules:
    """What every monitoring history does the same way (the SQLite file and the team store):
    which resolution a window reads and what retention cuts."""

    retention: Retention

    def resolution_for(self, since: float, now: float | None = None) -> str:
        """The finest resolution whose retention still reaches back to ``since``."""
        now = time.time() if now is None else now
        age = now - since
        if age <= self.retention.raw:
            return "raw"
        if age <= self.retention.minute:
            return "1m"
        return "1h"

    def _window(self, since: float, until: float | None, resolution: str | None,
                now: float | None) -> tuple[str, float]:
        """:meth:`read`'s resolution (checked) and end of window."""
        res = resolution or self.resolution_for(since, now)
        if res not in RESOLUTIONS:
            raise ValueError(f"unknown resolution {res!r}; use one of {', '.join(RESOLUTIONS)}")
        return res, float("inf") if until is None else until

    def _cuts(self, now: float | None) -> dict[str, float]:
        """Per resolution, the time before which :meth:`prune` drops samples."""
        now = time.time() if now is None else now
        return {"raw": now - self.retention.raw, "1m": now - self.retention.minute,
                "1h": now - self.retention.hour}


class SampleStore(SampleRules):
    """The monitoring history file. Thread-safe; one write transaction per :meth:`append`."""

    def __init__(self, path: Path | str | None = None, *,
                 retention: Retention = Retention()) -> None:
        self.path = Path(path) if path is not None else config.data_dir() / DB_NAME
        self.retention = retention
        self._lock = threading.RLock()
        self._series: dict[tuple[str, str], int] = {}
        self._last_prune = -PRUNE_EVERY_S  # the first append prunes what expired meanwhile
        try:
            config.private_database(self.path)  # 0600: its -wal and -shm follow its mode
            self._conn = sqlite3.connect(self.path, timeout=15, isolation_level=None,
                                         check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            # History can afford to lose the last second on a power cut; not a case save.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("BEGIN IMMEDIATE")
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    self._conn.execute(stmt)
            self._conn.execute("COMMIT")
            for sid, host, metric in self._conn.execute("SELECT id, host, metric FROM series"):
                self._series[(host, metric)] = sid
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(
                f"Cannot open the monitoring history {self.path}: {exc}. Check the folder is "
                "writable; if the file is damaged, move it away (only history is lost)."
            ) from exc

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _series_id(self, host: str, metric: str) -> int:
        key = (host, metric)
        sid = self._series.get(key)
        if sid is None:
            self._conn.execute("INSERT OR IGNORE INTO series(host, metric) VALUES (?, ?)", key)
            sid = self._conn.execute("SELECT id FROM series WHERE host = ? AND metric = ?",
                                     key).fetchone()[0]
            self._series[key] = sid
        return sid

    def append(self, samples: Iterable[tuple[str, float, Mapping[str, float | None]]]) -> int:
        """Store ``(host, epoch_seconds, {metric: value})`` samples in one transaction.

        Missing and non-finite values are skipped; a repeated (host, metric, time) keeps the
        first value and is not counted twice in the aggregates. Returns values stored.
        """
        raw: list[tuple[int, float, float]] = []
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                for host, metric, t, v in finite_samples(samples):
                    raw.append((self._series_id(host, metric), t, v))
                stored = 0
                for sid, t, v in raw:
                    cur = self._conn.execute(
                        "INSERT OR IGNORE INTO samples_raw(series, t, v) VALUES (?, ?, ?)",
                        (sid, t, v))
                    if cur.rowcount != 1:
                        continue
                    stored += 1
                    for res, width in _BUCKET.items():
                        self._conn.execute(
                            f"INSERT INTO samples_{res}(series, t, n, sum, min, max)"
                            " VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT(series, t) DO UPDATE SET"
                            " n = n + 1, sum = sum + excluded.sum,"
                            " min = min(min, excluded.min), max = max(max, excluded.max)",
                            (sid, int(t // width) * width, v, v, v))
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                # Series ids created in the rolled-back transaction must not stay cached.
                self._series = {(h, m): i for i, h, m in self._conn.execute(
                    "SELECT id, host, metric FROM series")}
                raise StoreError(f"Could not save monitoring samples to {self.path}: {exc}. "
                                 "Check free disk space.") from exc
            if time.monotonic() - self._last_prune >= PRUNE_EVERY_S:
                self._last_prune = time.monotonic()
                self.prune()
            return stored

    def prune(self, now: float | None = None) -> dict[str, int]:
        """Drop what is older than its resolution's retention; returns rows removed per table."""
        cut = self._cuts(now)
        removed: dict[str, int] = {}
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                for res in RESOLUTIONS:
                    # An aggregate bucket goes only when its whole width is past the cut.
                    width = _BUCKET.get(res, 0)
                    cur = self._conn.execute(f"DELETE FROM samples_{res} WHERE t + ? <= ?",
                                             (width, cut[res]))
                    removed[res] = cur.rowcount
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise StoreError(f"Could not prune the monitoring history {self.path}: {exc}."
                                 ) from exc
        return removed

    def hosts(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._conn.execute(
                "SELECT DISTINCT host FROM series ORDER BY host")]

    def metrics(self, host: str) -> list[str]:
        with self._lock:
            return [r[0] for r in self._conn.execute(
                "SELECT metric FROM series WHERE host = ? ORDER BY metric", (host,))]

    def read(self, host: str, metric: str, *, since: float, until: float | None = None,
             resolution: str | None = None, now: float | None = None) -> SeriesData:
        """The series between ``since`` and ``until`` (epoch seconds), oldest first."""
        res, until = self._window(since, until, resolution, now)
        with self._lock:
            sid = self._series.get((host, metric))
            if sid is None:
                rows: list[tuple[float, float, float, float]] = []
            elif res == "raw":
                rows = [(t, v, v, v) for t, v in self._conn.execute(
                    "SELECT t, v FROM samples_raw WHERE series = ? AND t >= ? AND t <= ?"
                    " ORDER BY t", (sid, since, until))]
            else:
                width = _BUCKET[res]
                rows = self._conn.execute(
                    f"SELECT t, sum / n, min, max FROM samples_{res} WHERE series = ?"
                    " AND t + ? > ? AND t <= ? ORDER BY t", (sid, width, since, until)).fetchall()
        return series_data(host, metric, res, rows)


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
