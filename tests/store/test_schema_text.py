"""Shipped migration scripts never change (users' databases already ran them): their digests are
pinned here. A new schema version is a new script appended to ``MIGRATIONS``, with its digest
added below; the shared DDL (``store/shared/schema.py``) must keep producing the same text."""

from __future__ import annotations

import hashlib

from diagkit.store.postgres import schema as pg_schema
from diagkit.store.sqlite import schema as sqlite_schema

SHIPPED = {
    "sqlite": ["77a186057e267cc1665106bfafafdab34a6a79d005e2f6d7a83827f7cba19319",
               "e8ff3b4ef30835cc8237188ed956072056c5bfffc257d439d314450f386159dd"],
    "postgres": ["d53a58a21845df660dc9460f22c60e0fb11c1f40b9fbe5dae2f4991d1d774b48"],
}


def test_shipped_migration_scripts_are_unchanged() -> None:
    for name, module in (("sqlite", sqlite_schema), ("postgres", pg_schema)):
        digests = [hashlib.sha256(s.encode()).hexdigest() for s in module.MIGRATIONS]
        shipped = SHIPPED[name]
        assert digests[:len(shipped)] == shipped, f"a shipped {name} migration script changed"
        assert len(digests) == len(shipped), f"new {name} migration: pin its digest here"
