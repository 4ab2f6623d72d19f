"""Trend forecasts: when a disk or inode table fills up, memory growth that looks like a leak.

A forecast is a least-squares line through the recent samples of one series (the last
``window`` seconds, and only since the last sudden drop: a log rotation or a clean-up starts a new
trend). It is only believed when there are enough points, they cover enough time and the line
explains them (``r2``); otherwise the answer is "no forecast", never a made-up number.

The findings say in words what the forecast means and what to do, with the same severities as
probe findings so they go onto the dashboard, into bundles and cases unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from diagkit.probes.base import Finding, Severity
from diagkit.units import human_duration as _duration

WARN_LEFT_S = 8 * 3600.0
CRITICAL_LEFT_S = 2 * 3600.0
FULL_FRACTION = 0.999  # at or above this share of capacity a filesystem counts as full now


@dataclass(frozen=True)
class Trend:
    """A fitted line: ``rate`` units per second; ``r2`` how well it explains the points."""

    rate: float
    r2: float
    span: float  # seconds between the first and last sample used
    points: int
    last_time: float
    last_value: float


@dataclass(frozen=True)
class FillForecast:
    trend: Trend
    capacity: float

    @property
    def seconds_left(self) -> float | None:
        """Seconds until ``capacity`` at the fitted rate from the last value; None if not filling."""
        if self.trend.rate <= 0:
            return None
        return max(0.0, (self.capacity - self.trend.last_value) / self.trend.rate)

    @property
    def full_at(self) -> datetime | None:
        left = self.seconds_left
        if left is None:
            return None
        return datetime.fromtimestamp(self.trend.last_time + left, UTC)


def _since_last_drop(t: np.ndarray, v: np.ndarray, drop: float) -> tuple[np.ndarray, np.ndarray]:
    falls = np.nonzero(np.diff(v) < -drop)[0]
    if falls.size:
        start = int(falls[-1]) + 1
        return t[start:], v[start:]
    return t, v


def trend(times: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray, *,
          window: float = 3600.0, drop: float = math.inf, min_points: int = 6,
          min_span: float = 300.0, min_r2: float = 0.6) -> Trend | None:
    """The recent linear trend of a series, or None when the data cannot support one.

    ``drop``: a fall bigger than this between two samples starts the trend afresh after it.
    """
    t = np.asarray(times, dtype=float)
    v = np.asarray(values, dtype=float)
    keep = np.isfinite(t) & np.isfinite(v)
    t, v = t[keep], v[keep]
    if t.size == 0:
        return None
    recent = t >= t[-1] - window
    t, v = _since_last_drop(t[recent], v[recent], drop)
    if t.size < min_points or t[-1] - t[0] < min_span:
        return None
    tc = t - t.mean()
    denom = float(np.dot(tc, tc))
    if denom == 0:
        return None
    rate = float(np.dot(tc, v - v.mean()) / denom)
    residual = v - (v.mean() + rate * tc)
    total = float(np.dot(v - v.mean(), v - v.mean()))
    # A perfectly flat series explains itself perfectly: r2 = 1, rate 0.
    r2 = 1.0 if total == 0 else max(0.0, 1.0 - float(np.dot(residual, residual)) / total)
    if r2 < min_r2:
        return None
    return Trend(rate, r2, float(t[-1] - t[0]), int(t.size), float(t[-1]), float(v[-1]))


def fill_forecast(times: Sequence[float] | np.ndarray, used: Sequence[float] | np.ndarray,
                  capacity: float = 100.0, *, window: float = 3600.0,
                  min_r2: float = 0.6) -> FillForecast | None:
    """When ``used`` reaches ``capacity`` (e.g. disk used % against 100). A drop of more than
    2 % of capacity between samples (a clean-up) starts a new trend."""
    fit = trend(times, used, window=window, drop=0.02 * capacity, min_r2=min_r2)
    return FillForecast(fit, capacity) if fit else None


def human_duration(seconds: float) -> str:
    """A forecast's duration, rounded to the minute (the fit is not better than that), in the
    coarse spelling: "about 3 h", "about 2 h 10 min"."""
    return _duration(round(seconds / 60) * 60 if seconds >= 60 else seconds, coarse=True)


def full_now(forecast: FillForecast) -> bool:
    """Full already, or within a minute of it: nothing left to count down."""
    left = forecast.seconds_left
    return (forecast.trend.last_value >= FULL_FRACTION * forecast.capacity
            or (left is not None and left < 60))


def _severity(left: float, warn: float, critical: float) -> Severity | None:
    if left <= critical:
        return Severity.CRITICAL
    if left <= warn:
        return Severity.WARNING
    return None


def fill_finding(host: str, what: str, forecast: FillForecast | None, *, kind: str = "disk",
                 warn_left: float = WARN_LEFT_S, critical_left: float = CRITICAL_LEFT_S) -> Finding | None:
    """A finding when ``what`` (e.g. ``/var``) will be full within ``warn_left`` seconds.

    ``kind`` is ``disk`` or ``inodes``; the hint differs because the cure does.
    """
    if forecast is None:
        return None
    left = forecast.seconds_left
    last = forecast.trend.last_value
    noun = "inode table" if kind == "inodes" else "disk"
    # Already full (or within a sample of it): a countdown of "0 s" says nothing; say so.
    if full_now(forecast):
        detail = (f"{what} on {host} is {last:.1f} % used"
                  + (f" and still growing {forecast.trend.rate * 3600:.2f} points per hour"
                     if forecast.trend.rate > 0 else "")
                  + ": writes there fail now with 'No space left on device'.")
        return Finding(Severity.CRITICAL, f"The {noun} {what} is full now", detail,
                       _fill_hint(what, kind, full=True), probe="forecast")
    if left is None:
        return None
    severity = _severity(left, warn_left, critical_left)
    if severity is None:
        return None
    per_hour = forecast.trend.rate * 3600
    full_at = forecast.full_at
    when = full_at.strftime("%Y-%m-%d %H:%M UTC") if full_at else "?"
    detail = (f"{what} on {host} is {last:.1f} % used and growing "
              f"{per_hour:.2f} points per hour (straight-line fit over "
              f"{human_duration(forecast.trend.span)}, R\u00b2 {forecast.trend.r2:.2f}); at this "
              f"rate it is full around {when}.")
    return Finding(severity, f"The {noun} {what} fills up in about {human_duration(left)}",
                   detail, _fill_hint(what, kind), probe="forecast")


def _fill_hint(what: str, kind: str, *, full: bool = False) -> str:
    if kind == "inodes":
        return (f"Something is creating many small files: find the directory with "
                f"'find {what} -xdev -type f | cut -d/ -f2-3 | sort | uniq -c | sort -n | tail' "
                "and clean up (session files, mail queues, caches).")
    return (f"Find what is writing: 'du -xh --max-depth=2 {what} | sort -h | tail' and "
            "recently grown files; rotate or compress logs, or extend the filesystem"
            + (" now." if full else " before it fills."))


def leak_finding(host: str, times: Sequence[float] | np.ndarray,
                 used_percent: Sequence[float] | np.ndarray, *, min_span: float = 1800.0,
                 min_growth: float = 5.0, window: float = 4 * 3600.0) -> Finding | None:
    """Memory use that has grown steadily (R² >= 0.9) by at least ``min_growth`` points over
    at least ``min_span`` seconds: the shape of a leak rather than a cache warming up."""
    fit = trend(times, used_percent, window=window, drop=2.0, min_span=min_span, min_r2=0.9)
    if fit is None or fit.rate <= 0 or fit.rate * fit.span < min_growth:
        return None
    left = (100.0 - fit.last_value) / fit.rate
    severity = _severity(left, WARN_LEFT_S, CRITICAL_LEFT_S) or Severity.INFO
    return Finding(
        severity,
        f"Memory use has grown steadily for {human_duration(fit.span)}: possible leak",
        f"Memory used on {host} went up {fit.rate * fit.span:.1f} points in "
        f"{human_duration(fit.span)} ({fit.rate * 3600:.2f} points per hour, R\u00b2 "
        f"{fit.r2:.2f}) to {fit.last_value:.1f} %; at this rate memory runs out in about "
        f"{human_duration(left)}.",
        "Find the process that grows: compare 'ps -eo pid,rss,etime,comm --sort=-rss | head' "
        "a few minutes apart. A leaking service usually needs a restart now and a bug report "
        "with the growth curve.",
        probe="forecast")
