"""Bulk reads behind the metrics (:mod:`diagkit.metrics`) for
:class:`~diagkit.store.postgres.PgStore`.

The same queries and the same columns as :mod:`diagkit.store.sqlite_metrics` (the reference;
the contract, including "irregular" histories, is in :mod:`diagkit.store.metrics`). Times leave
SQL as ``extract(epoch FROM t)::float8``: PostgreSQL's exact decimal epoch rounded once to the
nearest double, which is the float ``datetime.timestamp()`` and the SQLite store give. They are
returned as numpy arrays with NaN for unset times, like the SQLite store's.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from diagkit.store.common import (
    IRREGULAR_CHANGE,
    aware,
    case_columns,
    history_columns,
    irregular_ids,
    metrics_period,
    ref_counts,
)
from diagkit.store.metrics import CaseColumns, HistoryColumns, RefCount

# The "relevant cases" rule of diagkit.store.metrics, over the cases table (alias c).
# ::text on the engineer: a NULL parameter needs a type for "IS NULL".
_RELEVANT = (
    "c.created < %(until)s AND (c.status NOT IN ('resolved', 'closed')"
    " OR c.resolved_at >= %(since)s OR c.first_response_at >= %(since)s"
    " OR c.first_response_at IS NULL)"
    " AND (%(engineer)s::text IS NULL OR c.engineer = %(engineer)s::text)"
)
_IRREGULAR = IRREGULAR_CHANGE


def _epoch(column: str) -> str:
    return f"extract(epoch FROM {column})::float8"


# The time of the change after s (by time, then id): where s's interval ends. An index probe
# per row (status_changes_case_time), as in SQLite.
_NEXT = (f"(SELECT {_epoch('n.time')} FROM status_changes n WHERE n.case_id = s.case_id"
         " AND (n.time, n.id) > (s.time, s.id) ORDER BY n.time, n.id LIMIT 1)")


def _floats(values: Sequence[float | None]) -> np.ndarray:
    """POSIX seconds as a float array, NaN for unset (None)."""
    return np.array(values, dtype=np.float64)


def _fast(conn: Any) -> Any:
    """A cursor for the bulk reads, on a transaction set up for them.

    JIT off: the history scan's correlated subquery pushes the plan's cost over
    ``jit_above_cost``, and compiling it took longer (~150 ms) than running it. Binary
    results: 100,000 rows of floats and ints load faster than parsed from text."""
    conn.execute("SET LOCAL jit = off")
    return conn.cursor(binary=True)


class PgMetricsMixin:
    """Implements :class:`diagkit.store.metrics.MetricsStore` for the team store."""

    if TYPE_CHECKING:  # provided by PgBase
        def _read(self, doing: str = "read") -> AbstractContextManager[Any]: ...

    @staticmethod
    def _period(since: datetime, until: datetime, engineer: str | None) -> dict[str, Any]:
        return metrics_period(since, until, engineer, aware)

    def metrics_cases(self, *, since: datetime, until: datetime,
                      engineer: str | None = None) -> CaseColumns:
        sql = (
            f"SELECT c.id, {_epoch('c.created')}, c.status IN ('resolved', 'closed'),"
            f" c.severity, c.engineer, {_epoch('c.first_response_at')},"
            f" {_epoch('c.resolved_at')}, c.csat FROM cases c WHERE {_RELEVANT} ORDER BY c.id"
        )
        params = self._period(since, until, engineer)
        with self._read("read the cases for the metrics") as conn:
            rows = _fast(conn).execute(sql, params).fetchall()
        return case_columns(rows, _floats)

    def metrics_history(self, *, since: datetime, until: datetime,
                        engineer: str | None = None) -> HistoryColumns:
        params = self._period(since, until, engineer)
        # One scan of the history finds both the pauses and the irregular cases.
        scan = (
            f"SELECT s.case_id, s.to_status, {_epoch('s.time')},"
            f" CASE WHEN s.to_status = 'waiting_on_customer' THEN {_NEXT} END, {_IRREGULAR}"
            f" FROM status_changes s WHERE (s.to_status = 'waiting_on_customer' OR {_IRREGULAR})"
            f" AND s.case_id IN (SELECT c.id FROM cases c WHERE {_RELEVANT})"
            " ORDER BY s.case_id, s.time, s.id"
        )
        done = (
            f"SELECT s.case_id, s.to_status, {_epoch('s.time')}, {_NEXT}"
            " FROM status_changes s WHERE s.case_id = ANY(%(ids)s)"
            " AND s.to_status IN ('resolved', 'closed') ORDER BY s.case_id, s.time, s.id"
        )
        with self._read("read the status history for the metrics") as conn:
            cur = _fast(conn)
            rows = cur.execute(scan, params).fetchall()
            irregular = irregular_ids(rows)
            done_rows = (cur.execute(done, {"ids": irregular}).fetchall()
                         if irregular else [])
        return history_columns(rows, irregular, done_rows, _floats)

    def metrics_ref_counts(self, *, since: datetime, until: datetime,
                           engineer: str | None = None) -> list[RefCount]:
        params = self._period(since, until, engineer)
        mine = ("(%(engineer)s::text IS NULL OR j.case_id IN"
                " (SELECT c.id FROM cases c WHERE c.engineer = %(engineer)s::text))")
        period = f"j.time >= %(since)s AND j.time < %(until)s AND {mine}"
        slug = "(j.data ->> 'slug')"
        title = "COALESCE(j.data ->> 'title', '')"
        # A CASE rather than a WHERE on the type: the set-returning function may run before
        # the filter, and jsonb_array_elements raises on a non-array.
        sigs = (
            "SELECT s.value #>> '{}', COUNT(DISTINCT j.case_id) FROM journal j,"
            " jsonb_array_elements(CASE WHEN jsonb_typeof(j.data -> 'signatures') = 'array'"
            " THEN j.data -> 'signatures' ELSE '[]'::jsonb END) s"
            f" WHERE j.kind = 'log_excerpt' AND {period} GROUP BY 1"
        )
        arts = (
            f"SELECT {slug}, COUNT(DISTINCT j.case_id) FROM journal j"
            f" WHERE j.kind IN ('kb_article', 'known_issue') AND {period}"
            f" AND {slug} IS NOT NULL GROUP BY 1"
        )
        # The latest entry with a title, per slug.
        titles = (
            f"SELECT DISTINCT ON ({slug}) {slug}, {title} FROM journal j"
            f" WHERE j.kind IN ('kb_article', 'known_issue') AND {period}"
            f" AND {slug} IS NOT NULL AND {title} <> '' ORDER BY {slug}, j.time DESC, j.id DESC"
        )
        with self._read("read the journal for the metrics") as conn:
            cur = _fast(conn)
            sig_rows = cur.execute(sigs, params).fetchall()
            art_rows = cur.execute(arts, params).fetchall()
            named = {r[0]: str(r[1]) for r in cur.execute(titles, params).fetchall()}
        # A JSON null among the signatures is no signature (jsonb gives NULL for it).
        return ref_counts([(k, n) for k, n in sig_rows if k is not None], art_rows, named)
