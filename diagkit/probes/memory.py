"""memory: RAM and swap use, swapping activity, memory pressure, biggest consumers."""

from __future__ import annotations

from dataclasses import dataclass

from diagkit.probes import base
from diagkit.probes.base import Finding, Metric, Probe, ProbeData, Severity, Table
from diagkit.units import human_bytes

NAME = "memory"

TOP_CONSUMERS = 5

SCRIPT = (
    base.SCRIPT_PREAMBLE
    + r"""
echo "@@section meminfo"
if [ -r /proc/meminfo ]; then cat /proc/meminfo
else echo "@@note /proc/meminfo is not readable: no memory figures"; fi
vm() {
  echo "@@section $1"
  { read -r up _ < /proc/uptime; echo "uptime $up"; } 2>/dev/null
  while read -r k v; do
    case "$k" in pswpin|pswpout) echo "$k $v";; esac
  done < /proc/vmstat
}
if [ -r /proc/vmstat ]; then
  vm vmstat1
  """
    + base.SAMPLE_SLEEP
    + r"""
  vm vmstat2
else
  echo "@@note /proc/vmstat is not readable: no swapping activity"
fi
echo "@@section pressure"
if [ -r /proc/pressure/memory ]; then
  cat /proc/pressure/memory 2>/dev/null || echo "@@note /proc/pressure/memory exists but cannot be read (PSI disabled?)"
else
  echo "@@note /proc/pressure/memory is missing (kernel < 4.20 or PSI disabled): no memory pressure"
fi
echo "@@section top"
if command -v awk >/dev/null 2>&1; then
  # One cat for every process (it carries on past processes that exit meanwhile), one awk
  # keeping the five largest resident sets: no sort, no ps needed.
  cat /proc/[0-9]*/status 2>/dev/null | awk -v N=5 '
    /^Name:/ { name = $0; sub(/^Name:[ \t]*/, "", name) }
    /^Pid:/ { pid = $2 }
    /^VmRSS:/ {
      rss = $2 + 0; seen++
      for (i = 1; i <= N; i++) if (!(i in r) || rss > r[i]) break
      if (i <= N) {
        for (j = N; j > i; j--) if ((j - 1) in r) { r[j] = r[j-1]; p[j] = p[j-1]; c[j] = c[j-1] }
        r[i] = rss; p[i] = pid; c[i] = name
      }
    }
    END {
      print "processes_seen " seen + 0
      for (i = 1; i <= N; i++) if (i in r) print r[i], p[i], c[i]
    }'
else
  echo "@@note awk is not installed: no top memory consumers"
fi
exit 0
"""
)


# --- reading: text -> MemoryReading -------------------------------------------------------------

#: pswpin/pswpout count pages; 4 KiB on every architecture that matters here.
PAGE = 4096


@dataclass(frozen=True)
class TopProcess:
    pid: int
    command: str
    rss_bytes: int


@dataclass(frozen=True)
class MemoryReading:
    """What the memory script saw, in bytes. ``total`` 0: /proc/meminfo was not readable."""

    total: int = 0
    free: int = 0
    buffers: int = 0
    cached: int = 0  # Cached + SReclaimable
    available: int = 0  # MemAvailable (>= 3.14), else free + buffers + cached
    dirty: int = 0
    committed: int = 0
    commit_limit: int = 0
    hugepages_total: int = 0
    hugepages_free: int = 0
    hugepage_size: int = 0
    swap_total: int | None = None  # None: no SwapTotal line at all
    swap_free: int = 0
    swapped_in_since_boot: int | None = None
    swapped_out_since_boot: int | None = None
    sample_seconds: float = 0.0  # the swap-rate sample; 0 when there was none
    swap_in_rate: float | None = None  # B/s over the sample
    swap_out_rate: float | None = None
    psi_some_avg10: float | None = None  # % of time some task stalled on memory (PSI)
    psi_some_avg60: float | None = None
    psi_full_avg10: float | None = None
    top: tuple[TopProcess, ...] = ()  # largest resident sets, largest first
    processes_seen: int | None = None  # None: the top section did not run
    notes: tuple[str, ...] = ()

    @property
    def used(self) -> int:
        return self.total - self.available

    @property
    def available_percent(self) -> float:
        return base.pct(self.available, self.total)

    @property
    def swap_used(self) -> int:
        return (self.swap_total or 0) - self.swap_free

    @property
    def swap_used_percent(self) -> float:
        return base.pct(self.swap_used, self.swap_total or 0)


def _meminfo(text: str) -> dict[str, int]:
    """/proc/meminfo in bytes (values in kB are multiplied; HugePages_* counts stay counts)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if not parts or not parts[0].isdigit():
            continue
        value = int(parts[0])
        out[key.strip()] = value * 1024 if len(parts) > 1 and parts[1] == "kB" else value
    return out


def _vmstat(text: str) -> tuple[float | None, dict[str, int]]:
    uptime: float | None = None
    values: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "uptime":
            uptime = base.to_float(parts[1])
        elif len(parts) == 2 and parts[1].isdigit():
            values[parts[0]] = int(parts[1])
    return uptime, values


def _pressure(text: str) -> dict[str, float]:
    """'some avg10=1.5 ...' -> {'some_avg10': 1.5, ...}."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        kind, *pairs = line.split()
        for pair in pairs:
            key, _, value = pair.partition("=")
            if key.startswith("avg") and (v := base.to_float(value)) is not None:
                out[f"{kind}_{key}"] = v
    return out


def _top(text: str) -> tuple[tuple[TopProcess, ...], int | None]:
    rows = []
    seen = None
    for line in text.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 2 and parts[0] == "processes_seen" and parts[1].isdigit():
            seen = int(parts[1])
        elif len(parts) == 3 and parts[0].isdigit():
            rows.append(TopProcess(int(parts[1]), parts[2], int(parts[0]) * 1024))
    return tuple(rows), seen


def read(output: str) -> MemoryReading:
    sections = base.split_sections(output)
    mem = _meminfo(sections.get("meminfo", ""))
    free, buffers = mem.get("MemFree", 0), mem.get("Buffers", 0)
    cached = mem.get("Cached", 0) + mem.get("SReclaimable", 0)
    up1, vm1 = _vmstat(sections.get("vmstat1", ""))
    up2, vm2 = _vmstat(sections.get("vmstat2", ""))
    interval = (up2 - up1) if up1 is not None and up2 is not None else 0.0
    sampled = interval > 0 and bool(vm1) and bool(vm2)

    def rate(key: str) -> float | None:
        return (vm2.get(key, 0) - vm1.get(key, 0)) * PAGE / interval if sampled else None

    psi = _pressure(sections.get("pressure", ""))
    top, seen = _top(sections.get("top", ""))
    return MemoryReading(
        total=mem.get("MemTotal", 0), free=free, buffers=buffers, cached=cached,
        available=mem.get("MemAvailable", free + buffers + cached),
        dirty=mem.get("Dirty", 0), committed=mem.get("Committed_AS", 0),
        commit_limit=mem.get("CommitLimit", 0),
        hugepages_total=mem.get("HugePages_Total", 0), hugepages_free=mem.get("HugePages_Free", 0),
        hugepage_size=mem.get("Hugepagesize", 0),
        swap_total=mem.get("SwapTotal"), swap_free=mem.get("SwapFree", 0),
        swapped_in_since_boot=vm2["pswpin"] * PAGE if "pswpin" in vm2 else None,
        swapped_out_since_boot=vm2["pswpout"] * PAGE if "pswpout" in vm2 else None,
        sample_seconds=interval if sampled else 0.0,
        swap_in_rate=rate("pswpin"), swap_out_rate=rate("pswpout"),
        psi_some_avg10=psi.get("some_avg10"), psi_some_avg60=psi.get("some_avg60"),
        psi_full_avg10=psi.get("full_avg10"),
        top=top, processes_seen=seen, notes=base.notes(output),
    )


# --- describing: MemoryReading -> metrics, tables, facts ----------------------------------------


def describe(r: MemoryReading) -> ProbeData:
    metrics: list[Metric] = []
    facts: dict[str, str] = {}

    def add(name: str, value: float, unit: str) -> None:
        metrics.append(Metric(f"memory.{name}", round(value, 2) if unit == "%" else value, unit))

    if r.total:
        add("total", r.total, "B")
        add("available", r.available, "B")
        add("used", r.used, "B")
        add("used_percent", base.pct(r.used, r.total), "%")
        add("available_percent", r.available_percent, "%")
        add("free", r.free, "B")
        add("buffers", r.buffers, "B")
        add("cached", r.cached, "B")
        add("dirty", r.dirty, "B")
        add("committed", r.committed, "B")
        add("commit_limit", r.commit_limit, "B")
        facts["total"] = human_bytes(r.total)
        facts["available"] = f"{human_bytes(r.available)} ({r.available_percent:.1f} %)"
        if r.hugepages_total:
            add("hugepages_total", r.hugepages_total, "pages")
            add("hugepages_free", r.hugepages_free, "pages")
            facts["hugepages"] = (f"{r.hugepages_total} x {human_bytes(r.hugepage_size)}, "
                                  f"{r.hugepages_free} free")
    if r.swap_total is not None:
        add("swap_total", r.swap_total, "B")
        add("swap_used", r.swap_used, "B")
        add("swap_used_percent", r.swap_used_percent, "%")
        facts["swap"] = (
            f"{human_bytes(r.swap_used)} of {human_bytes(r.swap_total)} used "
            f"({r.swap_used_percent:.1f} %)" if r.swap_total else "none configured")
    if r.swapped_in_since_boot is not None:
        add("pswpin_since_boot", r.swapped_in_since_boot, "B")
    if r.swapped_out_since_boot is not None:
        add("pswpout_since_boot", r.swapped_out_since_boot, "B")
    if r.swap_in_rate is not None and r.swap_out_rate is not None:
        add("swap_in_rate", r.swap_in_rate, "B/s")
        add("swap_out_rate", r.swap_out_rate, "B/s")
        facts["swap_rate_sample"] = f"{r.sample_seconds:.2f} s (rates measured over this sample)"
    for key in ("some_avg10", "some_avg60", "full_avg10"):
        if (value := getattr(r, f"psi_{key}")) is not None:
            metrics.append(Metric("memory.pressure", value, "%", {"psi": key}))
    tables = []
    if r.top or r.processes_seen is not None:
        rows = [(p.pid, p.command, p.rss_bytes, human_bytes(p.rss_bytes)) for p in r.top]
        tables.append(Table("top_rss", f"Top {TOP_CONSUMERS} processes by resident memory",
                            ("pid", "command", "rss_bytes", "rss"), rows,
                            sorted_by="-rss_bytes"))
    if r.processes_seen is not None:
        facts["processes_with_memory"] = str(r.processes_seen)
    return ProbeData(metrics=tuple(metrics), tables=tuple(tables), facts=facts, notes=r.notes)


# --- judging: MemoryReading + thresholds -> findings --------------------------------------------


@dataclass(frozen=True)
class MemoryThresholds:
    available_warning: float = 10.0  # % of RAM still available below which memory is short
    available_critical: float = 5.0
    swap_used_warning: float = 50.0  # % of swap in use
    psi_some_avg10_warning: float = 10.0  # % of the last 10 s some task stalled on memory
    # One process resident above both of these is named even when memory is not short: on a
    # support call, "who holds the RAM" is the first question.
    process_percent_info: float = 5.0  # % of RAM
    process_bytes_info: int = 1 << 30


THRESHOLDS = MemoryThresholds()

#: How many of the largest processes a finding names.
NAMED = 3


def _largest(r: MemoryReading) -> str:
    """' Largest resident: CMD (pid N) 2.0 GiB, 8.7 % of RAM; ...' or ''."""
    named = [f"{p.command} (pid {p.pid}) {human_bytes(p.rss_bytes)}"
             + (f", {base.pct(p.rss_bytes, r.total):.1f} % of RAM" if r.total else "")
             for p in r.top[:NAMED]]
    return f" Largest resident: {'; '.join(named)}." if named else ""


def judge(r: MemoryReading, limits: MemoryThresholds) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    if r.total and r.available_percent < limits.available_warning:
        findings.append(Finding(
            Severity.CRITICAL if r.available_percent < limits.available_critical
            else Severity.WARNING,
            "Low available memory",
            f"Only {human_bytes(r.available)} of {human_bytes(r.total)} "
            f"({r.available_percent:.1f} %) is available." + _largest(r),
            "Check the top consumers below for a leak or an oversized cache; "
            "the OOM killer may strike soon (dmesg | grep -i oom).",
            NAME,
        ))
    if r.total and r.commit_limit and r.committed > r.commit_limit:
        findings.append(Finding(
            Severity.INFO,
            "Memory overcommitted",
            f"Processes have been promised {human_bytes(r.committed)} but the commit limit "
            f"is {human_bytes(r.commit_limit)}.",
            "Harmless while they do not touch it all; with vm.overcommit_memory=2 new "
            "allocations fail, otherwise the OOM killer settles it.",
            NAME,
        ))
    if r.swap_total and r.swap_used_percent > limits.swap_used_warning:
        findings.append(Finding(
            Severity.WARNING,
            "Swap more than half full",
            f"{human_bytes(r.swap_used)} of {human_bytes(r.swap_total)} swap in use "
            f"({r.swap_used_percent:.1f} %).",
            "Memory was short at some point. If swapping is active now (see below) the "
            "host is slow because of it; otherwise old idle pages were pushed out.",
            NAME,
        ))
    rate_in, rate_out = r.swap_in_rate or 0.0, r.swap_out_rate or 0.0
    if rate_in > 0 or rate_out > 0:
        findings.append(Finding(
            Severity.WARNING,
            "Host is swapping now",
            f"During a {r.sample_seconds:.1f} s sample: {human_bytes(rate_in)}/s swapped in, "
            f"{human_bytes(rate_out)}/s swapped out." + _largest(r),
            "Active swapping makes everything slow: find what grew (top consumers), add "
            "RAM or lower the offender's limits.",
            NAME,
        ))
    some = r.psi_some_avg10 or 0.0
    if some > limits.psi_some_avg10_warning:
        findings.append(Finding(
            Severity.WARNING,
            "Memory pressure",
            f"Some tasks stalled waiting for memory {some:.1f} % of the last "
            f"10 s (full stall {r.psi_full_avg10 or 0.0:.1f} %)." + _largest(r),
            "The kernel is reclaiming hard to find free pages: look for a process or cgroup "
            "close to its memory limit.",
            NAME,
        ))
    already_named = any(_largest(r) in f.detail for f in findings)
    if r.top and r.total and not already_named:
        big = r.top[0]
        share = base.pct(big.rss_bytes, r.total)
        if share >= limits.process_percent_info and big.rss_bytes >= limits.process_bytes_info:
            findings.append(Finding(
                Severity.INFO,
                f"Largest memory user: {big.command}",
                f"{big.command} (pid {big.pid}) holds {human_bytes(big.rss_bytes)} resident, "
                f"{share:.1f} % of {human_bytes(r.total)} RAM." + _largest(r),
                f"Is that its expected size? Sample it over time (grep VmRSS /proc/{big.pid}/status,"
                " or diagkit watch) to tell a leak, which only grows, from a working set.",
                NAME,
            ))
    return tuple(findings)


parse = base.read_then_judge(read, describe, judge, THRESHOLDS)


def summarize(data: ProbeData) -> str:
    f = data.facts
    return f"{f.get('available', '?')} available of {f.get('total', '?')}; swap {f.get('swap', '?')}"


PROBE = Probe(
    name=NAME, title="Memory", script=SCRIPT, parse=parse, summarize=summarize,
    timeout=10.0,
    description="RAM and swap use, swap-in/out rate over a 0.5 s sample, memory pressure (PSI), "
    "overcommit and the five largest processes by resident memory.")
