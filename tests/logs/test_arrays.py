"""levels()/timestamps(): the vectorised path (the extractors of :mod:`diagkit.logs.vectorized`)
must give exactly what parsing every header in Python gives (``_compute_arrays(fast=False)``)."""

from __future__ import annotations

import os
import random
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from diagkit.logs import vectorized
from diagkit.logs.logfile import LogFile
from tests.logs.labelled import FORMAT_NAMES, generate

DATA = Path(__file__).resolve().parent.parent / "data" / "logs"


def _both(path: Path, **kw: object) -> tuple[LogFile, LogFile]:
    fast = LogFile.open(path, **kw)  # type: ignore[arg-type]
    slow = LogFile.open(path, **kw)  # type: ignore[arg-type]
    fast._compute_arrays(fast=True)
    slow._compute_arrays(fast=False)
    return fast, slow


def _assert_same(path: Path, **kw: object) -> LogFile:
    fast, slow = _both(path, **kw)
    try:
        assert fast.format.name == slow.format.name
        assert fast.record_count == slow.record_count
        lf, ls = fast.levels(), slow.levels()
        bad = np.flatnonzero(lf != ls)
        assert not len(bad), [(int(i), fast.raw_bytes(int(i)), int(lf[i]), int(ls[i]))
                              for i in bad[:5]]
        tf, ts = fast.timestamps(), slow.timestamps()
        same = (tf == ts) | (np.isnan(tf) & np.isnan(ts))
        bad = np.flatnonzero(~same)
        assert not len(bad), [(int(i), fast.raw_bytes(int(i)), tf[i], ts[i]) for i in bad[:5]]
    finally:
        slow.close()
    return fast


@pytest.mark.parametrize("sample", sorted(p for p in DATA.rglob("*") if p.is_file()),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_samples(sample: Path) -> None:
    _assert_same(sample).close()


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated(fmt: str, seed: int, tmp_path: Path) -> None:
    path = tmp_path / f"{fmt}.log"
    path.write_text(generate(fmt, 1500, seed).text, "utf-8")
    _assert_same(path).close()


def test_syslog_fast_path_is_used(tmp_path: Path) -> None:
    path = tmp_path / "syslog"
    path.write_text(generate("rfc3164", 2000, 4).text, "utf-8")
    with _assert_same(path) as log:
        assert log.format.name == "rfc3164"
        assert vectorized.extractor_for(log.format.name) is not None
        assert not np.isnan(log.timestamps()).any()
        assert (log.levels() != 0).any()


def _write(path: Path, lines: list[bytes], mtime: datetime, newline: bytes = b"\n",
           tail: bool = True) -> Path:
    path.write_bytes(newline.join(lines) + (newline if tail else b""))
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def test_syslog_dst_local_time(tmp_path: Path, local_tz: None) -> None:
    # Berlin: clocks go forward 2024-03-31 02:00, back 2024-10-27 03:00
    lines = []
    for mon, day in (("Mar", 30), ("Mar", 31), ("Oct", 27), ("Oct", 26)):
        for h in range(5):
            for m in (0, 29, 59):
                lines.append(f"{mon} {day:>2} {h:02d}:{m:02d}:07 host app[1]: x".encode())
    path = _write(tmp_path / "dst.log", lines, datetime(2024, 12, 1))
    with _assert_same(path) as log:
        assert not np.isnan(log.timestamps()).all()
    _assert_same(path, default_tz="America/New_York").close()
    _assert_same(path, default_tz="UTC").close()


def test_syslog_new_year(tmp_path: Path) -> None:
    lines = [f"{d} 23:59:5{i} host cron[2]: error: at {d}".encode()
             for i, d in enumerate(("Dec 30", "Dec 31", "Jan  1", "Jan  2", "Feb 29", "Feb 28"))]
    for mtime in (datetime(2025, 1, 1, 0, 30), datetime(2024, 12, 31, 23, 0),
                  datetime(2024, 3, 1), datetime(2023, 12, 30, 23, 59, 55)):
        path = _write(tmp_path / f"ny-{mtime:%Y%m%d%H}.log", lines, mtime)
        _assert_same(path).close()


def test_odd_records(tmp_path: Path) -> None:
    lines = [
        b"", b"   ", b"no timestamp at all: error here",
        b"Jan  2 03:04:05 host prog[12]: error: disk", b"Jan  2 03:04:05 host prog: [WARN] x",
        b"Jan  2 03:04:05 host prog[12]:error: no space", b"Jan  2 03:04:05 host error: x",
        b"Jan  2 03:04:05 host prog[x]: error: bad pid", b"Jan  2 03:04:05 host prog[]: err x",
        b"Jan  2 03:04:05 host  prog: two spaces", b"Jan  2 03:04:05 host\tprog: tab",
        b"Jan  2 03:04:05 host", b"Jan  2 03:04:05 host ", b"Jan  2 03:04:05 host prog:",
        b"Jan  2 03:04:05 host prog: ", b"Jan  2 03:04:05 host prog:  error: indented",
        b"Jan  2 03:04:05 h\xc3\xa9st prog: error", b"Jan  2 03:04:05 host prog: cr\xc4\xb1t x",
        b"Jan  2 03:04:05 host prog: \xe2\x80\x83error", b"Jan  2 03:04:05 host prog: error\x00",
        b"Jan  2 03:04:05 host prog: <crit> boom", b"Jan  2 03:04:05 host prog: (info) x",
        b"Jan  2 03:04:05 host prog: warning:x", b"Jan  2 03:04:05 host prog: warnings x",
        b"Jan  2 03:04:05 host prog: ERROR", b"Jan  2 03:04:05 host prog: Critical] x",
        b"Jan  2 03:04:05 2024 host prog: year", b"Jan  2 03:04:05 2024 host",
        b"Jan  2 03:04:05.123 host prog: frac", b"<13>Jan  2 03:04:05 host prog: pri",
        b"Jan 2 03:04:05 host prog: one-space day", b"Jan 32 03:04:05 host prog: bad day",
        b"Feb 30 03:04:05 host prog: bad day", b"Jan  2 24:04:05 host prog: bad hour",
        b"Jan  2 03:04:60 host prog: leap second", b"Foo  2 03:04:05 host prog: bad month",
        b"jan  2 03:04:05 host prog: lower month",
        b"Jan  2 03:04:05 " + b"h" * 80 + b" prog: error: long host",
        b"Jan  2 03:04:05 host " + b"p" * 60 + b": error: long tag",
        b"Jan  2 03:04:05 host prog[" + b"1" * 50 + b"]: error: long pid",
        b"Jan  2 03:04:05 host prog: " + b"x" * 600 + b" error",
        b"Jan  2 03:04:05 host p: " + b" " * 30 + b"error: far",
        b"2024-01-02T03:04:05.123456+01:00 host prog[1]: error: iso",
        b"Jan  2 03:04:05 host prog[1]: error: truncated last line",
    ]
    path = _write(tmp_path / "odd.log", lines, datetime(2024, 6, 1), tail=False)
    _assert_same(path, format="rfc3164").close()
    crlf = _write(tmp_path / "crlf.log", lines, datetime(2024, 6, 1), newline=b"\r\n")
    _assert_same(crlf, format="rfc3164").close()


_PIECES = [b"Jan", b"Dec", b"Feb", b"  ", b" ", b"1", b"29", b"31", b"9", b"03:04:05", b"23:59:59",
           b"host", b"prog", b"[", b"]", b"123", b":", b": ", b"error", b"WARN", b"info",
           b"critical", b"<", b">", b"(", b")", b"\t", b"\r", b"\x00", b"\xc4\xb1", b"\xc3",
           b"x", b"2024", b".5", b"err", b"notice:", b"\xe2\x80\x83"]


@pytest.mark.parametrize("seed", range(6))
def test_random_syslog_lines(seed: int, tmp_path: Path) -> None:
    r = random.Random(seed)
    base = generate("rfc3164", 400, seed).lines
    lines: list[bytes] = []
    for ln in base:
        data = ln.encode()
        for _ in range(r.randint(0, 3)):  # splice random pieces near the header
            at = r.randint(0, min(len(data), 60))
            cut = r.randint(0, 3)
            data = data[:at] + r.choice(_PIECES) + data[at + cut:]
        lines.append(data)
    path = _write(tmp_path / "fuzz.log", lines, datetime(2024, 3, 2), tail=bool(seed % 2))
    _assert_same(path, format="rfc3164").close()
