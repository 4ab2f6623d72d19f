"""LogFile: index, records, background open, compressed and rotated sets."""

from __future__ import annotations

import bz2
import gzip
import lzma
import threading
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
