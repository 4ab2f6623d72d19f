"""Kernel: recent kernel messages scanned for the events an engineer looks for first.

The script only fetches the last ``MAX_LINES`` kernel lines, from the first source that works:
``dmesg -T`` (util-linux), plain ``dmesg`` (busybox), ``journalctl -k`` (non-root users in the
``adm``/``systemd-journal`` groups when ``kernel.dmesg_restrict`` denies dmesg), then
``/var/log/kern.log`` or ``/var/log/messages``. The pattern matching happens here in the pure
parser, so it is tested on captured text and never depends on the target's grep.

Events and their severity: OOM kills, I/O errors and filesystem errors are critical; hung tasks,
segfaults, soft lockups, hardware (MCE/EDAC) errors and NIC link flaps are warnings (an
uncorrected hardware error is critical); a tainted kernel is info.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from diagkit.probes import base
from diagkit.probes.base import Finding, Metric, Probe, ProbeData, Severity, Table

NAME = "kernel"

#: Kernel lines fetched from the target (the tail of the ring buffer or log).
MAX_LINES = 2000
#: Matched events kept in the table (the most recent ones).
MAX_EVENTS = 200

SCRIPT = (
    r"""export LC_ALL=C
N="""
    + str(MAX_LINES)
    + r"""
echo "@@section info"
echo "release=$(uname -r 2>/dev/null)"
echo "tainted=$(cat /proc/sys/kernel/tainted 2>/dev/null)"
echo "dmesg_restrict=$(cat /proc/sys/kernel/dmesg_restrict 2>/dev/null)"
src=""
if command -v dmesg >/dev/null 2>&1; then
  if dmesg -T >/dev/null 2>&1; then src="dmesg -T"
  elif dmesg >/dev/null 2>&1; then src="dmesg"
  else echo "@@note dmesg was refused (kernel.dmesg_restrict=1 and not root?): trying other sources"
  fi
fi
if [ -z "$src" ] && command -v journalctl >/dev/null 2>&1; then
  j=$(journalctl -k -q -n "$N" --no-pager -o short-iso 2>/dev/null)
  if [ -n "$j" ]; then src="journalctl -k"; fi
fi
if [ -z "$src" ]; then
  for f in /var/log/kern.log /var/log/messages; do
    if [ -r "$f" ] && [ -s "$f" ]; then src="$f"; break; fi
  done
fi
echo "source=$src"
echo "@@section messages"
case "$src" in
  "dmesg -T") dmesg -T 2>/dev/null | tail -n "$N" ;;
  dmesg) dmesg 2>/dev/null | tail -n "$N" ;;
  "journalctl -k") printf '%s\n' "$j" ;;
  /var/log/messages) grep -a ' kernel:' "$src" 2>/dev/null | tail -n "$N" ;;
  /*) tail -n "$N" "$src" 2>/dev/null ;;
  *) echo "@@note no readable kernel log: dmesg denied, no journal access, no /var/log/kern.log or /var/log/messages readable; run as root or add the user to group adm/systemd-journal" ;;
esac
exit 0
"""
)

# Leading time stamps of the formats above, captured as "time"; the rest is the message.
_TIME = re.compile(
    r"^(?:\[\s*(?P<mono>\d+\.\d+)\]"  # dmesg / busybox
    r"|\[(?P<human>\w{3} \w{3} +\d+ [\d:]{8} \d{4})\]"  # dmesg -T
    r"|(?P<iso>\d{4}-\d\d-\d\dT[\d:.]+(?:[+-][\d:]+|Z)?) \S+ kernel:"  # short-iso, rsyslog
    r"|(?P<bsd>\w{3} +\d+ [\d:]{8}) \S+ kernel:"  # classic syslog
    r")\s*(?:\[\s*\d+\.\d+\]\s*)?"
)


@dataclass(frozen=True)
class _Kind:
    name: str
    title: str
    severity: Severity
    pattern: re.Pattern[str]


# Order matters: the first kind that matches a line claims it.
KINDS: tuple[_Kind, ...] = (
    _Kind("oom", "OOM kill", Severity.CRITICAL, re.compile(
        r"Out of memory: Kill(?:ed)? process|oom-kill:|Memory cgroup out of memory|"
        r"invoked oom-killer", re.IGNORECASE)),
    _Kind("hung_task", "Hung task", Severity.WARNING, re.compile(r"blocked for more than \d+ sec")),
    _Kind("soft_lockup", "Soft/hard lockup or RCU stall", Severity.WARNING, re.compile(
        r"soft lockup - CPU#\d+ stuck|hard LOCKUP|rcu_\w+ (?:self-)?detected stall|"
        r"rcu: INFO: rcu_\w+ detected stalls")),
    _Kind("fs_error", "Filesystem error", Severity.CRITICAL, re.compile(
        r"EXT[234]-fs error|EXT[234]-fs \([^)]*\): (?:Remounting filesystem read-only|.*corrupt)|"
        r"XFS \([^)]*\): (?:.*[Cc]orrupt|Internal error|metadata I/O error|"
        r"Filesystem has been shut down)|BTRFS (?:error|critical)|"
        r"Remounting filesystem read-only")),
    _Kind("io_error", "I/O error", Severity.CRITICAL, re.compile(
        r"I/O error|blk_update_request|critical medium error|Medium Error|"
        r"exception Emask .* frozen|failed command: (?:READ|WRITE)", re.IGNORECASE)),
    _Kind("hardware", "Hardware error", Severity.WARNING, re.compile(
        r"\[Hardware Error\]|Machine check|mce: |EDAC .*(?:CE|UE) |PCIe Bus Error", re.IGNORECASE)),
    _Kind("segfault", "Segfault", Severity.WARNING, re.compile(
        r"segfault at|general protection(?: fault)? ip:|traps: \S+\[\d+\] (?:trap|general)")),
    # "ata1: SATA link down" at boot is an empty disk port, not a network link.
    _Kind("link_flap", "NIC link down", Severity.WARNING, re.compile(
        r"\bLink is Down|(?<!SATA )\blink down\b", re.IGNORECASE)),
)

# VMs report I/O errors on a virtual floppy or CD drive that nobody uses: noise, not a disk.
_IGNORED_IO = re.compile(r"\b(?:dev |\[)?(?:fd\d+|sr\d+)\b")

_OOM_VICTIM = re.compile(r"Killed process (\d+) \(([^)]+)\)|oom-kill:.*?task=([^,\s]+),pid=(\d+)")
_HUNG = re.compile(r"task (\S+?):(\d+) blocked for more than (\d+)")
_SEGV = re.compile(r"(\S+?)\[(\d+)\]: segfault at|traps: (\S+?)\[(\d+)\]")
_DEVICE = re.compile(r"\bdev(?:ice)? (\w+)|\(([sv]d[a-z]+\d*|nvme\w+|dm-\d+|md\d+)\)|\b(sd[a-z]+|nvme\d+n\d+)\b")
_IFACE = re.compile(r"(?:^|\s)(\w[\w.-]*): (?:NIC )?Link is Down|\b(e\w+|eth\d+|en\w+|wl\w+) NIC Link is Down",
                    re.IGNORECASE)
_UNCORRECTED = re.compile(r"uncorrect|\bUE\b|fatal", re.IGNORECASE)

#: Bits of /proc/sys/kernel/tainted and their letters (Documentation/admin-guide/tainted-kernels).
TAINT_FLAGS = {
    0: ("P", "proprietary module loaded"), 1: ("F", "module force-loaded"),
    2: ("S", "kernel running on an out-of-spec system"), 3: ("R", "module force-unloaded"),
    4: ("M", "machine check exception occurred"), 5: ("B", "bad page referenced"),
    6: ("U", "taint requested by userspace"), 7: ("D", "kernel died recently (OOPS or BUG)"),
    8: ("A", "ACPI table overridden"), 9: ("W", "kernel issued a warning"),
    10: ("C", "staging driver loaded"), 11: ("I", "platform firmware bug worked around"),
    12: ("O", "out-of-tree module loaded"), 13: ("E", "unsigned module loaded"),
    14: ("L", "soft lockup occurred"), 15: ("K", "kernel live-patched"),
    16: ("X", "auxiliary taint"), 17: ("T", "built with struct randomization"),
    18: ("N", "in-kernel test run"),
}


def split_time(line: str) -> tuple[str, str]:
    """``(time, message)`` for one kernel log line in any of the fetched formats."""
    m = _TIME.match(line)
    if not m:
        return "", line.strip()
    when = m.group("mono") or m.group("human") or m.group("iso") or m.group("bsd") or ""
    return when, line[m.end():].strip()


def decode_taint(value: int) -> list[tuple[str, str]]:
    return [TAINT_FLAGS.get(bit, ("?", f"bit {bit}")) for bit in range(32) if value >> bit & 1]


def _classify(message: str) -> _Kind | None:
    for kind in KINDS:
        if kind.pattern.search(message):
            return kind
    return None


# --- reading: text -> KernelReading -------------------------------------------------------------


@dataclass(frozen=True)
class KernelEvent:
    """One kernel line of a notable kind, and who or what it is about where the line says."""

    time: str  # as the source printed it ("[12.5]", "Mon Mar  4 10:02:33 2024", ISO...)
    kind: str  # a KINDS name
    message: str
    subject: str = ""  # the OOM victim, hung task, crashed program, device or interface
    pid: int | None = None  # the OOM victim's, hung task's or crashed program's PID
    uncorrected: bool = False  # a hardware error the hardware could not correct


@dataclass(frozen=True)
class KernelReading:
    source: str = ""  # where the lines came from ("dmesg -T", "journalctl -k", a file...)
    release: str = ""
    tainted: int | None = None  # /proc/sys/kernel/tainted; None when unreadable
    lines_scanned: int = 0
    events: tuple[KernelEvent, ...] = ()  # in log order, oldest first
    notes: tuple[str, ...] = ()

    def of(self, kind: str) -> list[KernelEvent]:
        return [e for e in self.events if e.kind == kind]


def _event(when: str, kind: _Kind, message: str) -> KernelEvent:
    """The event with its subject, read from the message by the pattern of its kind."""
    subject, pid, uncorrected = "", None, False
    if kind.name == "oom" and (m := _OOM_VICTIM.search(message)):
        pid_text, subject = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        pid = int(pid_text)
    elif kind.name in ("io_error", "fs_error") and (m := _DEVICE.search(message)):
        subject = next(g for g in m.groups() if g)
    elif kind.name == "hung_task" and (m := _HUNG.search(message)):
        subject, pid = m.group(1), int(m.group(2))
    elif kind.name == "segfault" and (m := _SEGV.search(message)):
        subject, pid = m.group(1) or m.group(3), int(m.group(2) or m.group(4))
    elif kind.name == "link_flap" and (m := _IFACE.search(message)):
        subject = next((g for g in m.groups() if g), "?")
    elif kind.name == "hardware":
        uncorrected = bool(_UNCORRECTED.search(message))
    return KernelEvent(when, kind.name, message, subject, pid, uncorrected)


def read(output: str) -> KernelReading:
    sections = base.split_sections(output)
    info = base.key_values(sections.get("info", ""))
    events: list[KernelEvent] = []
    lines = [ln for ln in sections.get("messages", "").splitlines() if ln.strip()]
    for line in lines:
        when, message = split_time(line)
        kind = _classify(message)
        if kind is not None and kind.name == "io_error" and _IGNORED_IO.search(message):
            continue
        if kind is not None:
            events.append(_event(when, kind, message))
    tainted = info.get("tainted", "")
    return KernelReading(
        source=info.get("source", ""),
        release=info.get("release", ""),
        tainted=int(tainted) if tainted.isdigit() else None,
        lines_scanned=len(lines),
        events=tuple(events),
        notes=base.notes(output),
    )


# --- describing: KernelReading -> metrics, tables, facts ----------------------------------------


def describe(r: KernelReading) -> ProbeData:
    facts = {"source": r.source, "release": r.release}
    by_kind = Counter(e.kind for e in r.events)
    metrics = [Metric("kernel.lines_scanned", r.lines_scanned, "lines")]
    metrics += [Metric("kernel.events", by_kind.get(k.name, 0), "count", {"kind": k.name})
                for k in KINDS]
    if r.tainted is not None:
        facts["tainted"] = str(r.tainted)
        metrics.append(Metric("kernel.tainted", r.tainted))
        if r.tainted:
            facts["taint_flags"] = "".join(letter for letter, _ in decode_taint(r.tainted))
    table = Table("events", "Kernel events", ("time", "kind", "message"),
                  [(e.time, e.kind, e.message) for e in r.events[-MAX_EVENTS:]])
    return ProbeData(metrics=tuple(metrics), tables=(table,), facts=facts, notes=r.notes)


# --- judging: KernelReading + thresholds -> findings --------------------------------------------


@dataclass(frozen=True)
class KernelThresholds:
    link_flap_min: int = 2  # this many "Link is Down" for one interface is a flap, not a loss


THRESHOLDS = KernelThresholds()


def _names(counter: Counter[str], limit: int = 5) -> str:
    return ", ".join(f"{name} ({n}x)" if n > 1 else name for name, n in counter.most_common(limit))


def _last(events: list[KernelEvent]) -> str:
    return events[-1].message[:200]


_DISK_HINTS = {
    "io_error": ("Disk I/O errors", (
        "A disk or its path is failing: check 'smartctl -a /dev/DEV', cables/controller, "
        "multipath; copy data off if errors continue.")),
    "fs_error": ("Filesystem errors", (
        "The filesystem saw corruption and may have gone read-only: check 'mount' for ro, "
        "plan an fsck/xfs_repair from rescue mode, and check the disk under it for I/O "
        "errors.")),
}


def judge(r: KernelReading, limits: KernelThresholds) -> tuple[Finding, ...]:
    """One finding per kind of event seen (worst kinds first), and one for a tainted kernel."""
    found = [_oom(r), _disk(r, "io_error"), _disk(r, "fs_error"), _hung(r), _segfaults(r),
             _lockups(r), _hardware(r), _links(r, limits), _taint(r)]
    return tuple(f for f in found if f is not None)


def _oom(r: KernelReading) -> Finding | None:
    if not (oom := r.of("oom")):
        return None
    victims = {e.pid: e.subject for e in oom if e.pid is not None}
    killed = Counter(victims.values())
    return Finding(
        Severity.CRITICAL,
        f"OOM killer ran ({len(victims)} process{'es' if len(victims) != 1 else ''} killed)",
        f"Killed: {_names(killed)}. Last: {_last(oom)}" if killed else f"Last: {_last(oom)}",
        "Memory ran out (or a cgroup limit was hit: 'Memory cgroup out of memory'). Check "
        "what grew with the memory probe, the process's limits (MemoryMax, container "
        "memory limit), and 'dmesg' around the kill for the memory state dump.",
        NAME,
    )


def _disk(r: KernelReading, kind: str) -> Finding | None:
    if not (found := r.of(kind)):
        return None
    title, hint = _DISK_HINTS[kind]
    devices = Counter(e.subject for e in found if e.subject)
    where = f" on {_names(devices)}" if devices else ""
    return Finding(Severity.CRITICAL, f"{title}{where} ({len(found)} lines)",
                   f"Last: {_last(found)}", hint, NAME)


def _hung(r: KernelReading) -> Finding | None:
    if not (hung := r.of("hung_task")):
        return None
    return _naming(hung, f"Hung tasks ({len(hung)} reports)", "Blocked tasks",
                   "Tasks sat in uninterruptible sleep for minutes, usually on storage or NFS: "
                   "look for I/O errors, slow disks (disk probe), or an unreachable NFS server.")


def _segfaults(r: KernelReading) -> Finding | None:
    if not (segv := r.of("segfault")):
        return None
    return _naming(segv, f"{len(segv)} segfault{'s' if len(segv) != 1 else ''}",
                   "Crashed programs",
                   "A crashing program: check its logs and core dumps ('coredumpctl list'); many "
                   "different programs crashing points to bad RAM or a broken library.")


def _naming(events: list[KernelEvent], title: str, who: str, hint: str) -> Finding:
    """A warning naming the events' subjects (the last line when none was named)."""
    names = Counter(e.subject for e in events if e.subject)
    return Finding(Severity.WARNING, title,
                   f"{who}: {_names(names)}." if names else _last(events), hint, NAME)


def _lockups(r: KernelReading) -> Finding | None:
    if not (lockups := r.of("soft_lockup")):
        return None
    return Finding(
        Severity.WARNING, f"CPU lockups or RCU stalls ({len(lockups)})",
        f"Last: {_last(lockups)}",
        "A CPU was stuck in the kernel: on VMs often host overcommit or steal time; on "
        "metal a driver bug or hardware. Note the call trace that follows in dmesg.",
        NAME,
    )


def _hardware(r: KernelReading) -> Finding | None:
    if not (hw := r.of("hardware")):
        return None
    uncorrected = any(e.uncorrected for e in hw)
    return Finding(
        Severity.CRITICAL if uncorrected else Severity.WARNING,
        f"Hardware errors reported ({len(hw)} lines" + (", uncorrected)" if uncorrected else ")"),
        f"Last: {_last(hw)}",
        "Machine check / EDAC / PCIe errors come from the hardware: check 'ras-mc-ctl "
        "--summary' or 'mcelog', the BMC event log, and plan a hardware check.",
        NAME,
    )


def _links(r: KernelReading, limits: KernelThresholds) -> Finding | None:
    if not (links := r.of("link_flap")):
        return None
    ifaces = Counter(e.subject for e in links if e.subject)
    flapping = (any(n >= limits.link_flap_min for n in ifaces.values())
                or len(links) >= limits.link_flap_min)
    return Finding(
        Severity.WARNING if flapping else Severity.INFO,
        ("NIC link flapping" if flapping else "NIC link went down")
        + (f": {_names(ifaces)}" if ifaces else ""),
        f"{len(links)} link-down messages. Last: {_last(links)}",
        "Check the cable, switch port and its error counters ('ethtool -S IFACE', "
        "'ip -s link'), and auto-negotiation settings on both ends.",
        NAME,
    )


def _taint(r: KernelReading) -> Finding | None:
    if not r.tainted:
        return None
    flags = decode_taint(r.tainted)
    letters = "".join(letter for letter, _ in flags)
    return Finding(
        Severity.INFO, f"Kernel is tainted ({letters})",
        "; ".join(f"{letter}: {why}" for letter, why in flags) + ".",
        "Vendors may refuse support for a tainted kernel (P, O, E: third-party modules); "
        "D, M, B, L point at an earlier crash or hardware problem worth reading in dmesg.",
        NAME,
    )


parse = base.read_then_judge(read, describe, judge, THRESHOLDS)


def summarize(data: ProbeData) -> str:
    scanned = data.metric("kernel.lines_scanned", 0.0) or 0.0
    kinds = [f"{m.value:.0f} {m.labels['kind']}" for m in data.metrics
             if m.name == "kernel.events" and m.value]
    what = ", ".join(kinds) if kinds else "no notable events"
    return f"{what} in {scanned:.0f} lines from {data.facts.get('source', '?')}"


PROBE = Probe(
    name=NAME, title="Kernel messages", script=SCRIPT, parse=parse, summarize=summarize,
    timeout=15.0,
    description="Recent kernel messages scanned for OOM kills, I/O and filesystem errors, hung "
    "tasks, segfaults, lockups, hardware errors and link flaps; kernel taint.")
