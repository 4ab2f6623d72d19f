"""The team backend: one PostgreSQL database shared by a team, chosen with one setting
(``DIAGKIT_STORE=postgresql://USER@HOST:PORT/DATABASE``; :mod:`diagkit.store.select`).

* :mod:`~diagkit.store.postgres.store`: :class:`PgStore`, cases/journal/KB/metrics and the
  import of a local store (schema: :mod:`~diagkit.store.postgres.schema`);
* :mod:`~diagkit.store.postgres.samples`: :class:`PgSampleStore`, the team's monitoring history;
* :mod:`~diagkit.store.postgres.connection`: connection, transactions, migrations;
  :mod:`~diagkit.store.postgres.dialect`: how PostgreSQL spells the shared SQL;
  :mod:`~diagkit.store.postgres.search`: knowledge-base search on tsvector;
  :mod:`~diagkit.store.postgres.url`: the URL and the keyring account of the password.

psycopg is imported on first connect, not with this package.
"""

from __future__ import annotations

from diagkit.store.contract import Backend
from diagkit.store.postgres.samples import PgSampleStore
from diagkit.store.postgres.store import PgStore
from diagkit.store.postgres.url import (
    DEFAULT_PORT,
    SCHEMES,
    PgTarget,
    parse_url,
    set_store_password,
    store_account,
    store_password,
)

BACKEND = Backend(
    schemes=SCHEMES,
    open_store=lambda url, lazy: PgStore(url, lazy=lazy),
    open_samples=lambda url, lazy: PgSampleStore(url, lazy=lazy),
    describe=lambda url: parse_url(url).display,
)

__all__ = [
    "BACKEND",
    "DEFAULT_PORT",
    "SCHEMES",
    "PgSampleStore",
    "PgStore",
    "PgTarget",
    "parse_url",
    "set_store_password",
    "store_account",
    "store_password",
]
