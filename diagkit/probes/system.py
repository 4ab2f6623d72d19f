"""system: who this machine is - OS, kernel, uptime, virtualization, clock sync, users."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from diagkit.probes import base
from diagkit.probes.base import Finding, Metric, Probe, ProbeData, Severity
from diagkit.units import human_duration

NAME = "system"

SCRIPT = (
    base.SCRIPT_PREAMBLE
    + r"""
echo "@@section facts"
# The machine's timezone, not the one this login session happens to carry.
unset TZ
h=
{ read -r h < /proc/sys/kernel/hostname; } 2>/dev/null
[ -n "$h" ] || h=$(uname -n 2>/dev/null)
echo "hostname=$h"
echo "kernel=$(uname -srvm 2>/dev/null)"
echo "arch=$(uname -m 2>/dev/null)"
echo "now=$(date +%s 2>/dev/null)"
echo "tz_abbrev=$(date +%Z 2>/dev/null)"
echo "tz_offset=$(date +%z 2>/dev/null)"
up=
{ read -r up _ < /proc/uptime; } 2>/dev/null
echo "uptime_seconds=$up"
[ -n "$up" ] || echo "@@note /proc/uptime is not readable: uptime unknown"
while read -r k v _; do
  [ "$k" = btime ] && echo "boot_epoch=$v"
done < /proc/stat 2>/dev/null
tz=
if [ -r /etc/timezone ]; then
  { read -r tz < /etc/timezone; } 2>/dev/null
fi
if [ -z "$tz" ] && [ -L /etc/localtime ]; then
  tz=$(readlink /etc/localtime 2>/dev/null)
  tz=${tz#*zoneinfo/}
fi
echo "timezone=$tz"
if command -v who >/dev/null 2>&1; then
  echo "users=$(who 2>/dev/null | awk 'END{print NR}')"
else
  echo "@@note who is not installed: logged-in users unknown"
fi

echo "@@section os-release"
if [ -r /etc/os-release ]; then cat /etc/os-release
elif [ -r /usr/lib/os-release ]; then cat /usr/lib/os-release
else
  echo "@@note no /etc/os-release: OS name unknown"
  for f in /etc/redhat-release /etc/debian_version /etc/alpine-release; do
    [ -r "$f" ] && echo "LEGACY_RELEASE=$(cat "$f")" && break
  done
fi

echo "@@section virt"
if command -v systemd-detect-virt >/dev/null 2>&1; then
  echo "detect_virt_container=$(systemd-detect-virt --container 2>/dev/null)"
  echo "detect_virt_vm=$(systemd-detect-virt --vm 2>/dev/null)"
fi
[ -e /.dockerenv ] && echo "dockerenv=yes"
[ -e /run/.containerenv ] && echo "containerenv=yes"
[ -r /run/systemd/container ] && echo "systemd_container=$(cat /run/systemd/container 2>/dev/null)"
if [ -r /proc/1/cgroup ]; then
  awk -F: '{ if ($3 ~ /docker|kubepods|lxc|libpod|containerd|crio/) { print "cgroup_hint=" $3; exit } }' /proc/1/cgroup 2>/dev/null
else
  echo "@@note /proc/1/cgroup is not readable: container detection is partial"
fi
[ -r /proc/cpuinfo ] && echo "hypervisor_flag=$(awk '/^flags/ { for (i = 3; i <= NF; i++) if ($i == "hypervisor") { print "yes"; exit } }' /proc/cpuinfo)"
for f in product_name sys_vendor; do
  if [ -r /sys/class/dmi/id/$f ]; then
    v=
    { read -r v < /sys/class/dmi/id/$f; } 2>/dev/null
    echo "dmi_$f=$v"
  fi
done

echo "@@section timesync"
synced=unknown; source=none
# timedatectl waits ~25 s for a dead D-Bus and chronyc for a dead chronyd: bound them.
T=
command -v timeout >/dev/null 2>&1 && T="timeout 3"
if command -v timedatectl >/dev/null 2>&1; then
  v=$($T timedatectl show -p NTPSynchronized --value 2>/dev/null)
  [ -z "$v" ] && v=$($T timedatectl status 2>/dev/null | awk -F': *' '/(System clock|NTP) synchronized/ { print $2; exit }')
  case "$v" in yes) synced=yes; source=timedatectl;; no) synced=no; source=timedatectl;; esac
fi
if [ "$synced" = unknown ] && command -v chronyc >/dev/null 2>&1; then
  v=$($T chronyc -n tracking 2>/dev/null | awk -F': *' '/^Leap status/ { print $2; exit }')
  case "$v" in Normal|"Insert second"|"Delete second") synced=yes; source=chronyc;; "Not synchronised") synced=no; source=chronyc;; esac
fi
if [ "$synced" = unknown ] && command -v ntpq >/dev/null 2>&1; then
  out=$($T ntpq -pn 2>/dev/null)
  if [ -n "$out" ]; then
    source=ntpq
    case "$out" in *"
*"*) synced=yes;; *) synced=no;; esac
  fi
fi
if [ "$synced" = unknown ] && [ -e /run/systemd/timesync/synchronized ]; then
  synced=yes; source=systemd-timesyncd
fi
echo "synced=$synced"
echo "source=$source"
[ "$synced" = unknown ] && echo "@@note no time sync tool answered (timedatectl, chronyc, ntpq): sync state unknown"
exit 0
"""
)


# --- reading: text -> SystemReading -------------------------------------------------------------

_CONTAINER_CGROUP = re.compile(r"(docker|kubepods|lxc|libpod|containerd|crio)")


def _virtualization(v: dict[str, str]) -> tuple[str, str]:
    """(container, vm) from the strongest evidence found; 'none' when nothing points to one."""
    container = v.get("detect_virt_container", "")
    if container in ("", "none"):
        container = ""
        if v.get("systemd_container"):
            container = v["systemd_container"]
        elif v.get("containerenv") == "yes":
            container = "podman"
        elif v.get("dockerenv") == "yes":
            container = "docker"
        elif hint := v.get("cgroup_hint"):
            m = _CONTAINER_CGROUP.search(hint)
            container = {"kubepods": "kubernetes", "libpod": "podman"}.get(
                m.group(1) if m else "", m.group(1) if m else "container"
            )
    vm = v.get("detect_virt_vm", "")
    if vm in ("", "none"):
        vm = ""
        product = v.get("dmi_product_name", "")
        vendor = v.get("dmi_sys_vendor", "")
        known = ("KVM", "VMware", "VirtualBox", "QEMU", "Virtual Machine", "HVM domU", "Google")
        for word in known:
            if word.lower() in f"{product} {vendor}".lower():
                vm = f"{vendor} {product}".strip()
                break
        if not vm and v.get("hypervisor_flag") == "yes":
            vm = "yes (hypervisor flag in /proc/cpuinfo)"
    return container or "none", vm or "none"


@dataclass(frozen=True)
class SystemReading:
    hostname: str | None = None  # None: the script printed no hostname line at all
    os: str = "unknown"  # PRETTY_NAME, else a legacy release file, else NAME
    os_version: str = ""
    os_id: str = ""
    kernel: str = ""  # uname -srvm
    architecture: str = ""
    uptime: float | None = None  # seconds
    boot_epoch: float | None = None  # from /proc/stat btime, else now - uptime
    now_epoch: float | None = None
    container: str = "none"  # "docker", "kubernetes", "podman"... or "none"
    virtualization: str = "none"  # the hypervisor or "none"
    time_sync: str = "unknown"  # "yes", "no" or "unknown"
    time_sync_source: str = "none"  # the tool that said so
    timezone: str = "unknown"  # "Europe/Paris (+0100)"
    users: float | None = None  # logged-in users
    notes: tuple[str, ...] = ()


def _utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def read(output: str) -> SystemReading:
    sections = base.split_sections(output)
    facts_in = base.key_values(sections.get("facts", ""))
    osr = base.key_values(sections.get("os-release", ""))
    sync = base.key_values(sections.get("timesync", ""))
    uptime = base.to_float(facts_in.get("uptime_seconds"))
    now = base.to_float(facts_in.get("now"))
    boot = base.to_float(facts_in.get("boot_epoch"))
    if boot is None and uptime is not None and now is not None:
        boot = now - uptime
    container, vm = _virtualization(base.key_values(sections.get("virt", "")))
    tz = facts_in.get("timezone") or facts_in.get("tz_abbrev", "")
    offset = facts_in.get("tz_offset", "")
    return SystemReading(
        hostname=facts_in.get("hostname"),
        os=osr.get("PRETTY_NAME") or osr.get("LEGACY_RELEASE") or osr.get("NAME", "unknown"),
        os_version=osr.get("VERSION_ID", ""),
        os_id=osr.get("ID", ""),
        kernel=facts_in.get("kernel", ""),
        architecture=facts_in.get("arch", ""),
        uptime=uptime,
        boot_epoch=boot,
        now_epoch=now,
        container=container,
        virtualization=vm,
        time_sync=sync.get("synced", "unknown"),
        time_sync_source=sync.get("source", "none"),
        timezone=f"{tz} ({offset})" if tz and offset else tz or offset or "unknown",
        users=base.to_float(facts_in.get("users")),
        notes=base.notes(output),
    )


# --- describing: SystemReading -> metrics and facts ---------------------------------------------


def describe(r: SystemReading) -> ProbeData:
    facts = {"hostname": r.hostname or "", "os": r.os}
    if r.os_version:
        facts["os_version"] = r.os_version
    if r.os_id:
        facts["os_id"] = r.os_id
    facts["kernel"] = r.kernel
    facts["architecture"] = r.architecture
    metrics: list[Metric] = []
    if r.uptime is not None:
        facts["uptime"] = human_duration(r.uptime)
        metrics.append(Metric("system.uptime", r.uptime, "s"))
    if r.boot_epoch is not None:
        facts["boot_time"] = _utc(r.boot_epoch)
        facts["boot_epoch"] = str(int(r.boot_epoch))
    if r.now_epoch is not None:
        facts["time_epoch"] = str(int(r.now_epoch))
        facts["time"] = _utc(r.now_epoch)
    facts["container"] = r.container
    facts["virtualization"] = r.virtualization
    facts["time_sync"] = r.time_sync
    facts["time_sync_source"] = r.time_sync_source
    facts["timezone"] = r.timezone
    if r.users is not None:
        facts["users_logged_in"] = str(int(r.users))
        metrics.append(Metric("system.users", r.users, "users"))
    return ProbeData(metrics=tuple(metrics), facts=facts, notes=r.notes)


# --- judging: SystemReading + thresholds -> findings --------------------------------------------


@dataclass(frozen=True)
class SystemThresholds:
    recent_boot_seconds: float = 10 * 60  # uptime below this: the machine was just rebooted
    long_uptime_seconds: float = 365 * 86400  # uptime above this: kernel updates likely pending


THRESHOLDS = SystemThresholds()


def judge(r: SystemReading, limits: SystemThresholds) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    if r.time_sync == "no":
        host = "This host" if r.hostname is None else r.hostname
        findings.append(Finding(
            Severity.WARNING,
            "Clock is not synchronised",
            f"{host} reports its clock as not synchronised (checked with {r.time_sync_source}).",
            "Check the NTP service (chronyd, ntpd or systemd-timesyncd) and that it can reach "
            "its servers; a drifting clock breaks TLS, Kerberos and log correlation.",
            NAME,
        ))
    if r.uptime is not None and r.uptime < limits.recent_boot_seconds:
        booted = "?" if r.boot_epoch is None else _utc(r.boot_epoch)
        findings.append(Finding(
            Severity.INFO,
            "Recently rebooted",
            f"Up for only {human_duration(r.uptime)} (booted {booted}).",
            "If nobody planned the reboot, look for a crash, OOM or watchdog in the previous "
            "boot's logs (journalctl -b -1, /var/log/messages).",
            NAME,
        ))
    elif r.uptime is not None and r.uptime > limits.long_uptime_seconds:
        findings.append(Finding(
            Severity.INFO,
            "Very long uptime",
            f"Up for {human_duration(r.uptime)} without a reboot.",
            "The running kernel is probably older than the installed one: kernel and "
            "library security updates may be waiting for a reboot.",
            NAME,
        ))
    return tuple(findings)


parse = base.read_then_judge(read, describe, judge, THRESHOLDS)


def summarize(data: ProbeData) -> str:
    f = data.facts
    release = f.get("kernel", "").split()[1:2]
    parts = [f.get("os", "unknown OS")]
    if release:
        parts.append(f"kernel {release[0]}")
    if f.get("uptime"):
        parts.append(f"up {f['uptime']}")
    if f.get("container"):
        parts.append(f"in a {f['container']} container")
    elif f.get("virtualization") and f["virtualization"] != "none":
        parts.append(f"on {f['virtualization']}")
    parts.append(f"clock sync {f.get('time_sync', 'unknown')}")
    return ", ".join(parts)


PROBE = Probe(
    name=NAME, title="System", script=SCRIPT, parse=parse, summarize=summarize,
    timeout=10.0,
    description="Hostname, OS and kernel, uptime and boot time, virtualization or container, "
    "clock synchronisation, timezone and logged-in users.")
