"""Monitoring history in the team store: the same API and numbers as
:class:`~diagkit.store.samples.SampleStore`, in the PostgreSQL tables ``series`` and
``samples_raw/1m/1h`` (schema in :mod:`diagkit.store.schema_pg`).

A team shares one history: several engineers watching the same host write the same series, and
a repeated (host, metric, time) keeps the first value and is counted once in the aggregates, as
in SQLite. One :meth:`PgSampleStore.append` is ONE statement: the raw rows are inserted with
``ON CONFLICT DO NOTHING RETURNING`` and only the rows really inserted feed the per-minute and
per-hour upserts (``ON CONFLICT DO UPDATE``), so aggregates stay exact with many writers.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from diagkit.store.postgres import PgBase
from diagkit.store.samples import (
    _BUCKET,
    PRUNE_EVERY_S,
    RESOLUTIONS,
    Retention,
    SampleRules,
    SeriesData,
    finite_samples,
    series_data,
)

_APPEND = """
WITH ins AS (
    INSERT INTO samples_raw(series, t, v)
    SELECT * FROM unnest(%(s)s::bigint[], %(t)s::float8[], %(v)s::float8[])
    ON CONFLICT (series, t) DO NOTHING
    RETURNING series, t, v
), m AS (
    INSERT INTO samples_1m(series, t, n, sum, min, max)
    SELECT series, (floor(t / 60) * 60)::bigint, count(*), sum(v), min(v), max(v)
    FROM ins GROUP BY 1, 2
    ON CONFLICT (series, t) DO UPDATE SET
        n = samples_1m.n + excluded.n, sum = samples_1m.sum + excluded.sum,
        min = LEAST(samples_1m.min, excluded.min), max = GREATEST(samples_1m.max, excluded.max)
), h AS (
    INSERT INTO samples_1h(series, t, n, sum, min, max)
    SELECT series, (floor(t / 3600) * 3600)::bigint, count(*), sum(v), min(v), max(v)
    FROM ins GROUP BY 1, 2
    ON CONFLICT (series, t) DO UPDATE SET
        n = samples_1h.n + excluded.n, sum = samples_1h.sum + excluded.sum,
        min = LEAST(samples_1h.min, excluded.min), max = GREATEST(samples_1h.max, excluded.max)
)
SELECT count(*) FROM ins
"""


class PgSampleStore(SampleRules, PgBase):
    """The team's monitoring history. Thread-safe; one transaction per :meth:`append`."""

    def __init__(self, url: str, *, retention: Retention | None = None,
                 password: str | None = None, lazy: bool = False) -> None:
        super().__init__(url, password=password, lazy=lazy)
        self.retention = retention if retention is not None else Retention()
        self._series: dict[tuple[str, str], int] = {}
        self._last_prune = -PRUNE_EVERY_S  # the first append prunes what expired meanwhile

    def _series_ids(self, conn: Any, keys: set[tuple[str, str]]) -> None:
        missing = sorted(k for k in keys if k not in self._series)
        if not missing:
            return
        hosts = [h for h, _ in missing]
        metrics = [m for _, m in missing]
        # Another engineer may create the same series at the same moment: DO NOTHING, then read.
        conn.execute("INSERT INTO series(host, metric) SELECT * FROM unnest(%s::text[], "
                     "%s::text[]) ON CONFLICT (host, metric) DO NOTHING", (hosts, metrics))
        rows = conn.execute(
            "SELECT s.id, s.host, s.metric FROM series s JOIN unnest(%s::text[], %s::text[]) "
            "AS k(host, metric) ON s.host = k.host AND s.metric = k.metric",
            (hosts, metrics)).fetchall()
        for sid, host, metric in rows:
            self._series[(host, metric)] = sid

    def append(self, samples: Iterable[tuple[str, float, Mapping[str, float | None]]]) -> int:
        """Store ``(host, epoch_seconds, {metric: value})`` samples in one transaction.

        Missing and non-finite values are skipped; a repeated (host, metric, time) keeps the
        first value and is not counted twice in the aggregates. Returns values stored.
        """
        rows = list(finite_samples(samples))
        stored = 0
        with self._lock:
            try:
                if rows:
                    with self._write("save monitoring samples") as conn:
                        self._series_ids(conn, {(h, m) for h, m, _, _ in rows})
                        stored = conn.execute(_APPEND, {
                            "s": [self._series[(h, m)] for h, m, _, _ in rows],
                            "t": [r[2] for r in rows], "v": [r[3] for r in rows],
                        }).fetchone()[0]
            except BaseException:
                # Series ids created in the rolled-back transaction must not stay cached.
                self._series.clear()
                raise
            if time.monotonic() - self._last_prune >= PRUNE_EVERY_S:
                self._last_prune = time.monotonic()
                self.prune()
        return int(stored)

    def prune(self, now: float | None = None) -> dict[str, int]:
        """Drop what is older than its resolution's retention; returns rows removed per table."""
        cut = self._cuts(now)
        removed: dict[str, int] = {}
        with self._write("prune the monitoring history") as conn:
            for res in RESOLUTIONS:
                # An aggregate bucket goes only when its whole width is past the cut.
                width = _BUCKET.get(res, 0)
                cur = conn.execute(f"DELETE FROM samples_{res} WHERE t + %s <= %s",
                                   (width, cut[res]))
                removed[res] = cur.rowcount
        return removed

    def hosts(self) -> list[str]:
        with self._read("read the monitored hosts") as conn:
            return [r[0] for r in conn.execute(
                "SELECT DISTINCT host FROM series ORDER BY host").fetchall()]

    def metrics(self, host: str) -> list[str]:
        with self._read("read the monitored metrics") as conn:
            return [r[0] for r in conn.execute(
                "SELECT metric FROM series WHERE host = %s ORDER BY metric", (host,)).fetchall()]

    def read(self, host: str, metric: str, *, since: float, until: float | None = None,
             resolution: str | None = None, now: float | None = None) -> SeriesData:
        """The series between ``since`` and ``until`` (epoch seconds), oldest first."""
        res, until = self._window(since, until, resolution, now)
        # The series id comes from the database, not only the cache: another engineer's
        # diagkit may have started the series.
        with self._read("read the monitoring history") as conn:
            if res == "raw":
                rows = [(t, v, v, v) for t, v in conn.execute(
                    "SELECT r.t, r.v FROM samples_raw r JOIN series s ON s.id = r.series"
                    " WHERE s.host = %s AND s.metric = %s AND r.t >= %s AND r.t <= %s::float8"
                    " ORDER BY r.t", (host, metric, since, until)).fetchall()]
            else:
                rows = conn.execute(
                    f"SELECT a.t, a.sum / a.n, a.min, a.max FROM samples_{res} a"
                    " JOIN series s ON s.id = a.series WHERE s.host = %s AND s.metric = %s"
                    " AND a.t + %s > %s AND a.t <= %s::float8 ORDER BY a.t",
                    (host, metric, _BUCKET[res], since, until)).fetchall()
        return series_data(host, metric, res, rows)
