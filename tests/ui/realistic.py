"""Realistic probe results for view tests: the captured outputs in ``tests/data/probes/`` run
through the real runner, plus scaled-up copies (40 processes, 30 mounts) for layout checks.

The captures were taken from faults planted on real machines; the scaling only repeats their
rows under new names (generated data for scale, never for what a view should say).
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

from diagkit.probes.base import ProbeResult, Table
from tests.probes.test_probe_snapshots import CAPTURES, run

LONG = "/var/lib/containers/storage/overlay/3f9c2d1e0b7a6c5d4e3f2a1b0c9d8e7f/merged/srv/data"


@cache
def captured(kind: str, capture: str) -> ProbeResult:
    """The result the probe ``kind`` gives for ``tests/data/probes/KIND/CAPTURE.txt``."""
    path = CAPTURES / kind / f"{capture}.txt"
    assert path.is_file(), path
    return run(Path(path))


def scaled(result: ProbeResult, table: str, rows: int) -> ProbeResult:
    """``result`` with its table ``table`` grown to ``rows`` rows (copies of the captured rows
    with a running number in the first text column), keeping the probe's order."""
    tables = []
    for t in result.data.tables:
        if t.name == table and t.rows:
            grown = []
            for n in range(rows):
                row = list(t.rows[n % len(t.rows)])
                for c, value in enumerate(row):
                    if isinstance(value, str) and value:
                        row[c] = f"{value}-{n}" if n >= len(t.rows) else value
                        break
                grown.append(row)
            if t.sorted_by:
                c = t.columns.index(t.sorted_by.lstrip("-"))
                grown.sort(key=lambda r: r[c] if r[c] is not None else 0,
                           reverse=t.sorted_by.startswith("-"))
            t = Table(t.name, t.title, t.columns, grown, sorted_by=t.sorted_by)
        tables.append(t)
    data = dataclasses.replace(result.data, tables=tuple(tables))
    return dataclasses.replace(result, data=data)


def busy_host_results() -> list[ProbeResult]:
    """One result per built-in probe, from the captures with the most in them, scaled to
    40 processes and 30 mounts (one with a very long path)."""
    results = [
        captured("system", "normal"),
        captured("cpu", "overloaded_vm"),
        captured("memory", "oom_pressure"),
        scaled(captured("disk", "disk_full"), "filesystems", 30),
        scaled(scaled(captured("processes", "zombies"), "top_cpu", 40), "top_rss", 40),
        captured("network", "troubled_host"),
        captured("services", "failed_units"),
        captured("kernel", "oom_and_io_errors"),
        captured("logs", "journal_errors"),
    ]
    disk = results[3]
    fs = next(t for t in disk.data.tables if t.name == "filesystems")
    rows = [list(r) for r in fs.rows]
    rows[-1][0] = LONG
    fs = Table(fs.name, fs.title, fs.columns, rows, sorted_by=fs.sorted_by)
    tables = tuple(fs if t.name == "filesystems" else t for t in disk.data.tables)
    results[3] = dataclasses.replace(disk, data=dataclasses.replace(disk.data, tables=tables))
    return results
