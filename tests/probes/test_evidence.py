"""Key tables under findings: picked, ordered, cut and escaped from real captures."""

from __future__ import annotations

import importlib
from pathlib import Path

from diagkit.probes import evidence
from diagkit.probes.base import ProbeData, ProbeResult, Table
from diagkit.probes.registry import BUILTIN_NAMES

DATA = Path(__file__).parent.parent / "data" / "probes"


def result(probe: str, capture: str) -> ProbeResult:
    raw = (DATA / probe / f"{capture}.txt").read_text()
    data = importlib.import_module(f"diagkit.probes.{probe}").parse(raw)
    return ProbeResult(probe, "web1", data, raw, "", 0, 0.1)


def test_every_spec_names_a_real_table_and_columns() -> None:
    # A renamed table or column would silently drop a key table: every spec must resolve.
    assert set(evidence.SPECS) <= set(BUILTIN_NAMES)
    captures = {"cpu": "faults_planted", "memory": "faults_planted", "disk": "app_tmpfs_full",
                "network": "troubled_host", "processes": "faults_planted",
                "files": "faults_planted", "services": "failed_units"}
    for probe, specs in evidence.SPECS.items():
        data = result(probe, captures[probe]).data
        for spec in specs:
            table = data.table(spec.table)
            assert table is not None, (probe, spec.table)
            assert {c.name for c in spec.columns} <= set(table.columns), (probe, spec.table)


def test_planted_faults_show_who_and_the_fullest_first() -> None:
    (top, blocked) = evidence.key_tables(result("cpu", "faults_planted"))
    assert top.headers == ("PID", "USER", "CPU", "S", "COMMAND")
    assert ("16188", "root", "45%", "R", "sh -c while :; do :; done") in top.rows
    assert [r[2] for r in blocked.rows] == ["stat /srv/app/stuck/x", "stat /srv/app/stuck/y"]
    (disk,) = evidence.key_tables(result("disk", "app_tmpfs_full"))
    assert disk.title == "Fullest filesystems"
    assert [r[0] for r in disk.rows] == ["/srv/data", "/srv/app/cache", "/", "/dev/shm"]
    assert disk.rows[1] == ("/srv/app/cache", "tmpfs", "20.0 MiB", "0 B", "100%", "0%")
    (memory,) = evidence.key_tables(result("memory", "faults_planted"))
    assert memory.rows[0] == ("16189", "2.0 GiB", "python3") and memory.total_rows == 5
    (files,) = evidence.key_tables(result("files", "faults_planted"))
    assert [r[0] for r in files.rows[:2]] == ["19756", "16190"]  # by share of the own limit


def test_text_lines_align_cut_and_escape() -> None:
    (memory,) = evidence.key_tables(result("memory", "faults_planted"))
    lines = evidence.text_lines(memory, indent="  ")
    assert lines == ["  Largest resident memory (3 of 5)",
                     "      PID        RSS  COMMAND",
                     "    16189    2.0 GiB  python3",
                     "    17708  843.2 MiB  python",
                     "    14518  238.8 MiB  python"]
    hostile = Table("top_rss", "Top", ("pid", "command", "rss_bytes", "rss"),
                    [(1, "evil\x1b[2J\nforged line", 10, "10 B"), (2, "x" * 300, 5, "5 B")])
    res = ProbeResult("memory", "h", ProbeData(tables=(hostile,)), "", "", 0, 0.1)
    lines = evidence.text_lines(evidence.key_tables(res)[0], width=60)
    assert lines[2].endswith("evil\\x1b[2J\\nforged line")
    assert len(lines) == 4 and all(len(line) <= 60 for line in lines)
    assert lines[3].endswith("...")


def test_failed_or_empty_results_show_nothing() -> None:
    failed = ProbeResult("cpu", "h", ProbeData(), "", "", 1, 0.1, error="boom")
    assert evidence.key_tables(failed) == []
    assert evidence.key_tables(result("processes", "normal")) == []  # no zombies, no users table
