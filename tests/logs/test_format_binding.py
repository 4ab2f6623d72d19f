"""A format given by name reads a file like the detected one (W3C and Zeek bind their columns
from the file's header), and formats whose writer stamps a time only when it changes
(MariaDB's general log) give the records between stamps the time before them."""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from diagkit.logs.logfile import LogFile

DATA = Path(__file__).resolve().parent.parent / "data" / "logs"


@pytest.mark.parametrize("name, path", [("w3c", "w3c/lnav-iis.log"),
                                        ("zeek", "zeek/lnav-conn.log")])
def test_format_given_by_name_reads_the_columns_of_the_header(name: str, path: str) -> None:
    with LogFile.open(DATA / path) as detected, LogFile.open(DATA / path, format=name) as named:
        assert detected.format.name == named.format.name == name
        assert named.record_count == detected.record_count >= 2
        for i in range(named.record_count):
            a, b = detected.record(i), named.record(i)
            assert (a.timestamp, a.level, a.source, a.message, a.extra) == \
                (b.timestamp, b.level, b.source, b.message, b.extra)
        assert any(r.extra for r in named.records(0, named.record_count))
        assert np.array_equal(detected.timestamps(), named.timestamps(), equal_nan=True)


def test_records_without_a_time_take_the_time_before_them(tmp_path: Path) -> None:
    src = DATA / "mysql-general" / "mariadb-10.11-general.log"
    path = tmp_path / src.name
    shutil.copyfile(src, path)
    with LogFile.open(path) as log:
        assert log.format.name == "mysql-general" and log.format.inherits_time
        times = log.timestamps()
        stamped = datetime(2026, 12, 5, 10, 18, 32).timestamp()
        assert np.isnan(times[0])  # the file's header: nothing before it
        assert (times[1:] == stamped).all()
        records = log.records(0, log.record_count)
        assert records[0].timestamp is None
        assert {r.timestamp for r in records[1:]} == {datetime(2026, 12, 5, 10, 18, 32)}
        assert records[2].source == "Query" and records[2].message == "CREATE DATABASE d"


def test_records_take_the_time_before_them_in_big_files_too(tmp_path: Path) -> None:
    # the carried time also holds across the batches the arrays are computed in
    path = tmp_path / "general.log"
    lines = ["Time\t\t    Id Command\tArgument"]
    for s in range(300):
        lines.append(f"261205 10:{s // 60:02d}:{s % 60:02d}\t     3 Query\tSELECT {s}")
        lines += [f"\t\t     3 Query\tSELECT {s}.{k}" for k in range(1000)]
    path.write_text("\n".join(lines) + "\n")
    os.utime(path, (time.time(), time.time()))
    with LogFile.open(path, format="mysql-general") as log:
        times = log.timestamps()
        assert log.record_count == 1 + 300 * 1001
        assert np.isnan(times[0]) and not np.isnan(times[1:]).any()
        assert times[-1] == datetime(2026, 12, 5, 10, 4, 59).timestamp()
        assert log.record(1001 * 150 + 5).timestamp == datetime(2026, 12, 5, 10, 2, 30)
