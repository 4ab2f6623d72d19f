"""The monitoring history (:class:`~diagkit.store.contract.SampleStore`): what every backend
does the same way, written once: which resolution a window reads, what retention cuts, and the
reads and pruning in SQL.

Three resolutions (:data:`~diagkit.store.contract.RESOLUTIONS`), all written at sample time so
an aggregate is always exact (never rebuilt from already-thinned data):

* ``raw``  every sample (table ``samples_raw``: series, t, v), kept ``Retention.raw``;
* ``1m``   per-minute count/sum/min/max (``samples_1m``), kept ``Retention.minute``;
* ``1h``   per-hour count/sum/min/max (``samples_1h``), kept ``Retention.hour``.

:meth:`SampleSql.read` picks the finest resolution that still covers the start of the asked
window, so "the last 10 minutes" is raw and "the last month" is hourly. Writing
(:meth:`SampleSql.append`) is each backend's own: how to upsert aggregates in bulk is where
the databases differ most.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import ClassVar

import numpy as np

from diagkit.store.contract import RESOLUTIONS, Retention, SeriesData
from diagkit.store.shared.base import SqlStore

PRUNE_EVERY_S = 3600.0  # retention is applied by append() at most this often
#: Bucket width (s) of the aggregate resolutions.
BUCKET: dict[str, int] = {"1m": 60, "1h": 3600}


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


class SampleSql(SqlStore):
    """Implements :class:`~diagkit.store.contract.SampleStore` but :meth:`append`."""

    _kind: ClassVar[str] = "monitoring history"
    retention: Retention
    _last_prune: float = -PRUNE_EVERY_S  # the first append prunes what expired meanwhile

    @abstractmethod
    def append(self, samples: Iterable[tuple[str, float, Mapping[str, float | None]]]) -> int:
        """See :meth:`diagkit.store.contract.SampleStore.append`; calls :meth:`_maybe_prune`."""

    def _maybe_prune(self) -> None:
        if time.monotonic() - self._last_prune >= PRUNE_EVERY_S:
            self._last_prune = time.monotonic()
            self.prune()

    def resolution_for(self, since: float, now: float | None = None) -> str:
        """The finest resolution whose retention still reaches back to ``since``."""
        now = time.time() if now is None else now
        age = now - since
        if age <= self.retention.raw:
            return "raw"
        if age <= self.retention.minute:
            return "1m"
        return "1h"

    def prune(self, now: float | None = None) -> dict[str, int]:
        """Drop what is older than its resolution's retention; returns rows removed per table."""
        now = time.time() if now is None else now
        cut = {"raw": now - self.retention.raw, "1m": now - self.retention.minute,
               "1h": now - self.retention.hour}
        removed: dict[str, int] = {}
        with self._write("prune the monitoring history") as conn:
            for res in RESOLUTIONS:
                # An aggregate bucket goes only when its whole width is past the cut.
                cur = self._run(conn, f"DELETE FROM samples_{res} WHERE t + :width <= :cut",
                                {"width": BUCKET.get(res, 0), "cut": cut[res]})
                removed[res] = cur.rowcount
        return removed

    def hosts(self) -> list[str]:
        with self._read("read the monitored hosts") as conn:
            return [r[0] for r in self._run(
                conn, "SELECT DISTINCT host FROM series ORDER BY host").fetchall()]

    def metrics(self, host: str) -> list[str]:
        with self._read("read the monitored metrics") as conn:
            return [r[0] for r in self._run(
                conn, "SELECT metric FROM series WHERE host = :host ORDER BY metric",
                {"host": host}).fetchall()]

    def read(self, host: str, metric: str, *, since: float, until: float | None = None,
             resolution: str | None = None, now: float | None = None) -> SeriesData:
        """The series between ``since`` and ``until`` (epoch seconds), oldest first."""
        res = resolution or self.resolution_for(since, now)
        if res not in RESOLUTIONS:
            raise ValueError(f"unknown resolution {res!r}; use one of {', '.join(RESOLUTIONS)}")
        args = {"host": host, "metric": metric, "since": since,
                "until": float("inf") if until is None else until, "width": BUCKET.get(res, 0)}
        # The series id comes from the database, not only a cache: another process (or
        # engineer) may have started the series.
        with self._read("read the monitoring history") as conn:
            if res == "raw":
                rows = [(t, v, v, v) for t, v in self._run(
                    conn, "SELECT r.t, r.v FROM samples_raw r JOIN series s ON s.id = r.series"
                          " WHERE s.host = :host AND s.metric = :metric AND r.t >= :since"
                          " AND r.t <= CAST(:until AS DOUBLE PRECISION) ORDER BY r.t",
                    args).fetchall()]
            else:
                rows = self._run(
                    conn, f"SELECT a.t, a.sum / a.n, a.min, a.max FROM samples_{res} a"
                          " JOIN series s ON s.id = a.series WHERE s.host = :host"
                          " AND s.metric = :metric AND a.t + :width > :since"
                          " AND a.t <= CAST(:until AS DOUBLE PRECISION) ORDER BY a.t",
                    args).fetchall()
        return series_data(host, metric, res, rows)
