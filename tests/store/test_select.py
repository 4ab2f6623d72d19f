"""Which store a URL opens (diagkit.store.select): the embedded SQLite store without one, the
backend whose scheme it names otherwise; every store is the contract's Store (and the team
store an ImportTarget), checked on the real objects."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from diagkit import config
from diagkit.errors import ConfigError
from diagkit.store.contract import ImportTarget, SampleStore, Store
from diagkit.store.select import ENV, backend_for, describe, open_samples, open_store

REPO = Path(__file__).resolve().parents[2]


def test_no_url_opens_the_local_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "sqlite")
    with open_store() as store:
        assert isinstance(store, Store) and store.path == config.data_dir() / "diagkit.db"
    with open_samples() as samples:
        assert isinstance(samples, SampleStore)
    assert describe() == str(config.data_dir() / "diagkit.db")


def test_a_postgresql_url_opens_the_team_store(pg_url: str) -> None:
    with open_store(pg_url) as store:
        assert isinstance(store, Store) and isinstance(store, ImportTarget)
        assert store.path == describe(pg_url) and "@" in store.path
    with open_samples(pg_url) as samples:
        assert isinstance(samples, SampleStore)


def test_postgres_scheme_is_served_too() -> None:
    assert backend_for("postgres://a@h/db") is backend_for("postgresql://a@h/db")


def test_an_unknown_scheme_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"not a store URL diagkit knows.*postgresql://"):
        open_store("mysql://ann@db.example/cases")
    with pytest.raises(ConfigError, match="'sqlite' for the local store"):
        describe("cases.db")


def test_the_contract_imports_no_backend_nor_numpy() -> None:
    """Features import the records and protocols at start-up; the drivers and numpy come with
    the backend that is opened, not before."""
    code = ("import sys, diagkit.store, diagkit.store.select; "
            "print(sorted(m for m in ('numpy', 'sqlite3', 'psycopg', 'diagkit.store.sqlite', "
            "'diagkit.store.postgres') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"
