"""One SQLite file: connection, transactions, error mapping and migrations, for the case store
and the monitoring history.

Safety choices, and why:

* WAL journal: readers never block the writer nor see half a write; ``synchronous=FULL`` for
  cases so a commit that returned survives a power cut too, not only a process crash.
* One writer at a time: a process-wide lock per database file (threads of this process queue
  without spinning on SQLite's busy handler) plus ``BEGIN IMMEDIATE`` (other processes: the
  write lock is taken at the start of the transaction, so two writers never both read, then
  both fail to upgrade). ``busy_timeout`` makes the second process wait instead of failing.
* Every write is exactly one transaction; an exception rolls it back, a killed process leaves
  a rollback for SQLite to do on the next open. Nothing half-written is ever visible.
* Migrations run one per transaction together with their ``schema_version`` row.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from diagkit import config
from diagkit.errors import StoreError
from diagkit.store.shared.base import Connection, SqlStore
from diagkit.store.sqlite.dialect import SqliteDialect

BUSY_TIMEOUT_S = 15.0

_locks_guard = threading.Lock()
_write_locks: dict[str, threading.RLock] = {}


def _write_lock_for(path: Path) -> threading.RLock:
    key = str(path.resolve())
    with _locks_guard:
        return _write_locks.setdefault(key, threading.RLock())


def statements(script: str) -> Iterator[str]:
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


class SqliteFile(SqlStore):
    """A store on one SQLite file, migrated when opened. Safe to share between threads (one
    connection, guarded); several processes may open the same file at once."""

    dialect = SqliteDialect()
    path: Path
    #: PRAGMA synchronous: FULL survives a power cut; NORMAL may lose the last commit.
    _synchronous: ClassVar[str] = "FULL"
    #: Refuse a file where SQLite cannot use WAL (a network share): readers would block.
    _wal_required: ClassVar[bool] = True
    #: sqlite3.Row for rows (read by name in tests and tools); None: plain tuples.
    _row_factory: ClassVar[type | None] = sqlite3.Row
    #: The end of the "cannot open" message: what to do about it.
    _open_advice: ClassVar[str] = ("Check that the folder is writable and the file is not "
                                   "damaged (move it away to start afresh).")

    def __init__(self, path: Path, *, busy_timeout: float = BUSY_TIMEOUT_S,
                 migrations: Sequence[str]) -> None:
        self.path = path
        self._migrations = list(migrations)
        self._lock = threading.RLock()
        self._write_lock = _write_lock_for(self.path)
        try:
            config.private_database(self.path)  # 0600: its -wal and -shm follow its mode
            self._conn = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            self._conn.row_factory = self._row_factory
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            self._conn.execute(f"PRAGMA synchronous={self._synchronous}")
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(
                f"Cannot open the {self._kind} {self.path}: {exc}. {self._open_advice}"
            ) from exc
        if self._wal_required and str(mode).lower() != "wal":
            self._conn.close()
            raise StoreError(
                f"The {self._kind} {self.path} cannot use write-ahead logging (SQLite chose "
                f"{mode!r}); it is probably on a network share. Keep the data dir on a local disk "
                "(set DIAGKIT_DATA_DIR)."
            )
        try:
            self.migrate()
        except BaseException:
            self._conn.close()  # a refused or failed migration must not leak the connection
            raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _fail(self, exc: sqlite3.Error, doing: str) -> StoreError:
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            return StoreError(
                f"Could not {doing}: the {self._kind} {self.path} stayed locked by another "
                "program for too long. Try again; if it persists, close other diagkit windows."
            )
        return StoreError(
            f"Could not {doing} in the {self._kind} {self.path}: {exc}. Nothing was saved; "
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

    # -- migration hooks --------------------------------------------------------------------

    def _has_version_table(self, conn: Connection) -> bool:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'"
                            " AND name = 'schema_version'").fetchone() is not None

    def _run_script(self, conn: Connection, script: str) -> None:
        for stmt in statements(script):
            conn.execute(stmt)
