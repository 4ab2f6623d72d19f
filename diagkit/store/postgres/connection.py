"""A team store's connection: connect (password from the keyring), transactions, error
mapping and migrations, for the case store and the monitoring history alike.

How the contract is kept here:

* every write is one transaction (``conn.transaction()``); a dropped connection mid-way means
  the server rolls it back, and the caller gets :class:`~diagkit.store.contract.StoreUnavailable`;
  the next call reconnects;
* optimistic concurrency as in SQLite: the version check reads the row ``FOR UPDATE`` (see
  :class:`~diagkit.store.postgres.dialect.PgDialect`), so a second engineer's save waits, then
  sees the new version and is refused; journal entries never conflict (inserts only);
* migrations (:mod:`diagkit.store.postgres.schema`) under a transaction-scoped advisory lock,
  so two engineers starting a new diagkit at once migrate once;
* times are ``timestamptz`` and come back as aware UTC datetimes (the session's TimeZone is UTC).

One connection per store object, guarded by a lock (threads of one process queue); each
engineer's process has its own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, ClassVar

from diagkit.errors import StoreError, StoreUnavailable
from diagkit.store.postgres.dialect import PgDialect
from diagkit.store.postgres.schema import MIGRATIONS
from diagkit.store.postgres.url import parse_url, store_password
from diagkit.store.shared.base import Connection, SqlStore

# pg_advisory_xact_lock key for migrations: any constant, the same in every diagkit.
_MIGRATION_LOCK = 0x6469_6167  # "diag"


class PgConnection(SqlStore):
    """Connection, transactions, error mapping and migrations of a team store; the features'
    SQL builds on ``_write`` and ``_read`` exactly as on SQLite."""

    dialect = PgDialect()
    _kind: ClassVar[str] = "team store"
    _VERSION_TABLE: ClassVar[str] = ("CREATE TABLE IF NOT EXISTS schema_version "
                                     "(version INTEGER PRIMARY KEY, applied TIMESTAMPTZ NOT NULL)")

    def __init__(self, url: str, *, password: str | None = None, connect_timeout: float = 10.0,
                 migrations: Sequence[str] | None = None, lazy: bool = False) -> None:
        """``lazy=True`` connects (and migrates) on the first read or write instead of here:
        the GUI creates its store on the GUI thread, and its workers do the network I/O."""
        self.url = url
        self.target = parse_url(url)
        self.path = self.target.display
        self._password = password
        self._connect_timeout = connect_timeout
        self._migrations = list(MIGRATIONS if migrations is None else migrations)
        self._lock = threading.RLock()
        self._conn: Any = None
        self._migrated = False
        self._migrating = False
        if not lazy:
            self._connect()
            self.migrate()

    # -- connection -------------------------------------------------------------------------

    def _connect(self) -> None:
        import psycopg

        password = self._password if self._password is not None else store_password(self.url)
        params: dict[str, Any] = {
            "host": self.target.host, "port": self.target.port, "dbname": self.target.dbname,
            "user": self.target.user, "connect_timeout": max(1, int(self._connect_timeout)),
            "application_name": "diagkit", "options": "-c TimeZone=UTC",
            # Notice a silently dead server within ~30 s instead of hanging on a read.
            "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
            "keepalives_count": 3,
        }
        params.update(dict(self.target.options))
        if password is not None:
            params["password"] = password
        try:
            self._conn = psycopg.connect(autocommit=True, **params)
        except psycopg.OperationalError as exc:
            raise self._unavailable(exc, "connect", password is None) from exc

    def _unavailable(self, exc: Exception, doing: str, no_password: bool = False) -> StoreError:
        text = " ".join(str(exc).split())
        where = self.target.display
        if "password authentication failed" in text or (no_password and "password" in text):
            hint = (f"Store the password with 'diagkit store set-password {where}'."
                    if no_password else
                    f"Check it, then store the right one with 'diagkit store set-password "
                    f"{where}'.")
            return StoreError(f"The team store {where} refused the login for "
                              f"{self.target.user}: {text}. {hint}")
        if "does not exist" in text and "database" in text:
            return StoreError(f"The team store {where}: {text}. Ask your database admin to "
                              f"create it (CREATE DATABASE {self.target.dbname}).")
        return StoreUnavailable(
            f"Could not {doing}: the team store {where} cannot be reached ({text}). Nothing "
            "was saved. Check the network and that the server is up; diagkit reconnects on the "
            "next action.")

    def _ensure(self) -> Any:
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self._conn.close()
            self._connect()
        if not self._migrated and not self._migrating:
            self._migrating = True  # migrate() reads through _ensure() itself
            try:
                self.migrate()
            finally:
                self._migrating = False
        return self._conn

    def _fail(self, exc: Exception, doing: str) -> StoreError:
        import psycopg

        broken = self._conn is not None and self._conn.broken
        # Lock timeouts, cancels and deadlocks are OperationalErrors too, but the server is
        # there: say "busy", not "cannot be reached" (checked before the generic case).
        if not broken and isinstance(exc, psycopg.errors.LockNotAvailable
                                     | psycopg.errors.QueryCanceled
                                     | psycopg.errors.TransactionRollback):
            return StoreError(f"Could not {doing}: the team store {self.path} stayed busy too "
                              "long. Nothing was saved; try again.")
        if broken or isinstance(exc, psycopg.OperationalError):
            return self._unavailable(exc, doing)
        return StoreError(f"Could not {doing} in the team store {self.path}: "
                          f"{' '.join(str(exc).split())}. Nothing was saved.")

    @contextmanager
    def _transaction(self, doing: str) -> Iterator[Any]:
        import psycopg

        with self._lock:
            conn = self._ensure()
            try:
                with conn.transaction():
                    yield conn
            except psycopg.Error as exc:
                raise self._fail(exc, doing) from exc

    def _write(self, doing: str = "save") -> AbstractContextManager[Any]:
        """One transaction on the connection (``conn.execute`` inside); all or nothing."""
        return self._transaction(doing)

    def _read(self, doing: str = "read") -> AbstractContextManager[Any]:
        # A transaction too: one snapshot for the reads of one call (several SELECTs agree
        # with each other).
        return self._transaction(doing)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()

    # -- schema -----------------------------------------------------------------------------

    def _has_version_table(self, conn: Connection) -> bool:
        return bool(conn.execute("SELECT to_regclass('schema_version') IS NOT NULL")
                    .fetchone()[0])

    def _lock_schema(self, conn: Connection) -> None:
        # Several engineers may start a new diagkit at once: one migrates, the others wait.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))

    def _run_script(self, conn: Connection, script: str) -> None:
        conn.execute(script)  # several statements at once: no parameters, so no %-escaping

    def migrate(self) -> int:
        version = super().migrate()
        self._migrated = True
        return version
