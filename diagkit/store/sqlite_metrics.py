"""Bulk reads behind the metrics (:mod:`diagkit.metrics`) for
:class:`~diagkit.store.sqlite.SqliteStore`.

A mixin so the metrics' SQL stays in the store layer; it uses the host class's ``_read``.
A few queries per report whatever the number of cases (the contract, including what
"irregular" histories are, is in :mod:`diagkit.store.metrics`). Times leave SQL as ISO
strings parsed in bulk by numpy: a datetime per value cost more than the queries.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import numpy as np

from diagkit.store.common import (
    IRREGULAR_CHANGE,
    case_columns,
    history_columns,
    irregular_ids,
    metrics_period,
    ref_counts,
)
from diagkit.store.metrics import CaseColumns, HistoryColumns, RefCount

# The "relevant cases" rule of diagkit.store.metrics, over the cases table (alias c).
_RELEVANT = (
    "c.created < :until AND (c.status NOT IN ('resolved', 'closed')"
    " OR c.resolved_at >= :since OR c.first_response_at >= :since"
    " OR c.first_response_at IS NULL)"
    " AND (:engineer IS NULL OR c.engineer = :engineer)"
)

_IRREGULAR = IRREGULAR_CHANGE
# The time of the change after s (by time, then id): where s's interval ends. An index probe
# per row, cheaper than a LEAD() window over the whole history.
_NEXT = ("(SELECT substr(n.time, 1, 26) FROM status_changes n WHERE n.case_id = s.case_id"
         " AND (n.time, n.id) > (s.time, s.id) ORDER BY n.time, n.id LIMIT 1)")


def _epochs(values: Sequence[str | None]) -> np.ndarray:
    """POSIX seconds (NaN for None) of stored times cut to ``YYYY-MM-DDTHH:MM:SS.ffffff``
    (``substr(t, 1, 26)``; stored times are always UTC, see sqlite._ts). numpy parses them in
    C as integer microseconds; one division then gives exactly ``datetime.timestamp()``."""
    us = np.array(values, dtype="datetime64[us]")
    out = us.astype(np.int64) / 1e6
    out[np.isnat(us)] = np.nan
    return out


def _rows(conn: sqlite3.Connection, sql: str, params: Any) -> list[tuple[Any, ...]]:
    """All rows as plain tuples: the store's connection makes ``sqlite3.Row`` objects, which
    cost a third more to build and are not needed for the bulk reads here."""
    cur = conn.cursor()
    cur.row_factory = None
    return cur.execute(sql, params).fetchall()


def _covers_every_case(conn: sqlite3.Connection, params: Mapping[str, Any]) -> bool:
    """True when the period starts before the first case and ends after the last: then every
    case is relevant (each resolution or first response is at or after its creation). Two
    index lookups."""
    first, last = conn.execute("SELECT MIN(created), MAX(created) FROM cases").fetchone()
    return first is None or (params["since"] <= first and last < params["until"])


class MetricsSqlMixin:
    """Implements :class:`diagkit.store.metrics.MetricsStore` for the SQLite store."""

    def _read(self, doing: str = "read") -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError  # provided by SqliteStore

    @staticmethod
    def _period(since: datetime, until: datetime, engineer: str | None) -> dict[str, Any]:
        from diagkit.store.sqlite import _ts

        return metrics_period(since, until, engineer, _ts)

    def metrics_cases(self, *, since: datetime, until: datetime,
                      engineer: str | None = None) -> CaseColumns:
        sql = (
            "SELECT c.id, substr(c.created, 1, 26), c.status IN ('resolved', 'closed'),"
            " c.severity, c.engineer, substr(c.first_response_at, 1, 26),"
            f" substr(c.resolved_at, 1, 26), c.csat FROM cases c WHERE {_RELEVANT} ORDER BY c.id"
        )
        with self._read("read the cases for the metrics") as conn:
            rows = _rows(conn, sql, self._period(since, until, engineer))
        return case_columns(rows, _epochs)

    def metrics_history(self, *, since: datetime, until: datetime,
                        engineer: str | None = None) -> HistoryColumns:
        params = self._period(since, until, engineer)
        done = (
            f"SELECT s.case_id, s.to_status, substr(s.time, 1, 26), {_NEXT}"
            " FROM status_changes s WHERE s.case_id IN (SELECT value FROM json_each(:ids))"
            " AND s.to_status IN ('resolved', 'closed') ORDER BY s.case_id, s.time, s.id"
        )
        with self._read("read the status history for the metrics") as conn:
            # When every case is relevant the IN (...) filter would only cost (a third of
            # this read over a whole history).
            relevant = ("" if engineer is None and _covers_every_case(conn, params) else
                        f" AND s.case_id IN (SELECT c.id FROM cases c WHERE {_RELEVANT})")
            # One scan of the history finds both the pauses and the irregular cases.
            scan = (
                f"SELECT s.case_id, s.to_status, substr(s.time, 1, 26),"
                f" CASE WHEN s.to_status = 'waiting_on_customer' THEN {_NEXT} END, {_IRREGULAR}"
                f" FROM status_changes s WHERE (s.to_status = 'waiting_on_customer' OR"
                f" {_IRREGULAR}){relevant} ORDER BY s.case_id, s.time, s.id"
            )
            rows = _rows(conn, scan, params)
            irregular = irregular_ids(rows)
            done_rows = _rows(conn, done, {"ids": json.dumps(irregular)}) if irregular else []
        return history_columns(rows, irregular, done_rows, _epochs)

    def metrics_ref_counts(self, *, since: datetime, until: datetime,
                           engineer: str | None = None) -> list[RefCount]:
        params = self._period(since, until, engineer)
        mine = ("(:engineer IS NULL OR j.case_id IN"
                " (SELECT c.id FROM cases c WHERE c.engineer = :engineer))")
        period = f"j.time >= :since AND j.time < :until AND {mine}"
        slug = "json_extract(j.data, '$.slug')"
        title = "COALESCE(json_extract(j.data, '$.title'), '')"
        sigs = (
            "SELECT CAST(s.value AS TEXT), COUNT(DISTINCT j.case_id)"
            " FROM journal j, json_each(j.data, '$.signatures') s"
            f" WHERE j.kind = 'log_excerpt' AND {period}"
            " AND json_type(j.data, '$.signatures') = 'array' GROUP BY 1"
        )
        arts = (
            f"SELECT CAST({slug} AS TEXT), COUNT(DISTINCT j.case_id) FROM journal j"
            f" WHERE j.kind IN ('kb_article', 'known_issue') AND {period}"
            f" AND {slug} IS NOT NULL GROUP BY 1"
        )
        # SQLite: with MAX(), the bare columns come from the row holding the maximum, i.e.
        # the latest entry with a title.
        titles = (
            f"SELECT CAST({slug} AS TEXT), {title}, MAX(j.time) FROM journal j"
            f" WHERE j.kind IN ('kb_article', 'known_issue') AND {period}"
            f" AND {slug} IS NOT NULL AND {title} <> '' GROUP BY 1"
        )
        with self._read("read the journal for the metrics") as conn:
            sig_rows = _rows(conn, sigs, params)
            art_rows = _rows(conn, arts, params)
            named = {r[0]: str(r[1]) for r in _rows(conn, titles, params)}
        return ref_counts(sig_rows, art_rows, named)
