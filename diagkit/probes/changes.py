"""Changes: what changed on the host in a window (default the last 7 days), each with its time.

"What changed?" is the first root-cause question. The script collects, from what the host has:

* packages: ``/var/log/dpkg.log*`` actions and apt ``history.log*`` transactions (rotated ``.gz``
  files through ``gzip -dc``), ``rpm -qa`` install times and ``dnf history``;
* units: systemd's own journal lines (started, stopped, failed, mounted) when systemd runs, else
  runit's ``sv status`` (how long each service has been up or down);
* reboots and kernels: the current boot (``/proc/stat`` btime), ``last -x`` reboot/shutdown
  records, ``journalctl --list-boots``, ``/boot`` and ``/lib/modules`` mtimes, ``uname -r``;
* mounts: kernel "mounted filesystem" lines (``dmesg``, timed from the boot) matched to
  ``/proc/mounts``, and systemd's "Mounted" lines;
* files under ``/etc`` modified in the window (``find -mtime``, newest first), cron tables and
  systemd timers (files and the directories whose mtime moves when an entry is added or removed);
* logins: ``last``/``lastb`` (wtmp/btmp) and sshd lines of the journal or ``auth.log``/``secure``.

Each source the host lacks prints an ``@@note`` and the rest goes on; every source is capped at
``MAX_LINES`` lines. Times are made absolute and ISO-8601 here in the parser, with the host's UTC
offset (``date +%z``) for sources that write local time. :func:`make_probe` builds the probe for
another window; ``PROBE`` is the default week.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from diagkit.probes import base
from diagkit.probes.base import Finding, Metric, Probe, ProbeData, Severity, Table

NAME = "changes"

#: The window when none is asked for.
DEFAULT_DAYS = 7
#: Lines each source may print (the newest ones are kept).
MAX_LINES = 300
#: Rows kept per kind in the table (the newest), so a big upgrade does not hide the rest.
MAX_ROWS_PER_KIND = 200

KINDS: tuple[str, ...] = ("package", "kernel", "unit", "reboot", "mount", "config", "cron",
                          "login")

_SCRIPT = r"""export LC_ALL=C
D=@DAYS@
M=@MAX@
now=$(date +%s)
since=$((now - D * 86400))
sincel=$(date -d "@$since" '+%Y-%m-%d %H:%M:%S' 2>/dev/null)
systemd=""
if command -v journalctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then systemd=yes; fi
unpack() { for f in "$@"; do [ -r "$f" ] || continue
  case "$f" in *.gz) gzip -dc -- "$f" 2>/dev/null ;; *) cat -- "$f" 2>/dev/null ;; esac; done; }
stamp() { for f in "$@"; do [ -e "$f" ] && stat -c '%Y %n' -- "$f" 2>/dev/null; done; }
echo "@@section info"
echo "days=$D"
echo "now=$now"
echo "since=$since"
echo "tz=$(date +%z)"
echo "kernel=$(uname -r 2>/dev/null)"
echo "btime=$(awk '/^btime/ {print $2}' /proc/stat 2>/dev/null)"
echo "uid=$(id -u 2>/dev/null)"
[ -n "$sincel" ] || echo "@@note date cannot convert epoch seconds here: log lines are filtered by the parser only"
pk=""
echo "@@section dpkg"
if [ -e /var/log/dpkg.log ]; then pk=dpkg
  unpack $(ls -tr /var/log/dpkg.log* 2>/dev/null) | awk -v s="$sincel" '
    ($1 " " $2) >= s && ($3 == "install" || $3 == "upgrade" || $3 == "remove" || $3 == "purge")
  ' | tail -n "$M"
fi
echo "@@section apt"
if [ -e /var/log/apt/history.log ]; then pk="$pk apt"
  unpack $(ls -tr /var/log/apt/history.log* 2>/dev/null) | awk -v s="$sincel" '
    /^Start-Date:/ { keep = (($2 " " $3) >= s) }
    keep && /^(Start-Date|Commandline|Requested-By|Install|Upgrade|Downgrade|Reinstall|Remove|Purge|Error|End-Date):/ {
      print substr($0, 1, 1500) }' | tail -n "$M"
fi
echo "@@section rpm"
if command -v rpm >/dev/null 2>&1 && [ -d /var/lib/rpm ]; then pk="$pk rpm"
  rpm -qa --qf '%{INSTALLTIME} %{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\n' 2>/dev/null |
    awk -v s="$since" '$1 >= s' | sort -n | tail -n "$M"
fi
echo "@@section dnf"
if command -v dnf >/dev/null 2>&1; then pk="$pk dnf"
  dnf -q history list 2>/dev/null | head -n "$M"
fi
[ -n "$pk" ] || echo "@@note packages: no dpkg or apt log, no rpm database, no dnf here: package changes not available"
echo "@@section units_journal"
if [ -n "$systemd" ]; then
  journalctl -q --no-pager -o short-iso --since "$sincel" _PID=1 2>/dev/null |
    grep -aE ': (Started|Stopped|Reloaded|Failed to start|Mounted|Unmounted) |[Ff]ailed with result' |
    tail -n "$M"
fi
echo "@@section units_runit"
rundir=""
for d in /etc/service /var/service /run/runit/service /service; do
  if [ -d "$d" ] && [ -n "$(ls "$d" 2>/dev/null)" ]; then rundir=$d; break; fi
done
if [ -z "$systemd" ] && [ -n "$rundir" ] && command -v sv >/dev/null 2>&1; then
  sv status "$rundir"/* 2>&1 | head -n "$M"
elif [ -z "$systemd" ] && [ -n "$rundir" ]; then
  echo "@@note units: runit service directory $rundir but no 'sv' command: service starts and stops not available"
elif [ -z "$systemd" ]; then
  echo "@@note units: no systemd running and no runit service directory: service starts and stops not available"
fi
echo "@@section last_boots"
if last -x --time-format iso reboot >/dev/null 2>&1; then
  last -x --time-format iso reboot shutdown 2>/dev/null | head -n "$M"
elif command -v last >/dev/null 2>&1; then
  last 2>/dev/null | grep -aE '^(reboot|shutdown) ' | head -n "$M"
else echo "@@note reboots: no 'last' here: only the current boot is known"; fi
echo "@@section journal_boots"
if command -v journalctl >/dev/null 2>&1; then
  journalctl --list-boots --no-pager 2>/dev/null | tail -n 50
fi
echo "@@section kernel_files"
stamp /boot/vmlinuz* /boot/vmlinux* /boot/bzImage* /lib/modules/* /usr/lib/modules/* | head -n 50
echo "@@section mounts"
head -n "$M" /proc/mounts 2>/dev/null
echo "@@section mount_events"
if dmesg >/dev/null 2>&1; then
  dmesg 2>/dev/null | grep -aiE 'mounted filesystem|mounting filesystem|unmounting filesystem|remounting|re-mounted' |
    tail -n "$M"
else echo "@@note mounts: dmesg refused (not root, kernel.dmesg_restrict=1?): mount times not available"; fi
echo "@@section etc"
[ "$(id -u 2>/dev/null)" = 0 ] || echo "@@note etc: not root, files under /etc this user cannot see are missing"
find /etc -xdev -type f -mtime -"$D" -exec stat -c '%Y %n' {} + 2>/dev/null | sort -rn | head -n "$M"
echo "@@section cron"
cr=""
for d in /etc/crontab /etc/cron.d /var/spool/cron /etc/systemd/system; do [ -e "$d" ] && cr=yes; done
if [ -n "$cr" ]; then
  stamp /etc/crontab /etc/anacrontab /etc/cron.d /etc/cron.d/* /etc/cron.hourly /etc/cron.hourly/* \
    /etc/cron.daily /etc/cron.daily/* /etc/cron.weekly /etc/cron.weekly/* /etc/cron.monthly \
    /etc/cron.monthly/* /var/spool/cron /var/spool/cron/* /var/spool/cron/crontabs/* \
    /etc/systemd/system/*.timer /etc/systemd/system/timers.target.wants \
    /etc/systemd/system/timers.target.wants/* /usr/lib/systemd/system/*.timer |
    awk -v s="$since" '$1 >= s' | sort -rn | head -n "$M"
else echo "@@note cron: no crontab, cron directory or systemd unit directory here"; fi
echo "@@section logins"
if last -w --time-format iso >/dev/null 2>&1; then
  last -w --time-format iso 2>/dev/null | grep -avE '^(reboot|shutdown) ' | head -n "$M"
elif command -v last >/dev/null 2>&1; then
  last 2>/dev/null | grep -avE '^(reboot|shutdown) ' | head -n "$M"
fi
echo "@@section failed_logins"
if command -v lastb >/dev/null 2>&1 && [ -r /var/log/btmp ]; then
  lastb -w --time-format iso 2>/dev/null | head -n "$M"
fi
echo "@@section sshd"
if [ -n "$systemd" ]; then
  journalctl -q --no-pager -o short-iso --since "$sincel" _COMM=sshd 2>/dev/null |
    grep -aE 'Accepted |Failed password|Invalid user' | tail -n "$M"
else
  for f in /var/log/auth.log /var/log/secure; do
    [ -r "$f" ] && grep -aE 'sshd.[0-9]+.: (Accepted |Failed password|Invalid user)' "$f" | tail -n "$M"
  done
fi
exit 0
"""


def script_for(days: int) -> str:
    """The script for a window of ``days`` days (a whole number, at least 1)."""
    if days < 1:
        raise ValueError(f"the changes window must be at least 1 day, not {days}")
    return (base.SCRIPT_PREAMBLE + _SCRIPT).replace("@DAYS@", str(int(days))).replace(
        "@MAX@", str(MAX_LINES))


# --- reading: text -> ChangesReading ------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One thing that changed: when, which kind (one of ``KINDS``), what, and the rest."""

    time: datetime  # timezone-aware
    kind: str
    what: str
    detail: str = ""
    source: str = ""  # where it was read: "dpkg", "apt", "journal", "runit", "wtmp", ...


@dataclass(frozen=True)
class Mount:
    source: str
    target: str
    fstype: str


@dataclass(frozen=True)
class ChangesReading:
    days: int = DEFAULT_DAYS
    now: datetime | None = None
    since: datetime | None = None
    kernel: str = ""  # the running kernel release
    booted: datetime | None = None
    changes: tuple[Change, ...] = ()  # newest first, only those inside the window
    kernel_files: tuple[tuple[datetime, str], ...] = ()  # every /boot and modules entry seen
    mounts: tuple[Mount, ...] = ()
    sources: tuple[str, ...] = ()  # the sources that gave anything
    notes: tuple[str, ...] = ()

    def of(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]


_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?")
_LOCAL = re.compile(r"(\d{4}-\d\d-\d\d) +(\d\d:\d\d(?::\d\d)?)")
_RUNIT = re.compile(r"^(run|down|finish): ([^:]+): (?:\(pid (\d+)\) )?(\d+)s")
_DMESG = re.compile(r"^\[\s*(\d+\.\d+)\]\s*(.*)$")
_DEVICE = re.compile(r"\(([\w.:-]+)\): (?:mounted|unmounting|re-mounted|remounting|mounting)",
                     re.IGNORECASE)
_SYSTEMD = re.compile(r"^(\S+) \S+ systemd\[1\]: (.*)$")
_SSHD = re.compile(r"(Accepted \S+ for (\S+) from (\S+)|Failed password for (?:invalid user )?(\S+)"
                   r" from (\S+)|Invalid user (\S+) from (\S+))")
_BSD_TIME = re.compile(r"^(\w{3}) +(\d+) (\d\d:\d\d:\d\d) ")
_DNF = re.compile(r"^\s*(\d+)\s*\|(.*?)\|\s*(\d{4}-\d\d-\d\d \d\d:\d\d)\s*\|(.*?)\|\s*(\S*)")
_CRON_PATH = re.compile(r"^/etc/(?:crontab|anacrontab|cron\.)|^/var/spool/cron|\.timer$|"
                        r"/timers\.target\.wants")


def _offset(text: str) -> timezone:
    m = re.fullmatch(r"([+-])(\d\d)(\d\d)", text.strip())
    if not m:
        return UTC
    delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
    return timezone(-delta if m.group(1) == "-" else delta)


def _iso(text: str) -> datetime | None:
    m = _ISO.search(text)
    if not m:
        return None
    stamp = m.group(0).replace(",", ".")
    if re.search(r"[+-]\d{4}$", stamp):  # journalctl's +0000 -> +00:00 for older Pythons' sake
        stamp = stamp[:-2] + ":" + stamp[-2:]
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _local(text: str, tz: timezone) -> datetime | None:
    m = _LOCAL.search(text)
    if not m:
        return None
    clock = m.group(2) if m.group(2).count(":") == 2 else m.group(2) + ":00"
    try:
        return datetime.fromisoformat(f"{m.group(1)}T{clock}").replace(tzinfo=tz)
    except ValueError:
        return None


def _epoch(text: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _stamped(text: str) -> Iterable[tuple[datetime, str]]:
    """``EPOCH REST`` lines (stat -c '%Y %n', rpm INSTALLTIME)."""
    for line in text.splitlines():
        first, _, rest = line.strip().partition(" ")
        if rest and (when := _epoch(first)) is not None:
            yield when, rest.strip()


def _dpkg(text: str, tz: timezone) -> Iterable[Change]:
    # 2026-12-05 10:37:01 upgrade libc6:amd64 2.36-9 2.36-9+deb12u1
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 6 or (when := _local(line, tz)) is None:
            continue
        action, package, old, new = parts[2], parts[3], parts[4], parts[5]
        versions = {"install": new, "upgrade": f"{old} -> {new}", "remove": old,
                    "purge": old}.get(action, new)
        kind = "kernel" if package.startswith(("linux-image", "linux-modules")) else "package"
        yield Change(when, kind, package.split(":")[0], f"{action} {versions}", "dpkg")


def _apt(text: str, tz: timezone) -> Iterable[Change]:
    """One change per apt transaction: its command line, who asked and what it did."""
    when: datetime | None = None
    fields: dict[str, str] = {}

    def flush() -> Iterable[Change]:
        if when is None:
            return
        counts = []
        for action in ("Install", "Upgrade", "Downgrade", "Reinstall", "Remove", "Purge"):
            if action in fields:
                n = len(re.findall(r"\([^)]*\)", fields[action])) or 1
                counts.append(f"{action.lower()} {n}")
        detail = ", ".join(counts)
        if "Requested-By" in fields:
            detail += f" (by {fields['Requested-By']})"
        if "Error" in fields:
            detail += f"; error: {fields['Error']}"
        what = fields.get("Commandline", "apt transaction")
        yield Change(when, "package", what, detail.strip(), "apt")

    for line in text.splitlines():
        key, _, value = line.partition(": ")
        if key == "Start-Date":
            yield from flush()
            when, fields = _local(value, tz), {}
        elif key and value:
            fields[key] = value.strip()
    yield from flush()


def _journal_units(text: str) -> Iterable[Change]:
    # 2026-12-05T10:00:01+0000 host systemd[1]: Started nginx.service - A high performance ...
    for line in text.splitlines():
        m = _SYSTEMD.match(line)
        if not m or (when := _iso(m.group(1))) is None:
            continue
        message = m.group(2)
        verb, _, rest = message.partition(" ")
        if verb in ("Mounted", "Unmounted"):
            yield Change(when, "mount", rest.split(" - ")[-1].rstrip("."), verb.lower(), "journal")
        elif "ailed with result" in message:
            yield Change(when, "unit", message.split(":")[0], f"failed: {message}", "journal")
        elif verb == "Failed":
            unit = rest.removeprefix("to start ").split(" - ")[0].rstrip(".")
            yield Change(when, "unit", unit, f"failed: {message}", "journal")
        else:
            yield Change(when, "unit", rest.split(" - ")[0].rstrip("."), verb.lower(), "journal")


def _runit(text: str, now: datetime | None) -> tuple[list[Change], list[str]]:
    changes, problems = [], []
    for line in text.splitlines():
        m = _RUNIT.match(line.strip())
        if m and now is not None:
            state, path, pid, seconds = m.groups()
            what = path.rstrip("/").rsplit("/", 1)[-1]
            verb = {"run": "started", "down": "stopped", "finish": "finishing"}[state]
            detail = f"{verb} (runit: {state}" + (f", pid {pid})" if pid else ")")
            changes.append(Change(now - timedelta(seconds=int(seconds)), "unit", what, detail,
                                  "runit"))
        elif "unable to open supervise" in line or "runsv not running" in line:
            problems.append(line.split(":")[1].strip() if ":" in line else line)
    return changes, problems


def _boots(last: str, journal: str, tz: timezone, booted: datetime | None) -> list[Change]:
    found: list[Change] = []
    if booted is not None:
        found.append(Change(booted, "reboot", "booted", "current boot (/proc/stat btime)", "proc"))
    for line in last.splitlines():
        if line.startswith("reboot") and (when := _iso(line)) is not None:
            found.append(Change(when, "reboot", "booted", " ".join(line.split()[2:4]), "wtmp"))
        elif line.startswith("shutdown") and (when := _iso(line)) is not None:
            found.append(Change(when, "reboot", "shut down", "", "wtmp"))
    for line in journal.splitlines():
        parts = line.split()
        if len(parts) > 2 and parts[0].lstrip("-").isdigit() and (when := _local(line, tz)):
            found.append(Change(when, "reboot", "booted", f"journal boot {parts[1][:12]}",
                                "journal"))
    # The same boot seen by several sources: keep the first one within a minute of another.
    kept: list[Change] = []
    for change in found:
        if not any(k.what == change.what and abs((k.time - change.time).total_seconds()) < 60
                   for k in kept):
            kept.append(change)
    return kept


def _mounts(text: str) -> tuple[Mount, ...]:
    rows = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            rows.append(Mount(parts[0], parts[1].replace("\\040", " "), parts[2]))
    return tuple(rows)


def _mount_events(text: str, booted: datetime | None, mounts: tuple[Mount, ...]) -> list[Change]:
    """Kernel mount lines, timed from the boot (dmesg's seconds since boot).

    A device's latest "mounted" line is named by its mount point in ``/proc/mounts``; earlier
    lines for the same device keep the device name only (loop devices are reused).
    """
    if booted is None:
        return []
    where = {m.source.rsplit("/", 1)[-1]: m for m in mounts}
    found = []
    for line in reversed(text.splitlines()):
        m = _DMESG.match(line.strip())
        if not m:
            continue
        message = m.group(2)
        dev = _DEVICE.search(message)
        device = dev.group(1) if dev else "?"
        lowered = message.lower()
        verb = ("unmounted" if "unmount" in lowered
                else "remounted" if "re-mount" in lowered or "remount" in lowered else "mounted")
        mount = where.pop(device, None) if verb == "mounted" else None
        what = f"{mount.target} ({mount.source} {mount.fstype})" if mount else device
        found.append(Change(booted + timedelta(seconds=float(m.group(1))), "mount", what,
                            f"{verb}: {message[:200]}", "dmesg"))
    return found


def _logins(text: str, failed: bool) -> Iterable[Change]:
    # root     pts/0        10.0.0.5    2026-12-05T10:00:00+00:00 - 2026-12-05T11:00:00+00:00 (01:00)
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 3 or line.startswith(("wtmp begins", "btmp begins")):
            continue
        if (when := _iso(line)) is None:
            continue
        host = parts[2] if not _ISO.match(parts[2]) else ""
        detail = ("failed login" if failed else "login") + f" on {parts[1]}"
        if host:
            detail += f" from {host}"
        if not failed and "still logged in" in line:
            detail += ", still logged in"
        yield Change(when, "login", parts[0], detail, "btmp" if failed else "wtmp")


def _sshd(text: str, now: datetime | None, tz: timezone) -> Iterable[Change]:
    for line in text.splitlines():
        m = _SSHD.search(line)
        if not m:
            continue
        when = _iso(line) or _bsd_time(line, now, tz)
        if when is None:
            continue
        if m.group(2):
            yield Change(when, "login", m.group(2), f"ssh {m.group(0).split()[1]} from "
                         f"{m.group(3)}", "sshd")
        else:
            user, host = (m.group(4), m.group(5)) if m.group(4) else (m.group(6), m.group(7))
            yield Change(when, "login", user, f"ssh failed from {host}", "sshd")


def _bsd_time(line: str, now: datetime | None, tz: timezone) -> datetime | None:
    """``Dec  5 10:00:01`` of a classic syslog line, in the year that puts it before ``now``."""
    m = _BSD_TIME.match(line)
    if not m or now is None:
        return None
    for year in (now.year, now.year - 1):
        try:
            when = datetime.strptime(f"{year} {m.group(1)} {m.group(2)} {m.group(3)}",
                                     "%Y %b %d %H:%M:%S").replace(tzinfo=tz)
        except ValueError:
            return None
        if when <= now + timedelta(days=1):
            return when
    return None


def _dnf(text: str, tz: timezone) -> Iterable[Change]:
    for line in text.splitlines():
        m = _DNF.match(line)
        if m and (when := _local(m.group(3), tz)) is not None:
            yield Change(when, "package", m.group(2).strip(),
                         f"dnf {m.group(4).strip()} ({m.group(5)} packages), transaction "
                         f"{m.group(1)}", "dnf")


def _files(text: str, etc: bool) -> Iterable[Change]:
    for when, path in _stamped(text):
        cron = bool(_CRON_PATH.search(path))
        if etc and cron:
            continue  # the cron section stamps it (and its directory) too
        yield Change(when, "cron" if cron else "config", path, "modified",
                     "stat" if not etc else "find")


def read(output: str) -> ChangesReading:
    sections = base.split_sections(output)
    info = base.key_values(sections.get("info", ""))
    tz = _offset(info.get("tz", ""))
    now, since = _epoch(info.get("now", "")), _epoch(info.get("since", ""))
    booted = _epoch(info.get("btime", ""))
    days = int(info["days"]) if info.get("days", "").isdigit() else DEFAULT_DAYS
    mounts = _mounts(sections.get("mounts", ""))
    runit, runit_problems = _runit(sections.get("units_runit", ""), now)
    notes = list(base.notes(output))
    if runit_problems:
        notes.append("units: runit services are not supervised (runsvdir not running?): "
                     + ", ".join(runit_problems[:5]))
    by_source: list[tuple[str, list[Change]]] = [
        ("dpkg", list(_dpkg(sections.get("dpkg", ""), tz))),
        ("apt", list(_apt(sections.get("apt", ""), tz))),
        ("rpm", [Change(w, "package", p, "installed", "rpm")
                 for w, p in _stamped(sections.get("rpm", ""))]),
        ("dnf", list(_dnf(sections.get("dnf", ""), tz))),
        ("journal", list(_journal_units(sections.get("units_journal", "")))),
        ("runit", runit),
        ("boots", _boots(sections.get("last_boots", ""), sections.get("journal_boots", ""), tz,
                         booted)),
        ("kernel files", [Change(w, "kernel", p, "installed or modified", "stat")
                          for w, p in _stamped(sections.get("kernel_files", ""))]),
        ("dmesg", _mount_events(sections.get("mount_events", ""), booted, mounts)),
        ("etc", list(_files(sections.get("etc", ""), etc=True))),
        ("cron", list(_files(sections.get("cron", ""), etc=False))),
        ("wtmp", list(_logins(sections.get("logins", ""), failed=False))),
        ("btmp", list(_logins(sections.get("failed_logins", ""), failed=True))),
        ("sshd", list(_sshd(sections.get("sshd", ""), now, tz))),
    ]
    inside = [c for _, found in by_source for c in found
              if since is None or c.time >= since]
    inside.sort(key=lambda c: c.time, reverse=True)
    per_kind: Counter[str] = Counter()
    kept = []
    for change in inside:
        per_kind[change.kind] += 1
        if per_kind[change.kind] <= MAX_ROWS_PER_KIND:
            kept.append(change)
    kernel_files = tuple(_stamped(sections.get("kernel_files", "")))
    return ChangesReading(
        days=days, now=now, since=since, kernel=info.get("kernel", ""), booted=booted,
        changes=tuple(kept), kernel_files=kernel_files, mounts=mounts,
        sources=tuple(name for name, found in by_source if found), notes=tuple(notes))


# --- describing: ChangesReading -> metrics, tables, facts ---------------------------------------


def iso(when: datetime | None) -> str:
    return when.isoformat(timespec="seconds") if when is not None else ""


def describe(r: ChangesReading) -> ProbeData:
    counts = Counter(c.kind for c in r.changes)
    facts = {"window": f"{r.days} days", "since": iso(r.since), "now": iso(r.now),
             "kernel": r.kernel, "booted": iso(r.booted),
             "sources": ", ".join(r.sources) or "none"}
    metrics = [Metric("changes.total", len(r.changes), "count")]
    metrics += [Metric("changes.count", counts.get(kind, 0), "count", {"kind": kind})
                for kind in KINDS]
    table = Table("changes", "What changed", ("time", "kind", "what", "detail"),
                  [(iso(c.time), c.kind, c.what, c.detail) for c in r.changes])
    return ProbeData(metrics=tuple(metrics), tables=(table,), facts=facts, notes=r.notes)


# --- judging: ChangesReading + thresholds -> findings -------------------------------------------


@dataclass(frozen=True)
class ChangesThresholds:
    recent_hours: float = 24.0  # changes this close to the probe run are pointed out
    many_reboots: int = 3  # more boots than this in the window is a warning (crash loop?)
    max_unit_findings: int = 10  # at most this many failed units are named


THRESHOLDS = ChangesThresholds()


def judge(r: ChangesReading, limits: ChangesThresholds) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    if r.now is not None:
        cutoff = r.now - timedelta(hours=limits.recent_hours)
        recent = [c for c in r.changes if c.time >= cutoff and c.kind not in ("login", "reboot")]
        if recent:
            kinds = Counter(c.kind for c in recent)
            findings.append(Finding(
                Severity.INFO,
                f"{len(recent)} changes in the last {limits.recent_hours:g} h",
                "; ".join(f"{kind} {n}" for kind, n in kinds.most_common())
                + f". Latest: {recent[0].kind} {recent[0].what} at {iso(recent[0].time)}.",
                "A problem that began after one of these changes may come from it: compare its "
                "start with the times in the changes table.", NAME))
    boots = [c for c in r.of("reboot") if c.what == "booted"]
    if len(boots) > limits.many_reboots:
        findings.append(Finding(
            Severity.WARNING, f"{len(boots)} boots in {r.days} days",
            "Boots at " + ", ".join(iso(c.time) for c in boots[:8]),
            "Unplanned reboots point at crashes, watchdogs or power: read the end of the "
            "previous boot's log ('journalctl -b -1 -e') and the kernel probe.", NAME))
    failed = [c for c in r.of("unit") if c.detail.startswith("failed")]
    if failed:
        names = Counter(c.what for c in failed)
        shown = ", ".join(f"{n} ({k}x)" if k > 1 else n
                          for n, k in names.most_common(limits.max_unit_findings))
        findings.append(Finding(
            Severity.WARNING, f"{len(names)} units failed in {r.days} days", shown,
            "See why with 'journalctl -u UNIT' around the failure time.", NAME))
    if r.booted is not None:
        newer = [p for when, p in r.kernel_files if when > r.booted and r.kernel not in p]
        if newer:
            findings.append(Finding(
                Severity.INFO, "Kernel files changed since boot",
                f"Running {r.kernel}; changed after boot: {', '.join(newer[:4])}.",
                "A kernel update waits for a reboot; plan one, or check that the running "
                "kernel is the one you expect.", NAME))
    return tuple(findings)


parse = base.read_then_judge(read, describe, judge, THRESHOLDS)


def summarize(data: ProbeData) -> str:
    total = data.metric("changes.total", 0.0) or 0.0
    kinds = [f"{m.value:.0f} {m.labels['kind']}" for m in data.metrics
             if m.name == "changes.count" and m.value]
    what = ", ".join(kinds) if kinds else "nothing found"
    return f"{total:.0f} changes in {data.facts.get('window', 'the window')}: {what}"


def make_probe(days: int = DEFAULT_DAYS) -> Probe:
    """The probe for a window of the last ``days`` days."""
    return Probe(
        name=NAME, title="What changed", script=script_for(days), parse=parse,
        summarize=summarize, timeout=30.0,
        description=f"What changed on the host in the last {days} days, each with its time: "
        "package installs and removals, unit starts/stops/failures, reboots and kernels, "
        "mounts, files under /etc, cron and timer edits, logins.")


PROBE = make_probe()
