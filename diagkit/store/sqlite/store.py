"""The local case store: one SQLite file in the data dir (``config.data_dir()/diagkit.db``).

Cases, journal, KB and metrics are the shared SQL (:mod:`diagkit.store.shared`); the file, its
transactions and migrations are :class:`~diagkit.store.sqlite.connection.SqliteFile`; search is
FTS5 (:mod:`diagkit.store.sqlite.search`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from diagkit import config
from diagkit.store.shared.base import Connection
from diagkit.store.shared.cases import CaseSql
from diagkit.store.shared.metrics import MetricsSql
from diagkit.store.sqlite.connection import BUSY_TIMEOUT_S, SqliteFile
from diagkit.store.sqlite.schema import MIGRATIONS
from diagkit.store.sqlite.search import Fts5Search

DB_NAME = "diagkit.db"


class SqliteStore(CaseSql, Fts5Search, MetricsSql, SqliteFile):
    """:class:`diagkit.store.contract.Store` on a local SQLite file; migrated when opened.

    Safe to share between threads (one connection, guarded); several processes may open the
    same file at once.
    """

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        busy_timeout: float = BUSY_TIMEOUT_S,
        migrations: Sequence[str] | None = None,
    ) -> None:
        super().__init__(Path(path) if path is not None else config.data_dir() / DB_NAME,
                         busy_timeout=busy_timeout,
                         migrations=MIGRATIONS if migrations is None else migrations)

    def _bulk(self, conn: Connection) -> Any:
        # Plain tuples: sqlite3.Row objects cost a third more to build and are not needed for
        # the bulk reads.
        cur = conn.cursor()
        cur.row_factory = None
        return cur


__all__ = ["BUSY_TIMEOUT_S", "DB_NAME", "SqliteStore"]
