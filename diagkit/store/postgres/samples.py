"""Monitoring history in the team store: the same API and numbers as the SQLite history, in
the PostgreSQL tables ``series`` and ``samples_raw/1m/1h`` (schema in
:mod:`diagkit.store.postgres.schema`).

A team shares one history: several engineers watching the same host write the same series, and
a repeated (host, metric, time) keeps the first value and is counted once in the aggregates, as
in SQLite. One :meth:`PgSampleStore.append` is ONE statement: the raw rows are inserted with
``ON CONFLICT DO NOTHING RETURNING`` and only the rows really inserted feed the per-minute and
per-hour upserts (``ON CONFLICT DO UPDATE``), so aggregates stay exact with many writers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from diagkit.store.contract import Retention
from diagkit.store.postgres.connection import PgConnection
from diagkit.store.shared.base import Connection
from diagkit.store.shared.samples import SampleSql, finite_samples

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


class PgSampleStore(SampleSql, PgConnection):
    """The team's monitoring history. Thread-safe; one transaction per :meth:`append`."""

    def __init__(self, url: str, *, retention: Retention | None = None,
                 password: str | None = None, lazy: bool = False) -> None:
        self.retention = retention if retention is not None else Retention()
        self._series: dict[tuple[str, str], int] = {}
        super().__init__(url, password=password, lazy=lazy)

    def _series_ids(self, conn: Connection, keys: set[tuple[str, str]]) -> None:
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
            self._maybe_prune()
        return int(stored)
