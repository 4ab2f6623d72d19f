"""Processes: counts by state, the top consumers of CPU and memory, zombies, uninterruptible sleep.

Where the numbers come from: a full ``ps -eo`` (procps) when the target has one, else
``/proc/[pid]/stat`` + ``status`` read by one ``awk`` (busybox ``ps`` often lacks ``-o``). Both
paths feed the same ``awk`` aggregator, so the parser reads one format. CPU % is what ``ps``
reports: CPU time over the process's lifetime, not an instantaneous sample (the cpu probe
samples the machine as a whole).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

from diagkit.probes import base
from diagkit.probes.base import Finding, Metric, Probe, ProbeData, Severity, Table

NAME = "processes"

#: How many rows the top-CPU and top-RSS tables hold.
TOP_N = 10
#: Commands are cut to this many characters in tables.
COMMAND_WIDTH = 80

# The aggregator reads lines "pid ppid user stat pcpu rss_kb nlwp command..." and prints the
# sections the parser reads. Top-N is found by repeated max-selection: portable to mawk and
# busybox awk (no asort), and O(N*n) with n = 10 is nothing next to spawning a sort.
_AGGREGATE = r"""
{
  n++; pid[n]=$1; ppid[n]=$2; usr[n]=$3; st[n]=substr($4,1,1); cpu[n]=$5+0; rss[n]=$6+0
  thr[n]=($7+0 > 0) ? $7+0 : 1
  c=$0; for (i=1; i<=7; i++) sub(/^[ \t]*[^ \t]+/, "", c); sub(/^[ \t]+/, "", c)
  cmd[n]=substr(c,1,w); byp[$1]=n; threads+=thr[n]; cnt[st[n]]++
  ut[$3]+=thr[n]; if (!($3 in up)) up[$3]=$1; kids[$3 SUBSEP $2]++
}
function users(    k, u, best, done, lim, f, line, a, key, pp, most, q) {
  print "@@section users"
  for (k=1; k<=3; k++) {
    best=""
    for (u in ut) if (!(u in done) && (best=="" || ut[u] > ut[best])) best=u
    if (best=="") break
    done[best]=1; lim="?"; f="/proc/" up[best] "/limits"
    while ((getline line < f) > 0) if (line ~ /^Max processes/) { split(line, a, " "); lim=a[3] }
    close(f)
    most=0; pp=""
    for (key in kids) { split(key, q, SUBSEP); if (q[1]==best && kids[key] > most) { most=kids[key]; pp=q[2] } }
    printf "%s %d %s %s %s %d %s\n", best, ut[best], up[best], lim, pp, most, (pp in byp) ? cmd[byp[pp]] : "?"
  }
}
function top(arr, title,    k, i, best, used) {
  print "@@section " title
  for (k=1; k<=lim && k<=n; k++) {
    best=0
    for (i=1; i<=n; i++) if (!(i in used) && (best==0 || arr[i] > arr[best])) best=i
    used[best]=1
    printf "%s %s %.1f %d %s %s\n", pid[best], usr[best], cpu[best], rss[best], st[best], cmd[best]
  }
}
END {
  print "@@section counts"
  printf "total=%d\nrunning=%d\nsleeping=%d\ndisk_sleep=%d\nzombie=%d\nstopped=%d\nthreads=%d\n", \
    n, cnt["R"], cnt["S"]+cnt["I"], cnt["D"], cnt["Z"], cnt["T"]+cnt["t"], threads
  top(cpu, "top_cpu"); top(rss, "top_rss"); users()
  print "@@section zombies"; z=0
  for (i=1; i<=n; i++) if (st[i]=="Z" && z++ < 100) {
    p=ppid[i]; pc=(p in byp) ? cmd[byp[p]] : "?"
    printf "%s %s %s\t%s\n", pid[i], p, cmd[i], pc
  }
  print "@@section dstate"
  for (i=1; i<=n; i++) if (st[i]=="D") printf "%s %s %s\n", pid[i], usr[i], cmd[i]
}
"""

# /proc fallback: stat lines, then "Pid:/Uid:/VmRSS:" lines from status, then /etc/passwd,
# separated by marker lines. The command is the kernel's comm (cmdline would cost a spawn per
# process); kernel threads (no VmRSS) are shown in brackets like ps does.
_FROM_PROC = r"""
$0=="@@status" { mode=1; next }
$0=="@@passwd" { mode=2; next }
mode==0 {
  o=index($0,"("); e=0; for (i=length($0); i>0; i--) if (substr($0,i,1)==")") { e=i; break }
  if (o==0 || e==0) next
  p=substr($0,1,o-2); comm[p]=substr($0,o+1,e-o-1); split(substr($0,e+2), f, " ")
  state[p]=f[1]; pp[p]=f[2]; ticks[p]=f[12]+f[13]; nth[p]=f[18]; start[p]=f[20]; order[++n]=p
  next
}
mode==1 && $1=="Pid:" { cur=$2; next }
mode==1 && $1=="Uid:" { uid[cur]=$2; next }
mode==1 && $1=="VmRSS:" { vm[cur]=$2; next }
mode==2 { split($0, pw, ":"); if (!(pw[3] in uname)) uname[pw[3]]=pw[1] }
END {
  getline up < "/proc/uptime"; split(up, u, " ")
  for (k=1; k<=n; k++) {
    p=order[k]; age=u[1] - start[p]/hz; pc=(age > 0) ? 100*ticks[p]/hz/age : 0
    un=(uid[p] in uname) ? uname[uid[p]] : uid[p]; if (un=="") un="?"
    c=(p in vm) ? comm[p] : "[" comm[p] "]"
    printf "%s %s %s %s %.1f %d %d %s\n", p, pp[p], un, state[p], pc, vm[p]+0, nth[p], c
  }
}
"""

SCRIPT = (
    r"""export LC_ALL=C
# procps ps cuts args to $COLUMNS when it is set (a terminal's width leaking into the session).
unset COLUMNS
echo "@@section limits"
echo "pid_max=$(cat /proc/sys/kernel/pid_max 2>/dev/null)"
echo "threads_max=$(cat /proc/sys/kernel/threads-max 2>/dev/null)"
if ! command -v awk >/dev/null 2>&1; then
  echo "@@note awk is not installed: process tables cannot be built"
  exit 0
fi
FMT='pid=,ppid=,user:32=,stat=,pcpu=,rss=,nlwp=,args='
if ps -eo "$FMT" >/dev/null 2>&1; then
  echo "source=ps"
  ps -eo "$FMT" 2>/dev/null | awk -v w="""
    + str(COMMAND_WIDTH)
    + " -v lim="
    + str(TOP_N)
    + " '"
    + _AGGREGATE
    + r"""'
else
  echo "source=proc"
  echo "@@note no ps with -o here (busybox?): read /proc directly; commands are short names"
  { cat /proc/[0-9]*/stat 2>/dev/null; echo "@@status"
    grep -hE '^(Pid|Uid|VmRSS):' /proc/[0-9]*/status 2>/dev/null; echo "@@passwd"
    cat /etc/passwd 2>/dev/null; } | awk -v hz=100 '"""
    + _FROM_PROC
    + "' | awk -v w="
    + str(COMMAND_WIDTH)
    + " -v lim="
    + str(TOP_N)
    + " '"
    + _AGGREGATE
    + """'
fi
exit 0
"""
)

_STATE_NAMES = {"R": "running", "S": "sleeping", "D": "disk sleep", "Z": "zombie", "T": "stopped",
                "t": "traced", "I": "idle", "X": "dead"}


# --- reading: text -> ProcessesReading ----------------------------------------------------------


@dataclass(frozen=True)
class Process:
    pid: int
    user: str
    cpu_percent: float  # CPU time over the process's lifetime, as ps reports it
    rss_kib: int
    state: str  # the first letter of ps's STAT (R, S, D, Z, T...)
    command: str  # cut to COMMAND_WIDTH


@dataclass(frozen=True)
class Zombie:
    pid: int
    ppid: int
    command: str
    parent: str  # the parent's command ("?" when it was not seen)


@dataclass(frozen=True)
class Blocked:
    """A process in uninterruptible sleep (D) at the moment of the snapshot."""

    pid: int
    user: str
    command: str


@dataclass(frozen=True)
class UserTasks:
    """One of the users running the most tasks, against its per-user limit (RLIMIT_NPROC)."""

    user: str
    tasks: int  # processes and threads: what RLIMIT_NPROC counts
    pid: int  # the process whose soft "Max processes" limit was read
    limit: int | None  # None: unlimited or unreadable
    parent_pid: int | None  # the parent of most of this user's processes
    parent_children: int
    parent_command: str


#: The process counts the script prints, in the order they are reported.
COUNTS = ("total", "running", "sleeping", "disk_sleep", "zombie", "stopped", "threads")


@dataclass(frozen=True)
class ProcessesReading:
    source: str = ""  # "ps" or "proc"
    counts: Mapping[str, int] = field(default_factory=dict)  # COUNTS keys that were printed
    pid_max: int | None = None
    threads_max: int | None = None
    top_cpu: tuple[Process, ...] = ()
    top_rss: tuple[Process, ...] = ()
    zombies: tuple[Zombie, ...] = ()  # at most 100
    blocked: tuple[Blocked, ...] = ()
    users: tuple[UserTasks, ...] = ()  # the (at most 3) users running the most tasks
    notes: tuple[str, ...] = ()


def _rows(text: str, fields: int) -> list[list[str]]:
    """Whitespace split into ``fields`` columns, the last one keeping its spaces."""
    out = []
    for line in text.splitlines():
        parts = line.split(None, fields - 1)
        if len(parts) == fields:
            out.append(parts)
    return out


def _top(text: str) -> tuple[Process, ...]:
    return tuple(Process(int(pid), user, float(cpu), int(rss), state, cmd)
                 for pid, user, cpu, rss, state, cmd in _rows(text, 6))


def _zombies(text: str) -> tuple[Zombie, ...]:
    zombies = []
    for line in text.splitlines():
        head, _, parent_cmd = line.partition("\t")
        parts = head.split(None, 2)
        if len(parts) == 3:
            zombies.append(Zombie(int(parts[0]), int(parts[1]), parts[2], parent_cmd))
    return tuple(zombies)


def _users(text: str) -> tuple[UserTasks, ...]:
    found = []
    for user, tasks, pid, limit, ppid, children, parent in _rows(text, 7):
        if tasks.isdigit() and pid.isdigit():
            found.append(UserTasks(user, int(tasks), int(pid), _limit(limit),
                                   int(ppid) if ppid.isdigit() else None,
                                   int(children) if children.isdigit() else 0, parent))
    return tuple(found)


def _limit(text: str | None) -> int | None:
    value = base.to_float(text or None)
    return None if value is None else int(value)


def read(output: str) -> ProcessesReading:
    sections = base.split_sections(output)
    limits = base.key_values(sections.get("limits", ""))
    counts = {k: int(v) for k, v in base.key_values(sections.get("counts", "")).items() if v.isdigit()}
    return ProcessesReading(
        source=limits.get("source", ""),
        counts={k: counts[k] for k in COUNTS if k in counts},
        pid_max=_limit(limits.get("pid_max")),
        threads_max=_limit(limits.get("threads_max")),
        top_cpu=_top(sections.get("top_cpu", "")),
        top_rss=_top(sections.get("top_rss", "")),
        zombies=_zombies(sections.get("zombies", "")),
        blocked=tuple(Blocked(int(p), u, c) for p, u, c in _rows(sections.get("dstate", ""), 3)),
        users=_users(sections.get("users", "")),
        notes=base.notes(output),
    )


# --- describing: ProcessesReading -> metrics, tables, facts -------------------------------------

_PROCESS_COLUMNS = ("pid", "user", "cpu_percent", "rss_kib", "state", "command")


def _process_rows(processes: tuple[Process, ...]) -> list[tuple[int, str, float, int, str, str]]:
    return [(p.pid, p.user, p.cpu_percent, p.rss_kib, p.state, p.command) for p in processes]


def describe(r: ProcessesReading) -> ProbeData:
    facts = {"source": r.source}
    if r.pid_max:
        facts["pid_max"] = str(r.pid_max)
    if r.threads_max:
        facts["threads_max"] = str(r.threads_max)
    metrics = tuple(Metric(f"processes.{key}", n, "count") for key, n in r.counts.items())
    tables = (
        Table("top_cpu", f"Top {TOP_N} by CPU", _PROCESS_COLUMNS, _process_rows(r.top_cpu),
              sorted_by="-cpu_percent"),
        Table("top_rss", f"Top {TOP_N} by memory (RSS)", _PROCESS_COLUMNS,
              _process_rows(r.top_rss), sorted_by="-rss_kib"),
        Table("zombies", "Zombie processes", ("pid", "ppid", "command", "parent"),
              [(z.pid, z.ppid, z.command, z.parent) for z in r.zombies]),
        Table("dstate", "Processes in uninterruptible sleep (D)", ("pid", "user", "command"),
              [(b.pid, b.user, b.command) for b in r.blocked]),
    ) + ((Table("users", "Users running the most tasks, against their limit (ulimit -u)",
                ("user", "tasks", "limit", "limit_of_pid", "main_parent", "its_children"),
                [(u.user, u.tasks, u.limit, u.pid,
                  f"{u.parent_command} (pid {u.parent_pid})" if u.parent_pid else "",
                  u.parent_children) for u in r.users]),) if r.users else ())
    return ProbeData(metrics=metrics, tables=tables, facts=facts, notes=r.notes)


# --- judging: ProcessesReading + thresholds -> findings -----------------------------------------


@dataclass(frozen=True)
class ProcessesThresholds:
    zombie_warning: int = 10  # more zombies than this is a warning (fewer: info)
    task_limit_ratio: float = 0.80  # tasks above this share of pid_max or threads-max: warning


THRESHOLDS = ProcessesThresholds()


def judge(r: ProcessesReading, limits: ProcessesThresholds) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    n_zombies = r.counts.get("zombie", 0)
    if n_zombies:
        parents: dict[str, int] = {}
        for z in r.zombies:
            label = f"{z.parent} (pid {z.ppid})"
            parents[label] = parents.get(label, 0) + 1
        by_parent = ", ".join(f"{p}: {n}" for p, n in sorted(parents.items(), key=lambda x: -x[1]))
        findings.append(Finding(
            Severity.WARNING if n_zombies > limits.zombie_warning else Severity.INFO,
            f"{n_zombies} zombie process{'es' if n_zombies != 1 else ''}",
            f"Exited processes not yet reaped, by parent: {by_parent}." if by_parent else "",
            "A zombie holds only a PID; its parent must reap it (wait()). Restart or fix the "
            "parent; killing the zombie itself does nothing. If the parent is PID 1 in a "
            "container, run the container with an init (docker --init, tini).",
            NAME,
        ))
    if r.blocked:
        shown = ", ".join(f"{b.command} (pid {b.pid})" for b in r.blocked[:5])
        findings.append(Finding(
            Severity.INFO,
            f"{len(r.blocked)} process{'es' if len(r.blocked) != 1 else ''} in uninterruptible "
            "sleep (D)",
            f"At the moment of the snapshot: {shown}.",
            "Usually waiting on disk or NFS I/O. If the same PIDs stay in D across snapshots, "
            "check 'cat /proc/PID/stack' (root), the kernel probe for hung tasks, and storage "
            "latency.",
            NAME,
        ))
    tasks = r.counts.get("threads", 0)
    for limit_name, limit in (("kernel.pid_max", r.pid_max), ("kernel.threads-max", r.threads_max)):
        if limit and tasks > limits.task_limit_ratio * limit:
            findings.append(Finding(
                Severity.WARNING,
                f"Task count near {limit_name}",
                f"{tasks} tasks (threads) against a limit of {limit} "
                f"({100 * tasks / limit:.0f} %).",
                f"New processes and threads will fail with EAGAIN at the limit. Find who spawns "
                f"them (top thread counts: 'ps -eo nlwp,pid,args --sort=-nlwp | head'), or raise "
                f"{limit_name} with sysctl.",
                NAME,
            ))
    findings += _user_limit_findings(r, limits)
    return tuple(findings)


def _user_limit_findings(r: ProcessesReading, limits: ProcessesThresholds) -> list[Finding]:
    found = []
    for u in r.users:
        # root (CAP_SYS_RESOURCE) is not held to RLIMIT_NPROC; "unlimited" has nothing to near.
        if u.user in ("root", "0") or not u.limit or u.tasks <= limits.task_limit_ratio * u.limit:
            continue
        parent = (f" {u.parent_children} of them are children of {u.parent_command} "
                  f"(pid {u.parent_pid})." if u.parent_pid else "")
        found.append(Finding(
            Severity.CRITICAL if u.tasks >= u.limit else Severity.WARNING,
            f"User {u.user} near its process limit",
            f"{u.user} runs {u.tasks} tasks (processes and threads) against a limit of {u.limit} "
            f"({100 * u.tasks / u.limit:.0f} %; soft 'Max processes' of pid {u.pid})." + parent,
            f"At the limit every fork or new thread of {u.user} fails with EAGAIN ('Resource "
            f"temporarily unavailable'). Find what spawns them (ps -u {shlex.quote(u.user)} -o "
            "ppid= | sort | "
            "uniq -c | sort -n | tail); if the count is legitimate, raise the limit "
            "(limits.conf nproc, or the service's LimitNPROC= / TasksMax=).",
            NAME,
        ))
    return found


parse = base.read_then_judge(read, describe, judge, THRESHOLDS)


def summarize(data: ProbeData) -> str:
    def n(key: str) -> str:
        value = data.metric(f"processes.{key}")
        return "?" if value is None else f"{value:.0f}"

    return (f"{n('total')} processes, {n('threads')} threads, {n('running')} running, "
            f"{n('zombie')} zombies, {n('disk_sleep')} in D state")


PROBE = Probe(
    name=NAME, title="Processes", script=SCRIPT, parse=parse, summarize=summarize,
    timeout=15.0,
    description="Process and thread counts, top CPU and memory users, zombies and processes "
    "stuck in uninterruptible sleep.")
