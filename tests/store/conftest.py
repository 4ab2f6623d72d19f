"""One store test-suite, two backends: every test taking ``store_factory`` (or ``any_store``)
runs against a SQLite file under tmp_path (id ``sqlite``) and a fresh database on the real
PostgreSQL server of :mod:`tests.pg_fixture` (id ``postgresql``), with the same assertions.

The backend is only asked for what differs by nature (the migration list, what tables exist,
how a subprocess opens the same store); everything else goes through the Store API or the
stores' own ``_read``/``_write`` transactions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

BACKENDS = ["sqlite", "postgresql"]


@dataclass
class Backend:
    """Where one test's store lives, and how to open it (again)."""

    name: str
    location: str  # the SQLite file path, or the postgresql:// URL (password in the keyring)
    opened: list[Any] = field(default_factory=list)

    @property
    def migrations(self) -> list[str]:
        if self.name == "sqlite":
            from diagkit.store.sqlite.schema import MIGRATIONS
        else:
            from diagkit.store.postgres.schema import MIGRATIONS
        return list(MIGRATIONS)

    def open(self, *, migrations: Sequence[str] | None = None) -> Any:
        """Another store object on the same database (another connection)."""
        if self.name == "sqlite":
            from diagkit.store.sqlite import SqliteStore

            store = SqliteStore(self.location, migrations=migrations)
        else:
            from diagkit.store.postgres import PgStore

            store = PgStore(self.location, migrations=migrations)
        self.opened.append(store)
        return store

    def tables(self, store: Any) -> set[str]:
        sql = ("SELECT name FROM sqlite_master WHERE type='table'" if self.name == "sqlite" else
               "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        with store._read() as conn:
            return {r[0] for r in conn.execute(sql).fetchall()}

    def close_all(self) -> None:
        for store in self.opened:
            store.close()


# What a subprocess runs to open the store given as argv[1] (a path or a URL).
OPEN_IN_SUBPROCESS = (
    "def open_store(where):\n"
    "    if where.startswith('postgresql://'):\n"
    "        from diagkit.store.postgres import PgStore\n"
    "        return PgStore(where)\n"
    "    from diagkit.store.sqlite import SqliteStore\n"
    "    return SqliteStore(where)\n"
)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        b = Backend("sqlite", str(tmp_path / "c.db"))
    else:
        # Asked for lazily so SQLite-only runs never start a PostgreSQL server.
        b = Backend("postgresql", request.getfixturevalue("pg_url"))
    try:
        yield b
    finally:
        b.close_all()


@pytest.fixture
def store_factory(backend: Backend) -> Callable[..., Any]:
    """``store_factory(migrations=None)``: a new store object on this test's database."""
    return backend.open


@pytest.fixture
def any_store(store_factory: Callable[..., Any]) -> Any:
    """An open, migrated store of the test's backend."""
    return store_factory()
