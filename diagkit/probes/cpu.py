"""cpu: how busy the processors are - usage over a short sample, load, context switches."""

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
    key_values,
    notes,
    pct,
    split_sections,
    to_float,
)

NAME = "cpu"

LOAD_PER_CORE_WARNING = 1.0  # 5-min load per core: more runnable tasks than cores
LOAD_PER_CORE_CRITICAL = 2.0
IOWAIT_WARNING = 20.0  # % of CPU time spent waiting for disk I/O
STEAL_WARNING = 10.0  # % of CPU time the hypervisor gave to other guests
USAGE_WARNING = 90.0  # % total busy during the sample

# /proc/stat cpu line columns after the name (kernel >= 2.6.33 has all ten).
_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice")

SCRIPT = (
    SCRIPT_PREAMBLE
    + r"""
sample() {
  echo "@@section $1"
  { read -r up _ < /proc/uptime; echo "uptime $up"; } 2>/dev/null
  # Shell builtins only: /proc/stat's intr line is huge and we need a handful of lines.
  while read -r l; do
    case "$l" in cpu*|ctxt*|procs_*) echo "$l";; esac
  done < /proc/stat
}
if [ ! -r /proc/stat ]; then
  echo "@@note /proc/stat is not readable: no CPU usage"
else
  sample stat1
  """
    + SAMPLE_SLEEP
    + r"""
  sample stat2
fi
echo "@@section info"
if [ -r /proc/loadavg ]; then
  read -r l1 l5 l15 tasks _ < /proc/loadavg
  echo "load1=$l1"; echo "load5=$l5"; echo "load15=$l15"; echo "tasks=$tasks"
else
  echo "@@note /proc/loadavg is not readable: no load averages"
fi
command -v nproc >/dev/null 2>&1 && echo "nproc=$(nproc 2>/dev/null)"
if [ -r /proc/cpuinfo ]; then
  awk -F': *' '
    /^processor/ { n++ }
    /^model name/ && !m { m = $2 }
    /^Model/ && !m { m = $2 }
    /^Hardware/ && !hw { hw = $2 }
    END { print "cpuinfo_processors=" n; if (m == "") m = hw; print "model=" m }' /proc/cpuinfo
fi
exit 0
"""
)


def _cpu_lines(text: str) -> tuple[float | None, dict[str, list[int]], dict[str, int]]:
    """(uptime, {cpu name: jiffies}, {ctxt/procs_*: value}) from one sample section."""
    uptime: float | None = None
    cpus: dict[str, list[int]] = {}
    other: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "uptime" and len(parts) > 1:
            uptime = to_float(parts[1])
        elif parts[0].startswith("cpu"):
            values = [int(p) for p in parts[1:] if p.isdigit()]
            cpus[parts[0]] = values + [0] * (len(_FIELDS) - len(values))
        elif len(parts) == 2 and parts[1].isdigit():
            other[parts[0]] = int(parts[1])
    return uptime, cpus, other


def _shares(before: list[int], after: list[int]) -> dict[str, float]:
    """Percent of the interval each state took, plus 'usage' (everything but idle and iowait)."""
    # guest/guest_nice are already counted inside user/nice: leave them out of the total.
    delta = [max(a - b, 0) for a, b in zip(after[:8], before[:8], strict=True)]
    total = sum(delta)
    out = {name: pct(d, total) for name, d in zip(_FIELDS[:8], delta, strict=True)}
    out["usage"] = pct(total - delta[3] - delta[4], total)
    return out


def parse(output: str) -> ProbeData:
    sections = split_sections(output)
    info = key_values(sections.get("info", ""))
    metrics: list[Metric] = []
    findings: list[Finding] = []
    tables: list[Table] = []
    facts: dict[str, str] = {}

    if info.get("model"):
        facts["model"] = info["model"]
    cores = int(to_float(info.get("cpuinfo_processors"), 0) or 0) or int(
        to_float(info.get("nproc"), 0) or 0
    )
    if cores:
        facts["cores"] = str(cores)
        metrics.append(Metric("cpu.cores", cores, "cores"))
    if info.get("nproc") and info["nproc"] != str(cores):
        # A cgroup or affinity limit: this shell may use fewer CPUs than the machine has.
        facts["cores_available"] = info["nproc"]

    up1, cpus1, other1 = _cpu_lines(sections.get("stat1", ""))
    up2, cpus2, other2 = _cpu_lines(sections.get("stat2", ""))
    shares: dict[str, float] = {}
    if "cpu" in cpus1 and "cpu" in cpus2:
        shares = _shares(cpus1["cpu"], cpus2["cpu"])
        metrics.append(Metric("cpu.usage", round(shares["usage"], 1), "%", {"cpu": "total"}))
        for state in ("user", "system", "iowait", "steal", "nice", "irq", "softirq", "idle"):
            metrics.append(Metric(f"cpu.{state}", round(shares[state], 1), "%", {"cpu": "total"}))
        rows = []
        for name in sorted((n for n in cpus2 if n != "cpu" and n in cpus1), key=lambda n: int(n[3:])):
            core = _shares(cpus1[name], cpus2[name])
            metrics.append(Metric("cpu.usage", round(core["usage"], 1), "%", {"cpu": name[3:]}))
            rows.append(
                (name[3:], *(round(core[k], 1) for k in ("usage", "user", "system", "iowait", "steal")))
            )
        tables.append(
            Table(
                "per_core",
                "Per-core usage during the sample (%)",
                ("cpu", "usage", "user", "system", "iowait", "steal"),
                tuple(rows),
            )
        )
        interval = (up2 - up1) if up1 is not None and up2 is not None else 0.0
        if interval > 0:
            facts["sample_seconds"] = f"{interval:.2f}"
            if "ctxt" in other1 and "ctxt" in other2:
                rate = (other2["ctxt"] - other1["ctxt"]) / interval
                metrics.append(Metric("cpu.context_switches", round(rate, 1), "/s"))
    for key in ("procs_running", "procs_blocked"):
        if key in other2:
            metrics.append(Metric(f"cpu.{key}", other2[key], "tasks"))

    loads = {k: to_float(info.get(f"load{k}")) for k in ("1", "5", "15")}
    for k, v in loads.items():
        if v is not None:
            metrics.append(Metric("cpu.load", v, "tasks", {"period": f"{k}m"}))
    load5 = loads["5"]
    if load5 is not None and cores:
        per_core = load5 / cores
        metrics.append(Metric("cpu.load_per_core", round(per_core, 2), "tasks/core", {"period": "5m"}))
        if per_core > LOAD_PER_CORE_WARNING:
            severity = Severity.CRITICAL if per_core > LOAD_PER_CORE_CRITICAL else Severity.WARNING
            findings.append(
                Finding(
                    severity,
                    "High load average",
                    f"5-minute load is {load5:g} on {cores} cores ({per_core:.2f} per core): "
                    "more tasks want to run than there are CPUs.",
                    "Look at the top CPU consumers and at tasks in D state (waiting on disk or "
                    "NFS): both count in the load. Compare with iowait below.",
                    NAME,
                )
            )

    if shares:
        if shares["iowait"] > IOWAIT_WARNING:
            findings.append(
                Finding(
                    Severity.WARNING,
                    "High I/O wait",
                    f"CPUs spent {shares['iowait']:.1f} % of the sample waiting for I/O.",
                    "A disk or network filesystem is slow or saturated: check the disk probe's "
                    "utilisation per device and which processes are in D state.",
                    NAME,
                )
            )
        if shares["steal"] > STEAL_WARNING:
            findings.append(
                Finding(
                    Severity.WARNING,
                    "CPU steal time",
                    f"The hypervisor took {shares['steal']:.1f} % of this VM's CPU time for "
                    "other guests.",
                    "The host is overcommitted or the instance's CPU credits are exhausted: ask "
                    "the virtualization/cloud team, or move to a larger or dedicated instance.",
                    NAME,
                )
            )
        if shares["usage"] > USAGE_WARNING:
            findings.append(
                Finding(
                    Severity.WARNING,
                    "CPU nearly saturated",
                    f"CPUs were {shares['usage']:.1f} % busy during the sample "
                    f"(user {shares['user']:.1f} %, system {shares['system']:.1f} %).",
                    "Find the processes using the CPU (processes probe, top); high system time "
                    "points to the kernel: I/O, interrupts, lock contention.",
                    NAME,
                )
            )

    return ProbeData(
        metrics=tuple(metrics),
        tables=tuple(tables),
        findings=tuple(findings),
        facts=facts,
        notes=notes(output),
    )


def summarize(data: ProbeData) -> str:
    usage = data.metric("cpu.usage", cpu="total")
    load = data.metric("cpu.load", period="5m")
    per_core = data.metric("cpu.load_per_core", period="5m")
    text = f"{usage:.0f} % busy" if usage is not None else "usage unknown"
    text += f" on {data.facts.get('cores', '?')} cores"
    if load is not None:
        text += f", load {load:.2f}" + (f" ({per_core:.2f} per core)" if per_core is not None else "")
    iowait = data.metric("cpu.iowait", cpu="total")
    if iowait:
        text += f", iowait {iowait:.0f} %"
    return text


PROBE = Probe(
    name=NAME,
    title="CPU",
    description="CPU usage over a 0.5 s sample (total, per core, user/system/iowait/steal), "
    "load averages per core, context switches and runnable/blocked tasks.",
    script=SCRIPT,
    parse=parse,
    timeout=10.0,
    summarize=summarize,
)
