"""Services: failed systemd units, unit counts and the overall system state.

Without systemd (containers, Alpine, old sysvinit hosts) the probe says which init runs as PID 1
and stops there: that is a fact, not an error. OpenRC hosts get a best-effort list of crashed
services from ``rc-status``.

Severity policy (``ServicesThresholds`` below):

* every failed unit is a **warning** of its own (a failed unit may be a one-shot job that
  nobody cares about, or the web server: the engineer judges);
* more than ``many_failed_units`` failed units is one extra **critical** finding: the host is
  broken in several places at once, usually after a bad boot or a full disk;
* a system state of ``maintenance`` or ``emergency`` is **critical** (the host booted into a
  rescue shell); ``starting``/``stopping`` is **info** (results may be incomplete);
  ``degraded`` adds nothing: it only means "some unit failed", already reported per unit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from diagkit.probes import base
from diagkit.probes.base import Finding, Metric, Probe, ProbeData, Severity, Table

NAME = "services"

SCRIPT = r"""export LC_ALL=C
echo "@@section init"
echo "pid1=$(cat /proc/1/comm 2>/dev/null)"
container=""
if [ -r /run/systemd/container ]; then container=$(cat /run/systemd/container 2>/dev/null)
elif [ -f /.dockerenv ]; then container=docker
elif [ -f /run/.containerenv ]; then container=podman
elif grep -qaE '(docker|kubepods|containerd|lxc|libpod)' /proc/1/cgroup 2>/dev/null; then container=yes
fi
echo "container=$container"
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  echo "init=systemd"
  echo "@@section state"
  systemctl is-system-running 2>&1 | head -n 1
  echo "@@section failed"
  systemctl --failed --no-legend --plain --no-pager 2>/dev/null | head -n 200
  echo "@@section units"
  systemctl list-units --all --no-legend --plain --no-pager 2>/dev/null | awk '
    { t++; a[$3]++ } END { printf "total=%d\n", t; for (k in a) printf "%s=%d\n", k, a[k] }'
elif command -v rc-status >/dev/null 2>&1; then
  echo "init=openrc"
  echo "@@section openrc"
  rc-status --servicelist 2>/dev/null | head -n 300
elif command -v systemctl >/dev/null 2>&1; then
  echo "init=none"
  echo "@@note systemctl is installed but systemd is not running as init (PID 1 is $(cat /proc/1/comm 2>/dev/null)); no unit states to read"
else
  echo "init=none"
  echo "@@note no systemd and no OpenRC here (PID 1 is $(cat /proc/1/comm 2>/dev/null)); service states cannot be read generically"
fi
exit 0
"""

_OPENRC = re.compile(r"^\s*(\S+)\s+\[\s*([a-z ]+?)\s*\]")


# --- reading: text -> ServicesReading -----------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """A failed systemd unit, as ``systemctl --failed`` lists it."""

    unit: str
    load: str
    active: str
    sub: str
    description: str


@dataclass(frozen=True)
class OpenRcService:
    name: str
    state: str  # "started", "stopped", "crashed"...


@dataclass(frozen=True)
class ServicesReading:
    pid1: str = ""  # PID 1's command name
    init: str = ""  # "systemd", "openrc" or "none"
    container: str = ""  # "docker", "podman", "yes"...; "" when none was seen
    system_state: str = ""  # systemctl is-system-running (systemd only)
    failed: tuple[Unit, ...] = ()
    unit_counts: Mapping[str, int] = field(default_factory=dict)  # "total" and per active state
    openrc: tuple[OpenRcService, ...] = ()
    notes: tuple[str, ...] = ()


def _failed_units(text: str) -> tuple[Unit, ...]:
    """``UNIT LOAD ACTIVE SUB DESCRIPTION`` lines (a leading bullet from old systemd removed)."""
    rows = []
    for line in text.splitlines():
        line = line.lstrip(" \t●*×")
        parts = line.split(None, 4)
        if len(parts) >= 4 and "." in parts[0]:
            rows.append(Unit(parts[0], parts[1], parts[2], parts[3],
                             parts[4] if len(parts) > 4 else ""))
    return tuple(rows)


def read(output: str) -> ServicesReading:
    sections = base.split_sections(output)
    init = base.key_values(sections.get("init", ""))
    kind = init.get("init", "")
    reading = ServicesReading(pid1=init.get("pid1", ""), init=kind,
                              container=init.get("container", ""), notes=base.notes(output))
    if kind == "systemd":
        counts = {k: int(v) for k, v in base.key_values(sections.get("units", "")).items()
                  if v.isdigit()}
        return replace(reading, system_state=sections.get("state", "").strip(),
                       failed=_failed_units(sections.get("failed", "")), unit_counts=counts)
    if kind == "openrc":
        found = (_OPENRC.match(line) for line in sections.get("openrc", "").splitlines())
        return replace(reading, openrc=tuple(OpenRcService(m.group(1), m.group(2))
                                             for m in found if m))
    return reading


# --- describing: ServicesReading -> metrics, tables, facts --------------------------------------


def describe(r: ServicesReading) -> ProbeData:
    facts = {"pid1": r.pid1, "init": r.init}
    if r.container:
        facts["container"] = r.container
    metrics: list[Metric] = []
    tables: list[Table] = []
    if r.init == "systemd":
        facts["system_state"] = r.system_state
        tables.append(Table("failed_units", "Failed units",
                            ("unit", "load", "active", "sub", "description"),
                            [(u.unit, u.load, u.active, u.sub, u.description) for u in r.failed]))
        metrics.append(Metric("services.units_failed", len(r.failed), "count"))
        for key, value in r.unit_counts.items():
            if key == "total":
                metrics.append(Metric("services.units_total", value, "count"))
            else:
                metrics.append(Metric("services.units_by_state", value, "count", {"active": key}))
    elif r.init == "openrc":
        tables.append(Table("services", "OpenRC services", ("service", "state"),
                            [(svc.name, svc.state) for svc in r.openrc]))
        crashed = [svc for svc in r.openrc if svc.state == "crashed"]
        metrics.append(Metric("services.units_failed", len(crashed), "count"))
        metrics.append(Metric("services.units_total", len(r.openrc), "count"))
    return ProbeData(metrics=tuple(metrics), tables=tuple(tables), facts=facts, notes=r.notes)


# --- judging: ServicesReading + thresholds -> findings ------------------------------------------


@dataclass(frozen=True)
class ServicesThresholds:
    many_failed_units: int = 3  # more failed units than this adds a critical finding
    max_unit_findings: int = 20  # at most this many failed units get a finding each
    critical_states: frozenset[str] = frozenset({"maintenance", "emergency"})  # rescue modes


THRESHOLDS = ServicesThresholds()


def _unit_finding(unit: str, sub: str, description: str) -> Finding:
    what = f" ({description})" if description else ""
    return Finding(
        Severity.WARNING,
        f"Unit {unit} failed",
        f"{unit}{what} is in state failed/{sub}.",
        f"See why with 'systemctl status {unit}' and 'journalctl -u {unit} -b'; after fixing, "
        f"'systemctl restart {unit}' (or 'systemctl reset-failed {unit}' if it is not needed).",
        NAME,
    )


def judge(r: ServicesReading, limits: ServicesThresholds) -> tuple[Finding, ...]:
    if r.init == "openrc":
        return tuple(Finding(
            Severity.WARNING, f"Service {svc.name} crashed",
            f"rc-status reports {svc.name} as crashed (started, but its process is gone).",
            f"Check its log under /var/log, then 'rc-service {svc.name} restart'.", NAME,
        ) for svc in r.openrc if svc.state == "crashed")
    if r.init != "systemd":
        return ()
    failed, state, cap = r.failed, r.system_state, limits.max_unit_findings
    findings = [_unit_finding(u.unit, u.sub, u.description) for u in failed[:cap]]
    if len(failed) > cap:
        rest = ", ".join(u.unit for u in failed[cap:])
        findings.append(Finding(Severity.WARNING, f"{len(failed) - cap} more units failed", rest,
                                "List them all with 'systemctl --failed'.", NAME))
    if len(failed) > limits.many_failed_units:
        findings.append(Finding(
            Severity.CRITICAL,
            f"{len(failed)} units failed",
            f"System state is {state or 'unknown'}; failed: "
            + ", ".join(u.unit for u in failed[:10]) + ("..." if len(failed) > 10 else ""),
            "Several failures at once usually share a cause (full disk, missing mount, "
            "network not up, bad config push): read 'journalctl -b -p err' from the first "
            "failure on.",
            NAME,
        ))
    if state in limits.critical_states:
        findings.append(Finding(
            Severity.CRITICAL, f"System is in {state} mode",
            f"systemctl is-system-running says {state!r}: the boot did not reach its target.",
            "Read 'journalctl -b -p err' and 'systemctl --failed'; fix the failing mount or "
            "unit, then 'systemctl default'.", NAME,
        ))
    elif state in ("starting", "initializing", "stopping"):
        findings.append(Finding(
            Severity.INFO, f"System is {state}",
            "Units are still changing state; failed-unit results may be incomplete.",
            "Run the probe again in a minute; 'systemctl list-jobs' shows what is pending.",
            NAME,
        ))
    return tuple(findings)


parse = base.read_then_judge(read, describe, judge, THRESHOLDS)


def summarize(data: ProbeData) -> str:
    f = data.facts
    if f.get("init") != "systemd":
        where = f" in a {f['container']} container" if f.get("container") else ""
        return f"no systemd{where} (PID 1: {f.get('pid1', '?')})"
    failed = data.metric("services.units_failed", 0.0) or 0.0
    return f"systemd {f.get('system_state', '?')}, {failed:.0f} failed units"


PROBE = Probe(
    name=NAME, title="Services", script=SCRIPT, parse=parse, summarize=summarize,
    timeout=15.0,
    description="Failed systemd units, unit counts and system state; the init system's name "
    "where there is no systemd.")
