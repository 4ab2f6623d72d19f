"""Monitoring history on SQLite: its own file (``data_dir()/history.db``), not the case
database: samples arrive hundreds per second and are pruned all the time, a write pattern that
should never make a case save wait, and a damaged or deleted history must not touch cases.

Reads and pruning are the shared SQL (:mod:`diagkit.store.shared.samples`); appending is here:
one ``INSERT OR IGNORE`` per raw sample, and only a sample really inserted is added to its
minute and hour aggregates (upserts), so a repeated sample is never counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import ClassVar

from diagkit import config
from diagkit.store.contract import Retention
from diagkit.store.shared.base import Connection
from diagkit.store.shared.samples import BUCKET, SampleSql, finite_samples
from diagkit.store.sqlite.connection import SqliteFile

DB_NAME = "history.db"

# Version 1: the history as it always was (IF NOT EXISTS: files made before the history had a
# schema_version table take it as version 1 unchanged).
_V1 = """
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

MIGRATIONS: list[str] = [_V1]


class SqliteSampleStore(SampleSql, SqliteFile):
    """The monitoring history file. Thread-safe; one write transaction per :meth:`append`."""

    # History can afford to lose the last second on a power cut; not a case save.
    _synchronous: ClassVar[str] = "NORMAL"
    _wal_required: ClassVar[bool] = False
    _row_factory: ClassVar[type | None] = None
    _open_advice: ClassVar[str] = ("Check the folder is writable; if the file is damaged, move "
                                   "it away (only history is lost).")

    def __init__(self, path: Path | str | None = None, *,
                 retention: Retention | None = None) -> None:
        self.retention = retention if retention is not None else Retention()
        self._series: dict[tuple[str, str], int] = {}
        super().__init__(Path(path) if path is not None else config.data_dir() / DB_NAME,
                         migrations=MIGRATIONS)

    def _series_id(self, conn: Connection, host: str, metric: str) -> int:
        key = (host, metric)
        sid = self._series.get(key)
        if sid is None:
            conn.execute("INSERT OR IGNORE INTO series(host, metric) VALUES (?, ?)", key)
            sid = conn.execute("SELECT id FROM series WHERE host = ? AND metric = ?",
                               key).fetchone()[0]
            self._series[key] = sid
        return sid

    def append(self, samples: Iterable[tuple[str, float, Mapping[str, float | None]]]) -> int:
        stored = 0
        try:
            with self._write("save monitoring samples") as conn:
                raw = [(self._series_id(conn, host, metric), t, v)
                       for host, metric, t, v in finite_samples(samples)]
                for sid, t, v in raw:
                    cur = conn.execute(
                        "INSERT OR IGNORE INTO samples_raw(series, t, v) VALUES (?, ?, ?)",
                        (sid, t, v))
                    if cur.rowcount != 1:
                        continue
                    stored += 1
                    for res, width in BUCKET.items():
                        conn.execute(
                            f"INSERT INTO samples_{res}(series, t, n, sum, min, max)"
                            " VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT(series, t) DO UPDATE SET"
                            " n = n + 1, sum = sum + excluded.sum,"
                            " min = min(min, excluded.min), max = max(max, excluded.max)",
                            (sid, int(t // width) * width, v, v, v))
        except BaseException:
            # Series ids created in the rolled-back transaction must not stay cached.
            self._series.clear()
            raise
        self._maybe_prune()
        return stored


__all__ = ["DB_NAME", "MIGRATIONS", "SqliteSampleStore"]
