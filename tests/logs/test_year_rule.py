"""Dates that a log leaves out, per format: a missing year follows the syslog rule per file
(the year rolls forward at New Year, the last record is not after the file's mtime + 1 day) and
a time of day without any date is put on the file's day (the day before when it would be more
than an hour after the mtime) - never on the year-less reference day LogFile parses with."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from diagkit.logs.logfile import LogFile

# the file was last written at 2027-01-01 00:30 UTC
MTIME = datetime(2027, 1, 1, 0, 30, tzinfo=UTC)
OLD, NEW = "2026-12-31T23:59:58", "2027-01-01T00:00:01"

# format -> (a line at Dec 31 23:59:58, a line at Jan 1 00:00:01), neither naming the year
YEAR_LESS = {
    "rfc3164": ("Dec 31 23:59:58 host prog[1]: one", "Jan  1 00:00:01 host prog[1]: two"),
    "logcat": ("12-31 23:59:58.000  1702  2395 D WindowManager: one",
               "01-01 00:00:01.000  1702  2395 I WindowManager: two"),
    "glog": ("I1231 23:59:58.000000  1234 main.cc:10] one",
             "W0101 00:00:01.000000  1234 main.cc:11] two"),
    "redis": ("1234:M 31 Dec 23:59:58.000 * one", "1234:M 01 Jan 00:00:01.000 # two"),
    "timestamped": ("[12.31 23:59:58] chrome.exe - one", "[01.01 00:00:01] chrome.exe - two"),
}
# format -> (a line at 23:59:58, a line at 00:00:01): times of day only
TIME_ONLY = {
    "strace": ("23:59:58.000000 openat(AT_FDCWD, \"/etc/ld.so.cache\", O_RDONLY) = 3",
               "00:00:01.000000 close(3)                 = 0"),
    "java": ("23:59:58.000 [main] INFO com.example.App - one",
             "00:00:01.000 [main] WARN com.example.App - two"),
    "timestamped": ("23:59:58 one thing", "00:00:01 another"),
}


def _log(tmp_path: Path, fmt: str, lines: tuple[str, str]) -> Path:
    path = tmp_path / f"{fmt}.log"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    os.utime(path, (MTIME.timestamp(), MTIME.timestamp()))
    return path


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _check(path: Path, fmt: str) -> None:
    want = [_epoch(OLD), _epoch(NEW)]
    for fast in (True, False):
        with LogFile.open(path, format=fmt) as log:
            assert log.record_count == 2
            log._compute_arrays(fast=fast)
            assert log.timestamps().tolist() == want, (fmt, fast)
            assert [log.record(i).timestamp.timestamp() for i in range(2)] == want  # type: ignore[union-attr]
    # records read before the arrays exist get the same dates
    with LogFile.open(path, format=fmt) as log:
        log.settle_years()
        got = [log.record(i).timestamp for i in range(2)]
        assert [t.timestamp() for t in got if t] == want
        assert not np.isnan(log.timestamps()).any()


@pytest.mark.parametrize("fmt", sorted(YEAR_LESS))
def test_year_rolls_forward_per_file(fmt: str, tmp_path: Path, utc: None) -> None:
    _check(_log(tmp_path, fmt, YEAR_LESS[fmt]), fmt)


@pytest.mark.parametrize("fmt", sorted(TIME_ONLY))
def test_time_of_day_is_dated_with_the_files_day(fmt: str, tmp_path: Path, utc: None) -> None:
    _check(_log(tmp_path, fmt, TIME_ONLY[fmt]), fmt)
