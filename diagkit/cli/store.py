"""``diagkit store``: which store is in use and moving to a team store (docs/team-store.md).

* ``store check [--url URL] [--json]``: backend, location, schema version, row counts and
  whether the store answers; exit 0 healthy, 3 unreachable, 1 other trouble;
* ``store use URL|sqlite``: choose the store in settings.json (a URL with a password is refused);
* ``store set-password URL [--stdin]``: put the team store's password in the OS keyring;
* ``store migrate --to URL [--from PATH] [--json]``: copy the local SQLite store into the team
  store (:func:`diagkit.store.copy.migrate_store`); exit 1 when the counts do not verify.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from diagkit.cli.common import EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE
from diagkit.cli.output import dump
from diagkit.errors import ConfigError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("store", help="the case store: check, choose, migrate to a team store")
    p.set_defaults(handler=_no_action)
    ssub = p.add_subparsers(dest="store_command", metavar="ACTION")

    c = ssub.add_parser("check", help="schema version, counts and health of the store")
    c.add_argument("--url", help="a postgresql:// URL or 'sqlite' (default: the configured one)")
    c.add_argument("--json", action="store_true")
    c.set_defaults(handler=check)

    u = ssub.add_parser("use", help="use this store from now on: postgresql://USER@HOST:PORT/DB "
                                    "or 'sqlite'")
    u.add_argument("url", metavar="URL|sqlite")
    u.set_defaults(handler=use)

    s = ssub.add_parser("set-password", help="store the team store's password in the keyring")
    s.add_argument("url", metavar="URL")
    s.add_argument("--stdin", action="store_true", help="read the password from standard input")
    s.set_defaults(handler=set_password)

    m = ssub.add_parser("migrate", help="copy the local SQLite store into a team store")
    m.add_argument("--to", required=True, metavar="URL", help="postgresql://USER@HOST:PORT/DB")
    m.add_argument("--from", dest="source", type=Path, metavar="PATH",
                   help="the SQLite store (default: this user's diagkit.db)")
    m.add_argument("--json", action="store_true")
    m.set_defaults(handler=migrate)


def _no_action(args: argparse.Namespace, out: TextIO) -> int:
    raise ConfigError("Give an action: diagkit store {check,use,set-password,migrate} "
                      "(see diagkit store --help).")


def _url_arg(value: str | None) -> str | None:
    """``None`` for the configured store, ``""`` for SQLite, else the checked URL."""
    if value is None:
        return None
    if value.strip().lower() in ("sqlite", "local"):
        return ""
    from diagkit.store.postgres import parse_url

    parse_url(value)  # refuses a password in the URL before anything else happens
    return value.strip()


def check(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.store import StoreError, StoreUnavailable
    from diagkit.store.copy import store_counts
    from diagkit.store.select import configured_url, describe, open_store

    url = _url_arg(args.url)
    if url is None:
        url = configured_url() or ""
    if url:
        location = describe(url)
    else:
        from diagkit import config
        from diagkit.store.sqlite import DB_NAME

        location = str(config.data_dir() / DB_NAME)
    result: dict[str, Any] = {"backend": "postgresql" if url else "sqlite", "location": location}
    code = EXIT_OK
    try:
        if url:
            store = open_store(url)
        else:
            from diagkit.store.sqlite import SqliteStore

            store = SqliteStore()
        with store:
            from diagkit.store.postgres.schema import SCHEMA_VERSION as PG_VERSION
            from diagkit.store.sqlite.schema import SCHEMA_VERSION as SQLITE_VERSION

            result["schema_version"] = store.schema_version()
            result["schema_expected"] = PG_VERSION if url else SQLITE_VERSION
            result["counts"] = store_counts(store)
            result["health"] = "ok"
    except StoreUnavailable as exc:
        result.update(health="unreachable", error=str(exc))
        code = EXIT_UNREACHABLE
    except StoreError as exc:
        result.update(health="error", error=str(exc))
        code = EXIT_FAILED
    if args.json:
        dump({"schema": "diagkit.store-check/1", **result}, out)
        return code
    print(f"Store: {result['backend']} {result['location']}", file=out)
    if code != EXIT_OK:
        print(f"Health: {result['health']}: {result['error']}", file=out)
        return code
    print(f"Schema version: {result['schema_version']} (this diagkit: "
          f"{result['schema_expected']})", file=out)
    counts = result["counts"]
    print(f"Cases: {counts['case']}, journal entries: {counts['journal']}, status changes: "
          f"{counts['status']}, KB articles: {counts['kb']}", file=out)
    print("Health: ok", file=out)
    return code


def use(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit import config
    from diagkit.store.postgres import store_password
    from diagkit.store.select import ENV

    url = _url_arg(args.url)
    with config.edit_settings() as settings:
        settings["store"] = url or "sqlite"
    if url:
        print(f"diagkit now uses the team store {url}.", file=out)
        if store_password(url) is None:
            print(f"No password for it in the keyring yet: run 'diagkit store set-password "
                  f"{url}'.", file=out)
        print("Check it with 'diagkit store check'; copy your local cases into it with "
              f"'diagkit store migrate --to {url}'.", file=out)
    else:
        print("diagkit now uses the local SQLite store.", file=out)
    if os.environ.get(ENV):
        print(f"Note: {ENV} is set in the environment and overrides this setting.", file=out)
    return EXIT_OK


def set_password(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.store.postgres import set_store_password, store_account

    url = _url_arg(args.url)
    if not url:
        raise ConfigError("set-password needs a postgresql://USER@HOST:PORT/DATABASE URL.")
    if args.stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        import getpass

        password = getpass.getpass(f"Password for {url}: ")
    if not password:
        raise ConfigError("No password given; nothing was stored.")
    set_store_password(url, password)
    print(f"Password stored in the keyring ({store_account(url)}). Check the connection with "
          f"'diagkit store check --url {url}'.", file=out)
    return EXIT_OK


def migrate(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit import config
    from diagkit.store.copy import migrate_store
    from diagkit.store.postgres import PgStore
    from diagkit.store.sqlite import DB_NAME, SqliteStore

    url = _url_arg(args.to)
    if not url:
        raise ConfigError("--to needs the team store's postgresql://USER@HOST:PORT/DATABASE URL.")
    source_path = args.source or config.data_dir() / DB_NAME
    if not source_path.exists():
        raise ConfigError(f"There is no local store at {source_path}; give the file with "
                          "--from PATH.")

    def progress(done: int, total: int, what: str) -> None:
        if not args.json and (done == total or done % 100 == 0):
            print(f"  {done}/{total} cases", file=sys.stderr)

    with SqliteStore(source_path) as source, PgStore(url) as target:
        report = migrate_store(source, target, progress=progress)
    if args.json:
        dump({"schema": "diagkit.store-migrate/1", **report.to_json()}, out)
        return EXIT_OK if report.verified else EXIT_FAILED
    print(f"Migrated {report.source} into {report.target}:", file=out)
    names = {"case": "cases", "journal": "journal entries", "status": "status changes",
             "kb": "KB articles"}
    for c in report.counts:
        mark = "ok" if c.ok else "MISMATCH"
        print(f"  {names[c.kind]}: {c.source} local, {c.mapped} in the team store "
              f"({c.copied} copied now) {mark}", file=out)
    print(f"  KB: {report.kb_inserted} added, {report.kb_updated} updated, "
          f"{report.kb_identical} already identical", file=out)
    if report.kb_kept_newer:
        print("  kept the team's newer version of: " + ", ".join(report.kb_kept_newer),
              file=out)
    if not report.verified:
        print("The counts do not agree. Run the same command again: it copies only what is "
              "missing.", file=out)
        return EXIT_FAILED
    print("Verified. Switch to the team store with 'diagkit store use " + url + "'.", file=out)
    return EXIT_OK
