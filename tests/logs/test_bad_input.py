"""Messy real files: binary, invalid UTF-8, a 50 MB line, empty, truncated gzip, mixed formats,
times going backwards, a file growing or rotated while open."""

from __future__ import annotations

import gzip
import os
from datetime import timedelta
from pathlib import Path

from diagkit.logs.logfile import DISPLAY_CAP, LogFile
from diagkit.logs.model import Level, Query
from diagkit.logs.query import histogram, matching_indices, timeline
from tests.logs.test_query import IsoFormat


def test_binary_file_warns_and_still_indexes(tmp_path: Path) -> None:
    p = tmp_path / "core.bin"
    p.write_bytes(bytes(range(256)) * 200 + b"\nlast text line\n")
    with LogFile.open(p) as log:
        assert any("looks binary" in w for w in log.warnings)
        assert log.record_count > 1
        assert log.record(log.record_count - 1).raw == "last text line"


def test_invalid_utf8_gives_replacement_characters(tmp_path: Path) -> None:
    p = tmp_path / "bad.log"
    p.write_bytes(b"ok line\nbad \xff\xfe\xc3 bytes\n")
    with LogFile.open(p) as log:
        assert log.record(1).raw == "bad \ufffd\ufffd\ufffd bytes"
        assert matching_indices(log, Query(text="bytes")).tolist() == [1]
        assert not log.warnings


def test_50mb_single_line(tmp_path: Path) -> None:
    p = tmp_path / "huge.log"
    with open(p, "wb") as fh:
        fh.write(b"before\n")
        fh.write(b"x" * (50 << 20) + b" needle\n")
        fh.write(b"after\n")
    with LogFile.open(p) as log:
        assert log.record_count == 3
        rec = log.record(1)
        assert len(rec.raw) < DISPLAY_CAP + 200 and "record cut for display" in rec.raw
        assert len(log.raw_bytes(1)) == (50 << 20) + 7
        assert matching_indices(log, Query(text="needle")).tolist() == [1]
        assert log.record(2).raw == "after"


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.log"
    p.write_bytes(b"")
    with LogFile.open(p, background=True) as log:
        assert log.wait(5) and log.complete
        assert log.record_count == 0 and log.line_count == 0
        assert any("empty" in w for w in log.warnings)
        assert matching_indices(log, Query(text="x")).tolist() == []
        assert len(log.levels()) == 0
        assert histogram([log], timedelta(minutes=1)).starts == ()
        assert list(timeline([log])) == []


def test_truncated_gzip_keeps_what_was_readable(tmp_path: Path) -> None:
    data = b"".join(b"line %06d some text to compress\n" % i for i in range(200000))
    blob = gzip.compress(data)
    p = tmp_path / "syslog.2.gz"
    p.write_bytes(blob[: len(blob) // 2])
    with LogFile.open(p) as log:
        assert 1000 < log.record_count < 200000
        (warning,) = log.warnings
        assert "is truncated" in warning and str(p) in warning
        assert f"compressed byte {len(blob) // 2}" in warning
        assert log.record(0).raw == "line 000000 some text to compress"
        assert log.record(log.record_count - 2).raw.startswith("line ")
    with LogFile.open(p) as again:  # from the cache, warning kept
        assert again.warnings == [warning]


def test_mixed_formats_in_one_file(tmp_path: Path) -> None:
    p = tmp_path / "mixed.log"
    p.write_text("2024-03-01T10:00:00 ERROR app[1]: iso line\n"
                 "Mar  1 10:00:01 web1 sshd[2]: syslog line\n"
                 '{"msg": "json line"}\n'
                 "2024-03-01T10:00:02 INFO app[1]: iso again\n")
    with LogFile.open(p, format=IsoFormat()) as log:
        # foreign lines continue the record before them: kept, searchable, never lost
        assert log.record_count == 2
        assert log.record(0).level == Level.ERROR and "json line" in log.record(0).raw
        assert matching_indices(log, Query(text="json")).tolist() == [0]
    with LogFile.open(p) as detected:  # whatever format is detected, nothing is lost
        assert "".join(r.raw + "\n" for r in detected.records(0, 99)) == p.read_text()


def test_backwards_times_histogram_and_timeline(tmp_path: Path) -> None:
    p = tmp_path / "back.log"
    p.write_text("2024-03-01T10:05:00 INFO a[1]: late\n"
                 "2024-03-01T10:00:00 INFO a[1]: early\n"
                 "2024-03-01T10:02:00 ERROR a[1]: middle\n")
    with LogFile.open(p, format=IsoFormat()) as log:
        assert [r.message for r in timeline([log])] == ["early", "middle", "late"]
        h = histogram([log], timedelta(minutes=1))
        assert len(h.starts) == 6 and h.total() == (1, 0, 1, 0, 0, 1)


def test_file_growing_while_open(tmp_path: Path) -> None:
    p = tmp_path / "grow.log"
    p.write_text("one\ntwo\nthr")
    with LogFile.open(p) as log:
        assert log.record_count == 3 and log.record(2).raw == "thr"
        log.levels()
        with open(p, "a") as fh:
            fh.write("ee\nfour\n")
        r = log.refresh()
        assert r.new_records == 1 and not r.reopened
        assert [x.raw for x in log.records(0, 9)] == ["one", "two", "three", "four"]
        assert len(log.levels()) == 4
        assert log.refresh().new_records == 0
        assert matching_indices(log, Query(text="four")).tolist() == [3]


def test_file_rotated_while_open(tmp_path: Path) -> None:
    p = tmp_path / "rot.log"
    p.write_text("a\nb\nc\n")
    with LogFile.open(p) as log:
        os.rename(p, tmp_path / "rot.log.1")
        p.write_text("fresh\n")
        r = log.refresh()
        assert r.reopened and "replaced (rotated)" in (r.warning or "")
        assert [x.raw for x in log.records(0, 9)] == ["fresh"]
        assert r.warning in log.warnings
    q = tmp_path / "trunc.log"
    q.write_text("a\nb\nc\n")
    with LogFile.open(q) as log:
        with open(q, "w") as fh:
            fh.write("x\n")
        r = log.refresh()
        assert r.reopened and "truncated" in (r.warning or "")
        assert log.record_count == 1
