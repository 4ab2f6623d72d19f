"""Which store this diagkit uses: the embedded SQLite file (default, no set-up) or a team's
PostgreSQL, chosen with one setting.

``DIAGKIT_STORE`` (environment) wins over ``"store"`` in ``settings.json``; either is
``postgresql://USER@HOST:PORT/DATABASE`` (password in the keyring, never here) or ``sqlite``
(also: unset or empty). Every feature opens its store through :func:`open_store` /
:func:`open_samples`, never a class directly, so the choice is made in one place.
"""

from __future__ import annotations

import os
from typing import Any

from diagkit import config

ENV = "DIAGKIT_STORE"


def configured_url() -> str | None:
    """The team store URL in force, or None for the embedded SQLite store."""
    value = os.environ.get(ENV)
    if value is None:
        value = str(config.load_settings().get("store") or "")
    value = value.strip()
    if not value or value.lower() in ("sqlite", "local"):
        return None
    return value


def open_store(url: str | None = None, *, lazy: bool = False) -> Any:
    """The case/KB/metrics store: :class:`PgStore` for a PostgreSQL URL (``url`` or the
    configured one), else the local :class:`SqliteStore`. ``lazy``: a team store connects on
    first use (in a worker) rather than now (the GUI thread must not wait on the network)."""
    url = url if url is not None else configured_url()
    if url is None:
        from diagkit.store.sqlite import SqliteStore

        return SqliteStore()
    from diagkit.store.postgres import PgStore

    return PgStore(url, lazy=lazy)


def open_samples(url: str | None = None, *, lazy: bool = False) -> Any:
    """The monitoring history: in the team store when one is configured, else ``history.db``."""
    url = url if url is not None else configured_url()
    if url is None:
        from diagkit.store.samples import SampleStore

        return SampleStore()
    from diagkit.store.postgres_samples import PgSampleStore

    return PgSampleStore(url, lazy=lazy)


def describe(url: str | None = None) -> str:
    """Where the store is, for status lines: a path or ``postgresql://user@host:port/db``."""
    url = url if url is not None else configured_url()
    if url is None:
        from diagkit.store.sqlite import DB_NAME

        return str(config.data_dir() / DB_NAME)
    from diagkit.store.postgres import parse_url

    return parse_url(url).display
