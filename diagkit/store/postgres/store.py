"""The team store on PostgreSQL: the same :class:`~diagkit.store.contract.Store` contract as
SQLite, plus :class:`~diagkit.store.contract.ImportTarget` (``diagkit store migrate``).

Chosen with one setting (``DIAGKIT_STORE=postgresql://user@host:5432/db`` or ``"store"`` in
settings.json; see :mod:`diagkit.store.select`). The URL never carries the password: it comes
from the OS keyring (``diagkit store set-password URL``; :mod:`diagkit.store.postgres.url`).
"""

from __future__ import annotations

from typing import Any

from diagkit.store.postgres.connection import PgConnection
from diagkit.store.postgres.search import TsSearch
from diagkit.store.shared.base import Connection
from diagkit.store.shared.imports import ImportSql
from diagkit.store.shared.metrics import MetricsSql


class PgStore(ImportSql, TsSearch, MetricsSql, PgConnection):
    """The team store: cases, journal, KB and metrics are the shared SQL, search is
    PostgreSQL's, the connection :class:`~diagkit.store.postgres.connection.PgConnection`.

    Behaves as :class:`~diagkit.store.sqlite.SqliteStore` call for call
    (tests/store/test_parity.py checks it on random operation sequences). The one difference is
    in journal ``data``: jsonb keeps JSON numbers as decimals and keys sorted, so a float with
    an integral value beyond 2**53 (``1e20``) reads back as an int and ``-0.0`` as ``0.0``
    (equal values), the mapping's key order is not the caller's, and a NUL character in a
    journal entry's text or data (PostgreSQL text cannot hold it) is stored as U+FFFD.
    """

    def _bulk(self, conn: Any) -> Any:  # a psycopg connection (cursor(binary=...))
        # JIT off: the history scan's correlated subquery pushes the plan's cost over
        # jit_above_cost, and compiling it took longer (~150 ms) than running it. Binary
        # results: 100,000 rows of floats and ints load faster than parsed from text.
        conn.execute("SET LOCAL jit = off")
        return conn.cursor(binary=True)

    def _lock_source(self, conn: Connection, source_id: str) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (source_id,))
