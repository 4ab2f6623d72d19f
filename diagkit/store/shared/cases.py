"""Cases, their status history and journal (:class:`~diagkit.store.contract.CaseStore`), and
whole cases for copying (:class:`~diagkit.store.contract.BulkReader`): the SQL written once
for every backend, over its transactions and :class:`~diagkit.store.dialect.Dialect`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Unpack

from diagkit.store.contract import (
    Case,
    CaseDraft,
    CaseFilter,
    CaseHistory,
    CaseNotFound,
    JournalEntry,
    StatusChange,
)
from diagkit.store.shared.base import Connection, SqlStore
from diagkit.store.shared.rules import (
    as_list,
    aware,
    case_updates,
    check_title,
    check_version,
    now,
    status_entry,
    status_stamps,
)

_CASE_COLUMNS = (
    "c.id, c.title, c.customer, c.contact, c.product, c.version, c.tags, c.ticket_ref,"
    " c.impact, c.urgency, c.severity, c.status, c.created, c.updated, c.first_response_at,"
    " c.resolved_at, c.closed_at, c.csat, c.engineer, c.version_counter"
)
_JOURNAL_COLUMNS = "id, case_id, time, engineer, kind, text, data"
_STATUS_COLUMNS = "id, case_id, time, from_status, to_status, engineer"
ADD_HOST = ("INSERT INTO case_hosts (case_id, host) VALUES (:case_id, :host)"
             " ON CONFLICT DO NOTHING")
ADD_STATUS = ("INSERT INTO status_changes (case_id, time, from_status, to_status, engineer)"
               " VALUES (:case_id, :time, :from_status, :to_status, :engineer)")
ADD_ENTRY = ("INSERT INTO journal (case_id, time, engineer, kind, text, data)"
              " VALUES (:case_id, :time, :engineer, :kind, :text, :data)")
#: The table each kind of :data:`~diagkit.store.contract.ROW_KINDS` counts.
ROW_TABLES: dict[str, str] = {"case": "cases", "journal": "journal", "status": "status_changes",
                              "kb": "kb_articles"}


class CaseSql(SqlStore):
    """Implements :class:`~diagkit.store.contract.CaseStore` and
    :class:`~diagkit.store.contract.BulkReader`."""

    # -- rows -------------------------------------------------------------------------------

    def _case_select(self) -> str:
        # The hosts come with the case row in the same query (one round trip per call, not
        # per case).
        hosts = self.dialect.collect("h.host", "case_hosts h WHERE h.case_id = c.id")
        return f"SELECT {_CASE_COLUMNS}, {hosts} FROM cases c"

    def _to_case(self, r: Sequence[Any]) -> Case:
        d = self.dialect
        # Sorted here, not in SQL: code point order is what SQLite's and PostgreSQL's "C"
        # collation give, whatever the database's locale.
        hosts = tuple(sorted(d.collected(r[20])))
        return Case(
            id=r[0], title=r[1], customer=r[2], contact=r[3], product=r[4], version=r[5],
            tags=tuple(d.json_value(r[6])), ticket_ref=r[7], impact=r[8], urgency=r[9],
            severity=r[10], status=r[11], created=d.time_value(r[12]),
            updated=d.time_value(r[13]), first_response_at=d.time_value(r[14]),
            resolved_at=d.time_value(r[15]), closed_at=d.time_value(r[16]), csat=r[17],
            engineer=r[18], version_counter=r[19], hosts=hosts,
        )

    def _to_entry(self, r: Sequence[Any]) -> JournalEntry:
        time = self.dialect.time_value(r[2])
        assert time is not None  # NOT NULL column
        return JournalEntry(id=r[0], case_id=r[1], time=time, engineer=r[3], kind=r[4],
                            text=r[5], data=self.dialect.json_value(r[6]))

    def _to_change(self, r: Sequence[Any]) -> StatusChange:
        time = self.dialect.time_value(r[2])
        assert time is not None  # NOT NULL column
        return StatusChange(id=r[0], case_id=r[1], time=time, from_status=r[3],
                            to_status=r[4], engineer=r[5])

    def _get(self, conn: Connection, case_id: int) -> Case:
        row = self._run(conn, f"{self._case_select()} WHERE c.id = :id",
                        {"id": case_id}).fetchone()
        if row is None:
            raise CaseNotFound(case_id)
        return self._to_case(row)

    def _add_hosts(self, conn: Connection, case_id: int, hosts: Iterable[str]) -> None:
        conn.cursor().executemany(self.dialect.sql(ADD_HOST),
                                  [{"case_id": case_id, "host": h} for h in hosts])

    def _check_version(self, conn: Connection, case_id: int, expected: int) -> int:
        row = self._run(conn, "SELECT version_counter FROM cases WHERE id = :id"
                        + self.dialect.for_update, {"id": case_id}).fetchone()
        return check_version(row, case_id, expected)

    # -- CaseStore --------------------------------------------------------------------------

    def create_case(self, draft: CaseDraft) -> Case:
        d = self.dialect
        check_title(draft.title)
        when = d.time(draft.created or now())
        with self._write("create the case") as conn:
            case_id = self._insert(
                conn,
                "INSERT INTO cases (title, customer, contact, product, version, tags,"
                " ticket_ref, impact, urgency, severity, status, created, updated, engineer)"
                " VALUES (:title, :customer, :contact, :product, :version, :tags, :ticket_ref,"
                " :impact, :urgency, :severity, :status, :when, :when, :engineer)",
                {"title": draft.title, "customer": draft.customer, "contact": draft.contact,
                 "product": draft.product, "version": draft.version,
                 "tags": d.json(json.dumps(list(draft.tags))), "ticket_ref": draft.ticket_ref,
                 "impact": draft.impact, "urgency": draft.urgency, "severity": draft.severity,
                 "status": draft.status, "when": when, "engineer": draft.engineer},
            )
            self._add_hosts(conn, case_id, draft.hosts)
            # The status history starts at creation so SLA clocks have a complete record.
            self._run(conn, ADD_STATUS, {"case_id": case_id, "time": when, "from_status": None,
                                          "to_status": draft.status,
                                          "engineer": draft.engineer})
            self._run(conn, ADD_ENTRY, {"case_id": case_id, "time": when,
                                         "engineer": draft.engineer, "kind": "created",
                                         "text": draft.title, "data": d.json("{}")})
            return self._get(conn, case_id)

    def get_case(self, case_id: int) -> Case:
        with self._read("read the case") as conn:
            return self._get(conn, case_id)

    def list_cases(self, **filters: Unpack[CaseFilter]) -> list[Case]:
        unknown = filters.keys() - CaseFilter.__optional_keys__
        if unknown:
            raise TypeError(f"list_cases() got unexpected keyword arguments {sorted(unknown)}")
        d = self.dialect
        where: list[str] = []
        args: dict[str, Any] = {}
        for column, values in (("status", filters.get("status")),
                               ("severity", filters.get("severity"))):
            if values is not None:
                where.append(d.in_list(f"c.{column}", column, "text"))
                args[column] = d.array(as_list(values))
        for column, value in (("customer", filters.get("customer")),
                              ("engineer", filters.get("engineer"))):
            if value is not None:
                where.append(f"c.{column} = :{column}")
                args[column] = value
        if (tag := filters.get("tag")) is not None:
            where.append(d.json_has("c.tags", "tag"))
            args["tag"] = tag
        if (host := filters.get("host")) is not None:
            where.append("EXISTS (SELECT 1 FROM case_hosts ch WHERE ch.case_id = c.id"
                         " AND ch.host = :host)")
            args["host"] = host
        if (since := filters.get("updated_since")) is not None:
            where.append("c.updated >= :updated_since")
            args["updated_since"] = d.time(since)
        sql = self._case_select()
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY c.updated DESC, c.id DESC"
        if (limit := filters.get("limit")) is not None:
            sql += " LIMIT :limit"
            args["limit"] = int(limit)
        with self._read("list cases") as conn:
            return [self._to_case(row) for row in self._run(conn, sql, args).fetchall()]

    def update_case(self, case_id: int, expected_version: int, **fields: Any) -> Case:
        d = self.dialect
        values, hosts = case_updates(fields, tags=lambda v: d.json(json.dumps(v)), time=d.time)
        host_list = list(hosts) if hosts is not None else None
        with self._write("save the case") as conn:
            self._check_version(conn, case_id, expected_version)
            # Column names come from UPDATABLE_FIELDS only (checked above), never from input.
            sets = [f'"{name}" = :{name}' for name in values]
            sets += ["updated = :_updated", "version_counter = version_counter + 1"]
            self._run(conn, f"UPDATE cases SET {', '.join(sets)}"
                            " WHERE id = :_id AND version_counter = :_expected",
                      {**values, "_updated": d.time(now()), "_id": case_id,
                       "_expected": expected_version})
            if host_list is not None:
                self._run(conn, "DELETE FROM case_hosts WHERE case_id = :id", {"id": case_id})
                self._add_hosts(conn, case_id, host_list)
            return self._get(conn, case_id)

    def record_status(self, case_id: int, to_status: str, *, expected_version: int,
                      engineer: str = "", at: datetime | None = None, note: str = "") -> Case:
        d = self.dialect
        when = d.time(at or now())
        with self._write("change the case status") as conn:
            self._check_version(conn, case_id, expected_version)
            from_status = self._run(conn, "SELECT status FROM cases WHERE id = :id",
                                    {"id": case_id}).fetchone()[0]
            text, data = status_entry(from_status, to_status, note)
            self._run(conn, f"UPDATE cases SET status = :to, {status_stamps(to_status, ':when')},"
                            " updated = :now, version_counter = version_counter + 1"
                            " WHERE id = :id",
                      {"to": to_status, "when": when, "now": d.time(now()), "id": case_id})
            self._run(conn, ADD_STATUS, {"case_id": case_id, "time": when,
                                          "from_status": from_status, "to_status": to_status,
                                          "engineer": engineer})
            self._run(conn, ADD_ENTRY, {"case_id": case_id, "time": when, "engineer": engineer,
                                         "kind": "status", "text": text,
                                         "data": d.json(json.dumps(data))})
            return self._get(conn, case_id)

    def status_changes(self, case_id: int) -> list[StatusChange]:
        with self._read("read the status history") as conn:
            return self._changes(conn, case_id)

    def _changes(self, conn: Connection, case_id: int) -> list[StatusChange]:
        rows = self._run(conn, f"SELECT {_STATUS_COLUMNS} FROM status_changes"
                               " WHERE case_id = :id ORDER BY time, id", {"id": case_id})
        return [self._to_change(r) for r in rows.fetchall()]

    def append_journal(self, case_id: int, kind: str, text: str = "", *, engineer: str = "",
                       data: Mapping[str, Any] | None = None, at: datetime | None = None,
                       first_response: bool = False) -> JournalEntry:
        d = self.dialect
        when = aware(at or now())
        # Through JSON text: fails before the transaction if not JSON-able, and the caller
        # gets back what a later read returns (tuples as lists...). What the database cannot
        # hold (NUL in PostgreSQL text) is replaced rather than refusing the whole entry.
        text = d.storable(text)
        payload = json.dumps(d.storable(dict(data or {})))
        with self._write("add the journal entry") as conn:
            if self._run(conn, "SELECT 1 FROM cases WHERE id = :id",
                         {"id": case_id}).fetchone() is None:
                raise CaseNotFound(case_id)
            entry_id = self._insert(conn, ADD_ENTRY, {
                "case_id": case_id, "time": d.time(when), "engineer": engineer, "kind": kind,
                "text": text, "data": d.json(payload)})
            if first_response:
                # Only the first customer update stops the clock; later ones change nothing.
                self._run(conn, "UPDATE cases SET first_response_at = :t, updated = :now,"
                                " version_counter = version_counter + 1"
                                " WHERE id = :id AND first_response_at IS NULL",
                          {"t": d.time(when), "now": d.time(now()), "id": case_id})
        return JournalEntry(id=entry_id, case_id=case_id, time=when, engineer=engineer,
                            kind=kind, text=text, data=json.loads(payload))

    def journal(self, case_id: int) -> list[JournalEntry]:
        with self._read("read the journal") as conn:
            return self._entries(conn, case_id)

    def _entries(self, conn: Connection, case_id: int) -> list[JournalEntry]:
        rows = self._run(conn, f"SELECT {_JOURNAL_COLUMNS} FROM journal"
                               " WHERE case_id = :id ORDER BY time, id", {"id": case_id})
        return [self._to_entry(r) for r in rows.fetchall()]

    # -- BulkReader -------------------------------------------------------------------------

    def case_ids(self) -> list[int]:
        with self._read("list the cases") as conn:
            return [r[0] for r in self._run(conn, "SELECT id FROM cases ORDER BY id").fetchall()]

    def case_history(self, case_id: int) -> CaseHistory:
        with self._read("read the case") as conn:
            return CaseHistory(self._get(conn, case_id), tuple(self._entries(conn, case_id)),
                               tuple(self._changes(conn, case_id)))

    def row_counts(self) -> dict[str, int]:
        with self._read("count the store's rows") as conn:
            return {kind: int(self._run(conn, f"SELECT count(*) FROM {table}").fetchone()[0])
                    for kind, table in ROW_TABLES.items()}
