"""The team store on PostgreSQL: the same :class:`~diagkit.store.Store` contract as SQLite.

Chosen with one setting (``DIAGKIT_STORE=postgresql://user@host:5432/db`` or ``"store"`` in
settings.json; see :mod:`diagkit.store.select`). The URL never carries the password: it comes
from the OS keyring (``diagkit store set-password URL``), under the account
``store:user@host:port/db`` (:func:`store_account`).

How the contract is kept here:

* every write is one transaction (``conn.transaction()``); a dropped connection mid-way means the
  server rolls it back, and the caller gets :class:`~diagkit.store.StoreUnavailable`;
  the next call reconnects;
* optimistic concurrency exactly as in SQLite: ``UPDATE ... WHERE version_counter = expected``,
  and :class:`~diagkit.store.StaleWrite` when nothing matched; several engineers' journal
  entries never conflict (inserts only);
* append-only journal and status history enforced by triggers (a database rule);
* migrations (:mod:`diagkit.store.schema_pg`) under a transaction-scoped advisory lock, so two
  engineers starting a new diagkit at once migrate once;
* times are ``timestamptz`` and come back as aware UTC datetimes (the session's TimeZone is UTC).

One connection per store object, guarded by a lock (threads of one process queue); each engineer's
process has its own. Features' SQL lives in mixins next to this file (``postgres_*.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import unquote, urlsplit

from diagkit.errors import ConfigError
from diagkit.store import StoreError, StoreUnavailable

# pg_advisory_xact_lock key for migrations: any constant, the same in every diagkit.
_MIGRATION_LOCK = 0x6469_6167  # "diag"
DEFAULT_PORT = 5432


@dataclass(frozen=True)
class PgTarget:
    """Where a team store is: parsed from ``postgresql://user@host:port/db?opt=value``."""

    user: str
    host: str
    port: int
    dbname: str
    options: tuple[tuple[str, str], ...] = ()

    @property
    def display(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"


def parse_url(url: str) -> PgTarget:
    """Parse a store URL; a password in it is refused (it belongs in the keyring)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigError(f"{url!r} is not a PostgreSQL URL; write it as "
                          "postgresql://USER@HOST:PORT/DATABASE.")
    if parts.password is not None:
        raise ConfigError(
            "The store URL contains a password. Remove it from the URL (config files and "
            "environments are not secret) and store it in the keyring with "
            "'diagkit store set-password postgresql://USER@HOST:PORT/DATABASE'.")
    dbname = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not parts.username or not dbname:
        raise ConfigError(f"The store URL {url!r} needs a user, a host and a database: "
                          "postgresql://USER@HOST:PORT/DATABASE.")
    options = []
    for pair in filter(None, parts.query.split("&")):
        key, _, value = pair.partition("=")
        if key in ("password", "passfile"):
            raise ConfigError("Put the store's password in the keyring ('diagkit store "
                              "set-password URL'), not in the URL.")
        options.append((unquote(key), unquote(value)))
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError as exc:
        raise ConfigError(f"The store URL {url!r} has a bad port: {exc}.") from None
    return PgTarget(unquote(parts.username), parts.hostname, port, dbname, tuple(options))


def store_account(url: str) -> str:
    """The keyring account holding the password of the store at ``url``."""
    t = parse_url(url)
    return f"store:{t.user}@{t.host}:{t.port}/{t.dbname}"


def set_store_password(url: str, password: str) -> None:
    from diagkit import credentials

    credentials.set_password(store_account(url), password)


def store_password(url: str) -> str | None:
    from diagkit import credentials

    return credentials.get_password(store_account(url))


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("the store only takes timezone-aware datetimes (e.g. datetime.now(UTC))")
    return value.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


class PgBase:
    """Connection, transactions, error mapping and migrations; features build on ``_write`` and
    ``_read`` exactly as the SQLite store's do."""

    def __init__(self, url: str, *, password: str | None = None, connect_timeout: float = 10.0,
                 migrations: Sequence[str] | None = None) -> None:
        from diagkit.store.schema_pg import MIGRATIONS

        self.url = url
        self.target = parse_url(url)
        self._password = password
        self._connect_timeout = connect_timeout
        self._migrations = list(MIGRATIONS if migrations is None else migrations)
        self._lock = threading.RLock()
        self._conn: Any = None
        self._connect()
        self.migrate()

    @property
    def path(self) -> str:
        """Where the store is, for messages (the SQLite store's ``path`` counterpart)."""
        return self.target.display

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
        return self._conn

    def _fail(self, exc: Exception, doing: str) -> StoreError:
        import psycopg

        if isinstance(exc, psycopg.OperationalError) or (self._conn is not None
                                                          and self._conn.broken):
            return self._unavailable(exc, doing)
        if isinstance(exc, psycopg.errors.LockNotAvailable | psycopg.errors.QueryCanceled):
            return StoreError(f"Could not {doing}: the team store {self.path} stayed busy too "
                              "long. Try again.")
        return StoreError(f"Could not {doing} in the team store {self.path}: "
                          f"{' '.join(str(exc).split())}. Nothing was saved.")

    @contextmanager
    def _write(self, doing: str = "save") -> Iterator[Any]:
        """One transaction on the connection (``conn.execute`` inside); all or nothing."""
        import psycopg

        with self._lock:
            conn = self._ensure()
            try:
                with conn.transaction():
                    yield conn
            except psycopg.Error as exc:
                raise self._fail(exc, doing) from exc

    @contextmanager
    def _read(self, doing: str = "read") -> Iterator[Any]:
        import psycopg

        with self._lock:
            conn = self._ensure()
            try:
                # One snapshot for the reads of one call (several SELECTs agree with each other).
                with conn.transaction():
                    yield conn
            except psycopg.Error as exc:
                raise self._fail(exc, doing) from exc

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()

    # -- schema -----------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._read("read the schema version") as conn:
            return self._version(conn)

    @staticmethod
    def _version(conn: Any) -> int:
        exists = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()[0]
        if not exists:
            return 0
        return conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]

    def migrate(self) -> int:
        target = len(self._migrations)
        if self.schema_version() == target:
            return target
        with self._write("update the database schema") as conn:
            # Several engineers may start a new diagkit at once: one migrates, the others wait.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version "
                         "(version INTEGER PRIMARY KEY, applied TIMESTAMPTZ NOT NULL)")
            current = self._version(conn)
            if current > target:
                raise StoreError(
                    f"The team store {self.path} was migrated by a newer diagkit (schema "
                    f"version {current}, this one knows {target}). Update diagkit.")
            for version in range(current, target):
                conn.execute(self._migrations[version])
                conn.execute("INSERT INTO schema_version(version, applied) VALUES (%s, %s)",
                             (version + 1, _now()))
            return target


# Imported last: the mixins may import helpers from this module.
from diagkit.store.postgres_kb import PgKbMixin
from diagkit.store.postgres_metrics import PgMetricsMixin


class PgStore(PgKbMixin, PgMetricsMixin, PgBase):
    """The team store. Cases, journal and status history below; KB and metrics in the mixins."""
