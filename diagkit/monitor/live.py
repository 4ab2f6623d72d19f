"""Live sampling of one host: CPU, load, memory, swap, disk I/O and network, every few seconds.

Data flow::

    LiveSampler(transport).sample()        one cheap `sh -s` run -> raw counters (RawSnapshot)
        -> rates against the previous raw snapshot -> LiveSample(time, values)
    SeriesBuffer.append(sample)            growable numpy columns, window(), to_csv()

The script prints every reading in one go, so all counters of one sample come from the same
instant. It uses shell built-ins (``read``, ``case``, ``echo``) and one ``date``: a sample forks
almost nothing on the host, which matters when it runs every second for hours.

Series keys, labels and units are declared once in :data:`SERIES`; the UI and the CSV export read
them from there. No Qt here: the CLI and a future recorder use the same code.
"""

from __future__ import annotations

import csv
import math
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from diagkit.errors import TransportError
from diagkit.probes.base import split_sections
from diagkit.transport.base import Transport


@dataclass(frozen=True)
class SeriesSpec:
    """One plotted series: ``key`` in :attr:`LiveSample.values`, shown in plot ``group``."""

    key: str
    label: str
    unit: str
    group: str
    threshold: float | None = None


SERIES: tuple[SeriesSpec, ...] = (
    SeriesSpec("cpu.usage", "CPU busy", "%", "cpu", 90.0),
    SeriesSpec("cpu.iowait", "CPU iowait", "%", "cpu"),
    SeriesSpec("load.1", "Load (1 min)", "", "load"),
    SeriesSpec("load.per_core", "Load per core", "", "load", 1.0),
    SeriesSpec("mem.used", "Memory used", "%", "memory", 90.0),
    SeriesSpec("swap.used", "Swap used", "%", "memory", 50.0),
    SeriesSpec("swap.in", "Swap in", "pages/s", "paging"),
    SeriesSpec("swap.out", "Swap out", "pages/s", "paging"),
    SeriesSpec("disk.read", "Disk read", "B/s", "disk"),
    SeriesSpec("disk.write", "Disk write", "B/s", "disk"),
    SeriesSpec("net.rx", "Network receive", "B/s", "network"),
    SeriesSpec("net.tx", "Network transmit", "B/s", "network"),
)
SERIES_BY_KEY: dict[str, SeriesSpec] = {s.key: s for s in SERIES}
GROUP_TITLES: dict[str, str] = {
    "cpu": "CPU",
    "load": "Load",
    "memory": "Memory and swap",
    "paging": "Swap activity",
    "disk": "Disk I/O (all disks)",
    "network": "Network (all interfaces but lo)",
}

# `p=/proc` is its own line so tests can point the script at a hand-made tree (unreadable files).
SCRIPT = r"""LC_ALL=C; export LC_ALL
p=/proc
echo "@@section time"
t=$(date +%s.%N 2>/dev/null)
case "$t" in ''|*[!0-9.]*) t=$(date +%s 2>/dev/null) ;; esac
echo "epoch $t"
if [ -r $p/uptime ]; then read -r up _ < $p/uptime && echo "uptime $up"; fi
echo "@@section stat"
if [ -r $p/stat ]; then
  n=0
  while IFS= read -r l; do
    case "$l" in
      "cpu "*) echo "$l" ;;
      cpu[0-9]*) n=$((n+1)) ;;
      *) break ;;
    esac
  done < $p/stat
  echo "ncpu $n"
fi
echo "@@section loadavg"
if [ -r $p/loadavg ]; then read -r l < $p/loadavg && echo "$l"; fi
echo "@@section meminfo"
if [ -r $p/meminfo ]; then
  while read -r k v _; do
    case "$k" in
      MemTotal:|MemFree:|MemAvailable:|Buffers:|Cached:|SwapTotal:|SwapFree:) echo "$k $v" ;;
    esac
  done < $p/meminfo
fi
echo "@@section vmstat"
if [ -r $p/vmstat ]; then
  while read -r k v; do
    case "$k" in pswpin|pswpout) echo "$k $v" ;; esac
  done < $p/vmstat
fi
echo "@@section diskstats"
if [ -r $p/diskstats ]; then
  while read -r ma mi name rest; do
    case "$name" in loop*|ram*|zram*|dm-*|md*|sr*|fd*|nbd*) ;; *) echo "$name $rest" ;; esac
  done < $p/diskstats
fi
echo "@@section netdev"
if [ -r $p/net/dev ]; then
  while IFS= read -r l; do
    case "$l" in *:*) echo "$l" ;; esac
  done < $p/net/dev
fi
exit 0
"""

# diskstats counts sectors of 512 bytes whatever the device's real sector size.
SECTOR_BYTES = 512
_PARTITION = re.compile(r"^(?P<disk>.+?)(p?\d+)$")


@dataclass(frozen=True)
class RawSnapshot:
    """Counters and gauges as the host printed them (no rates). Missing readings are None."""

    epoch: float | None = None  # host wall clock
    uptime: float | None = None  # host monotonic clock (s since boot)
    cpu: tuple[int, ...] | None = None  # user nice system idle iowait irq softirq steal
    ncpu: int | None = None
    load1: float | None = None
    mem_total: int | None = None  # kB
    mem_available: int | None = None  # kB (estimated from free+buffers+cached on old kernels)
    swap_total: int | None = None
    swap_free: int | None = None
    pswpin: int | None = None
    pswpout: int | None = None
    disk_read_sectors: int | None = None  # sum over whole disks
    disk_write_sectors: int | None = None
    disks: tuple[str, ...] = ()
    net_rx_bytes: int | None = None  # sum over interfaces but lo
    net_tx_bytes: int | None = None
    interfaces: tuple[str, ...] = ()


@dataclass(frozen=True)
class LiveSample:
    """One point per series.

    ``time`` is the *local* clock (epoch seconds, midway through the round trip) so samples from
    several hosts line up on one axis whatever their clocks say; ``host_time`` is the host's own
    clock when it printed the counters (None when its ``date`` failed).
    """

    time: float
    values: dict[str, float]
    host_time: float | None = None


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _whole_disks(names: Iterable[str]) -> set[str]:
    """Drop partitions: sda1 of sda, nvme0n1p2 of nvme0n1, mmcblk0p1 of mmcblk0."""
    present = set(names)
    whole = set()
    for name in present:
        m = _PARTITION.match(name)
        if m and m.group("disk") in present:
            continue
        whole.add(name)
    return whole


def parse(output: str) -> RawSnapshot:
    """The script's output to a :class:`RawSnapshot`. Pure; unknown or broken lines are ignored."""
    sec = split_sections(output)
    fields: dict[str, object] = {}
    for line in sec.get("time", "").splitlines():
        key, _, value = line.partition(" ")
        if key in ("epoch", "uptime"):
            fields[key] = _float(value.strip())
    for line in sec.get("stat", "").splitlines():
        parts = line.split()
        if parts[:1] == ["cpu"] and len(parts) >= 5:
            nums = [_int(p) for p in parts[1:9]]
            if all(n is not None for n in nums):
                fields["cpu"] = tuple(nums) + (0,) * (8 - len(nums))
        elif parts[:1] == ["ncpu"] and len(parts) == 2:
            n = _int(parts[1])
            fields["ncpu"] = n if n else None
    load = sec.get("loadavg", "").split()
    if load:
        fields["load1"] = _float(load[0])
    mem: dict[str, int] = {}
    for line in sec.get("meminfo", "").splitlines():
        parts = line.split()
        if len(parts) == 2 and (n := _int(parts[1])) is not None:
            mem[parts[0].rstrip(":")] = n
    if "MemTotal" in mem:
        fields["mem_total"] = mem["MemTotal"]
        if "MemAvailable" in mem:
            fields["mem_available"] = mem["MemAvailable"]
        elif "MemFree" in mem:  # kernels before 3.14
            fields["mem_available"] = mem["MemFree"] + mem.get("Buffers", 0) + mem.get("Cached", 0)
    fields["swap_total"] = mem.get("SwapTotal")
    fields["swap_free"] = mem.get("SwapFree")
    for line in sec.get("vmstat", "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("pswpin", "pswpout"):
            fields[parts[0]] = _int(parts[1])
    disks: dict[str, tuple[int, int]] = {}
    for line in sec.get("diskstats", "").splitlines():
        parts = line.split()
        # name reads merged sectors ms writes merged sectors ...
        if len(parts) >= 8 and (r := _int(parts[3])) is not None and (w := _int(parts[7])) is not None:
            disks[parts[0]] = (r, w)
    if disks:
        whole = sorted(_whole_disks(disks))
        if whole:
            fields["disk_read_sectors"] = sum(disks[d][0] for d in whole)
            fields["disk_write_sectors"] = sum(disks[d][1] for d in whole)
            fields["disks"] = tuple(whole)
    rx = tx = 0
    names = []
    for line in sec.get("netdev", "").splitlines():
        name, _, rest = line.partition(":")
        name = name.strip()
        parts = rest.split()
        if not name or name == "lo" or len(parts) < 9:
            continue
        r, t = _int(parts[0]), _int(parts[8])
        if r is None or t is None:
            continue
        rx, tx = rx + r, tx + t
        names.append(name)
    if names:
        fields.update(net_rx_bytes=rx, net_tx_bytes=tx, interfaces=tuple(names))
    return RawSnapshot(**fields)  # type: ignore[arg-type]


def gauges(snap: RawSnapshot) -> dict[str, float]:
    """The values readable from one snapshot alone (load, memory, swap use)."""
    out: dict[str, float] = {}
    if snap.load1 is not None:
        out["load.1"] = snap.load1
        if snap.ncpu:
            out["load.per_core"] = snap.load1 / snap.ncpu
    if snap.mem_total and snap.mem_available is not None:
        out["mem.used"] = 100.0 * (snap.mem_total - snap.mem_available) / snap.mem_total
    if snap.swap_total is not None and snap.swap_free is not None:
        # No swap configured reads as 0 % used, as `free` shows it.
        used = snap.swap_total - snap.swap_free
        out["swap.used"] = 100.0 * used / snap.swap_total if snap.swap_total else 0.0
    return out


def _elapsed(prev: RawSnapshot, cur: RawSnapshot, local_dt: float | None) -> float | None:
    """Seconds between two snapshots, by the best clock both have.

    The host's uptime first (monotonic, read next to the counters, no network delay in it); then
    the host's wall clock if it has sub-second digits; then the local clock.
    """
    if prev.uptime is not None and cur.uptime is not None:
        return cur.uptime - prev.uptime
    if prev.epoch is not None and cur.epoch is not None and (
        prev.epoch % 1 or cur.epoch % 1
    ):
        return cur.epoch - prev.epoch
    return local_dt


def rates(prev: RawSnapshot, cur: RawSnapshot, local_dt: float | None = None) -> dict[str, float]:
    """Gauges of ``cur`` plus rates since ``prev``.

    A counter that went backwards (reboot, driver reload, a disk or interface removed, 32-bit
    wrap) gives no value for that series in this sample, never a negative rate; the next sample
    is fine again. A host reboot (uptime went backwards) gives only the gauges.
    """
    out = gauges(cur)
    dt = _elapsed(prev, cur, local_dt)
    if dt is None or dt <= 0:
        return out

    def rate(key: str, a: int | None, b: int | None, scale: float = 1.0) -> None:
        if a is not None and b is not None and b >= a:
            out[key] = (b - a) * scale / dt

    if prev.cpu is not None and cur.cpu is not None:
        deltas = [b - a for a, b in zip(prev.cpu, cur.cpu, strict=True)]
        total = sum(deltas)
        if total > 0 and min(deltas) >= 0:
            idle = deltas[3] + deltas[4]
            out["cpu.usage"] = 100.0 * (total - idle) / total
            out["cpu.iowait"] = 100.0 * deltas[4] / total
    rate("swap.in", prev.pswpin, cur.pswpin)
    rate("swap.out", prev.pswpout, cur.pswpout)
    if prev.disks == cur.disks:  # a disk coming or going changes the sum: skip that sample
        rate("disk.read", prev.disk_read_sectors, cur.disk_read_sectors, SECTOR_BYTES)
        rate("disk.write", prev.disk_write_sectors, cur.disk_write_sectors, SECTOR_BYTES)
    if prev.interfaces == cur.interfaces:
        rate("net.rx", prev.net_rx_bytes, cur.net_rx_bytes)
        rate("net.tx", prev.net_tx_bytes, cur.net_tx_bytes)
    return out


class LiveSampler:
    """Samples one host; keeps the previous raw snapshot to turn counters into rates.

    The first :meth:`sample` returns only the gauges (load, memory and swap use): rates need two
    readings. Not thread-safe: one sample at a time (the UI never has two in flight).
    """

    script: str = SCRIPT  # subclasses may extend it with more sections (see extra())

    def __init__(self, transport: Transport, *, timeout: float = 10.0) -> None:
        self.transport = transport
        self.timeout = timeout
        self._prev: RawSnapshot | None = None
        self._prev_local: float | None = None

    def sample(self, cancel: threading.Event | None = None) -> LiveSample:
        """Run the script once and return a sample. Raises :class:`TransportError` subclasses."""
        start = time.time()
        result = self.transport.run("sh -s", stdin=self.script, timeout=self.timeout,
                                    cancel=cancel)
        end = time.time()
        if "@@section stat" not in result.stdout:
            detail = result.stderr.strip().splitlines()[-1:] or ["no output"]
            raise TransportError(
                f"Live sampling on {self.transport.host} failed: the sampling script exited with "
                f"status {result.exit_status} ({detail[0][:200]}). Check that the account can run "
                "'sh' and read /proc on the host; sampling retries at the next interval.",
                host=self.transport.host,
            )
        snap = parse(result.stdout)
        local = (start + end) / 2
        if self._prev is None:
            values = gauges(snap)
        else:
            local_dt = local - self._prev_local if self._prev_local is not None else None
            values = rates(self._prev, snap, local_dt)
        self._prev, self._prev_local = snap, local
        values.update(self.extra(result.stdout))
        return LiveSample(time=local, values=values, host_time=snap.epoch)

    def extra(self, output: str) -> dict[str, float]:
        """Values a subclass reads from its own sections of :attr:`script`'s output."""
        return {}


@dataclass
class SeriesBuffer:
    """Columns of samples in growable numpy arrays (amortised doubling, no copy per append).

    ``keys`` fixes the column order (default: every key of :data:`SERIES`). A series missing from
    a sample is stored as NaN (pyqtgraph leaves a gap there).
    """

    keys: tuple[str, ...] = tuple(s.key for s in SERIES)
    capacity: int = 4096
    _t: np.ndarray = field(init=False, repr=False)
    _y: np.ndarray = field(init=False, repr=False)
    _n: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._index = {k: i for i, k in enumerate(self.keys)}
        self._t = np.empty(self.capacity, dtype=np.float64)
        self._y = np.full((len(self.keys), self.capacity), np.nan, dtype=np.float64)

    def __len__(self) -> int:
        return self._n

    def _grow(self, need: int) -> None:
        cap = max(need, 2 * self._t.shape[0])
        t = np.empty(cap, dtype=np.float64)
        t[: self._n] = self._t[: self._n]
        y = np.full((len(self.keys), cap), np.nan, dtype=np.float64)
        y[:, : self._n] = self._y[:, : self._n]
        self._t, self._y = t, y

    def append(self, sample: LiveSample) -> None:
        self.append_values(sample.time, sample.values)

    def append_values(self, t: float, values: Mapping[str, float]) -> None:
        if self._n >= self._t.shape[0]:
            self._grow(self._n + 1)
        self._t[self._n] = t
        col = self._y[:, self._n]
        col[:] = np.nan
        for key, value in values.items():
            i = self._index.get(key)
            if i is not None:
                col[i] = value
        self._n += 1

    def extend(self, t: np.ndarray, columns: Mapping[str, np.ndarray]) -> None:
        """Append many points at once (benchmarks, loading a recording)."""
        m = len(t)
        if self._n + m > self._t.shape[0]:
            self._grow(self._n + m)
        self._t[self._n : self._n + m] = t
        self._y[:, self._n : self._n + m] = np.nan
        for key, values in columns.items():
            self._y[self._index[key], self._n : self._n + m] = values
        self._n += m

    @property
    def times(self) -> np.ndarray:
        return self._t[: self._n]

    def _start(self, seconds: float | None) -> int:
        if seconds is None or self._n == 0:
            return 0
        return int(np.searchsorted(self.times, self._t[self._n - 1] - seconds, side="left"))

    def window(self, seconds: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(t, y)`` of the last ``seconds`` before the newest sample (None: everything).

        ``y`` has one row per key, in :attr:`keys` order. Both are views: copy to keep them.
        """
        i = self._start(seconds)
        return self._t[i : self._n], self._y[:, i : self._n]

    def series(self, key: str, seconds: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(t, y)`` of one series (views)."""
        i = self._start(seconds)
        return self._t[i : self._n], self._y[self._index[key], i : self._n]

    def nearest(self, t: float) -> tuple[float, dict[str, float]] | None:
        """The sample closest to time ``t`` (for a crosshair readout), or None when empty."""
        if self._n == 0:
            return None
        times = self.times
        i = int(np.searchsorted(times, t))
        if i >= self._n or (i > 0 and t - times[i - 1] <= times[i] - t):
            i -= 1
        i = max(i, 0)
        return float(times[i]), {k: float(self._y[j, i]) for j, k in enumerate(self.keys)}

    def to_csv(self, path: str | Path) -> Path:
        """Write every sample: ISO local time, epoch seconds, one column per series.

        The header carries the units (``disk.read [B/s]``); a missing value is an empty cell;
        numbers are written with Python's shortest round-trip repr, so reading back is exact.
        """
        path = Path(path)
        header = ["time", "epoch"] + [
            f"{k} [{SERIES_BY_KEY[k].unit}]" if k in SERIES_BY_KEY and SERIES_BY_KEY[k].unit else k
            for k in self.keys
        ]
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            ys = self._y[:, : self._n].T.tolist()
            for t, row in zip(self.times.tolist(), ys, strict=True):
                iso = datetime.fromtimestamp(t).astimezone().isoformat(timespec="milliseconds")
                writer.writerow([iso, repr(t)] + ["" if math.isnan(v) else repr(v) for v in row])
        return path
