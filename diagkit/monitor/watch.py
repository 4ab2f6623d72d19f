"""Watch many hosts at once: sample every few seconds, mark a dropped host down, reconnect it
with backoff, and never let one slow or dead host delay the others.

Design:

* one scheduler thread keeps a heap of "host X is due at time T"; a single bounded thread pool
  runs the due work (connect or sample). A host is back in the heap only once its work is done,
  so a slow host never has two samples queued: the ticks it missed are skipped (counted in
  :attr:`HostState.skipped`) and its next sample lands on the interval grid again.
* a failed connect or sample marks the host **down** with the error's message and schedules the
  next attempt after a growing delay (:data:`BACKOFF`), so a dead host costs one connect attempt
  per backoff step, not one per interval.
* every outcome goes to ``on_event`` as a :class:`WatchEvent`, from a pool thread: the CLI
  prints, the GUI re-emits it as a Qt signal, the recorder stores samples and feeds alerts.

:class:`WatchSampler` extends the live sampler's script with disk and inode use per mount (the
mounts the disk probe reports, through its own reading) and the process counts, so thresholds
and forecasts have what they need from the same single run.
"""

from __future__ import annotations

import heapq
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Self

from diagkit.errors import DiagkitError
from diagkit.monitor.live import SCRIPT, LiveSampler
from diagkit.probes import disk
from diagkit.probes.base import split_sections
from diagkit.transport.base import Transport

log = logging.getLogger(__name__)

BACKOFF: tuple[float, ...] = (2.0, 5.0, 10.0, 30.0, 60.0)
"""Seconds before reconnect attempt 1, 2, 3...; the last value repeats."""

WATCH_SCRIPT = SCRIPT.replace("exit 0\n", "") + r"""echo "@@section mounts"
cat /proc/mounts 2>/dev/null
echo "@@section df"
df -Pk 2>/dev/null
echo "@@section dfi"
df -Pi 2>/dev/null
echo "@@section procs"
set -- $p/[0-9]*
echo "count $#"
exit 0
"""


def parse_extra(output: str) -> dict[str, float]:
    """Disk/inode use per mount (``disk.used:/var``, ``inodes.used:/var``) and process counts.

    The mounts are the ones the disk probe reports (its reading of the same ``mounts``, ``df``
    and ``dfi`` sections), so a mount the probe hides is not watched and one it judges is.
    """
    sec = split_sections(output)
    values: dict[str, float] = {}
    for fs in disk.read(output).filesystems:
        values[f"disk.used:{fs.mount}"] = fs.used_percent
        if fs.inodes_used_percent is not None:
            values[f"inodes.used:{fs.mount}"] = fs.inodes_used_percent
    m = re.search(r"^count (\d+)$", sec.get("procs", ""), re.MULTILINE)
    if m and int(m.group(1)) > 1:  # 1 means the glob did not match: no /proc
        values["procs.count"] = float(m.group(1))
    load = sec.get("loadavg", "").split()
    if len(load) >= 4 and "/" in load[3]:
        running = load[3].split("/")[0]
        if running.isdigit():
            values["procs.running"] = float(running)
    return values


class WatchSampler(LiveSampler):
    """The live sample plus disks, inodes, processes and, optionally, probes' metrics.

    ``probes`` (e.g. user script probes) run after the sample on the same connection; their
    metrics become ``<probe>.<metric>`` (``:label=value`` pairs appended when labelled), so a
    threshold or the history can follow a user-defined number too. A failing probe adds
    nothing and does not fail the sample.
    """

    script = WATCH_SCRIPT

    def __init__(self, transport: Transport, *, timeout: float = 10.0,
                 probes: Sequence[Any] = ()) -> None:
        super().__init__(transport, timeout=timeout)
        self.probes = tuple(probes)

    def extra(self, output: str) -> dict[str, float]:
        values = parse_extra(output)
        if self.probes:
            from diagkit.probes.runner import run_probe

            for probe in self.probes:
                result = run_probe(self.transport, probe)
                if not result.ok:
                    continue
                for m in result.data.metrics:
                    labels = "".join(f":{k}={v}" for k, v in sorted(m.labels.items()))
                    values[f"{probe.name}.{m.name}{labels}"] = float(m.value)
        return values


@dataclass(frozen=True)
class HostState:
    name: str
    status: str = "connecting"  # connecting | up | down | stopped
    error: str | None = None
    error_kind: str | None = None
    since: float = field(default_factory=time.time)  # when the status last changed
    last_sample: float | None = None
    failures: int = 0  # consecutive
    next_try: float | None = None
    skipped: int = 0


@dataclass(frozen=True)
class WatchEvent:
    """``kind``: ``sample`` (``values`` at ``time``), ``down`` (``error``), ``up``."""

    host: str
    kind: str
    time: float
    values: Mapping[str, float] = field(default_factory=dict)
    error: str | None = None


Connector = Callable[[str], Transport]


def _close(sampler: LiveSampler) -> None:
    try:
        sampler.transport.close()
    except Exception:  # a dead connection may fail to close in any way; it is gone either way
        log.debug("closing %s failed", sampler.transport.host, exc_info=True)


def _default_connect(name: str) -> Transport:
    from diagkit.session import connect

    return connect(name)


class Watcher:
    """Sample ``hosts`` every ``interval`` seconds until :meth:`stop`.

    ``connect`` opens a transport for a host name (default: :func:`diagkit.session.connect`,
    which refuses unknown host keys: trust a host once in the app or with ``diagkit probe
    --accept-new-host-key`` before watching it).
    """

    def __init__(self, hosts: Sequence[str], *, interval: float = 5.0,
                 on_event: Callable[[WatchEvent], object] | None = None,
                 connect: Connector = _default_connect, workers: int | None = None,
                 sample_timeout: float | None = None, backoff: Sequence[float] = BACKOFF,
                 probes: Sequence[Any] = ()) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.hosts = list(dict.fromkeys(hosts))
        self.interval = interval
        self.probes = tuple(probes)
        self.on_event = on_event
        self._connect = connect
        self._timeout = sample_timeout or max(5.0, 2 * interval)
        self._backoff = tuple(backoff) or BACKOFF
        self._pool = ThreadPoolExecutor(max_workers=workers or min(32, max(4, len(self.hosts))),
                                        thread_name_prefix="diagkit-watch")
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._states = {h: HostState(h) for h in self.hosts}
        self._samplers: dict[str, WatchSampler] = {}
        self._busy: set[str] = set()
        self._heap: list[tuple[float, str]] = []
        self._thread: threading.Thread | None = None

    # -- public ---------------------------------------------------------------------------

    def start(self) -> None:
        now = time.monotonic()
        with self._lock:
            self._heap = [(now, h) for h in self.hosts]
            heapq.heapify(self._heap)
        self._thread = threading.Thread(target=self._loop, name="diagkit-watch-scheduler",
                                        daemon=True)
        self._thread.start()

    def stop(self, wait: bool = True) -> None:
        self._stopping.set()
        with self._lock:
            self._wake.notify_all()
        if self._thread is not None and wait:
            self._thread.join()
        self._pool.shutdown(wait=wait, cancel_futures=True)
        for sampler in list(self._samplers.values()):
            _close(sampler)
        self._samplers.clear()
        with self._lock:
            for h, st in self._states.items():
                self._states[h] = replace(st, status="stopped", next_try=None)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def retry_now(self, hosts: Sequence[str]) -> None:
        """Try ``hosts`` now instead of at their next backoff step (a user's Reconnect); a host
        whose work is running is left to finish it."""
        now = time.monotonic()
        wanted = {h for h in hosts if h in self._states}
        with self._lock:
            wanted -= self._busy
            if not wanted or self._stopping.is_set():
                return
            self._heap = [(due, h) for due, h in self._heap if h not in wanted]
            self._heap += [(now, h) for h in wanted]
            heapq.heapify(self._heap)
            self._wake.notify_all()

    def states(self) -> dict[str, HostState]:
        with self._lock:
            return dict(self._states)

    # -- scheduling -------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                if not self._heap:
                    self._wake.wait(self.interval)
                    continue
                due, host = self._heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._wake.wait(min(wait, 1.0))
                    continue
                heapq.heappop(self._heap)
                if host in self._busy:
                    st = self._states[host]
                    self._states[host] = replace(st, skipped=st.skipped + 1)
                    heapq.heappush(self._heap, (due + self.interval, host))
                    continue
                self._busy.add(host)
            try:
                self._pool.submit(self._work, host, due)
            except RuntimeError:  # pool shut down while stopping
                return

    def _schedule(self, host: str, at: float) -> None:
        with self._lock:
            self._busy.discard(host)
            if not self._stopping.is_set():
                heapq.heappush(self._heap, (at, host))
                self._wake.notify_all()

    def _emit(self, event: WatchEvent) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception:  # a broken listener must not stop the watch
            log.exception("watch event handler failed for %s", event.host)

    # -- work ---------------------------------------------------------------------------

    def _work(self, host: str, due: float) -> None:
        try:
            sampler = self._samplers.get(host)
            if sampler is None:
                sampler = WatchSampler(self._connect(host), timeout=self._timeout,
                                       probes=self.probes)
                self._samplers[host] = sampler
            sample = sampler.sample()
        except DiagkitError as exc:
            self._down(host, due, exc)
            return
        except Exception as exc:  # contain anything: the other hosts go on
            log.exception("watching %s failed unexpectedly", host)
            self._down(host, due, exc)
            return
        now_mono = time.monotonic()
        # Keep the grid: next due is the next multiple of the interval after now; the ticks
        # passed over while this host was slow are skipped, not queued up behind it.
        missed = int((now_mono - due) // self.interval)
        nxt = due + (missed + 1) * self.interval
        with self._lock:
            st = self._states[host]
            was_up = st.status == "up"
            self._states[host] = replace(
                st, status="up", error=None, error_kind=None, failures=0, next_try=None,
                last_sample=sample.time, since=st.since if was_up else time.time(),
                skipped=st.skipped + missed)
        if not was_up:
            self._emit(WatchEvent(host, "up", sample.time))
        self._emit(WatchEvent(host, "sample", sample.time, sample.values))
        self._schedule(host, nxt)

    def _down(self, host: str, due: float, exc: BaseException) -> None:
        sampler = self._samplers.pop(host, None)
        if sampler is not None:
            _close(sampler)
        with self._lock:
            st = self._states[host]
            failures = st.failures + 1
            delay = self._backoff[min(failures, len(self._backoff)) - 1]
            message = str(exc) or type(exc).__name__
            changed = st.status != "down"
            self._states[host] = replace(
                st, status="down", error=message, error_kind=type(exc).__name__,
                failures=failures, next_try=time.time() + delay,
                since=time.time() if changed else st.since)
        if changed:
            self._emit(WatchEvent(host, "down", time.time(), error=message))
        self._schedule(host, time.monotonic() + delay)
