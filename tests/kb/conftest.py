from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from diagkit.probes.base import ProbeResult
from diagkit.probes.runner import HostSnapshot
from diagkit.store.contract import KbStore
from diagkit.store.sqlite import SqliteStore

PROBE_DATA = Path(__file__).resolve().parent.parent / "data" / "probes"
PROBES = ("cpu", "disk", "kernel", "logs", "memory", "network", "processes", "services", "system")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KbStore]:
    """Every store-level KB test runs on both backends: an SQLite file and a fresh database
    on the real PostgreSQL test server (tests/pg_fixture.py)."""
    if request.param == "sqlite":
        with SqliteStore(tmp_path / "kb.db") as s:
            yield s
        return
    from diagkit.store.postgres import PgStore

    with PgStore(request.getfixturevalue("pg_url")) as s:
        yield s


def captured(probe: str, capture: str, host: str = "web1") -> ProbeResult:
    """A probe result parsed by the probe's own parser from a real captured output."""
    raw = (PROBE_DATA / probe / capture).read_text()
    data = importlib.import_module(f"diagkit.probes.{probe}").parse(raw)
    return ProbeResult(probe=probe, host=host, data=data, raw=raw, stderr="", exit_status=0,
                       duration=0.1)


def snapshot(*pairs: tuple[str, str], host: str = "web1") -> HostSnapshot:
    return HostSnapshot(host=host, results=tuple(captured(p, c, host) for p, c in pairs),
                        started=datetime(2026, 1, 5, tzinfo=UTC), duration=1.0)
