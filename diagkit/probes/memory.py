"""memory: RAM and swap use, swapping activity, memory pressure, biggest consumers."""

from __future__ import annotations

from diagkit.probes.base import (
    SAMPLE_SLEEP,
    SCRIPT_PREAMBLE,
    Finding,
    Metric,
    Probe,
    ProbeData,
    Severity,
    Table,
    notes,
    pct,
    split_sections,
    to_float,
)
from diagkit.units import human_bytes

NAME = "memory"

AVAILABLE_WARNING = 10.0  # % of RAM still available below which the host is short of memory
AVAILABLE_CRITICAL = 5.0
SWAP_USED_WARNING = 50.0  # % of swap in use
PSI_SOME_AVG10_WARNING = 10.0  # % of the last 10 s some task stalled waiting for memory
TOP_CONSUMERS = 5

SCRIPT = (
    SCRIPT_PREAMBLE
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
    + SAMPLE_SLEEP
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
            uptime = to_float(parts[1])
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
            if key.startswith("avg") and (v := to_float(value)) is not None:
                out[f"{kind}_{key}"] = v
    return out


def parse(output: str) -> ProbeData:
    sections = split_sections(output)
    mem = _meminfo(sections.get("meminfo", ""))
    metrics: list[Metric] = []
    tables: list[Table] = []
    findings: list[Finding] = []
    facts: dict[str, str] = {}

    def add(name: str, value: float, unit: str) -> None:
        metrics.append(Metric(f"memory.{name}", round(value, 2) if unit == "%" else value, unit))

    total = mem.get("MemTotal", 0)
    if total:
        free = mem.get("MemFree", 0)
        cache = mem.get("Cached", 0) + mem.get("SReclaimable", 0)
        buffers = mem.get("Buffers", 0)
        # MemAvailable is the kernel's own estimate (>= 3.14); older kernels: free + reclaimable.
        available = mem.get("MemAvailable", free + buffers + cache)
        used = total - available
        available_pct = pct(available, total)
        add("total", total, "B")
        add("available", available, "B")
        add("used", used, "B")
        add("used_percent", pct(used, total), "%")
        add("available_percent", available_pct, "%")
        add("free", free, "B")
        add("buffers", buffers, "B")
        add("cached", cache, "B")
        add("dirty", mem.get("Dirty", 0), "B")
        add("committed", mem.get("Committed_AS", 0), "B")
        add("commit_limit", mem.get("CommitLimit", 0), "B")
        facts["total"] = human_bytes(total)
        facts["available"] = f"{human_bytes(available)} ({available_pct:.1f} %)"
        if mem.get("HugePages_Total"):
            size = mem.get("Hugepagesize", 0)
            add("hugepages_total", mem["HugePages_Total"], "pages")
            add("hugepages_free", mem.get("HugePages_Free", 0), "pages")
            facts["hugepages"] = (
                f"{mem['HugePages_Total']} x {human_bytes(size)}, {mem.get('HugePages_Free', 0)} free"
            )

        if available_pct < AVAILABLE_WARNING:
            critical = available_pct < AVAILABLE_CRITICAL
            findings.append(
                Finding(
                    Severity.CRITICAL if critical else Severity.WARNING,
                    "Low available memory",
                    f"Only {human_bytes(available)} of {human_bytes(total)} "
                    f"({available_pct:.1f} %) is available.",
                    "Check the top consumers below for a leak or an oversized cache; "
                    "the OOM killer may strike soon (dmesg | grep -i oom).",
                    NAME,
                )
            )
        committed, limit = mem.get("Committed_AS", 0), mem.get("CommitLimit", 0)
        if limit and committed > limit:
            findings.append(
                Finding(
                    Severity.INFO,
                    "Memory overcommitted",
                    f"Processes have been promised {human_bytes(committed)} but the commit limit "
                    f"is {human_bytes(limit)}.",
                    "Harmless while they do not touch it all; with vm.overcommit_memory=2 new "
                    "allocations fail, otherwise the OOM killer settles it.",
                    NAME,
                )
            )

    swap_total = mem.get("SwapTotal", 0)
    if "SwapTotal" in mem:
        swap_used = swap_total - mem.get("SwapFree", 0)
        add("swap_total", swap_total, "B")
        add("swap_used", swap_used, "B")
        swap_pct = pct(swap_used, swap_total)
        add("swap_used_percent", swap_pct, "%")
        facts["swap"] = (
            f"{human_bytes(swap_used)} of {human_bytes(swap_total)} used ({swap_pct:.1f} %)"
            if swap_total
            else "none configured"
        )
        if swap_total and swap_pct > SWAP_USED_WARNING:
            findings.append(
                Finding(
                    Severity.WARNING,
                    "Swap more than half full",
                    f"{human_bytes(swap_used)} of {human_bytes(swap_total)} swap in use "
                    f"({swap_pct:.1f} %).",
                    "Memory was short at some point. If swapping is active now (see below) the "
                    "host is slow because of it; otherwise old idle pages were pushed out.",
                    NAME,
                )
            )

    up1, vm1 = _vmstat(sections.get("vmstat1", ""))
    up2, vm2 = _vmstat(sections.get("vmstat2", ""))
    page = 4096  # pswpin/pswpout count pages; 4 KiB on every architecture that matters here
    if vm2:
        for key in ("pswpin", "pswpout"):
            if key in vm2:
                add(f"{key}_since_boot", vm2[key] * page, "B")
    interval = (up2 - up1) if up1 is not None and up2 is not None else 0.0
    if interval > 0 and vm1 and vm2:
        rate_in = (vm2.get("pswpin", 0) - vm1.get("pswpin", 0)) * page / interval
        rate_out = (vm2.get("pswpout", 0) - vm1.get("pswpout", 0)) * page / interval
        add("swap_in_rate", rate_in, "B/s")
        add("swap_out_rate", rate_out, "B/s")
        facts["swap_rate_sample"] = f"{interval:.2f} s (rates measured over this sample)"
        if rate_in > 0 or rate_out > 0:
            findings.append(
                Finding(
                    Severity.WARNING,
                    "Host is swapping now",
                    f"During a {interval:.1f} s sample: {human_bytes(rate_in)}/s swapped in, "
                    f"{human_bytes(rate_out)}/s swapped out.",
                    "Active swapping makes everything slow: find what grew (top consumers), add "
                    "RAM or lower the offender's limits.",
                    NAME,
                )
            )

    psi = _pressure(sections.get("pressure", ""))
    for key in ("some_avg10", "some_avg60", "full_avg10"):
        if key in psi:
            metrics.append(Metric("memory.pressure", psi[key], "%", {"psi": key}))
    if psi.get("some_avg10", 0.0) > PSI_SOME_AVG10_WARNING:
        findings.append(
            Finding(
                Severity.WARNING,
                "Memory pressure",
                f"Some tasks stalled waiting for memory {psi['some_avg10']:.1f} % of the last "
                f"10 s (full stall {psi.get('full_avg10', 0.0):.1f} %).",
                "The kernel is reclaiming hard to find free pages: look for a process or cgroup "
                "close to its memory limit.",
                NAME,
            )
        )

    rows = []
    seen = None
    for line in sections.get("top", "").splitlines():
        parts = line.split(None, 2)
        if len(parts) == 2 and parts[0] == "processes_seen":
            seen = parts[1]
        elif len(parts) == 3 and parts[0].isdigit():
            rows.append((int(parts[1]), parts[2], int(parts[0]) * 1024, human_bytes(int(parts[0]) * 1024)))
    if rows or seen is not None:
        tables.append(
            Table(
                "top_rss",
                f"Top {TOP_CONSUMERS} processes by resident memory",
                ("pid", "command", "rss_bytes", "rss"),
                tuple(rows),
            )
        )
    if seen is not None:
        facts["processes_with_memory"] = seen

    return ProbeData(
        metrics=tuple(metrics),
        tables=tuple(tables),
        findings=tuple(findings),
        facts=facts,
        notes=notes(output),
    )


def summarize(data: ProbeData) -> str:
    f = data.facts
    return f"{f.get('available', '?')} available of {f.get('total', '?')}; swap {f.get('swap', '?')}"


PROBE = Probe(
    name=NAME,
    title="Memory",
    description="RAM and swap use, swap-in/out rate over a 0.5 s sample, memory pressure (PSI), "
    "overcommit and the five largest processes by resident memory.",
    script=SCRIPT,
    parse=parse,
    timeout=10.0,
    summarize=summarize,
)
