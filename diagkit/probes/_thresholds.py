"""Small helpers shared by the built-in system probes (system, cpu, memory, disk, network).

Each probe keeps its own thresholds as named constants in its module, so an engineer reading a
finding can find the number that fired it next to the code; this module only holds the shared
formatting and the shell preamble every built-in script starts with.
"""

from __future__ import annotations

from diagkit.units import human_bytes, human_duration

__all__ = ["SAMPLE_SLEEP", "SCRIPT_PREAMBLE", "human_bytes", "human_duration", "pct"]

# Every built-in script starts with this: a fixed locale makes the output of df, date, ss and
# friends parseable whatever the target user's environment says.
SCRIPT_PREAMBLE = "LC_ALL=C; export LC_ALL; LANG=C; export LANG\n"

# One sampling pause, used by the probes that diff two readings. At most 0.5 s so a full host
# snapshot (all probes in parallel) stays well under a second; `sleep 1` is the fallback for
# sleeps without fractional seconds.
SAMPLE_SLEEP = "sleep 0.5 2>/dev/null || sleep 1"


def pct(part: float, whole: float) -> float:
    """part/whole in percent, 0 when whole is 0 (an idle or absent counter, not an error)."""
    return 100.0 * part / whole if whole > 0 else 0.0
