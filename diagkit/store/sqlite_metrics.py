"""Bulk reads behind the metrics (:mod:`diagkit.metrics`) for
:class:`~diagkit.store.sqlite.SqliteStore`.

A mixin so the metrics' SQL stays in the store layer; it uses the host class's ``_read``.
Three queries per report whatever the number of cases (the contract is in
:mod:`diagkit.store.metrics`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from diagkit.store.metrics import JournalRef, MetricsCase, StatusInterval

# The "relevant cases" rule of diagkit.store.metrics, over the cases table (alias c).
_RELEVANT = (
    "c.created < :until AND (c.status NOT IN ('resolved', 'closed')"
    " OR c.resolved_at >= :since OR c.first_response_at >= :since"
    " OR c.first_response_at IS NULL)"
    " AND (:engineer IS NULL OR c.engineer = :engineer)"
)


class MetricsSqlMixin:
    """Implements :class:`diagkit.store.metrics.MetricsStore` for the SQLite store."""

    def _read(self, doing: str = "read") -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError  # provided by SqliteStore

    @staticmethod
    def _period(since: datetime, until: datetime, engineer: str | None) -> dict[str, Any]:
        from diagkit.store.sqlite import _ts

        return {"since": _ts(since), "until": _ts(until), "engineer": engineer}

    def metrics_cases(self, *, since: datetime, until: datetime,
                      engineer: str | None = None) -> list[MetricsCase]:
        sql = ("SELECT c.id, c.created, c.status, c.severity, c.engineer, c.first_response_at,"
               f" c.resolved_at, c.csat FROM cases c WHERE {_RELEVANT}")
        fromiso = datetime.fromisoformat
        with self._read("read the cases for the metrics") as conn:
            rows = conn.execute(sql, self._period(since, until, engineer)).fetchall()
        # Positional construction and inlined parsing: this loop runs once per case.
        return [
            MetricsCase(r[0], fromiso(r[1]), r[2], r[3], r[4],
                        fromiso(r[5]) if r[5] is not None else None,
                        fromiso(r[6]) if r[6] is not None else None, r[7])
            for r in rows
        ]

    def metrics_intervals(self, *, since: datetime, until: datetime,
                          engineer: str | None = None,
                          statuses: Collection[str] = ()) -> list[StatusInterval]:
        wanted = sorted({str(s) for s in statuses})
        if not wanted:
            return []
        params = self._period(since, until, engineer)
        marks = []
        for i, status in enumerate(wanted):
            params[f"s{i}"] = status
            marks.append(f":s{i}")
        # LEAD gives each change the time of the next one: the interval's end.
        sql = (
            "WITH h AS (SELECT s.case_id, s.to_status, s.time, LEAD(s.time) OVER"
            " (PARTITION BY s.case_id ORDER BY s.time, s.id) AS until_"
            " FROM status_changes s WHERE s.case_id IN"
            f" (SELECT c.id FROM cases c WHERE {_RELEVANT}))"
            f" SELECT case_id, to_status, time, until_ FROM h"
            f" WHERE to_status IN ({', '.join(marks)}) ORDER BY case_id, time"
        )
        fromiso = datetime.fromisoformat
        with self._read("read the status history for the metrics") as conn:
            rows = conn.execute(sql, params).fetchall()
        return [StatusInterval(r[0], r[1], fromiso(r[2]),
                               fromiso(r[3]) if r[3] is not None else None) for r in rows]

    def metrics_journal_refs(self, *, since: datetime, until: datetime,
                             engineer: str | None = None) -> list[JournalRef]:
        params = self._period(since, until, engineer)
        mine = ("(:engineer IS NULL OR j.case_id IN"
                " (SELECT c.id FROM cases c WHERE c.engineer = :engineer))")
        sql = (
            "SELECT j.case_id, j.time, j.kind, CAST(s.value AS TEXT), ''"
            " FROM journal j, json_each(j.data, '$.signatures') s"
            " WHERE j.kind = 'log_excerpt' AND j.time >= :since AND j.time < :until"
            f" AND json_type(j.data, '$.signatures') = 'array' AND {mine}"
            " UNION ALL"
            " SELECT j.case_id, j.time, j.kind, json_extract(j.data, '$.slug'),"
            " COALESCE(json_extract(j.data, '$.title'), '')"
            " FROM journal j WHERE j.kind IN ('kb_article', 'known_issue')"
            " AND j.time >= :since AND j.time < :until"
            f" AND json_extract(j.data, '$.slug') IS NOT NULL AND {mine}"
            " ORDER BY 2"
        )
        with self._read("read the journal for the metrics") as conn:
            rows = conn.execute(sql, params).fetchall()
        return [JournalRef(r[0], datetime.fromisoformat(r[1]), r[2], str(r[3]), str(r[4]))
                for r in rows]

