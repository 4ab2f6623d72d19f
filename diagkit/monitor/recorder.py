"""What happens to watch events: history, alerts and forecasts, in one place for CLI and GUI.

``Recorder`` is the ``on_event`` of a :class:`~diagkit.monitor.watch.Watcher`. For each sample
it feeds the :class:`~diagkit.monitor.thresholds.AlertTracker` at once (alerts must not wait)
and buffers the values for the :class:`~diagkit.store.contract.SampleStore`, written in one
transaction every ``flush_every`` seconds (one commit per sample per host would be hundreds of
fsyncs a second with 50 hosts). Forecasts read the stored history, so they survive a restart.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from diagkit.monitor.forecast import fill_finding, fill_forecast, full_now, leak_finding
from diagkit.monitor.thresholds import AlertChange, AlertTracker
from diagkit.monitor.watch import WatchEvent
from diagkit.probes.base import Finding
from diagkit.store.contract import SampleStore


@dataclass(frozen=True)
class Outcome:
    """What one event led to (for the caller to print or show)."""

    event: WatchEvent
    alerts: tuple[AlertChange, ...] = ()


class Recorder:
    def __init__(self, tracker: AlertTracker | None = None, samples: SampleStore | None = None, *,
                 flush_every: float = 2.0,
                 listener: Callable[[Outcome], None] | None = None) -> None:
        self.tracker = tracker or AlertTracker()
        self.samples = samples
        self.flush_every = flush_every
        self.listener = listener
        self._lock = threading.Lock()
        self._pending: list[tuple[str, float, Mapping[str, float]]] = []
        self._last_flush = time.monotonic()

    def __call__(self, event: WatchEvent) -> Outcome:
        changes: tuple[AlertChange, ...] = ()
        with self._lock:
            if event.kind == "sample":
                changes = tuple(self.tracker.feed(
                    event.host, datetime.fromtimestamp(event.time, UTC), event.values))
                if self.samples is not None:
                    self._pending.append((event.host, event.time, dict(event.values)))
            flush = (self.samples is not None and self._pending
                     and time.monotonic() - self._last_flush >= self.flush_every)
        if flush:
            self.flush()
        outcome = Outcome(event, changes)
        if self.listener is not None:
            self.listener(outcome)
        return outcome

    def flush(self) -> int:
        """Write buffered samples now (also call this when the watch stops)."""
        with self._lock:
            batch, self._pending = self._pending, []
            self._last_flush = time.monotonic()
        if not batch or self.samples is None:
            return 0
        return self.samples.append(batch)

    def forecasts(self, host: str, *, now: float | None = None,
                  window: float = 3600.0) -> list[Finding]:
        """Disk and inode fill forecasts and a memory-leak check for ``host`` from its history."""
        return [r.finding for r in self.forecast_results(host, now=now, window=window)]

    def forecast_results(self, host: str, *, now: float | None = None,
                         window: float = 3600.0) -> list[ForecastResult]:
        """:meth:`forecasts` with what each is about (metric, mount, time left), for JSON."""
        if self.samples is None:
            return []
        self.flush()
        return forecast_results(self.samples, host, now=now, window=window)


@dataclass(frozen=True)
class ForecastResult:
    """One forecast finding and what it is about: ``metric`` (``disk.used:/var``,
    ``inodes.used:/var``, ``mem.used``), ``seconds_left`` (0 when full now, None for a leak
    without an end in sight)."""

    host: str
    metric: str
    finding: Finding
    seconds_left: float | None = None

    @property
    def subject(self) -> str:
        """The mount a fill forecast is about ("" for memory)."""
        return self.metric.partition(":")[2]

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "metric": self.metric, "subject": self.subject,
                "seconds_left": self.seconds_left, **self.finding.to_dict()}


def forecast_results(samples: SampleStore, host: str, *, now: float | None = None,
                     window: float = 3600.0) -> list[ForecastResult]:
    """Forecasts for ``host`` from stored samples, worst first (none without history)."""
    now = time.time() if now is None else now
    results: list[ForecastResult] = []
    for metric in samples.metrics(host):
        kind, _, mount = metric.partition(":")
        if kind in ("disk.used", "inodes.used") and mount:
            data = samples.read(host, metric, since=now - window, now=now)
            fc = fill_forecast(data.t, data.avg, window=window)
            f = fill_finding(host, mount, fc, kind="inodes" if kind == "inodes.used" else "disk")
            if f is not None and fc is not None:
                left = 0.0 if full_now(fc) else fc.seconds_left
                results.append(ForecastResult(host, metric, f, left))
    data = samples.read(host, "mem.used", since=now - 4 * 3600, now=now)
    if len(data) and not math.isnan(float(data.avg[-1])):
        leak = leak_finding(host, data.t, data.avg)
        if leak is not None:
            results.append(ForecastResult(host, "mem.used", leak))
    return sorted(results, key=lambda r: -r.finding.severity)


def forecasts_from_history(samples: SampleStore, host: str, *, now: float | None = None,
                           window: float = 3600.0) -> list[Finding]:
    """Forecast findings for ``host`` from stored samples, worst first (none without history)."""
    return [r.finding for r in forecast_results(samples, host, now=now, window=window)]
