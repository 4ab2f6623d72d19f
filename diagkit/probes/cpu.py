"""cpu: how busy the processors are - usage over a short sample, load, context switches."""

from __future__ import annotations

from dataclasses import dataclass

from diagkit.probes import base
from diagkit.probes.base import Finding, Metric, Probe, ProbeData, Severity, Table

NAME = "cpu"

# /proc/stat cpu line columns after the name (kernel >= 2.6.33 has all ten).
_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice")

#: Processes named in the top-CPU table of the sample, and at most this many in D state.
TOP_PROCESSES = 5
MAX_BLOCKED = 20
#: Command lines are cut to this many characters.
COMMAND_WIDTH = 80

SCRIPT = (
    base.SCRIPT_PREAMBLE
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
  # Every process's CPU ticks before and after the same pause: who used the CPU during the
  # sample. Only the top few and those in D state are printed, with user and command line.
  p1=
  if command -v awk >/dev/null 2>&1; then p1=$(cat /proc/[0-9]*/stat 2>/dev/null)
  else echo "@@note awk is not installed: no per-process CPU sample"; fi
  sample stat1
  """
    + base.SAMPLE_SLEEP
    + r"""
  sample stat2
  if [ -n "$p1" ]; then
    echo "@@section procs"
    hz=$(getconf CLK_TCK 2>/dev/null) || hz=
    case "$hz" in ''|*[!0-9]*) hz=100;; esac
    echo "hz $hz"
    # The script's own children (this cat, awk, the sleep) are left out: -v self=$$.
    { echo "$p1"; echo "@@after"; cat /proc/[0-9]*/stat 2>/dev/null; } | awk -v N=TOP_N -v ND=MAX_D -v self=$$ '
      $0 == "@@after" { after = 1; next }
      {
        o = index($0, "("); e = 0
        for (i = length($0); i > o; i--) if (substr($0, i, 1) == ")") { e = i; break }
        if (o == 0 || e == 0) next
        pid = $1; comm = substr($0, o + 1, e - o - 1); split(substr($0, e + 2), f, " ")
        t = f[12] + f[13]
        if (pid == self || f[2] == self) next
        if (!after) { t1[pid] = t; next }
        d = (pid in t1) ? t - t1[pid] : t
        if (f[1] == "D" && nd++ < ND) print "D", pid, d, f[1], comm
        if (d <= 0) next
        for (k = 1; k <= N; k++) if (!(k in best) || d > best[k]) break
        if (k > N) next
        for (j = N; j > k; j--) if ((j - 1) in best) {
          best[j] = best[j-1]; bp[j] = bp[j-1]; bs[j] = bs[j-1]; bc[j] = bc[j-1]
        }
        best[k] = d; bp[k] = pid; bs[k] = f[1]; bc[k] = comm
      }
      END { for (k = 1; k <= N; k++) if (k in best) print "top", bp[k], best[k], bs[k], bc[k] }' |
    while read -r kind pid ticks state comm; do
      u=$(stat -c %U "/proc/$pid" 2>/dev/null) || u=?
      # Kernel threads have an empty command line: shown as [comm], like ps does.
      c=$({ tr '\000\t\n' '   ' < "/proc/$pid/cmdline"; } 2>/dev/null | cut -c1-COMMAND_WIDTH)
      if [ -z "$c" ]; then
        if [ -d "/proc/$pid" ]; then c="[$comm]"; else c="$comm (exited)"; fi
      fi
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$pid" "$ticks" "$state" "${u:-?}" "$c"
    done
  fi
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
""".replace("TOP_N", str(TOP_PROCESSES)).replace("MAX_D", str(MAX_BLOCKED)).replace(
        "COMMAND_WIDTH", str(COMMAND_WIDTH))
)


# --- reading: text -> CpuReading ---------------------------------------------------------------


@dataclass(frozen=True)
class CpuTimes:
    """Percent of a sample interval spent in each state; ``usage`` is all but idle and iowait."""

    user: float
    nice: float
    system: float
    idle: float
    iowait: float
    irq: float
    softirq: float
    steal: float
    usage: float


@dataclass(frozen=True)
class ProcessCpu:
    """One process during the sample: ``share`` is percent of one CPU (200 = two cores busy)."""

    pid: int
    user: str
    state: str  # R, S, D... at the end of the sample
    share: float
    command: str

    def label(self, width: int = COMMAND_WIDTH) -> str:
        command = self.command if len(self.command) <= width else self.command[:width - 3] + "..."
        return f"{command} (pid {self.pid}, {self.user})"


@dataclass(frozen=True)
class CpuReading:
    """What the cpu script saw. ``total`` is None when /proc/stat could not be sampled twice."""

    model: str = ""
    cores: int = 0  # processors in /proc/cpuinfo, else nproc; 0 when unknown
    nproc: str = ""  # what nproc printed: fewer than ``cores`` under a cgroup or affinity limit
    total: CpuTimes | None = None
    per_core: tuple[tuple[str, CpuTimes], ...] = ()  # ("0", times), ("1", times)... by number
    sample_seconds: float = 0.0  # the sample's length; 0 when unknown
    context_switches: float | None = None  # per second over the sample
    procs_running: int | None = None
    procs_blocked: int | None = None
    load1: float | None = None
    load5: float | None = None
    load15: float | None = None
    top: tuple[ProcessCpu, ...] = ()  # most CPU during the sample first; () when not sampled
    blocked: tuple[ProcessCpu, ...] = ()  # in D state at the end of the sample
    processes_sampled: bool = False
    notes: tuple[str, ...] = ()

    @property
    def load_per_core(self) -> float | None:
        return self.load5 / self.cores if self.load5 is not None and self.cores else None


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
            uptime = base.to_float(parts[1])
        elif parts[0].startswith("cpu"):
            values = [int(p) for p in parts[1:] if p.isdigit()]
            cpus[parts[0]] = values + [0] * (len(_FIELDS) - len(values))
        elif len(parts) == 2 and parts[1].isdigit():
            other[parts[0]] = int(parts[1])
    return uptime, cpus, other


def _times(before: list[int], after: list[int]) -> CpuTimes:
    """Percent of the interval each state took, plus 'usage' (everything but idle and iowait)."""
    # guest/guest_nice are already counted inside user/nice: leave them out of the total.
    delta = [max(a - b, 0) for a, b in zip(after[:8], before[:8], strict=True)]
    total = sum(delta)
    shares = {name: base.pct(d, total) for name, d in zip(_FIELDS[:8], delta, strict=True)}
    return CpuTimes(**shares, usage=base.pct(total - delta[3] - delta[4], total))


def _processes(text: str, interval: float) -> tuple[list[ProcessCpu], list[ProcessCpu], bool]:
    """(top, blocked, sampled) from the procs section: ticks over the interval -> % of a CPU."""
    hz = 100.0
    top: list[ProcessCpu] = []
    blocked: list[ProcessCpu] = []
    lines = text.splitlines()
    for line in lines:
        if line.startswith("hz "):
            hz = base.to_float(line[3:], 100.0) or 100.0
            continue
        parts = line.split("\t", 5)
        if len(parts) != 6 or parts[0] not in ("top", "D") or not parts[1].isdigit():
            continue
        ticks = base.to_float(parts[2], 0.0) or 0.0
        share = round(100.0 * ticks / hz / interval, 1) if interval > 0 else 0.0
        process = ProcessCpu(int(parts[1]), parts[4], parts[3], share, parts[5].rstrip())
        (top if parts[0] == "top" else blocked).append(process)
    return top, blocked, any(line.startswith("hz ") for line in lines)


def read(output: str) -> CpuReading:
    sections = base.split_sections(output)
    info = base.key_values(sections.get("info", ""))
    cores = int(base.to_float(info.get("cpuinfo_processors"), 0) or 0) or int(
        base.to_float(info.get("nproc"), 0) or 0
    )
    up1, cpus1, other1 = _cpu_lines(sections.get("stat1", ""))
    up2, cpus2, other2 = _cpu_lines(sections.get("stat2", ""))
    total = per_core = None
    interval, switches = 0.0, None
    if "cpu" in cpus1 and "cpu" in cpus2:
        total = _times(cpus1["cpu"], cpus2["cpu"])
        names = sorted((n for n in cpus2 if n != "cpu" and n in cpus1), key=lambda n: int(n[3:]))
        per_core = tuple((n[3:], _times(cpus1[n], cpus2[n])) for n in names)
        interval = (up2 - up1) if up1 is not None and up2 is not None else 0.0
        if interval > 0 and "ctxt" in other1 and "ctxt" in other2:
            switches = (other2["ctxt"] - other1["ctxt"]) / interval
    top, blocked, sampled = _processes(sections.get("procs", ""), interval)
    return CpuReading(
        model=info.get("model", ""),
        cores=cores,
        nproc=info.get("nproc", ""),
        total=total,
        per_core=per_core or (),
        sample_seconds=max(interval, 0.0),
        context_switches=switches,
        procs_running=other2.get("procs_running"),
        procs_blocked=other2.get("procs_blocked"),
        load1=base.to_float(info.get("load1")),
        load5=base.to_float(info.get("load5")),
        load15=base.to_float(info.get("load15")),
        top=tuple(top), blocked=tuple(blocked), processes_sampled=sampled,
        notes=base.notes(output),
    )


# --- describing: CpuReading -> metrics, tables, facts ------------------------------------------

_STATES = ("user", "system", "iowait", "steal", "nice", "irq", "softirq", "idle")


def describe(r: CpuReading) -> ProbeData:
    metrics: list[Metric] = []
    tables: list[Table] = []
    facts: dict[str, str] = {}
    if r.model:
        facts["model"] = r.model
    if r.cores:
        facts["cores"] = str(r.cores)
        metrics.append(Metric("cpu.cores", r.cores, "cores"))
    if r.nproc and r.nproc != str(r.cores):
        facts["cores_available"] = r.nproc
    if r.total is not None:
        metrics.append(Metric("cpu.usage", round(r.total.usage, 1), "%", {"cpu": "total"}))
        metrics += [Metric(f"cpu.{state}", round(getattr(r.total, state), 1), "%", {"cpu": "total"})
                    for state in _STATES]
        metrics += [Metric("cpu.usage", round(t.usage, 1), "%", {"cpu": n}) for n, t in r.per_core]
        rows = tuple((n, *(round(v, 1) for v in (t.usage, t.user, t.system, t.iowait, t.steal)))
                     for n, t in r.per_core)
        tables.append(Table("per_core", "Per-core usage during the sample (%)",
                            ("cpu", "usage", "user", "system", "iowait", "steal"), rows,
                            sorted_by="cpu"))
        if r.sample_seconds > 0:
            facts["sample_seconds"] = f"{r.sample_seconds:.2f}"
        if r.context_switches is not None:
            metrics.append(Metric("cpu.context_switches", round(r.context_switches, 1), "/s"))
    for key in ("procs_running", "procs_blocked"):
        if (count := getattr(r, key)) is not None:
            metrics.append(Metric(f"cpu.{key}", count, "tasks"))
    for period, load in (("1m", r.load1), ("5m", r.load5), ("15m", r.load15)):
        if load is not None:
            metrics.append(Metric("cpu.load", load, "tasks", {"period": period}))
    if r.load_per_core is not None:
        metrics.append(Metric("cpu.load_per_core", round(r.load_per_core, 2), "tasks/core",
                              {"period": "5m"}))
    if r.processes_sampled:
        columns = ("pid", "user", "cpu_percent", "state", "command")
        tables.append(Table("top_cpu", "Top processes by CPU during the sample (% of one CPU)",
                            columns, [(p.pid, p.user, p.share, p.state, p.command) for p in r.top]))
        tables.append(Table("blocked", "Processes in D state (uninterruptible, counted in the load)",
                            columns, [(p.pid, p.user, p.share, p.state, p.command)
                                      for p in r.blocked]))
    return ProbeData(metrics=tuple(metrics), tables=tuple(tables), facts=facts, notes=r.notes)


# --- judging: CpuReading + thresholds -> findings -----------------------------------------------


@dataclass(frozen=True)
class CpuThresholds:
    load_per_core_warning: float = 1.0  # 5-min load per core: more runnable tasks than cores
    load_per_core_critical: float = 2.0
    iowait_warning: float = 20.0  # % of CPU time spent waiting for disk I/O
    steal_warning: float = 10.0  # % of CPU time the hypervisor gave to other guests
    usage_warning: float = 90.0  # % total busy during the sample


THRESHOLDS = CpuThresholds()

#: How many processes a finding names, and how much of each command line.
NAMED = 5
NAMED_WIDTH = 40


def _busiest(r: CpuReading) -> str:
    """' Busiest during the sample (% of one CPU): CMD (pid N, user) 98 %; ...' or ''."""
    named = [f"{p.label(NAMED_WIDTH)} {p.share:.0f} %" for p in r.top[:NAMED]]
    return f" Busiest during the sample (% of one CPU): {'; '.join(named)}." if named else ""


def _in_d_state(r: CpuReading) -> str:
    if not r.blocked:
        return ""
    more = f" and {len(r.blocked) - NAMED} more" if len(r.blocked) > NAMED else ""
    return (f" In D state (waiting uninterruptibly, counted in the load): "
            f"{'; '.join(p.label(NAMED_WIDTH) for p in r.blocked[:NAMED])}{more}.")


def _first(r: CpuReading) -> str:
    return f"Start with pid {r.top[0].pid} ({r.top[0].command.split(' ', 1)[0]}): " if r.top else ""


def judge(r: CpuReading, limits: CpuThresholds) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    per_core = r.load_per_core
    if per_core is not None and r.load5 is not None and per_core > limits.load_per_core_warning:
        findings.append(Finding(
            Severity.CRITICAL if per_core > limits.load_per_core_critical else Severity.WARNING,
            "High load average",
            f"5-minute load is {r.load5:g} on {r.cores} cores ({per_core:.2f} per core): "
            "more tasks want to run than there are CPUs." + _busiest(r) + _in_d_state(r),
            "Look at the top CPU consumers and at tasks in D state (waiting on disk or "
            "NFS): both count in the load. Compare with iowait below."
            + (" For a D-state task, 'cat /proc/PID/stack' (root) and 'cat /proc/PID/wchan' "
               "show what it waits on." if r.blocked else ""),
            NAME,
        ))
    t = r.total
    if t is None:
        return tuple(findings)
    # (fired, title, detail, hint): warnings about the sample
    sample = (
        (t.iowait > limits.iowait_warning, "High I/O wait",
         f"CPUs spent {t.iowait:.1f} % of the sample waiting for I/O." + _in_d_state(r),
         ("A disk or network filesystem is slow or saturated: check the disk probe's "
          "utilisation per device and which processes are in D state.")),
        (t.steal > limits.steal_warning, "CPU steal time",
         f"The hypervisor took {t.steal:.1f} % of this VM's CPU time for other guests.",
         ("The host is overcommitted or the instance's CPU credits are exhausted: ask "
          "the virtualization/cloud team, or move to a larger or dedicated instance.")),
        (t.usage > limits.usage_warning, "CPU nearly saturated",
         (f"CPUs were {t.usage:.1f} % busy during the sample "
          f"(user {t.user:.1f} %, system {t.system:.1f} %)." + _busiest(r)),
         (_first(r) + "is it expected to be this busy (a runaway loop, a stuck retry, a "
          "build)? Watch it with top -p PID; high system time points to the kernel: I/O, "
          "interrupts, lock contention.") if r.top else
         ("Find the processes using the CPU (processes probe, top); high system time "
          "points to the kernel: I/O, interrupts, lock contention.")),
    )
    findings += (Finding(Severity.WARNING, title, detail, hint, NAME)
                 for fired, title, detail, hint in sample if fired)
    return tuple(findings)


parse = base.read_then_judge(read, describe, judge, THRESHOLDS)


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
    name=NAME, title="CPU", script=SCRIPT, parse=parse, summarize=summarize,
    timeout=10.0,
    description="CPU usage over a 0.5 s sample (total, per core, user/system/iowait/steal), "
    "load averages per core, context switches and runnable/blocked tasks.")
