"""The embedded backend: SQLite files in the data dir, no set-up.

* :mod:`~diagkit.store.sqlite.store`: :class:`SqliteStore`, cases/journal/KB/metrics in
  ``diagkit.db`` (schema: :mod:`~diagkit.store.sqlite.schema`);
* :mod:`~diagkit.store.sqlite.samples`: :class:`SqliteSampleStore`, the monitoring history in
  ``history.db``;
* :mod:`~diagkit.store.sqlite.connection`: the file, its transactions and migrations;
  :mod:`~diagkit.store.sqlite.dialect`: how SQLite spells the shared SQL;
  :mod:`~diagkit.store.sqlite.search`: knowledge-base search on FTS5.
"""

from __future__ import annotations

from diagkit.store.sqlite.samples import SqliteSampleStore
from diagkit.store.sqlite.store import DB_NAME, SqliteStore

__all__ = ["DB_NAME", "SqliteSampleStore", "SqliteStore"]
