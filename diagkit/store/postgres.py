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

import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import unquote, urlsplit

from diagkit.errors import ConfigError
from diagkit.store import (
    Case,
    CaseNotFound,
    JournalEntry,
    StatusChange,
    StoreError,
    StoreUnavailable,
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


# Kept under these names: the KB, metrics and samples modules import them from here.
_aware = aware
_now = now


class PgBase:
    """Connection, transactions, error mapping and migrations; features build on ``_write`` and
    ``_read`` exactly as the SQLite store's do."""

    def __init__(self, url: str, *, password: str | None = None, connect_timeout: float = 10.0,
                 migrations: Sequence[str] | None = None, lazy: bool = False) -> None:
        """``lazy=True`` connects (and migrates) on the first read or write instead of here:
        the GUI creates its store on the GUI thread, and its workers do the network I/O."""
        from diagkit.store.schema_pg import MIGRATIONS

        self.url = url
        self.target = parse_url(url)
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
            self._migrated = True
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
        self._migrated = True
        return target


# Imported last: the mixins may import helpers from this module.
from diagkit.store.postgres_kb import PgKbMixin
from diagkit.store.postgres_metrics import PgMetricsMixin


class PgStore(PgKbMixin, PgMetricsMixin, PgBase):
    """The team store. Cases, journal and status history below; KB and metrics in the mixins.

    Behaves as :class:`~diagkit.store.SqliteStore` call for call (tests/store/test_parity.py
    checks it on random operation sequences). The one difference is in journal ``data``: jsonb
    keeps JSON numbers as decimals and keys sorted, so a float with an integral value beyond
    2**53 (``1e20``) reads back as an int and ``-0.0`` as ``0.0`` (equal values), the
    mapping's key order is not the caller's, and a NUL character in a journal entry's text or
    data (PostgreSQL text cannot hold it) is stored as U+FFFD.
    """

    # -- cases ------------------------------------------------------------------------------

    # Hosts come with the case row in the same query (one round trip per call, not per case);
    # text sorts use the "C" collation so the order is SQLite's (bytewise) whatever the
    # database's locale is.
    _CASE_SELECT = (
        "SELECT c.*, ARRAY(SELECT h.host FROM case_hosts h WHERE h.case_id = c.id"
        ' ORDER BY h.host COLLATE "C") AS hosts FROM cases c'
    )

    def _get(self, conn: Any, case_id: int) -> Case:
        row = _dict_cursor(conn).execute(
            f"{self._CASE_SELECT} WHERE c.id = %s", (case_id,)).fetchone()
        if row is None:
            raise CaseNotFound(case_id)
        return _case(row)

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
        when = _aware(created or _now())
        host_list = list(hosts)
        with self._write("create the case") as conn:
            case_id = conn.execute(
                "INSERT INTO cases (title, customer, contact, product, version, tags, ticket_ref,"
                " impact, urgency, severity, status, created, updated, engineer)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (title, customer, contact, product, version, _jsonb(list(tags)), ticket_ref,
                 impact, urgency, severity, status, when, when, engineer),
            ).fetchone()[0]
            self._put_hosts(conn, case_id, host_list)
            # The status history starts at creation so SLA clocks have a complete record.
            conn.execute(
                "INSERT INTO status_changes (case_id, time, from_status, to_status, engineer)"
                " VALUES (%s, %s, NULL, %s, %s)", (case_id, when, status, engineer),
            )
            conn.execute(
                "INSERT INTO journal (case_id, time, engineer, kind, text, data)"
                " VALUES (%s, %s, %s, 'created', %s, '{}')", (case_id, when, engineer, title),
            )
            return self._get(conn, case_id)

    @staticmethod
    def _put_hosts(conn: Any, case_id: int, hosts: Sequence[str]) -> None:
        if hosts:
            conn.execute(
                "INSERT INTO case_hosts (case_id, host) SELECT %s, h FROM unnest(%s::text[]) h"
                " ON CONFLICT DO NOTHING", (case_id, list(hosts)),
            )

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
                where.append(f"c.{column} = ANY(%s::text[])")
                args.append(as_list(value))
        for column, value in (("customer", customer), ("engineer", engineer)):
            if value is not None:
                where.append(f"c.{column} = %s")
                args.append(value)
        if tag is not None:
            # Containment of a one-string array: exactly SQLite's "some element equals tag".
            where.append("c.tags @> jsonb_build_array(%s::text)")
            args.append(tag)
        if host is not None:
            where.append("EXISTS (SELECT 1 FROM case_hosts ch WHERE ch.case_id = c.id"
                         " AND ch.host = %s)")
            args.append(host)
        if updated_since is not None:
            where.append("c.updated >= %s")
            args.append(_aware(updated_since))
        sql = self._CASE_SELECT
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY c.updated DESC, c.id DESC"
        if limit is not None:
            sql += " LIMIT %s"
            args.append(int(limit))
        with self._read("list cases") as conn:
            return [_case(row) for row in _dict_cursor(conn).execute(sql, args).fetchall()]

    @staticmethod
    def _check_version(conn: Any, case_id: int, expected: int) -> int:
        # FOR UPDATE: a second engineer's save waits here until the first commits, then sees
        # the new version and is refused (never a lost update between the check and the write).
        row = conn.execute(
            "SELECT version_counter FROM cases WHERE id = %s FOR UPDATE", (case_id,)
        ).fetchone()
        return check_version(row, case_id, expected)

    def update_case(self, case_id: int, expected_version: int, **fields: Any) -> Case:
        values, hosts = case_updates(fields, tags=_jsonb, time=_aware)
        host_list = list(hosts) if hosts is not None else None
        with self._write("save the case") as conn:
            self._check_version(conn, case_id, expected_version)
            # Column names come from UPDATABLE_FIELDS only (checked above), never from input.
            sets = [f'"{name}" = %s' for name in values]
            sets += ["updated = %s", "version_counter = version_counter + 1"]
            conn.execute(
                f"UPDATE cases SET {', '.join(sets)} WHERE id = %s AND version_counter = %s",
                [*values.values(), _now(), case_id, expected_version],
            )
            if host_list is not None:
                conn.execute("DELETE FROM case_hosts WHERE case_id = %s", (case_id,))
                self._put_hosts(conn, case_id, host_list)
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
        resolved/closed; any other status (a reopen) clears both (as SQLite)."""
        when = _aware(at or _now())
        with self._write("change the case status") as conn:
            self._check_version(conn, case_id, expected_version)
            from_status = conn.execute(
                "SELECT status FROM cases WHERE id = %s", (case_id,)
            ).fetchone()[0]
            stamps = status_stamps(to_status, "%(when)s")
            text, data = status_entry(from_status, to_status, note)
            conn.execute(
                f"UPDATE cases SET status = %(to)s, {stamps}, updated = %(now)s,"
                " version_counter = version_counter + 1 WHERE id = %(id)s",
                {"to": to_status, "when": when, "now": _now(), "id": case_id},
            )
            conn.execute(
                "INSERT INTO status_changes (case_id, time, from_status, to_status, engineer)"
                " VALUES (%s, %s, %s, %s, %s)", (case_id, when, from_status, to_status, engineer),
            )
            conn.execute(
                "INSERT INTO journal (case_id, time, engineer, kind, text, data)"
                " VALUES (%s, %s, %s, 'status', %s, %s)",
                (case_id, when, engineer, text, _jsonb(data)),
            )
            return self._get(conn, case_id)

    def status_changes(self, case_id: int) -> list[StatusChange]:
        with self._read("read the status history") as conn:
            rows = conn.execute(
                "SELECT id, case_id, time, from_status, to_status, engineer FROM status_changes"
                " WHERE case_id = %s ORDER BY time, id", (case_id,),
            ).fetchall()
        return [status_change_from_row(r, _utc) for r in rows]

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
        when = _aware(at or _now())
        # Through JSON text exactly as SQLite: fails before the transaction if not JSON-able,
        # and the caller gets back what a later read returns (tuples as lists...).
        # PostgreSQL text cannot hold NUL (a log excerpt of a binary file can): stored as
        # U+FFFD, the replacement character, rather than refusing the whole entry.
        text = _no_nul(text)
        payload = json.dumps(_no_nul(dict(data or {})))
        with self._write("add the journal entry") as conn:
            if conn.execute("SELECT 1 FROM cases WHERE id = %s", (case_id,)).fetchone() is None:
                raise CaseNotFound(case_id)
            entry_id = conn.execute(
                "INSERT INTO journal (case_id, time, engineer, kind, text, data)"
                " VALUES (%s, %s, %s, %s, %s, %s::jsonb) RETURNING id",
                (case_id, when, engineer, kind, text, payload),
            ).fetchone()[0]
            if first_response:
                # Only the first customer update stops the clock; later ones change nothing.
                conn.execute(
                    "UPDATE cases SET first_response_at = %(t)s, updated = %(now)s,"
                    " version_counter = version_counter + 1"
                    " WHERE id = %(id)s AND first_response_at IS NULL",
                    {"t": when, "now": _now(), "id": case_id},
                )
        return JournalEntry(id=entry_id, case_id=case_id, time=when, engineer=engineer,
                            kind=kind, text=text, data=json.loads(payload))

    def journal(self, case_id: int) -> list[JournalEntry]:
        with self._read("read the journal") as conn:
            rows = conn.execute(
                "SELECT id, case_id, time, engineer, kind, text, data FROM journal"
                " WHERE case_id = %s ORDER BY time, id", (case_id,),
            ).fetchall()
        return [journal_entry_from_row(r, _utc) for r in rows]


def _no_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, Mapping):
        return {_no_nul(k) if isinstance(k, str) else k: _no_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_nul(v) for v in value]
    return value


def _jsonb(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value)


def _dict_cursor(conn: Any) -> Any:
    from psycopg.rows import dict_row

    return conn.cursor(row_factory=dict_row)


def _utc(value: datetime | None) -> datetime | None:
    # The session's TimeZone is UTC, but a server-side default could differ: normalise anyway
    # so records compare equal to SQLite's (tzinfo=UTC).
    return value.astimezone(UTC) if value is not None else None


def _case(r: Mapping[str, Any]) -> Case:
    return case_from_row(r, tags=r["tags"], hosts=r["hosts"], time=_utc)
