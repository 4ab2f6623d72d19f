"""Bulk reads behind the metrics (:mod:`diagkit.metrics`) for
:class:`~diagkit.store.sqlite.SqliteStore`.

A mixin so the metrics' SQL stays in the store layer; it uses the host class's ``_read``.
A few queries per report whatever the number of cases (the contract, including what
"irregular" histories are, is in :mod:`diagkit.store.metrics`). Times leave SQL as POSIX
seconds computed in C: parsing ISO strings in Python cost more than the queries.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from diagkit.store.metrics import CaseColumns, IntervalColumns, RefCount

# The "relevant cases" rule of diagkit.store.metrics, over the cases table (alias c).
_RELEVANT = (
    "c.created < :until AND (c.status NOT IN ('resolved', 'closed')"
    " OR c.resolved_at >= :since OR c.first_response_at >= :since"
    " OR c.first_response_at IS NULL)"
    " AND (:engineer IS NULL OR c.engineer = :engineer)"
)

# Cases whose history is not "open statuses, one -> resolved, maybe one resolved -> closed"
# (diagkit.store.metrics, "Regular histories"). from_status is the status at write time.
_IRREGULAR = (
    "SELECT case_id FROM status_changes WHERE"
    " (from_status IN ('resolved', 'closed') AND to_status NOT IN ('resolved', 'closed'))"
    " OR (to_status = 'resolved' AND (from_status IS NULL"
    " OR from_status IN ('resolved', 'closed')))"
    " OR (to_status = 'closed' AND (from_status IS NULL OR from_status <> 'resolved'))"
)


def _epoch(col: str) -> str:
    """SQL for the stored ISO time ``col`` (``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``, see
    sqlite._ts) as POSIX seconds: whole seconds and microseconds as integers, then one
    division, so the float is exactly ``datetime.fromisoformat(col).timestamp()``. The
    fraction is cut off before strftime sees it: SQLite rounds times to milliseconds, so
    ``...:59.9996`` would count as the next second."""
    frac = f"substr({col}, 20, 1) = '.'"
    return (f"((CAST(strftime('%s', substr({col}, 1, 19) || CASE WHEN {frac}"
            f" THEN substr({col}, 27) ELSE substr({col}, 20) END) AS INTEGER) * 1000000"
            f" + CASE WHEN {frac} THEN CAST(substr({col}, 21, 6) AS INTEGER) ELSE 0 END)"
            " / 1e6)")


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[tuple[Any, ...]]:
    # zip(*rows) transposes in C; an empty result still needs `width` empty columns.
    return list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]


class MetricsSqlMixin:
    """Implements :class:`diagkit.store.metrics.MetricsStore` for the SQLite store."""

    def _read(self, doing: str = "read") -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError  # provided by SqliteStore

    @staticmethod
    def _period(since: datetime, until: datetime, engineer: str | None) -> dict[str, Any]:
        from diagkit.store.sqlite import _ts

        return {"since": _ts(since), "until": _ts(until), "engineer": engineer}

    def metrics_cases(self, *, since: datetime, until: datetime,
                      engineer: str | None = None) -> CaseColumns:
        sql = (
            f"SELECT c.id, {_epoch('c.created')}, c.status, c.severity, c.engineer,"
            f" {_epoch('c.first_response_at')}, {_epoch('c.resolved_at')}, c.csat,"
            f" c.id IN ({_IRREGULAR})"
            f" FROM cases c WHERE {_RELEVANT} ORDER BY c.id"
        )
        with self._read("read the cases for the metrics") as conn:
            rows = conn.execute(sql, self._period(since, until, engineer)).fetchall()
        return CaseColumns(*_columns(rows, 9))

    def metrics_intervals(self, *, since: datetime, until: datetime,
                          engineer: str | None = None, statuses: Collection[str] = (),
                          irregular_only: bool = False) -> IntervalColumns:
        wanted = sorted({str(s) for s in statuses})
        if not wanted:
            return IntervalColumns((), (), (), ())
        params = self._period(since, until, engineer)
        marks = []
        for i, status in enumerate(wanted):
            params[f"s{i}"] = status
            marks.append(f":s{i}")
        only = f" AND s.case_id IN ({_IRREGULAR})" if irregular_only else ""
        # The interval ends at the next change (by time, then id): an index probe per wanted
        # row, cheaper than a window over the whole history.
        sql = (
            f"SELECT s.case_id, s.to_status, {_epoch('s.time')},"
            f" (SELECT {_epoch('n.time')} FROM status_changes n WHERE n.case_id = s.case_id"
            "   AND (n.time, n.id) > (s.time, s.id) ORDER BY n.time, n.id LIMIT 1)"
            f" FROM status_changes s WHERE s.to_status IN ({', '.join(marks)})"
            f" AND s.case_id IN (SELECT c.id FROM cases c WHERE {_RELEVANT}){only}"
            " ORDER BY s.case_id, s.time, s.id"
        )
        with self._read("read the status history for the metrics") as conn:
            rows = conn.execute(sql, params).fetchall()
        return IntervalColumns(*_columns(rows, 4))

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
            sig_rows = conn.execute(sigs, params).fetchall()
            art_rows = conn.execute(arts, params).fetchall()
            named = {r[0]: str(r[1]) for r in conn.execute(titles, params)}
        return ([RefCount("signature", str(k), n) for k, n in sig_rows]
                + [RefCount("article", str(k), n, named.get(k, "")) for k, n in art_rows])
