"""Forecasts on synthetic fill curves with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from diagkit.monitor.forecast import (
    fill_finding,
    fill_forecast,
    leak_finding,
    trend,
)
from diagkit.probes.base import Severity


def test_straight_fill_gives_the_exact_time_left():
    t = np.arange(0, 3601, 60.0)          # one hour, a sample a minute
    used = 50 + 0.01 * t                  # 0.01 %/s = 36 %/h, 86 % at t=3600
    fc = fill_forecast(t, used)
    assert fc is not None
    assert math.isclose(fc.trend.rate, 0.01)
    assert math.isclose(fc.seconds_left, (100 - 86) / 0.01)  # 1400 s
    assert fc.full_at.timestamp() == pytest.approx(3600 + 1400)


def test_noisy_fill_is_close_to_the_true_answer():
    t = np.arange(0, 3601, 10.0)
    noise = 0.3 * np.sin(t / 37.0)       # deterministic wobble, +-0.3 points
    used = 40 + 0.005 * t + noise         # true: 58 % at t=3600, 42 % left / 0.005 = 8400 s
    fc = fill_forecast(t, used)
    assert fc is not None
    assert fc.seconds_left == pytest.approx(8400, rel=0.03)


def test_only_the_recent_window_counts():
    # Flat for 5 hours, then filling for the last hour: the forecast uses the last hour.
    t = np.arange(0, 6 * 3600 + 1, 60.0)
    used = np.where(t < 5 * 3600, 30.0, 30 + 0.002 * (t - 5 * 3600))
    fc = fill_forecast(t, used, window=3600)
    assert fc is not None and fc.trend.rate == pytest.approx(0.002)


def test_a_cleanup_starts_a_new_trend():
    # Grows to 90 %, drops to 60 % (logs removed), then grows at a slower rate.
    t = np.arange(0, 3601, 30.0)
    used = np.where(t < 1200, 70 + 0.0166 * t, 60 + 0.004 * (t - 1200))
    fc = fill_forecast(t, used)
    assert fc is not None
    assert fc.trend.rate == pytest.approx(0.004)
    assert fc.trend.points == int((3600 - 1200) / 30) + 1


@pytest.mark.parametrize("used", [
    np.full(61, 70.0),                              # flat
    70 - 0.001 * np.arange(0, 3601, 60.0),          # shrinking
])
def test_no_fill_no_time_left(used):
    fc = fill_forecast(np.arange(0, 3601, 60.0), used)
    assert fc is not None and fc.seconds_left is None
    assert fill_finding("h", "/", fc) is None


def test_not_enough_data_means_no_forecast():
    assert fill_forecast([0, 60, 120], [10, 20, 30]) is None              # 3 points
    assert fill_forecast(np.arange(0, 200, 10.0), np.arange(20.0)) is None  # < 5 min
    assert trend([], []) is None
    # Pure noise: the line explains nothing, so no forecast.
    rng = np.random.default_rng(7)
    assert fill_forecast(np.arange(0, 3601, 60.0), 50 + rng.normal(0, 5, 61)) is None


def test_fill_finding_severity_by_time_left():
    t = np.arange(0, 3601, 60.0)
    # 3 h left -> warning; 1 h left -> critical; 20 h left -> nothing.
    for rate_per_h, left_h, expected, words in [
            (10, 3, Severity.WARNING, "about 3 h"), (10, 1, Severity.CRITICAL, "about 1 h"),
            (1, 20, None, "")]:
        end = 100 - rate_per_h * left_h
        used = end - rate_per_h / 3600 * (3600 - t)
        finding = fill_finding("web1", "/var", fill_forecast(t, used))
        if expected is None:
            assert finding is None
        else:
            assert finding.severity is expected
            assert finding.title.endswith(words) and "/var" in finding.title
            assert "du -xh" in finding.hint
    inode = fill_finding("web1", "/srv", fill_forecast(t, 99 - 10 / 3600 * (3600 - t)),
                         kind="inodes")
    assert inode.title.startswith("The inode table /srv") and "find /srv" in inode.hint


def test_leak_needs_steady_growth_over_time():
    t = np.arange(0, 2 * 3600 + 1, 60.0)
    leak = 40 + 10 / 3600 * t + 0.2 * np.sin(t / 50)    # +10 points/h for 2 h -> 60 %
    finding = leak_finding("app1", t, leak)
    assert finding is not None and "possible leak" in finding.title
    assert finding.severity is Severity.WARNING          # 40 points left / 10 per h = 4 h
    # Cache warming up then flat: not steady growth.
    warm = np.minimum(40 + 20 / 600 * t, 60)
    assert leak_finding("app1", t, warm) is None
    # Growth too small to matter (1 point in 2 h).
    assert leak_finding("app1", t, 40 + 1 / 7200 * t) is None
    # Too short a span.
    assert leak_finding("app1", t[:20], leak[:20]) is None


def test_an_already_full_filesystem_is_full_now_not_full_in_zero_seconds():
    t = np.arange(0, 3601, 60.0)
    creeping = (t[-8:], np.linspace(99.9, 99.99, 8))   # a few KiB left, still being written
    flat_full = (t, np.full(61, 100.0))                 # full and nothing more gets in
    for times, used in (creeping, flat_full):
        finding = fill_finding("db1", "/var/lib/pgsql", fill_forecast(times, used))
        assert finding is not None and finding.severity is Severity.CRITICAL
        assert finding.title == "The disk /var/lib/pgsql is full now"
        assert "No space left on device" in finding.detail
    inodes = fill_finding("db1", "/srv", fill_forecast(t, np.full(61, 100.0)), kind="inodes")
    assert inodes.title == "The inode table /srv is full now"


def test_forecast_results_say_what_they_are_about(tmp_path):
    """From a real SQLite history: a full mount (0 s left, 'full now'), a filling one, a leak."""
    import time as _time

    from diagkit.monitor.recorder import forecast_results, forecasts_from_history
    from diagkit.store.sqlite import SqliteSampleStore

    now = _time.time()
    t = now - 3600 + np.arange(0, 3601, 60.0)
    with SqliteSampleStore(tmp_path / "history.db") as store:
        store.append(("db1", float(ti), {"disk.used:/var/lib/pgsql": 100.0,
                                          "disk.used:/srv": 80 + 10 * i / 60,
                                          "disk.used:/": 40.0})
                     for i, ti in enumerate(t))
        results = forecast_results(store, "db1", now=now + 1)
        by_metric = {r.metric: r for r in results}
        assert set(by_metric) == {"disk.used:/var/lib/pgsql", "disk.used:/srv"}
        full = by_metric["disk.used:/var/lib/pgsql"].to_dict()
        assert full["subject"] == "/var/lib/pgsql" and full["seconds_left"] == 0.0
        assert full["title"] == "The disk /var/lib/pgsql is full now"
        assert full["severity"] == "critical" and full["host"] == "db1"
        srv = by_metric["disk.used:/srv"]
        assert srv.seconds_left == pytest.approx(3600, rel=0.05)
        assert srv.finding.title == "The disk /srv fills up in about 1 h"
        assert [r.finding for r in results] == forecasts_from_history(store, "db1", now=now + 1)
