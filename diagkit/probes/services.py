"""Services: failed systemd units, unit counts and the overall system state.

Without systemd (containers, Alpine, old sysvinit hosts) the probe says which init runs as PID 1
and stops there: that is a fact, not an error. OpenRC hosts get a best-effort list of crashed
services from ``rc-status``.

Severity policy (named constants below):

* every failed unit is a **warning** of its own (a failed unit may be a one-shot job that
  nobody cares about, or the web server: the engineer judges);
* more than ``MANY_FAILED_UNITS`` failed units is one extra **critical** finding: the host is
  broken in several places at once, usually after a bad boot or a full disk;
* a system state of ``maintenance`` or ``emergency`` is **critical** (the host booted into a
  rescue shell); ``starting``/``stopping`` is **info** (results may be incomplete);
  ``degraded`` adds nothing: it only means "some unit failed", already reported per unit.
"""

from __future__ import annotations

import re

from diagkit.probes.base import (
    Finding,
    Metric,
    Probe,
    ProbeData,
    Severity,
    Table,
    key_values,
    notes,
    split_sections,
)

NAME = "services"

#: More failed units than this adds a critical finding.
MANY_FAILED_UNITS = 3
#: At most this many failed units get a finding each; the rest are summed up in one.
MAX_UNIT_FINDINGS = 20
#: System states that mean the host is in a rescue mode.
CRITICAL_STATES = frozenset({"maintenance", "emergency"})

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


def _failed_units(text: str) -> list[tuple[str, str, str, str, str]]:
    """``UNIT LOAD ACTIVE SUB DESCRIPTION`` lines (a leading bullet from old systemd removed)."""
    rows = []
    for line in text.splitlines():
        line = line.lstrip(" \t●*×")
        parts = line.split(None, 4)
        if len(parts) >= 4 and "." in parts[0]:
            rows.append((parts[0], parts[1], parts[2], parts[3], parts[4] if len(parts) > 4 else ""))
    return rows


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


def parse(output: str) -> ProbeData:
    sections = split_sections(output)
    init = key_values(sections.get("init", ""))
    facts = {"pid1": init.get("pid1", ""), "init": init.get("init", "")}
    if init.get("container"):
        facts["container"] = init["container"]
    metrics: list[Metric] = []
    tables: list[Table] = []
    findings: list[Finding] = []

    if facts["init"] == "systemd":
        state = sections.get("state", "").strip()
        facts["system_state"] = state
        failed = _failed_units(sections.get("failed", ""))
        tables.append(Table("failed_units", "Failed units",
                            ("unit", "load", "active", "sub", "description"), tuple(failed)))
        metrics.append(Metric("services.units_failed", len(failed), "count"))
        for key, value in key_values(sections.get("units", "")).items():
            if value.isdigit():
                name = "services.units_total" if key == "total" else "services.units_by_state"
                labels = {} if key == "total" else {"active": key}
                metrics.append(Metric(name, int(value), "count", labels))
        for unit, _load, _active, sub, desc in failed[:MAX_UNIT_FINDINGS]:
            findings.append(_unit_finding(unit, sub, desc))
        if len(failed) > MAX_UNIT_FINDINGS:
            rest = ", ".join(u for u, *_ in failed[MAX_UNIT_FINDINGS:])
            findings.append(Finding(Severity.WARNING,
                                    f"{len(failed) - MAX_UNIT_FINDINGS} more units failed", rest,
                                    "List them all with 'systemctl --failed'.", NAME))
        if len(failed) > MANY_FAILED_UNITS:
            findings.append(Finding(
                Severity.CRITICAL,
                f"{len(failed)} units failed",
                f"System state is {state or 'unknown'}; failed: "
                + ", ".join(u for u, *_ in failed[:10]) + ("..." if len(failed) > 10 else ""),
                "Several failures at once usually share a cause (full disk, missing mount, "
                "network not up, bad config push): read 'journalctl -b -p err' from the first "
                "failure on.",
                NAME,
            ))
        if state in CRITICAL_STATES:
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
    elif facts["init"] == "openrc":
        rows = []
        for line in sections.get("openrc", "").splitlines():
            m = _OPENRC.match(line)
            if m:
                rows.append((m.group(1), m.group(2)))
        tables.append(Table("services", "OpenRC services", ("service", "state"), tuple(rows)))
        crashed = [s for s, st in rows if st == "crashed"]
        metrics.append(Metric("services.units_failed", len(crashed), "count"))
        metrics.append(Metric("services.units_total", len(rows), "count"))
        for svc in crashed:
            findings.append(Finding(
                Severity.WARNING, f"Service {svc} crashed",
                f"rc-status reports {svc} as crashed (started, but its process is gone).",
                f"Check its log under /var/log, then 'rc-service {svc} restart'.", NAME,
            ))
    return ProbeData(metrics=tuple(metrics), tables=tuple(tables), findings=tuple(findings),
                     facts=facts, notes=notes(output))


def summarize(data: ProbeData) -> str:
    f = data.facts
    if f.get("init") != "systemd":
        where = f" in a {f['container']} container" if f.get("container") else ""
        return f"no systemd{where} (PID 1: {f.get('pid1', '?')})"
    failed = data.metric("services.units_failed", 0.0) or 0.0
    return f"systemd {f.get('system_state', '?')}, {failed:.0f} failed units"


PROBE = Probe(
    name=NAME,
    title="Services",
    description="Failed systemd units, unit counts and system state; the init system's name "
    "where there is no systemd.",
    script=SCRIPT,
    parse=parse,
    timeout=15.0,
    summarize=summarize,
)
