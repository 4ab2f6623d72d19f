"""Threshold, minimum-duration and hysteresis logic on synthetic series."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from diagkit.errors import ConfigError
from diagkit.monitor.thresholds import (
    DEFAULT_THRESHOLDS,
    AlertTracker,
    Level,
    SeriesState,
    Threshold,
    threshold_for,
)

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def run(threshold: Threshold, values: list[float | None], step: float = 1.0) -> list[Level]:
    state = SeriesState(threshold)
    return [state.update(i * step, v) for i, v in enumerate(values)]


def test_level_needs_the_minimum_duration():
    th = Threshold("cpu", warning=80, for_seconds=3)
    # At t=1..4 the value is over 80: on at t=4 (held 3 s), not before.
    levels = run(th, [50, 85, 90, 85, 85, 85])
    assert levels == [Level.OK, Level.OK, Level.OK, Level.OK, Level.WARNING, Level.WARNING]


def test_a_spike_shorter_than_the_duration_never_alerts():
    th = Threshold("cpu", warning=80, for_seconds=3)
    assert set(run(th, [50, 99, 99, 50, 99, 99, 50, 99])) == {Level.OK}


def test_hysteresis_stops_flapping_around_the_level():
    th = Threshold("cpu", warning=80, hysteresis=5)
    # Raised at 80; 78 and 76 are within the 5-point band so it stays on; 74 clears it.
    assert run(th, [80, 78, 81, 76, 79, 74, 79]) == [
        Level.WARNING, Level.WARNING, Level.WARNING, Level.WARNING, Level.WARNING, Level.OK,
        Level.OK]
    # Without hysteresis the same series flaps on every crossing.
    flat = Threshold("cpu", warning=80)
    assert run(flat, [80, 78, 81, 76, 79, 74, 79]) == [
        Level.WARNING, Level.OK, Level.WARNING, Level.OK, Level.OK, Level.OK, Level.OK]


def test_clearing_waits_for_clear_seconds():
    th = Threshold("cpu", warning=80, for_seconds=0, clear_seconds=2)
    assert run(th, [90, 10, 10, 10, 90, 10]) == [
        Level.WARNING, Level.WARNING, Level.WARNING, Level.OK, Level.WARNING, Level.WARNING]


def test_escalates_to_critical_and_steps_back_down():
    th = Threshold("disk", warning=85, critical=95, hysteresis=1)
    assert run(th, [80, 86, 96, 94.5, 93.9, 84.5, 83.9]) == [
        Level.OK, Level.WARNING, Level.CRITICAL, Level.CRITICAL, Level.WARNING, Level.WARNING,
        Level.OK]


def test_warning_held_while_value_jumps_between_warning_and_critical():
    # The warning switch has been on continuously even though the value keeps crossing the
    # critical line for shorter than the duration: warning stays, critical never fires.
    th = Threshold("load", warning=1.5, critical=3.0, for_seconds=2)
    levels = run(th, [2, 2, 2, 4, 2, 4, 2, 4, 2])
    assert levels[2:] == [Level.WARNING] * 7


def test_below_direction():
    th = Threshold("free", warning=20, critical=5, above=False, hysteresis=2)
    assert run(th, [50, 19, 4, 6, 8, 21, 23]) == [
        Level.OK, Level.WARNING, Level.CRITICAL, Level.CRITICAL, Level.WARNING, Level.WARNING,
        Level.OK]


def test_missing_samples_restart_the_timers():
    th = Threshold("cpu", warning=80, for_seconds=2)
    assert run(th, [90, 90, None, 90, 90, float("nan"), 90, 90, 90]) == [
        Level.OK, Level.OK, Level.OK, Level.OK, Level.OK, Level.OK, Level.OK, Level.OK,
        Level.WARNING]


def test_bad_thresholds_are_refused_with_the_fix():
    with pytest.raises(ConfigError, match="swap them"):
        Threshold("cpu", warning=90, critical=80)
    with pytest.raises(ConfigError, match="neither"):
        Threshold("cpu")
    with pytest.raises(ConfigError, match="negative"):
        Threshold("cpu", warning=1, for_seconds=-1)


def test_most_specific_threshold_wins():
    general = Threshold("disk.used:*", warning=85)
    group = Threshold("disk.used:*", warning=70, group="db")
    host = Threshold("disk.used:/var", warning=99, host="web1")
    ths = [general, group, host]
    assert threshold_for(ths, "web2", "disk.used:/") is general
    assert threshold_for(ths, "db1", "disk.used:/", ["db"]) is group
    assert threshold_for(ths, "web1", "disk.used:/var") is host
    assert threshold_for(ths, "web1", "cpu.usage") is None
    assert threshold_for(DEFAULT_THRESHOLDS, "x", "disk.used:/home").warning == 85


def test_tracker_records_alert_episodes_with_stats():
    tracker = AlertTracker([Threshold("cpu.usage", warning=80, critical=95, for_seconds=10)])
    series = [50, 85, 90, 97, 99, 96, 70, 60]
    changes = []
    for i, v in enumerate(series):
        changes += tracker.feed("web1", T0 + timedelta(seconds=10 * i), {"cpu.usage": v,
                                                                           "unknown": 1})
    # t=20 warning (85 since t=10), t=40 critical (97 since t=30); back under both levels
    # from t=60 (70), so both switches clear at t=70 after the same 10 s: straight to OK.
    assert [(c.previous, c.alert.level) for c in changes] == [
        (Level.OK, Level.WARNING), (Level.WARNING, Level.CRITICAL), (Level.CRITICAL, Level.OK)]
    alert = changes[-1].alert
    assert alert.start == T0 + timedelta(seconds=20)
    assert alert.end == T0 + timedelta(seconds=70)
    assert alert.peak == Level.CRITICAL and not alert.active
    assert alert.duration() == 50
    # Samples from the raise (t=20) to the clear (t=70): 90, 97, 99, 96, 70, 60.
    assert (alert.minimum, alert.maximum) == (60, 99)
    assert math.isclose(alert.average, (90 + 97 + 99 + 96 + 70 + 60) / 6)
    assert tracker.active() == []
    assert tracker.history()[0].id == alert.id
    assert alert.describe().startswith("web1: cpu.usage cleared (peak critical")


def test_tracker_hosts_are_independent_and_acknowledge():
    tracker = AlertTracker([Threshold("disk.used:*", warning=85, critical=95)])
    tracker.feed("a", T0, {"disk.used:/": 96, "disk.used:/home": 10})
    tracker.feed("b", T0, {"disk.used:/": 86})
    active = tracker.active()
    assert [(a.host, a.metric, a.level) for a in active] == [
        ("a", "disk.used:/", Level.CRITICAL), ("b", "disk.used:/", Level.WARNING)]
    acked = tracker.acknowledge(active[1].id)
    assert acked.acknowledged and tracker.active()[1].acknowledged
    with pytest.raises(KeyError):
        tracker.acknowledge(999)


def test_group_thresholds_use_the_host_groups():
    tracker = AlertTracker([Threshold("mem.used", warning=95),
                            Threshold("mem.used", warning=50, group="batch")],
                           groups={"worker1": ["batch"]})
    assert tracker.feed("worker1", T0, {"mem.used": 60})[0].alert.level == Level.WARNING
    assert tracker.feed("web1", T0, {"mem.used": 60}) == []


def test_thresholds_file_adds_to_the_defaults_and_wins_ties(tmp_path):
    from diagkit import config
    from diagkit.monitor.thresholds import load_thresholds

    assert load_thresholds() == DEFAULT_THRESHOLDS
    path = config.config_dir() / "thresholds.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"thresholds": [{"metric": "disk.used:*", "warning": 70, "critical": 80,'
                    ' "for": "5m", "clear": 30, "group": "db"},'
                    ' {"metric": "load.per_core", "warning": 4}]}')
    ths = load_thresholds()
    assert len(ths) == len(DEFAULT_THRESHOLDS) + 2
    db = threshold_for(ths, "db1", "disk.used:/", ["db"])
    assert (db.warning, db.for_seconds, db.clear_after) == (70, 300, 30)
    assert threshold_for(ths, "web1", "disk.used:/").warning == 85      # default
    assert threshold_for(ths, "web1", "load.per_core").warning == 4     # user wins the tie


@pytest.mark.parametrize(("text", "message"), [
    ('{"thresholds": [{"warning": 1}]}', 'needs a "metric"'),
    ('{"thresholds": [{"metric": "cpu", "warn": 1}]}', "unknown field(s) warn"),
    ('{"thresholds": [{"metric": "cpu", "warning": 9, "critical": 1}]}', "swap them"),
    ('{"thresholds": [{"metric": "cpu", "warning": 9, "for": "soon"}]}', "not a duration"),
    ('{"thresholds": [{"metric": "cpu", "warning": "high"}]}', "threshold 1 (cpu)"),
    ('[1, 2]', 'expected an object'),
    ('{"thresholds": [', "not valid JSON"),
])
def test_bad_thresholds_file_names_the_problem(text, message):
    from diagkit import config
    from diagkit.monitor.thresholds import load_thresholds

    path = config.config_dir() / "thresholds.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_thresholds()


def test_alerts_name_the_mount_interface_or_device():
    """Two full disks read as two different lines, each naming its mount."""
    tracker = AlertTracker(DEFAULT_THRESHOLDS + (
        Threshold("net.errors:*", warning=1, label="Interface errors"),))
    tracker.feed("db1", T0, {"disk.used:/var/lib/pgsql": 100.0, "disk.used:/srv/app": 99.5,
                             "net.errors:iface=eth0": 5})
    lines = sorted(a.describe() for a in tracker.active())
    assert lines == [
        "db1: Disk used on /srv/app critical (peak critical; min 99.5, avg 99.5, max 99.5 %)",
        "db1: Disk used on /var/lib/pgsql critical (peak critical; min 100, avg 100, max 100 %)",
        "db1: Interface errors on eth0 warning (peak warning; min 5, avg 5, max 5)",
    ]


def test_alert_of_a_vanished_series_clears() -> None:
    """An unmounted filesystem's alert clears at the next sample that has other disks."""
    from datetime import UTC, datetime, timedelta

    tracker = AlertTracker([Threshold("disk.used:*", warning=85, critical=95, hysteresis=1)])
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    raised = tracker.feed("h", t0, {"disk.used:/": 27.0, "disk.used:/mnt/full": 100.0})
    assert [c.alert.level for c in raised] == [Level.CRITICAL]
    # a sample of other metrics only says nothing about the disks: the alert stays
    assert tracker.feed("h", t0 + timedelta(seconds=1), {"mem.used": 10.0}) == []
    assert [a.metric for a in tracker.active()] == ["disk.used:/mnt/full"]
    cleared = tracker.feed("h", t0 + timedelta(seconds=2), {"disk.used:/": 27.0})
    assert [(c.alert.metric, c.alert.active, c.previous) for c in cleared] == [
        ("disk.used:/mnt/full", False, Level.CRITICAL)]
    assert tracker.active() == []
    assert tracker.history()[0].end == t0 + timedelta(seconds=2)
    # mounted again and still full: a new alert, from OK
    again = tracker.feed("h", t0 + timedelta(seconds=3), {"disk.used:/": 27.0,
                                                          "disk.used:/mnt/full": 100.0})
    assert [(c.previous, c.alert.level) for c in again] == [(Level.OK, Level.CRITICAL)]
    assert again[0].alert.id != raised[0].alert.id
