"""Bulk reads behind the metrics (:class:`~diagkit.store.contract.MetricsStore`), written once
for every backend: a few queries per report whatever the number of cases (the contract,
including what "irregular" histories are, is in :mod:`diagkit.store.contract`). Times leave
SQL through the dialect's ``epoch`` and become float arrays in bulk (``epochs``): a datetime per
value cost more than the queries.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from diagkit.store.contract import CaseColumns, HistoryColumns, IntervalColumns, RefCount
from diagkit.store.shared.base import Connection, SqlStore

# The "relevant cases" rule of the contract, over the cases table (alias c). The CAST gives a
# NULL engineer a type (PostgreSQL asks for one before "IS NULL").
_RELEVANT = (
    "c.created < :until AND (c.status NOT IN ('resolved', 'closed')"
    " OR c.resolved_at >= :since OR c.first_response_at >= :since"
    " OR c.first_response_at IS NULL)"
    " AND (CAST(:engineer AS TEXT) IS NULL OR c.engineer = CAST(:engineer AS TEXT))"
)
# A status change that makes its case's history irregular, over status_changes (alias s);
# from_status is the status at write time.
_IRREGULAR = (
    "((s.from_status IN ('resolved', 'closed') AND s.to_status NOT IN ('resolved', 'closed'))"
    " OR (s.to_status = 'resolved' AND (s.from_status IS NULL"
    " OR s.from_status IN ('resolved', 'closed')))"
    " OR (s.to_status = 'closed' AND (s.from_status IS NULL OR s.from_status <> 'resolved')))"
)
_KB_KINDS = "j.kind IN ('kb_article', 'known_issue')"


def _transpose(rows: list[tuple[Any, ...]], width: int) -> list[tuple[Any, ...]]:
    """Rows as ``width`` columns."""
    # zip(*rows) transposes in C; an empty result still needs `width` empty columns.
    return list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]


class MetricsSql(SqlStore):
    """Implements :class:`~diagkit.store.contract.MetricsStore`."""

    @abstractmethod
    def _bulk(self, conn: Connection) -> Any:
        """A cursor for reading many rows as plain tuples, as fast as the driver can (on the
        current transaction)."""

    def _rows(self, cur: Any, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = cur.execute(self.dialect.sql(sql), params).fetchall()
        return rows

    def _period(self, since: datetime, until: datetime,
                engineer: str | None) -> dict[str, Any]:
        return {"since": self.dialect.time(since), "until": self.dialect.time(until),
                "engineer": engineer}

    def _next_change(self) -> str:
        """The time of the change after s (by time, then id): where s's interval ends. An
        index probe per row (status_changes_case_time), cheaper than a LEAD() window over
        the whole history."""
        return (f"(SELECT {self.dialect.epoch('n.time')} FROM status_changes n"
                " WHERE n.case_id = s.case_id AND (n.time, n.id) > (s.time, s.id)"
                " ORDER BY n.time, n.id LIMIT 1)")

    def _intervals(self, rows: list[tuple[Any, ...]]) -> IntervalColumns:
        """:class:`IntervalColumns` from rows of (case_id, status, start, end)."""
        case_id, status, start, end = _transpose(rows, 4)
        return IntervalColumns(case_id, status, self.dialect.epochs(start),
                               self.dialect.epochs(end))

    def _covers_every_case(self, conn: Connection, params: Mapping[str, Any]) -> bool:
        """True when the period starts before the first case and ends after the last: then
        every case is relevant (each resolution or first response is at or after its
        creation). Two index lookups."""
        first, last = self._run(conn, "SELECT MIN(created), MAX(created) FROM cases").fetchone()
        return first is None or bool(params["since"] <= first and last < params["until"])

    def metrics_cases(self, *, since: datetime, until: datetime,
                      engineer: str | None = None) -> CaseColumns:
        epoch = self.dialect.epoch
        sql = (
            f"SELECT c.id, {epoch('c.created')}, c.status IN ('resolved', 'closed'),"
            f" c.severity, c.engineer, {epoch('c.first_response_at')},"
            f" {epoch('c.resolved_at')}, c.csat FROM cases c WHERE {_RELEVANT} ORDER BY c.id"
        )
        with self._read("read the cases for the metrics") as conn:
            rows = self._rows(self._bulk(conn), sql, self._period(since, until, engineer))
        cid, created, done, severity, engineer_, fr, res, csat = _transpose(rows, 8)
        epochs = self.dialect.epochs
        return CaseColumns(cid, epochs(created), done, severity, engineer_, epochs(fr),
                           epochs(res), csat)

    def metrics_history(self, *, since: datetime, until: datetime,
                        engineer: str | None = None) -> HistoryColumns:
        d = self.dialect
        params = self._period(since, until, engineer)
        nxt = self._next_change()
        done = (
            f"SELECT s.case_id, s.to_status, {d.epoch('s.time')}, {nxt}"
            f" FROM status_changes s WHERE {d.in_list('s.case_id', 'ids', 'bigint')}"
            " AND s.to_status IN ('resolved', 'closed') ORDER BY s.case_id, s.time, s.id"
        )
        with self._read("read the status history for the metrics") as conn:
            # When every case is relevant the IN (...) filter would only cost (a third of
            # this read over a whole history).
            relevant = ("" if engineer is None and self._covers_every_case(conn, params) else
                        f" AND s.case_id IN (SELECT c.id FROM cases c WHERE {_RELEVANT})")
            # One scan of the history finds both the pauses and the irregular cases.
            scan = (
                f"SELECT s.case_id, s.to_status, {d.epoch('s.time')},"
                f" CASE WHEN s.to_status = 'waiting_on_customer' THEN {nxt} END, {_IRREGULAR}"
                f" FROM status_changes s WHERE (s.to_status = 'waiting_on_customer' OR"
                f" {_IRREGULAR}){relevant} ORDER BY s.case_id, s.time, s.id"
            )
            cur = self._bulk(conn)
            rows = self._rows(cur, scan, params)
            irregular = sorted({r[0] for r in rows if r[4]})
            done_rows = self._rows(cur, done, {"ids": d.array(irregular)}) if irregular else []
        waits = [r[:4] for r in rows if r[1] == "waiting_on_customer"]
        return HistoryColumns(self._intervals(waits), irregular, self._intervals(done_rows))

    def metrics_ref_counts(self, *, since: datetime, until: datetime,
                           engineer: str | None = None) -> list[RefCount]:
        d = self.dialect
        params = self._period(since, until, engineer)
        mine = ("(CAST(:engineer AS TEXT) IS NULL OR j.case_id IN"
                " (SELECT c.id FROM cases c WHERE c.engineer = CAST(:engineer AS TEXT)))")
        period = f"j.time >= :since AND j.time < :until AND {mine}"
        slug = d.json_text("j.data", "slug")
        title = f"COALESCE({d.json_text('j.data', 'title')}, '')"
        sigs = (
            f"SELECT {d.element_text('s')}, COUNT(DISTINCT j.case_id)"
            f" FROM journal j, {d.json_elements('j.data', 'signatures')} s"
            f" WHERE j.kind = 'log_excerpt' AND {period} GROUP BY 1"
        )
        arts = (
            f"SELECT {slug}, COUNT(DISTINCT j.case_id) FROM journal j"
            f" WHERE {_KB_KINDS} AND {period} AND {slug} IS NOT NULL GROUP BY 1"
        )
        # The latest entry with a title, per slug.
        titles = (
            "SELECT slug, title FROM (SELECT"
            f" {slug} AS slug, {title} AS title, ROW_NUMBER() OVER (PARTITION BY {slug}"
            " ORDER BY j.time DESC, j.id DESC) AS n FROM journal j"
            f" WHERE {_KB_KINDS} AND {period} AND {slug} IS NOT NULL AND {title} <> '') t"
            " WHERE n = 1"
        )
        with self._read("read the journal for the metrics") as conn:
            cur = self._bulk(conn)
            sig_rows = self._rows(cur, sigs, params)
            art_rows = self._rows(cur, arts, params)
            named = {r[0]: str(r[1]) for r in self._rows(cur, titles, params)}
        # A JSON null among the signatures is no signature.
        return _ref_counts([(k, n) for k, n in sig_rows if k is not None], art_rows, named)


def _ref_counts(sig_rows: Iterable[tuple[Any, int]], art_rows: Sequence[tuple[Any, int]],
                titles: Mapping[Any, str]) -> list[RefCount]:
    """Signatures, then articles (with their latest title), as :class:`RefCount` s."""
    return ([RefCount("signature", str(k), n) for k, n in sig_rows]
            + [RefCount("article", str(k), n, titles.get(k, "")) for k, n in art_rows])
