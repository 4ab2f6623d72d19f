"""Small helpers shared by the built-in system probes (system, cpu, memory, disk, network).

Each probe keeps its own thresholds as named constants in its module, so an engineer reading a
finding can find the number that fired it next to the code; this module only holds the shared
formatting and the shell preamble every built-in script starts with.
"""

from __future__ import annotations

# Every built-in script starts with this: a fixed locale makes the output of df, date, ss and
# friends parseable whatever the target user's environment says.
SCRIPT_PREAMBLE = "LC_ALL=C; export LC_ALL; LANG=C; export LANG\n"

# One sampling pause, used by the probes that diff two readings. At most 0.5 s so a full host
# snapshot (all probes in parallel) stays well under a second; `sleep 1` is the fallback for
# sleeps without fractional seconds.
SAMPLE_SLEEP = "sleep 0.5 2>/dev/null || sleep 1"


def human_bytes(value: float) -> str:
    """1536 -> '1.5 KiB' (binary units, as free/df -h show them)."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    size = float(value)
    for unit in units:
        if abs(size) < 1024 or unit == units[-1]:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} PiB"  # pragma: no cover - loop always returns


def human_duration(seconds: float) -> str:
    """93784 -> '1 d 2 h 3 min' (what an engineer says on the phone, not ISO 8601)."""
    seconds = int(max(seconds, 0))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h {minutes} min"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def pct(part: float, whole: float) -> float:
    """part/whole in percent, 0 when whole is 0 (an idle or absent counter, not an error)."""
    return 100.0 * part / whole if whole > 0 else 0.0
