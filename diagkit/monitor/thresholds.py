"""Thresholds that do not flap: warning/critical levels, a minimum duration and hysteresis.

Each level of a :class:`Threshold` is an independent switch per host and metric:

* it turns **on** once the value has been at or past the level for ``for_seconds`` without a
  break (a single spike does not alert);
* it turns **off** once the value has been back by more than ``hysteresis`` for
  ``clear_seconds`` without a break (a value hovering around the level does not clear and
  re-raise every sample).

The alert level of a series is the highest level that is on. Durations are measured between
sample times, so a pause in sampling (a host that dropped) does not count as "held"; a missing
value (``None`` or NaN) restarts the pending timers because nothing is known about that gap.

:class:`AlertTracker` turns the level changes of many series into :class:`Alert` records (start,
end, peak level, min/avg/max while active, acknowledged). No Qt, no I/O: the watcher, the CLI
and the GUI feed it samples and show what it returns.
"""

from __future__ import annotations

import enum
import fnmatch
import itertools
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from diagkit.errors import ConfigError


class Level(enum.IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Threshold:
    """Levels for one metric (``metric`` may be a glob such as ``disk.used:*``).

    ``above=True``: the value is bad when high (CPU %); ``False``: bad when low (free inodes).
    ``host``/``group`` limit it to one host or one host group (``None`` = every host); the most
    specific threshold wins (host over group over default).
    """

    metric: str
    warning: float | None = None
    critical: float | None = None
    above: bool = True
    for_seconds: float = 0.0
    clear_seconds: float | None = None  # None: same as for_seconds
    hysteresis: float = 0.0
    host: str | None = None
    group: str | None = None
    label: str = ""
    unit: str = ""

    def __post_init__(self) -> None:
        if self.warning is None and self.critical is None:
            raise ConfigError(f"Threshold for {self.metric!r} has neither a warning nor a "
                              "critical level; give at least one.")
        if self.warning is not None and self.critical is not None:
            wrong = self.critical < self.warning if self.above else self.critical > self.warning
            if wrong:
                word = "above" if self.above else "below"
                raise ConfigError(
                    f"Threshold for {self.metric!r}: the critical level ({self.critical:g}) must "
                    f"be {word} the warning level ({self.warning:g}); swap them.")
        if self.for_seconds < 0 or (self.clear_seconds or 0) < 0 or self.hysteresis < 0:
            raise ConfigError(f"Threshold for {self.metric!r}: durations and hysteresis cannot "
                              "be negative.")

    @property
    def clear_after(self) -> float:
        return self.for_seconds if self.clear_seconds is None else self.clear_seconds

    def levels(self) -> list[tuple[Level, float]]:
        out = []
        if self.warning is not None:
            out.append((Level.WARNING, self.warning))
        if self.critical is not None:
            out.append((Level.CRITICAL, self.critical))
        return out

    def crosses(self, value: float, level_value: float) -> bool:
        return value >= level_value if self.above else value <= level_value

    def back(self, value: float, level_value: float) -> bool:
        """Far enough back from ``level_value`` to count towards clearing it."""
        if self.above:
            return value < level_value - self.hysteresis
        return value > level_value + self.hysteresis

    def applies_to(self, host: str, metric: str, groups: Iterable[str] = ()) -> bool:
        if not fnmatch.fnmatchcase(metric, self.metric):
            return False
        if self.host is not None and self.host != host:
            return False
        return self.group is None or self.group in set(groups)

    @property
    def specificity(self) -> int:
        return (2 if self.host is not None else 1 if self.group is not None else 0) * 2 + (
            0 if any(c in self.metric for c in "*?[") else 1)


DEFAULT_THRESHOLDS: tuple[Threshold, ...] = (
    # Load is compared per core: 1.0 per core is a full machine; waiting work beyond that is
    # what users feel. Short peaks are normal (a build, a backup), hence the 5 minutes.
    Threshold("load.per_core", warning=1.5, critical=3.0, for_seconds=300, hysteresis=0.25,
              label="Load per core"),
    Threshold("cpu.usage", warning=90, critical=98, for_seconds=300, hysteresis=5,
              label="CPU busy", unit="%"),
    Threshold("cpu.iowait", warning=20, critical=50, for_seconds=180, hysteresis=5,
              label="CPU waiting on I/O", unit="%"),
    Threshold("mem.used", warning=90, critical=97, for_seconds=120, hysteresis=2,
              label="Memory used", unit="%"),
    Threshold("swap.used", warning=50, critical=90, for_seconds=120, hysteresis=5,
              label="Swap used", unit="%"),
    # Swapping *in* is the symptom of memory pressure (swap used alone may be stale pages).
    Threshold("swap.in", warning=100, critical=1000, for_seconds=60, hysteresis=20,
              label="Swap-in rate", unit="pages/s"),
    # Disk and inode fill do not flicker: no wait, a small hysteresis against rounding.
    Threshold("disk.used:*", warning=85, critical=95, hysteresis=1, label="Disk used", unit="%"),
    Threshold("inodes.used:*", warning=85, critical=95, hysteresis=1, label="Inodes used",
              unit="%"),
)


THRESHOLDS_FILE = "thresholds.json"


def parse_thresholds(value: object, *, source: str = THRESHOLDS_FILE) -> tuple[Threshold, ...]:
    """Thresholds from the JSON shape of ``thresholds.json``::

        {"thresholds": [
            {"metric": "disk.used:*", "warning": 80, "critical": 90, "group": "db",
             "hysteresis": 1},
            {"metric": "load.per_core", "warning": 2, "critical": 4, "for": "10m",
             "clear": "2m", "host": "build1"},
            {"metric": "inodes.free", "warning": 10, "above": false}
         ],
         "replace_defaults": false}

    User thresholds come before the defaults, so at equal specificity the user's wins.
    """
    from diagkit.units import parse_duration

    if not isinstance(value, dict) or not isinstance(value.get("thresholds", []), list):
        raise ConfigError(f"{source}: expected an object with a \"thresholds\" list.")
    out: list[Threshold] = []
    allowed = {"metric", "warning", "critical", "above", "for", "clear", "hysteresis", "host",
               "group", "label", "unit"}
    for i, item in enumerate(value.get("thresholds", []), start=1):
        where = f"{source}: threshold {i}"
        if not isinstance(item, dict) or not isinstance(item.get("metric"), str):
            raise ConfigError(f"{where}: each threshold needs a \"metric\" name.")
        unknown = set(item) - allowed
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; "
                              f"use {', '.join(sorted(allowed))}.")
        try:
            def seconds(key: str, item: dict = item) -> float | None:
                raw = item.get(key)
                if raw is None:
                    return None
                return float(raw) if isinstance(raw, int | float) else parse_duration(str(raw))

            def number(key: str, item: dict = item) -> float | None:
                raw = item.get(key)
                return None if raw is None else float(raw)

            out.append(Threshold(
                item["metric"], warning=number("warning"), critical=number("critical"),
                above=bool(item.get("above", True)), for_seconds=seconds("for") or 0.0,
                clear_seconds=seconds("clear"), hysteresis=number("hysteresis") or 0.0,
                host=item.get("host"), group=item.get("group"), label=str(item.get("label", "")),
                unit=str(item.get("unit", ""))))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where} ({item['metric']}): {exc}.") from None
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    if value.get("replace_defaults"):
        return tuple(out)
    return (*out, *DEFAULT_THRESHOLDS)


def load_thresholds() -> tuple[Threshold, ...]:
    """``config_dir()/thresholds.json`` if present (see :func:`parse_thresholds`), else defaults."""
    from diagkit import config

    path = config.config_dir() / THRESHOLDS_FILE
    if not path.exists():
        return DEFAULT_THRESHOLDS
    return parse_thresholds(config.read_json(path, {}), source=str(path))


def threshold_for(thresholds: Sequence[Threshold], host: str, metric: str,
                  groups: Iterable[str] = ()) -> Threshold | None:
    """The most specific threshold for this host and metric (host > group > everyone)."""
    groups = tuple(groups)
    best: Threshold | None = None
    for t in thresholds:
        if t.applies_to(host, metric, groups) and (best is None or t.specificity > best.specificity):
            best = t
    return best


@dataclass
class _Switch:
    on: bool = False
    since: float | None = None  # when the condition that would flip it started holding


@dataclass
class SeriesState:
    """The hysteresis state of one host's metric against its threshold."""

    threshold: Threshold
    switches: dict[Level, _Switch] = field(default_factory=dict)
    last_time: float | None = None

    def update(self, t: float, value: float | None) -> Level:
        """Feed one sample (``t`` in epoch seconds); return the alert level now in force."""
        if self.last_time is not None and t < self.last_time:
            return self.level  # out of order: ignore rather than rewind the timers
        self.last_time = t
        missing = value is None or math.isnan(value)
        for level, level_value in self.threshold.levels():
            sw = self.switches.setdefault(level, _Switch())
            if missing:
                sw.since = None
                continue
            assert value is not None
            flipping = (self.threshold.back(value, level_value) if sw.on
                        else self.threshold.crosses(value, level_value))
            if not flipping:
                sw.since = None
                continue
            if sw.since is None:
                sw.since = t
            needed = self.threshold.clear_after if sw.on else self.threshold.for_seconds
            if t - sw.since >= needed:
                sw.on = not sw.on
                sw.since = None
        return self.level

    @property
    def level(self) -> Level:
        on = [lv for lv, sw in self.switches.items() if sw.on]
        return max(on) if on else Level.OK


@dataclass(frozen=True)
class Alert:
    """One episode of a metric out of bounds on a host, from raise to clear."""

    id: int
    host: str
    metric: str
    level: Level  # the level now (OK once cleared)
    peak: Level
    start: datetime
    end: datetime | None = None
    minimum: float = math.nan
    maximum: float = math.nan
    total: float = 0.0
    count: int = 0
    acknowledged: bool = False
    threshold: Threshold | None = None

    @property
    def active(self) -> bool:
        return self.end is None

    @property
    def average(self) -> float:
        return self.total / self.count if self.count else math.nan

    def duration(self, now: datetime | None = None) -> float:
        end = self.end or now or datetime.now(UTC)
        return max(0.0, (end - self.start).total_seconds())

    @property
    def subject(self) -> str:
        """What the metric is about: the mount, interface or device after the ``:`` of its name
        (``disk.used:/var`` -> ``/var``; a probe's labels ``net.errors:iface=eth0`` ->
        ``eth0``); empty for a host-wide metric."""
        _, _, rest = self.metric.partition(":")
        if "=" not in rest:
            return rest
        return ", ".join(part.partition("=")[2] for part in rest.split(":") if part)

    def describe(self) -> str:
        t = self.threshold
        name = (t.label if t and t.label else self.metric.partition(":")[0])
        if self.subject:
            # Two full disks must read as two different alerts, not two identical lines.
            name = f"{name} on {self.subject}"
        unit = t.unit if t else ""
        state = "cleared" if not self.active else self.level.label
        return (f"{self.host}: {name} {state} (peak {self.peak.label}; min {self.minimum:.4g}, "
                f"avg {self.average:.4g}, max {self.maximum:.4g}{(' ' + unit) if unit else ''})")


@dataclass(frozen=True)
class AlertChange:
    """What :meth:`AlertTracker.feed` reports: an alert raised, changed level, or cleared."""

    alert: Alert
    previous: Level


class AlertTracker:
    """Alerts for many hosts and metrics from their samples.

    ``groups`` maps a host name to its groups, for group-scoped thresholds. Thread-safe: the
    watcher's threads feed it while the GUI reads and acknowledges.
    """

    def __init__(self, thresholds: Sequence[Threshold] = DEFAULT_THRESHOLDS, *,
                 groups: Mapping[str, Sequence[str]] | None = None, keep_cleared: int = 1000) -> None:
        self.thresholds = tuple(thresholds)
        self.groups = dict(groups or {})
        self.keep_cleared = keep_cleared
        self._states: dict[tuple[str, str], SeriesState | None] = {}
        self._active: dict[tuple[str, str], Alert] = {}
        self._cleared: list[Alert] = []
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    def _state(self, host: str, metric: str) -> SeriesState | None:
        key = (host, metric)
        if key not in self._states:
            t = threshold_for(self.thresholds, host, metric, self.groups.get(host, ()))
            self._states[key] = SeriesState(t) if t else None
        return self._states[key]

    def feed(self, host: str, when: datetime, values: Mapping[str, float | None]) -> list[AlertChange]:
        """Feed one sample of a host; return the alerts that were raised, changed or cleared."""
        with self._lock:
            return self._feed(host, when, values)

    def _feed(self, host: str, when: datetime, values: Mapping[str, float | None]) -> list[AlertChange]:
        t = when.timestamp()
        changes: list[AlertChange] = []
        for metric, value in values.items():
            state = self._state(host, metric)
            if state is None:
                continue
            before = state.level
            after = state.update(t, value)
            key = (host, metric)
            alert = self._active.get(key)
            good = value is not None and not math.isnan(value)
            if alert is not None and good:
                assert value is not None
                alert = replace(alert, minimum=min(alert.minimum, value) if alert.count else value,
                                maximum=max(alert.maximum, value) if alert.count else value,
                                total=alert.total + value, count=alert.count + 1)
                self._active[key] = alert
            if after == before:
                continue
            if alert is None:
                v = float(value) if good else math.nan  # type: ignore[arg-type]
                alert = Alert(next(self._ids), host, metric, after, after, when, minimum=v,
                              maximum=v, total=v if good else 0.0, count=1 if good else 0,
                              threshold=state.threshold)
                self._active[key] = alert
            elif after == Level.OK:
                alert = replace(alert, level=Level.OK, end=when)
                del self._active[key]
                self._cleared.append(alert)
                del self._cleared[:-self.keep_cleared]
            else:
                alert = replace(alert, level=after, peak=max(alert.peak, after))
                self._active[key] = alert
            changes.append(AlertChange(alert, before))
        changes += self._vanished(host, when, values)
        return changes

    def _vanished(self, host: str, when: datetime, values: Mapping[str, float | None]) -> list[AlertChange]:
        """Clear the alerts of labelled series that this sample no longer has (an unmounted
        filesystem's ``disk.used:/mnt/x``): nothing will ever bring them back to OK otherwise,
        and a fleet cell would stay red next to the current value. A series counts as gone only
        when the sample carries its family (other ``disk.used:`` series), so a sample of other
        metrics only does not clear it."""
        families = {m.split(":", 1)[0] for m in values if ":" in m}
        changes: list[AlertChange] = []
        for key in [k for k in self._active if k[0] == host]:
            metric = key[1]
            if ":" not in metric or metric in values or metric.split(":", 1)[0] not in families:
                continue
            alert = self._active.pop(key)
            self._states.pop(key, None)  # if it comes back, it starts from OK
            cleared = replace(alert, level=Level.OK, end=when)
            self._cleared.append(cleared)
            del self._cleared[:-self.keep_cleared]
            changes.append(AlertChange(cleared, alert.level))
        return changes

    def active(self) -> list[Alert]:
        """Active alerts, worst first, then oldest first."""
        with self._lock:
            return sorted(self._active.values(), key=lambda a: (-a.level, a.start, a.id))

    def history(self) -> list[Alert]:
        """Every alert still remembered, newest first."""
        with self._lock:
            return sorted([*self._active.values(), *self._cleared],
                          key=lambda a: (a.start, a.id), reverse=True)

    def acknowledge(self, alert_id: int) -> Alert:
        with self._lock:
            return self._acknowledge(alert_id)

    def _acknowledge(self, alert_id: int) -> Alert:
        for key, alert in self._active.items():
            if alert.id == alert_id:
                self._active[key] = replace(alert, acknowledged=True)
                return self._active[key]
        for i, alert in enumerate(self._cleared):
            if alert.id == alert_id:
                self._cleared[i] = replace(alert, acknowledged=True)
                return self._cleared[i]
        raise KeyError(f"no alert {alert_id}")
