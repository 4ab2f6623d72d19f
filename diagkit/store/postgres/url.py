"""Where a team store is: ``postgresql://USER@HOST:PORT/DATABASE[?option=value]``, and where
its password is (the OS keyring, account ``store:user@host:port/db``; never the URL)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from diagkit.errors import ConfigError

DEFAULT_PORT = 5432
#: The URL schemes this backend serves.
SCHEMES: tuple[str, ...] = ("postgresql", "postgres")


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
    if parts.scheme not in SCHEMES:
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
