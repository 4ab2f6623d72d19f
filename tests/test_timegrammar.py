"""The one grammar of --since/--until: durations back from now, times local unless zoned."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from diagkit.timegrammar import TimeSyntaxError, as_utc, parse_moment, parse_span, seconds_back

NOW = datetime(2024, 5, 10, 15, 30)


@pytest.mark.parametrize(("text", "expected"), [
    ("2h", NOW - timedelta(hours=2)), ("3d", NOW - timedelta(days=3)),
    ("90m", NOW - timedelta(minutes=90)), ("1h30m", NOW - timedelta(minutes=90)),
    ("2W", NOW - timedelta(weeks=2)), ("-1h", NOW - timedelta(hours=1)),
    ("2 days ago", NOW - timedelta(days=2)), ("30 s", NOW - timedelta(seconds=30)),
    ("2024-03-01T10:00", datetime(2024, 3, 1, 10)), ("2024-03-01 10:00", datetime(2024, 3, 1, 10)),
    ("2024-03-01", datetime(2024, 3, 1)), ("10:00", datetime(2024, 5, 10, 10)),
    ("yesterday", datetime(2024, 5, 9)), ("today", datetime(2024, 5, 10)), ("now", NOW),
])
def test_forms(text: str, expected: datetime) -> None:
    assert parse_moment(text, now=NOW) == expected


def test_zoned_input_stays_zoned() -> None:
    t = parse_moment("2024-03-01T10:00:00+02:00", now=NOW)
    assert t.utcoffset() == timedelta(hours=2)
    assert parse_moment("2024-03-01T10:00Z", now=NOW) == datetime(2024, 3, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize("text", ["next tuesday", "last month", "yesterday-ish", "2x", "",
                                  "2 months", "0.5"])
def test_rejects_what_it_cannot_read(text: str) -> None:
    with pytest.raises(TimeSyntaxError, match="times without a zone are local time"):
        parse_moment(text, now=NOW)
    assert parse_span(text) is None


def test_naive_is_local_in_another_zone() -> None:
    # A naive time means the machine's local time: checked under a zone that is not UTC, in a
    # fresh interpreter (TZ is read at start-up).
    code = ("from datetime import datetime, UTC\n"
            "from diagkit.timegrammar import as_utc, parse_moment\n"
            "now = datetime(2024, 5, 10, 12, tzinfo=UTC)\n"
            "print(as_utc(parse_moment('2024-03-01T10:00', now=now)).isoformat())\n"
            "print(as_utc(parse_moment('10:00', now=now)).isoformat())\n"
            "print(as_utc(parse_moment('2h', now=now)).isoformat())\n")
    env = dict(os.environ, TZ="Asia/Kolkata")  # UTC+05:30, no daylight saving
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout.split()
    assert out == ["2024-03-01T04:30:00+00:00", "2024-05-10T04:30:00+00:00",
                   "2024-05-10T10:00:00+00:00"]


def test_seconds_back() -> None:
    assert seconds_back("6h") == 6 * 3600
    now = datetime(2024, 5, 10, 12, tzinfo=UTC)
    assert seconds_back("2024-05-10T11:00Z", now=now) == 3600
    back = seconds_back(datetime.fromtimestamp(time.time() - 7200).strftime("%Y-%m-%dT%H:%M:%S"))
    assert 7190 < back < 7300
    assert as_utc(datetime(2024, 1, 1, tzinfo=UTC)) == datetime(2024, 1, 1, tzinfo=UTC)
