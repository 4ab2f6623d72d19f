"""files: open files per process against each process's own limit, and system-wide handles.

A process that reaches its soft ``RLIMIT_NOFILE`` fails every ``open``, ``accept`` and ``socket``
with EMFILE ("Too many open files") while the host looks healthy: the system-wide count in
``/proc/sys/fs/file-nr`` is far from ``fs.file-max``. So the limit is judged per process, against
that process's own soft "Max open files" in ``/proc/PID/limits``.

Counting ``/proc/PID/fd`` for every process would cost a directory read each; the script reads
``FDSize`` from every ``/proc/PID/status`` (one ``grep``): the size of the process's descriptor
table, which is at least its highest open descriptor + 1 and so at least its number of open files.
Only processes whose table has grown to half their limit, and the few with the largest tables,
have their descriptors counted.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from diagkit.probes import base
from diagkit.probes.base import Finding, Metric, Probe, ProbeData, Severity, Table

NAME = "files"

#: Besides every process near its limit, this many with the largest descriptor tables are counted.
TOP_N = 5
#: Processes whose descriptor table reaches this share of their soft limit are counted: the
#: judge's thresholds can go down to it without a change of script.
CANDIDATE_RATIO = 0.5
#: Command lines are cut to this many characters.
COMMAND_WIDTH = 80

SCRIPT = (
    base.SCRIPT_PREAMBLE
    + r"""
echo "@@section system"
if [ -r /proc/sys/fs/file-nr ]; then
  # cat, not read: dash's read takes one byte at a time and a sysctl file gives just the first.
  set -- $(cat /proc/sys/fs/file-nr 2>/dev/null)
  echo "allocated=$1"; echo "file_max=$3"
else
  echo "@@note /proc/sys/fs/file-nr is not readable: no system-wide count"
fi
[ -r /proc/sys/fs/nr_open ] && echo "nr_open=$(cat /proc/sys/fs/nr_open 2>/dev/null)"
if ! command -v awk >/dev/null 2>&1; then
  echo "@@note awk is not installed: no per-process open files"
  exit 0
fi
echo "@@section processes"
# pid fdsize soft hard for the processes worth counting; a table of 64 is the kernel's
# smallest, so a process that never held 64 descriptors costs nothing more than its grep line.
grep -H '^FDSize:' /proc/[0-9]*/status 2>/dev/null | awk -F'[/:\t ]+' -v N=TOP_N -v R=RATIO '
  $NF + 0 > 64 { n++; pid[n] = $3; size[n] = $NF + 0 }
  END {
    for (i = 1; i <= n; i++) {
      soft = ""; hard = ""; f = "/proc/" pid[i] "/limits"
      while ((getline line < f) > 0) if (line ~ /^Max open files/) { split(line, a, " "); soft = a[4]; hard = a[5] }
      close(f)
      if (soft == "") continue
      if (soft ~ /^[0-9]+$/ && size[i] >= R * soft) { print pid[i], size[i], soft, hard; continue }
      for (k = 1; k <= N; k++) if (!(k in best) || size[i] > size[best[k]]) break
      if (k > N) continue
      for (j = N; j > k; j--) if ((j - 1) in best) best[j] = best[j - 1]
      best[k] = i; s[i] = soft; h[i] = hard
    }
    for (k = 1; k <= N; k++) if (k in best) print pid[best[k]], size[best[k]], s[best[k]], h[best[k]]
  }' |
{ denied=
while read -r pid size soft hard; do
  if [ ! -r "/proc/$pid/fd" ]; then denied="$denied $pid"; continue; fi
  set -- "/proc/$pid/fd/"*
  n=$#; [ "$1" = "/proc/$pid/fd/*" ] && n=0
  u=$(stat -c %U "/proc/$pid" 2>/dev/null) || u=?
  c=$({ tr '\000\t\n' '   ' < "/proc/$pid/cmdline"; } 2>/dev/null | cut -c1-COMMAND_WIDTH)
  [ -n "$c" ] || c="[$(cat "/proc/$pid/comm" 2>/dev/null)]"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$pid" "$n" "$soft" "$hard" "$size" "${u:-?}" "$c"
done
[ -z "$denied" ] || echo "@@note the open files of pid$denied were not counted: their /proc/PID/fd is not readable (not root?)"
}
exit 0
""".replace("TOP_N", str(TOP_N)).replace("RATIO", str(CANDIDATE_RATIO)).replace(
        "COMMAND_WIDTH", str(COMMAND_WIDTH))
)


# --- reading: text -> FilesReading -------------------------------------------------------------


@dataclass(frozen=True)
class ProcessFiles:
    pid: int
    open_files: int
    soft_limit: int | None  # None: unlimited
    hard_limit: int | None
    user: str
    command: str

    @property
    def used_percent(self) -> float | None:
        return base.pct(self.open_files, self.soft_limit) if self.soft_limit else None


@dataclass(frozen=True)
class FilesReading:
    allocated: int | None = None  # file handles allocated system-wide (fs.file-nr)
    file_max: int | None = None  # fs.file-max
    nr_open: int | None = None  # the highest limit a process may set (fs.nr_open)
    processes: tuple[ProcessFiles, ...] = ()  # the processes counted, most open files first
    notes: tuple[str, ...] = ()


def _int(text: str | None) -> int | None:
    return int(text) if text and text.strip().isdigit() else None


def read(output: str) -> FilesReading:
    sections = base.split_sections(output)
    system = base.key_values(sections.get("system", ""))
    found: dict[int, ProcessFiles] = {}
    for line in sections.get("processes", "").splitlines():
        parts = line.split("\t", 6)
        if len(parts) == 7 and parts[0].isdigit() and parts[1].isdigit():
            pid = int(parts[0])
            found[pid] = ProcessFiles(pid, int(parts[1]), _int(parts[2]), _int(parts[3]),
                                      parts[5], parts[6].rstrip())
    return FilesReading(
        allocated=_int(system.get("allocated")),
        file_max=_int(system.get("file_max")),
        nr_open=_int(system.get("nr_open")),
        processes=tuple(sorted(found.values(), key=lambda p: (-p.open_files, p.pid))),
        notes=base.notes(output),
    )


# --- describing: FilesReading -> metrics, tables, facts -----------------------------------------


def describe(r: FilesReading) -> ProbeData:
    metrics: list[Metric] = []
    facts: dict[str, str] = {}
    if r.allocated is not None:
        metrics.append(Metric("files.allocated", r.allocated, "handles"))
    if r.file_max is not None:
        metrics.append(Metric("files.file_max", r.file_max, "handles"))
        facts["file_max"] = str(r.file_max)
    if r.nr_open is not None:
        facts["nr_open"] = str(r.nr_open)
    rows = []
    for p in r.processes:
        pct = p.used_percent
        rows.append((p.pid, p.user, p.open_files, p.soft_limit,
                     None if pct is None else round(pct, 1), p.hard_limit, p.command))
        if pct is not None:
            metrics.append(Metric("files.process_used_percent", round(pct, 1), "%",
                                  {"pid": str(p.pid)}))
    table = Table("top_fds", "Processes with the most open files, against their own limit",
                  ("pid", "user", "open_files", "soft_limit", "used_pct", "hard_limit", "command"),
                  rows)
    return ProbeData(metrics=tuple(metrics), tables=(table,), facts=facts, notes=r.notes)


# --- judging: FilesReading + thresholds -> findings ---------------------------------------------


@dataclass(frozen=True)
class FilesThresholds:
    process_warning: float = 80.0  # % of a process's own soft open-files limit
    process_critical: float = 95.0
    system_warning: float = 80.0  # % of fs.file-max allocated


THRESHOLDS = FilesThresholds()


def judge(r: FilesReading, limits: FilesThresholds) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    for p in r.processes:
        pct = p.used_percent
        if pct is None or p.soft_limit is None or pct < limits.process_warning:
            continue
        name = p.command.split(" ", 1)[0].rsplit("/", 1)[-1].rstrip(":") or p.command
        room = (f"raise the soft limit toward the hard limit ({p.hard_limit}): ulimit -n in its "
                "start script, LimitNOFILE= for a systemd service, nofile in limits.conf"
                if p.hard_limit and p.hard_limit > p.soft_limit else
                "the soft limit already equals the hard limit: raise both (LimitNOFILE= for a "
                "systemd service, nofile in limits.conf)")
        findings.append(Finding(
            Severity.CRITICAL if pct >= limits.process_critical else Severity.WARNING,
            f"{name} (pid {p.pid}) near its open-files limit",
            f"{p.command} (pid {p.pid}, {p.user}) holds {p.open_files} open files against its "
            f"soft limit of {p.soft_limit} ({pct:.0f} %). At the limit its open, accept and "
            "socket calls fail with 'Too many open files' (EMFILE).",
            f"Look at what it holds (ls -l /proc/{p.pid}/fd | awk '{{print $NF}}' | sort | "
            "uniq -c | sort -n | tail): a steady climb of the same kind is a descriptor leak; "
            f"if the count is legitimate, {room}.",
            NAME,
        ))
    if r.allocated is not None and r.file_max:
        share = base.pct(r.allocated, r.file_max)
        if share >= limits.system_warning:
            heavy = ", ".join(f"{p.command} (pid {p.pid}): {p.open_files}"
                              for p in r.processes[:3])
            findings.append(Finding(
                Severity.WARNING,
                "File handles nearly exhausted system-wide",
                f"{r.allocated} of {r.file_max} file handles allocated ({share:.0f} %)."
                + (f" Most open files: {heavy}." if heavy else ""),
                "Find the holder (the table below) and fix its leak, or raise fs.file-max "
                f"(sysctl -w fs.file-max={shlex.quote(str(r.file_max * 2))}).",
                NAME,
            ))
    return tuple(findings)


parse = base.read_then_judge(read, describe, judge, THRESHOLDS)


def summarize(data: ProbeData) -> str:
    table = data.table("top_fds")
    allocated, file_max = data.metric("files.allocated"), data.metric("files.file_max")
    text = (f"{allocated:.0f} of {file_max:.0f} handles system-wide"
            if allocated is not None and file_max else "system-wide count unknown")
    if table is not None and table.rows:
        top = table.rows[0]
        limit = f" of {top['soft_limit']}" if top["soft_limit"] else ""
        text += f"; most: pid {top['pid']} with {top['open_files']}{limit}"
    return text


PROBE = Probe(
    name=NAME, title="Open files", script=SCRIPT, parse=parse, summarize=summarize,
    timeout=10.0,
    description="Open files of the processes with the largest descriptor tables, each against "
    "its own soft limit (/proc/PID/limits), and file handles system-wide against fs.file-max.")
