"""``LogFile.summary()`` (what ``diagkit logs stats`` prints) equals the summary of the
per-record arrays, streamed batch by batch where it can and from the arrays where the whole
file decides the times (year-less dates, inherited times)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from diagkit.logs import logfile
from diagkit.logs.logfile import HeaderSummary, LogFile

DATA = Path(__file__).resolve().parent.parent / "data" / "logs"
LEVELS = ["INFO", "WARNING", "ERROR", "DEBUG"]


def _python_log(path: Path, n: int) -> None:
    path.write_text("".join(
        f"2024-03-01 10:{i // 3600 % 60:02d}:{i % 60:02d},{i % 1000:03d} - app - "
        f"{LEVELS[i % 4]} - message {i}\n" if i % 97 else f"not dated {i}\n" for i in range(n)))


def _same(a: HeaderSummary, b: HeaderSummary) -> None:
    assert a.levels.tolist() == b.levels.tolist()
    assert (a.without_time, a.first, a.last) == (b.without_time, b.first, b.last)


@pytest.mark.parametrize("batch", [1 << 12, 1 << 21])
def test_streamed_summary_equals_the_arrays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            batch: int) -> None:
    monkeypatch.setattr(logfile, "ARRAY_BYTES", batch)  # many batches, in two threads
    path = tmp_path / "app.log"
    _python_log(path, 60_000)
    with LogFile.open(path) as log:
        got = log.summary()
        assert not log.arrays_ready()  # streamed: no per-record arrays kept
        _same(got, HeaderSummary.of(log.levels(), log.timestamps()))
        assert got.without_time == 1  # the first line; later "not dated" lines continue records
        assert int(got.levels.sum()) == log.record_count and got.levels[40] > 14_000
        _same(log.summary(), got)  # now from the arrays


@pytest.mark.parametrize("path", ["rfc3164/lnav-with-header.log",
                                  "mysql-general/mariadb-10.11-general.log",
                                  "strace/ls-tt-T.log", "jsonl",
                                  "logcat/loghub-android-threadtime.log"])
def test_summary_of_real_files(path: str, tmp_path: Path) -> None:
    src = DATA / path
    if src.is_dir():
        src = min(src.iterdir())
    local = tmp_path / src.name
    local.write_bytes(src.read_bytes())
    os.utime(local, (1_764_900_000, 1_764_900_000))
    with LogFile.open(local) as streamed, LogFile.open(local) as reference:
        _same(streamed.summary(), HeaderSummary.of(reference.levels(), reference.timestamps()))
        assert streamed.summary().first is not None
