"""PgStore behaves exactly like SqliteStore (the reference): the same long random sequence of
operations on both, fresh databases, compared result by result (records, errors and messages).
Only ``updated`` (stamped with each store's own clock) is left out of the comparison."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from diagkit.store import UPDATABLE_FIELDS, Case, CaseDraft, JournalEntry
from diagkit.store.postgres import PgStore
from diagkit.store.sqlite import SqliteStore

WORDS = ["a", "A", "b", "é", "Ä", "z", "Z", "_", "-", "web1", "web10", "web2", "db", "ß", "日本"]
STATUSES = ["new", "triaged", "in_progress", "waiting_on_customer", "resolved", "closed"]
ZONES = [UTC, ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def canon(value: Any) -> Any:
    """Journal data compared with its types (True is not 1, "1" is not 1) but, as JSON numbers,
    1e20 == 10**20 and -0.0 == 0.0: PostgreSQL's jsonb keeps numbers as decimals (and keys
    sorted), so those two spellings are all it cannot give back; SQLite keeps the text."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, int | float):
        return ("number", float(value))
    if isinstance(value, list):
        return [canon(v) for v in value]
    return sorted((k, canon(v)) for k, v in value.items())


def normal(value: Any) -> Any:
    if isinstance(value, Case):
        return dataclasses.replace(value, updated=None)
    if isinstance(value, list):
        return [normal(v) for v in value]
    if isinstance(value, JournalEntry):
        return value, canon(value.data)
    if isinstance(value, BaseException):
        return (type(value).__name__, str(value))
    return value


class Ops:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.versions: dict[int, int] = {}

    def text(self) -> str:
        return " ".join(self.rng.choices(WORDS, k=self.rng.randint(0, 3)))

    def words(self) -> list[str]:
        return self.rng.choices(WORDS, k=self.rng.randint(0, 3))

    def when(self) -> datetime:
        t = T0 + timedelta(seconds=self.rng.randint(0, 10**6), microseconds=self.rng.randint(0, 999999))
        return t.astimezone(self.rng.choice(ZONES))

    def case_id(self) -> int:
        known = list(self.versions)
        return self.rng.choice(known) if known and self.rng.random() < 0.9 else 999

    def version(self, case_id: int) -> int:
        v = self.versions.get(case_id, 1)
        return v if self.rng.random() < 0.8 else max(1, v - 1)

    def data(self) -> dict[str, Any]:
        pool: list[Any] = [0, -7, 2**70, 0.1, 1.0, 2.5e-3, 1e20, -0.0, 1e-7, 123456789.123456789, True, False, None, "x", "é\n\"q\"",
                           [1, "two", [3.5]], {"nested": {"k": [None]}}]
        return {self.rng.choice(["host", "exit_status", "file", "i", "z", "ä"]):
                self.rng.choice(pool) for _ in range(self.rng.randint(0, 4))}

    def next(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.2 or not self.versions:
            return "create_case", (CaseDraft(
                rng.choice([self.text() or "t", "  "]),
                customer=rng.choice(["ACME", "acme", ""]), tags=self.words(),
                hosts=self.words(), severity=rng.choice([None, "S1", "S2"]),
                status=rng.choice(["new", "triaged"]), engineer=rng.choice(["ann", "bob"]),
                created=self.when()),), {}
        case_id = self.case_id()
        if roll < 0.4:
            fields: dict[str, Any] = {}
            for name in rng.sample(sorted(UPDATABLE_FIELDS), k=rng.randint(0, 3)):
                fields[name] = {
                    "tags": self.words(), "hosts": self.words(),
                    "csat": rng.choice([None, 1, 5, 6]),
                    "first_response_at": rng.choice([None, self.when()]),
                    "impact": rng.choice([None, "minor"]), "urgency": rng.choice([None, "high"]),
                    "severity": rng.choice([None, "S3"]),
                }.get(name, self.text())
            return "update_case", (case_id, self.version(case_id)), fields
        if roll < 0.55:
            return "record_status", (case_id, rng.choice(STATUSES)), {
                "expected_version": self.version(case_id), "engineer": "eve", "at": self.when(),
                "note": rng.choice(["", self.text()])}
        if roll < 0.75:
            return "append_journal", (case_id, rng.choice(["note", "customer_update"]),
                                      self.text()), {
                "engineer": rng.choice(["ann", ""]), "data": self.data(), "at": self.when(),
                "first_response": rng.random() < 0.3}
        if roll < 0.8:
            return rng.choice(["journal", "status_changes", "get_case"]), (case_id,), {}
        filters = {
            "status": lambda: rng.choice(["new", ["triaged", "resolved"], []]),
            "customer": lambda: rng.choice(["ACME", "acme"]),
            "engineer": lambda: rng.choice(["ann", "bob"]),
            "severity": lambda: rng.choice(["S1", ["S1", "S2"]]),
            "tag": lambda: rng.choice(WORDS), "host": lambda: rng.choice(WORDS),
            "updated_since": lambda: datetime.now(UTC) - timedelta(days=1),
            "limit": lambda: rng.randint(0, 5),
        }
        chosen = rng.sample(sorted(filters), k=rng.randint(0, 3))
        return "list_cases", (), {k: filters[k]() for k in chosen}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_operations_same_results(seed: int, tmp_path: Path, pg_url: str) -> None:
    ops = Ops(random.Random(seed))
    with SqliteStore(tmp_path / "ref.db") as ref, PgStore(pg_url) as pg:
        for step in range(250):
            name, args, kwargs = ops.next()
            results = []
            for store in (ref, pg):
                try:
                    results.append(getattr(store, name)(*args, **kwargs))
                except Exception as exc:  # noqa: BLE001 - compared between the stores
                    results.append(exc)
            want, got = (normal(r) for r in results)
            assert got == want, f"step {step}: {name}{args} {kwargs}"
            if isinstance(results[0], Case):
                ops.versions[results[0].id] = results[0].version_counter
            if name == "append_journal" and not isinstance(results[0], Exception):
                ops.versions[args[0]] = ref.get_case(args[0]).version_counter
