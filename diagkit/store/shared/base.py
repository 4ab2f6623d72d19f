"""What the shared SQL stands on: a backend's transactions and its :class:`Dialect`, and the
schema migrations every backend runs the same way.

A backend class provides ``_read``/``_write`` (one transaction each, errors mapped to
:class:`~diagkit.store.contract.StoreError`), ``close``, the ``dialect`` and the three
migration hooks; the features' SQL (:mod:`~diagkit.store.shared.cases`, ``kb``, ``metrics``,
``samples``) runs on them through :meth:`SqlStore._run`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self

from diagkit.errors import StoreError
from diagkit.store.dialect import Dialect
from diagkit.store.shared.rules import now


class Connection(Protocol):
    """The part of a DB-API connection the shared SQL uses (sqlite3's and psycopg's)."""

    def execute(self, sql: str, params: Any = ..., /) -> Any: ...

    def cursor(self) -> Any: ...


class SqlStore(ABC):
    """A store on one SQL database: transactions and the dialect come from the backend."""

    dialect: ClassVar[Dialect]
    #: The store's kind, for messages: "case database", "team store", "monitoring history".
    _kind: ClassVar[str] = "case database"
    #: Ordered migration scripts; ``len(_migrations)`` is the schema version they make.
    _migrations: list[str]
    #: Where the store is, for messages: a file, or a URL without password.
    path: Path | str

    @abstractmethod
    def _read(self, doing: str = "read") -> AbstractContextManager[Connection]:
        """One read transaction (a consistent snapshot for the reads of one call)."""

    @abstractmethod
    def _write(self, doing: str = "save") -> AbstractContextManager[Connection]:
        """One write transaction, all or nothing, alone among writers."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, conn: Connection, sql: str, params: Any = None) -> Any:
        """Execute shared SQL (``:name`` parameters) on ``conn``; the driver's cursor."""
        return conn.execute(self.dialect.sql(sql), {} if params is None else params)

    def _insert(self, conn: Connection, sql: str, params: Any) -> int:
        """Run an ``INSERT`` into a table with an ``id`` key; the new row's id."""
        if self.dialect.returning:
            return int(self._run(conn, sql + " RETURNING id", params).fetchone()[0])
        return int(self._run(conn, sql, params).lastrowid)

    # -- schema -----------------------------------------------------------------------------

    #: Created before the first migration; one row per migration applied.
    _VERSION_TABLE: ClassVar[str] = ("CREATE TABLE IF NOT EXISTS schema_version "
                                     "(version INTEGER PRIMARY KEY, applied TEXT NOT NULL)")

    @abstractmethod
    def _has_version_table(self, conn: Connection) -> bool: ...

    @abstractmethod
    def _run_script(self, conn: Connection, script: str) -> None:
        """Run one migration script (several statements, no parameters) in the transaction."""

    def _lock_schema(self, conn: Connection) -> None:  # noqa: B027 - optional hook, no-op here
        """Make other processes' migrations wait for this transaction (nothing to do where a
        write transaction already excludes other writers)."""

    def _version(self, conn: Connection) -> int:
        if not self._has_version_table(conn):
            return 0
        return int(self._run(conn, "SELECT COALESCE(MAX(version), 0) FROM schema_version")
                   .fetchone()[0])

    def schema_version(self) -> int:
        with self._read("read the schema version") as conn:
            return self._version(conn)

    def migrate(self) -> int:
        """Apply missing migrations, each in its own transaction together with its
        ``schema_version`` row (a crash mid-migration leaves the previous version intact);
        return the schema version now in force."""
        target = len(self._migrations)
        # Fast path without the write lock: opening a current database must not wait for
        # another process's write to finish.
        if self.schema_version() == target:
            return target
        while True:
            with self._write("update the database schema") as conn:
                # Several diagkits starting at once: one migrates, the others wait here.
                self._lock_schema(conn)
                self._run(conn, self._VERSION_TABLE)
                # Read inside the write transaction: another process may have just migrated.
                current = self._version(conn)
                if current > target:
                    raise StoreError(
                        f"The {self._kind} {self.path} was created by a newer diagkit (schema "
                        f"version {current}, this one knows {target}). Update diagkit.")
                if current == target:
                    return current
                self._run_script(conn, self._migrations[current])
                self._run(conn, "INSERT INTO schema_version(version, applied) VALUES (:v, :t)",
                          {"v": current + 1, "t": self.dialect.time(now())})
