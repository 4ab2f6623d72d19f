"""The local case store: one SQLite file in the data dir.

Safety choices, and why:

* WAL journal: readers never block the writer nor see half a write; ``synchronous=FULL`` so a
  commit that returned survives a power cut too, not only a process crash.
* One writer at a time: a process-wide lock per database file (threads of this process queue
  without spinning on SQLite's busy handler) plus ``BEGIN IMMEDIATE`` (other processes: the
  write lock is taken at the start of the transaction, so two writers never both read, then
  both fail to upgrade). ``busy_timeout`` makes the second process wait instead of failing.
* Every write is exactly one transaction; an exception rolls it back, a killed process leaves
  a rollback for SQLite to do on the next open. Nothing half-written is ever visible.
* Migrations (:mod:`diagkit.store.schema`) run one per transaction together with their
  ``schema_version`` row.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from diagkit import config
from diagkit.store import (
    Case,
    CaseNotFound,
    JournalEntry,
    StatusChange,
    StoreError,
)
from diagkit.store.common import (
    as_list,
    aware,
    case_from_row,
    case_updates,
    check_title,
    check_version,
    journal_entry_from_row,
    now,
    status_change_from_row,
    status_entry,
    status_stamps,
)
from diagkit.store.schema import MIGRATIONS
from diagkit.store.sqlite_kb import KbSqlMixin
from diagkit.store.sqlite_metrics import MetricsSqlMixin

DB_NAME = "diagkit.db"
BUSY_TIMEOUT_S = 15.0

_locks_guard = threading.Lock()
_write_locks: dict[str, threading.RLock] = {}


def _write_lock_for(path: Path) -> threading.RLock:
    key = str(path.resolve())
    with _locks_guard:
        return _write_locks.setdefault(key, threading.RLock())


def _ts(value: datetime) -> str:
    return aware(value).isoformat(timespec="microseconds")


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


# Kept under these names: the KB and metrics mixins look them up here.
_now = now


def _statements(script: str) -> Iterator[str]:
    """Split a SQL script into complete statements (trigger bodies contain ';' too).

    ``executescript`` cannot be used: it commits any open transaction first, which would
    break "one migration, one transaction".
    """
    buf = ""
    for part in script.split(";"):
        buf += part + ";"
        if sqlite3.complete_statement(buf):
            body = "\n".join(
                line for line in buf.splitlines() if not line.strip().startswith("--")
            ).strip()
            if body.strip(";").strip():
                yield body
            buf = ""
    if buf.strip(" \n\t;"):
        raise StoreError("A schema migration ends with an incomplete SQL statement.")


class SqliteStore(KbSqlMixin, MetricsSqlMixin):
    """:class:`diagkit.store.Store` on a local SQLite file; migrated when opened.

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
        self.path = Path(path) if path is not None else config.data_dir() / DB_NAME
        self._migrations = list(MIGRATIONS if migrations is None else migrations)
        self._lock = threading.RLock()
        self._write_lock = _write_lock_for(self.path)
        try:
            config.private_database(self.path)  # 0600: its -wal and -shm follow its mode
            self._conn = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            self._conn.row_factory = sqlite3.Row
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            self._conn.execute("PRAGMA synchronous=FULL")
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(
                f"Cannot open the case database {self.path}: {exc}. Check that the folder is "
                "writable and the file is not damaged (move it away to start afresh)."
            ) from exc
        if str(mode).lower() != "wal":
            self._conn.close()
            raise StoreError(
                f"The case database {self.path} cannot use write-ahead logging (SQLite chose "
                f"{mode!r}); it is probably on a network share. Keep the data dir on a local disk "
                "(set DIAGKIT_DATA_DIR)."
            )
        try:
            self.migrate()
        except BaseException:
            self._conn.close()  # a refused or failed migration must not leak the connection
            raise

    # -- plumbing ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _fail(self, exc: sqlite3.Error, doing: str) -> StoreError:
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            return StoreError(
                f"Could not {doing}: the case database {self.path} stayed locked by another "
                "program for too long. Try again; if it persists, close other diagkit windows."
            )
        return StoreError(
            f"Could not {doing} in the case database {self.path}: {exc}. Nothing was saved; "
            "check free disk space and the file's permissions."
        )

    @contextmanager
    def _write(self, doing: str = "save") -> Iterator[sqlite3.Connection]:
        """One write transaction, alone among this process's threads and other processes."""
        with self._write_lock, self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._fail(exc, doing) from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._fail(exc, doing) from exc
                raise

    @contextmanager
    def _read(self, doing: str = "read") -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise self._fail(exc, doing) from exc

    # -- schema -----------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._read("read the schema version") as conn:
            return self._version(conn)

    @staticmethod
    def _version(conn: sqlite3.Connection) -> int:
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'"
        ).fetchone()
        if not exists:
            return 0
        return conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]

    def migrate(self) -> int:
        target = len(self._migrations)
        # Fast path without the write lock: opening a current database must not wait for
        # another process's write to finish.
        if self.schema_version() == target:
            return target
        while True:
            with self._write("update the database schema") as conn:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version "
                    "(version INTEGER PRIMARY KEY, applied TEXT NOT NULL)"
                )
                # Read inside the write transaction: another process may have just migrated.
                current = self._version(conn)
                if current > target:
                    raise StoreError(
                        f"The case database {self.path} was created by a newer diagkit (schema "
                        f"version {current}, this one knows {target}). Update diagkit."
                    )
                if current == target:
                    return current
                for stmt in _statements(self._migrations[current]):
                    conn.execute(stmt)
                conn.execute(
                    "INSERT INTO schema_version(version, applied) VALUES (?, ?)",
                    (current + 1, _ts(_now())),
                )

    # -- cases ------------------------------------------------------------------------------

    def _get(self, conn: sqlite3.Connection, case_id: int) -> Case:
        row = conn.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone()
        if row is None:
            raise CaseNotFound(case_id)
        return self._case(conn, row)

    @staticmethod
    def _case(conn: sqlite3.Connection, r: sqlite3.Row) -> Case:
        hosts = tuple(
            h for (h,) in conn.execute(
                "SELECT host FROM case_hosts WHERE case_id = ? ORDER BY host", (r["id"],)
            )
        )
        return case_from_row(r, tags=json.loads(r["tags"]), hosts=hosts, time=_dt)

    def create_case(
        self,
        title: str,
        *,
        customer: str = "",
        contact: str = "",
        product: str = "",
        version: str = "",
        tags: Sequence[str] = (),
        ticket_ref: str = "",
        impact: str | None = None,
        urgency: str | None = None,
        severity: str | None = None,
        status: str = "new",
        engineer: str = "",
        hosts: Iterable[str] = (),
        created: datetime | None = None,
    ) -> Case:
        check_title(title)
        when = _ts(created or _now())
        with self._write("create the case") as conn:
            cur = conn.execute(
                "INSERT INTO cases (title, customer, contact, product, version, tags, ticket_ref,"
                " impact, urgency, severity, status, created, updated, engineer)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (title, customer, contact, product, version, json.dumps(list(tags)), ticket_ref,
                 impact, urgency, severity, status, when, when, engineer),
            )
            case_id = cur.lastrowid
            conn.executemany(
                "INSERT OR IGNORE INTO case_hosts (case_id, host) VALUES (?, ?)",
                [(case_id, h) for h in hosts],
            )
            # The status history starts at creation so SLA clocks have a complete record.
            conn.execute(
                "INSERT INTO status_changes (case_id, time, from_status, to_status, engineer)"
                " VALUES (?, ?, NULL, ?, ?)", (case_id, when, status, engineer),
            )
            conn.execute(
                "INSERT INTO journal (case_id, time, engineer, kind, text, data)"
                " VALUES (?, ?, ?, 'created', ?, '{}')", (case_id, when, engineer, title),
            )
            return self._get(conn, case_id)

    def get_case(self, case_id: int) -> Case:
        with self._read("read the case") as conn:
            return self._get(conn, case_id)

    def list_cases(
        self,
        *,
        status: str | Iterable[str] | None = None,
        customer: str | None = None,
        engineer: str | None = None,
        severity: str | Iterable[str] | None = None,
        tag: str | None = None,
        host: str | None = None,
        updated_since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Case]:
        where: list[str] = []
        args: list[Any] = []
        for column, value in (("status", status), ("severity", severity)):
            if value is not None:
                values = as_list(value)
                where.append(f"{column} IN ({', '.join('?' * len(values))})" if values else "0")
                args += values
        for column, value in (("customer", customer), ("engineer", engineer)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if tag is not None:
            where.append("EXISTS (SELECT 1 FROM json_each(cases.tags) WHERE value = ?)")
            args.append(tag)
        if host is not None:
            where.append("EXISTS (SELECT 1 FROM case_hosts ch WHERE ch.case_id = cases.id"
                         " AND ch.host = ?)")
            args.append(host)
        if updated_since is not None:
            where.append("updated >= ?")
            args.append(_ts(updated_since))
        sql = "SELECT * FROM cases"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY updated DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        with self._read("list cases") as conn:
            return [self._case(conn, row) for row in conn.execute(sql, args).fetchall()]

    def _check_version(self, conn: sqlite3.Connection, case_id: int, expected: int) -> int:
        row = conn.execute(
            "SELECT version_counter FROM cases WHERE id = ?", (case_id,)
        ).fetchone()
        return check_version(row, case_id, expected)

    def update_case(self, case_id: int, expected_version: int, **fields: Any) -> Case:
        values, hosts = case_updates(fields, tags=json.dumps, time=_ts)
        with self._write("save the case") as conn:
            self._check_version(conn, case_id, expected_version)
            sets = [f"{name} = ?" for name in values]
            sets += ["updated = ?", "version_counter = version_counter + 1"]
            conn.execute(
                f"UPDATE cases SET {', '.join(sets)} WHERE id = ? AND version_counter = ?",
                [*values.values(), _ts(_now()), case_id, expected_version],
            )
            if hosts is not None:
                conn.execute("DELETE FROM case_hosts WHERE case_id = ?", (case_id,))
                conn.executemany(
                    "INSERT OR IGNORE INTO case_hosts (case_id, host) VALUES (?, ?)",
                    [(case_id, h) for h in hosts],
                )
            return self._get(conn, case_id)

    def record_status(
        self,
        case_id: int,
        to_status: str,
        *,
        expected_version: int,
        engineer: str = "",
        at: datetime | None = None,
        note: str = "",
    ) -> Case:
        """See :meth:`Store.record_status`. Sets ``resolved_at``/``closed_at`` on entering
        resolved/closed; any other status (a reopen) clears both."""
        when = _ts(at or _now())
        with self._write("change the case status") as conn:
            self._check_version(conn, case_id, expected_version)
            from_status = conn.execute(
                "SELECT status FROM cases WHERE id = ?", (case_id,)
            ).fetchone()[0]
            stamps = status_stamps(to_status, ":when")
            text, data = status_entry(from_status, to_status, note)
            conn.execute(
                f"UPDATE cases SET status = :to, {stamps}, updated = :now,"
                " version_counter = version_counter + 1 WHERE id = :id",
                {"to": to_status, "when": when, "now": _ts(_now()), "id": case_id},
            )
            conn.execute(
                "INSERT INTO status_changes (case_id, time, from_status, to_status, engineer)"
                " VALUES (?, ?, ?, ?, ?)", (case_id, when, from_status, to_status, engineer),
            )
            conn.execute(
                "INSERT INTO journal (case_id, time, engineer, kind, text, data)"
                " VALUES (?, ?, ?, 'status', ?, ?)",
                (case_id, when, engineer, text, json.dumps(data)),
            )
            return self._get(conn, case_id)

    def status_changes(self, case_id: int) -> list[StatusChange]:
        with self._read("read the status history") as conn:
            rows = conn.execute(
                "SELECT id, case_id, time, from_status, to_status, engineer FROM status_changes"
                " WHERE case_id = ? ORDER BY time, id", (case_id,),
            ).fetchall()
        return [status_change_from_row(r, _dt) for r in rows]

    # -- journal ----------------------------------------------------------------------------

    def append_journal(
        self,
        case_id: int,
        kind: str,
        text: str = "",
        *,
        engineer: str = "",
        data: Mapping[str, Any] | None = None,
        at: datetime | None = None,
        first_response: bool = False,
    ) -> JournalEntry:
        """See :meth:`Store.append_journal`."""
        when = at or _now()
        payload = json.dumps(dict(data or {}))  # fails before the transaction if not JSON-able
        with self._write("add the journal entry") as conn:
            if conn.execute("SELECT 1 FROM cases WHERE id = ?", (case_id,)).fetchone() is None:
                raise CaseNotFound(case_id)
            cur = conn.execute(
                "INSERT INTO journal (case_id, time, engineer, kind, text, data)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (case_id, _ts(when), engineer, kind, text, payload),
            )
            entry_id = cur.lastrowid
            if first_response:
                # Only the first customer update stops the clock; later ones change nothing.
                conn.execute(
                    "UPDATE cases SET first_response_at = :t, updated = :now,"
                    " version_counter = version_counter + 1"
                    " WHERE id = :id AND first_response_at IS NULL",
                    {"t": _ts(when), "now": _ts(_now()), "id": case_id},
                )
        return JournalEntry(id=entry_id, case_id=case_id, time=when.astimezone(UTC),
                            engineer=engineer, kind=kind, text=text, data=json.loads(payload))

    def journal(self, case_id: int) -> list[JournalEntry]:
        with self._read("read the journal") as conn:
            rows = conn.execute(
                "SELECT id, case_id, time, engineer, kind, text, data FROM journal"
                " WHERE case_id = ? ORDER BY time, id", (case_id,),
            ).fetchall()
        return [journal_entry_from_row(r, _dt, json.loads) for r in rows]
