"""Which store this diagkit uses: the embedded SQLite file (default, no set-up) or a team's
PostgreSQL, chosen with one setting.

``DIAGKIT_STORE`` (environment) wins over ``"store"`` in ``settings.json``; either is a store URL
(``postgresql://USER@HOST:PORT/DATABASE``; password in the keyring, never here) or ``sqlite``
(also: unset or empty). Every feature opens its store through :func:`open_store` /
:func:`open_samples`, never a class directly, so the choice is made in one place; the URL's
scheme picks the backend from :data:`BACKENDS`.
"""

from __future__ import annotations

import importlib
import os
from urllib.parse import urlsplit

from diagkit import config
from diagkit.errors import ConfigError
from diagkit.store.contract import Backend, SampleStore, Store

ENV = "DIAGKIT_STORE"

#: The backend subpackages a store URL may name; each has a ``BACKEND``
#: (:class:`~diagkit.store.contract.Backend`) saying which URL schemes it serves. The embedded
#: SQLite store (no URL) is not listed. Adding a backend: its folder, and its line here.
BACKENDS: tuple[str, ...] = (
    "diagkit.store.postgres",
)


def configured_url() -> str | None:
    """The team store URL in force, or None for the embedded SQLite store."""
    value = os.environ.get(ENV)
    if value is None:
        value = str(config.load_settings().get("store") or "")
    value = value.strip()
    if not value or value.lower() in ("sqlite", "local"):
        return None
    return value


def backend_for(url: str) -> Backend:
    """The backend serving ``url`` (by its scheme), or :class:`ConfigError`."""
    scheme = urlsplit(url.strip()).scheme.lower()
    schemes: list[str] = []
    for name in BACKENDS:
        backend: Backend = importlib.import_module(name).BACKEND
        if scheme in backend.schemes:
            return backend
        schemes += backend.schemes
    raise ConfigError(f"{url!r} is not a store URL diagkit knows; write it as "
                      f"{schemes[0]}://USER@HOST:PORT/DATABASE (schemes: {', '.join(schemes)}), "
                      "or 'sqlite' for the local store.")


def open_store(url: str | None = None, *, lazy: bool = False) -> Store:
    """The case/KB/metrics store: the team store of a URL (``url`` or the configured one), else
    the local SQLite store. ``lazy``: a team store connects on first use (in a worker) rather
    than now (the GUI thread must not wait on the network)."""
    url = url if url is not None else configured_url()
    if url is None:
        from diagkit.store.sqlite import SqliteStore

        return SqliteStore()
    return backend_for(url).open_store(url, lazy)


def open_samples(url: str | None = None, *, lazy: bool = False) -> SampleStore:
    """The monitoring history: in the team store when one is configured, else ``history.db``."""
    url = url if url is not None else configured_url()
    if url is None:
        from diagkit.store.sqlite import SqliteSampleStore

        return SqliteSampleStore()
    return backend_for(url).open_samples(url, lazy)


def describe(url: str | None = None) -> str:
    """Where the store is, for status lines: a path or ``postgresql://user@host:port/db``."""
    url = url if url is not None else configured_url()
    if url is None:
        from diagkit.store.sqlite import DB_NAME

        return str(config.data_dir() / DB_NAME)
    return backend_for(url).describe(url)
