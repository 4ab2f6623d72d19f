"""LogFile: index, records, background open, compressed and rotated sets."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import threading
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from diagkit.config import data_dir
from diagkit.errors import LogFormatError
from diagkit.logs import logfile
from diagkit.logs.logfile import IndexProgress, LogFile, open_logs
from tests.logs.test_query import IsoFormat, make_log, reference_records


def test_records_lines_and_offsets(tmp_path: Path) -> None:
    path = make_log(tmp_path / "a.log", 5, n=300)
    refs = reference_records(path, IsoFormat())
    with LogFile.open(path, format=IsoFormat()) as log:
        assert log.record_count == len(refs)
        assert log.line_count == len(path.read_text().splitlines())
        assert [r.raw for r in log.records(0, log.record_count)] == [raw for raw, _ in refs]
        for rec in log.records(0, 50):
            assert log.record_for_line(rec.first_line) == rec.index
            assert log.record_for_line(rec.last_line) == rec.index
        offs = log.record_offsets()
        assert np.all(np.diff(offs) > 0)
        assert log.raw_bytes(3).decode() == refs[3][0]
        assert log.levels().dtype == np.int8 and log.timestamps().dtype == np.float64
        with pytest.raises(IndexError):
            log.record(log.record_count)


def test_background_open_small_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logfile, "FIRST_CHUNK", 4096)
    monkeypatch.setattr(logfile, "CHUNK", 8192)
    path = make_log(tmp_path / "a.log", 6, n=3000)
    seen: list[IndexProgress] = []
    log = LogFile.open(path, format=IsoFormat(), background=True, progress=seen.append)
    with log:
        assert log.record_count > 0
        log.record(0)
        assert log.wait(30) and log.complete
        with LogFile.open(path, format=IsoFormat()) as sync:
            assert log.record_count == sync.record_count
            assert np.array_equal(log.record_offsets(), sync.record_offsets())
    assert seen[-1].fraction == 1.0 and seen[-1].bytes_done == path.stat().st_size


def test_cancel_stops_indexing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logfile, "FIRST_CHUNK", 4096)
    monkeypatch.setattr(logfile, "CHUNK", 4096)
    path = make_log(tmp_path / "a.log", 7, n=5000)
    stop = threading.Event()
    stop.set()
    with LogFile.open(path, background=True, cancel=stop) as log:
        log.wait(10)
        assert any("was stopped" in w for w in log.warnings)
        assert log.record_count < 5000  # set before opening: stops at once


@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"),
                                           (lzma.open, ".xz")])
def test_compressed(tmp_path: Path, opener, suffix: str) -> None:
    data = b"".join(b"row %d\n" % i for i in range(5000))
    path = tmp_path / f"x.log{suffix}"
    with opener(path, "wb") as fh:
        fh.write(data)
    with LogFile.open(path) as log:
        assert log.record_count == 5000 and not log.warnings
        assert log.record(4999).raw == "row 4999"
    cached = list((data_dir() / "cache" / "logs").glob("*.log"))
    assert len(cached) == 1 and cached[0].read_bytes() == data


def test_multi_member_gzip(tmp_path: Path) -> None:
    path = tmp_path / "m.gz"
    path.write_bytes(gzip.compress(b"a\nb\n") + gzip.compress(b"c\n"))
    with LogFile.open(path) as log:
        assert [r.raw for r in log.records(0, 9)] == ["a", "b", "c"] and not log.warnings


def test_rotated_set_oldest_first(tmp_path: Path) -> None:
    d = tmp_path / "var"
    d.mkdir()
    (d / "syslog.3.gz").write_bytes(gzip.compress(b"oldest\n"))
    (d / "syslog.2.gz").write_bytes(gzip.compress(b"older no newline"))
    (d / "syslog.1").write_text("old\n")
    (d / "syslog").write_text("current\n")
    (d / "other.log").write_text("x\n")
    (logs,) = open_logs([d / "syslog"])
    with logs:
        assert [r.raw for r in logs.records(0, 9)] == ["oldest", "older no newline", "old",
                                                       "current"]
        assert [p.name for p in logs.segments] == ["syslog.3.gz", "syslog.2.gz", "syslog.1",
                                                   "syslog"]
        assert logs.label == str(d / "syslog")
    folder = open_logs([d])
    assert sorted(Path(x.label).name for x in folder) == ["other.log", "syslog"]
    alone = open_logs([d / "syslog.1"])
    assert [r.raw for r in alone[0].records(0, 9)] == ["old"]
    for x in folder + alone:
        x.close()


def test_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(LogFormatError, match="no file at"):
        LogFile.open(tmp_path / "missing.log")
    with pytest.raises(LogFormatError, match="is a folder"):
        LogFile.open(tmp_path)
    (tmp_path / "a.log").write_text("x\n")
    with pytest.raises(LogFormatError, match="format"):
        LogFile.open(tmp_path / "a.log", format="no-such-format")


# --------------------------------------------------------------------------- the year of syslog


def _syslog(path: Path, stamps: list[str], mtime: datetime) -> Path:
    path.write_text("".join(f"{s} host app[1]: info: line {i}\n" for i, s in enumerate(stamps)))
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def _years(log: LogFile) -> list[str]:
    return [datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S") for t in log.timestamps()]


def test_year_rolls_forward_anchored_on_mtime(tmp_path: Path) -> None:
    stamps = ["Dec  1 10:00:00", "Jan  2 10:00:00"]
    p = _syslog(tmp_path / "a.log", stamps, datetime(2027, 1, 5))
    with LogFile.open(p) as log:
        assert _years(log) == ["2026-12-01 10:00:00", "2027-01-02 10:00:00"]
        # what a record shows agrees (``diagkit logs FILE --json``)
        assert [r.timestamp.year for r in log.records(0, 2)] == [2026, 2027]
    # a file last written in December: its January is this year's, its December last year's
    p = _syslog(tmp_path / "b.log", stamps, datetime(2026, 12, 20))
    with LogFile.open(p) as log:
        assert _years(log) == ["2025-12-01 10:00:00", "2026-01-02 10:00:00"]


def test_year_never_runs_backwards(tmp_path: Path) -> None:
    months = ["Oct", "Nov", "Dec", "Jan", "Feb", "Jun", "Dec", "Jan", "Mar"]
    stamps = [f"{m} {d:>2} 0{h}:00:00" for m in months for d in (1, 15) for h in (1, 5)]
    # a late line around midnight of the new year (after "Dec 15", before "Jan  1 01:00")
    stamps[12:12] = ["Jan  1 00:00:01", "Dec 31 23:59:59", "Jan  1 00:00:02"]
    p = _syslog(tmp_path / "long.log", stamps, datetime(2025, 3, 20))
    with LogFile.open(p) as log:
        t = log.timestamps()
        assert not np.isnan(t).any()
        assert (np.diff(t) > -86400).all()  # never back by more than a day
        years = [int(y[:4]) for y in _years(log)]
        assert years[0] == 2023 and years[-1] == 2025
        assert _years(log)[-1] == "2025-03-15 05:00:00"
        late = _years(log)[12:15]
        assert late == ["2024-01-01 00:00:01", "2023-12-31 23:59:59", "2024-01-01 00:00:02"]
        fast = log.timestamps().copy()
    with LogFile.open(p) as slow:
        slow._compute_arrays(fast=False)
        assert np.array_equal(slow.timestamps(), fast)


def test_year_of_a_rotated_set_comes_from_the_files_not_the_cache(tmp_path: Path) -> None:
    d = tmp_path / "var"
    d.mkdir()
    feb = datetime(2025, 2, 10)
    for name, stamps in (("syslog.2.gz", ["Dec 30 10:00:00"]), ("syslog.1", ["Jan 15 10:00:00"]),
                         ("syslog", ["Feb  9 10:00:00"])):
        target = d / name
        text = "".join(f"{s} host app[1]: x\n" for s in stamps)
        if name.endswith(".gz"):
            target.write_bytes(gzip.compress(text.encode()))
        else:
            target.write_text(text)
        os.utime(target, (feb.timestamp(), feb.timestamp()))
    (log,) = open_logs([d / "syslog"])
    with log:
        assert _years(log) == ["2024-12-30 10:00:00", "2025-01-15 10:00:00",
                               "2025-02-09 10:00:00"]


def test_year_plan_follows_a_growing_file(tmp_path: Path) -> None:
    p = _syslog(tmp_path / "grow.log", ["Dec 31 23:00:00"], datetime(2024, 12, 31, 23, 30))
    with LogFile.open(p) as log:
        assert _years(log) == ["2024-12-31 23:00:00"]
        with open(p, "a") as fh:
            fh.write("Jan  1 00:10:00 host app[1]: info: new year\n")
        log.refresh()
        assert _years(log) == ["2024-12-31 23:00:00", "2025-01-01 00:10:00"]


def test_cli_json_shows_the_planned_year(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    p = _syslog(tmp_path / "c.log", ["Dec  1 10:00:00", "Jan  2 10:00:00"], datetime(2027, 1, 5))
    r = subprocess.run([sys.executable, "-m", "diagkit", "logs", str(p), "--json"],
                       capture_output=True, text=True, timeout=60, check=False)
    stamps = [x["timestamp"][:10] for x in json.loads(r.stdout)["records"]]
    assert stamps == ["2026-12-01", "2027-01-02"]
