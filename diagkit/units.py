"""Numbers as an engineer reads them: sizes in binary units, durations in words."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d|w)?", re.IGNORECASE)
_SECONDS = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """'5s', '10m', '1h30m', '2d', '0.5' (seconds) -> seconds. ValueError says what is accepted."""
    rest = text.strip().replace(" ", "")
    total, pos = 0.0, 0
    while pos < len(rest):
        m = _DURATION.match(rest, pos)
        if not m or m.end() == pos:
            break
        total += float(m.group(1)) * _SECONDS[(m.group(2) or "s").lower()]
        pos = m.end()
    if not rest or pos != len(rest):
        raise ValueError(f"not a duration: {text!r}; use e.g. 5s, 10m, 1h30m, 2d or 1w")
    return total


def human_bytes(value: float) -> str:
    """1536 -> '1.5 KiB' (binary units, as free/df -h show them)."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    size = float(value)
    for unit in units:
        if abs(size) < 1024 or unit == units[-1]:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} PiB"  # pragma: no cover - loop always returns


def human_duration(value: float | timedelta, *, coarse: bool = False) -> str:
    """The one spelling of a duration in diagkit: ``1 d 2 h 3 min``, ``2 h 5 min``, ``10 min``,
    ``45 s`` (what an engineer says on the phone, not ISO 8601). ``value``: seconds or a
    timedelta.

    Exact (default), for uptimes and spans: from the largest unit present down to three units,
    zeros kept so columns line up: ``93784`` -> ``1 d 2 h 3 min``, ``7200`` -> ``2 h 0 min``;
    a negative value (a forecast already past) is ``0 s``.

    ``coarse=True``, for SLA clocks and support metrics where seconds are noise: rounded down to
    the minute (time *left* is never overstated), at most two units, a zero second unit left
    out: ``2 d 4 h``, ``3 h``, ``2 h 10 min``, ``10 min``; under a minute, ``42 s``. A negative
    value is shown by its size: the caller says "overdue", "ago"...
    """
    total = value.total_seconds() if isinstance(value, timedelta) else float(value)
    seconds = int(abs(total) if coarse else max(total, 0))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if coarse and seconds >= 60:
        big, small = ((days, "d"), (hours, "h")) if days else ((hours, "h"), (minutes, "min"))
        if big[0] == 0:
            return f"{small[0]} {small[1]}"
        return f"{big[0]} {big[1]}" + (f" {small[0]} {small[1]}" if small[0] else "")
    if days:
        return f"{days} d {hours} h {minutes} min"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """'500k', '100M', '2G', '1.5GiB', '4096' (bytes) -> bytes, binary units as human_bytes
    prints them. ValueError says what is accepted."""
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"not a size: {text!r}; use e.g. 500k, 100M, 2G or a number of bytes")
    power = " kmgt".index(m.group(2).lower() or " ")
    return int(float(m.group(1)) * 1024 ** power)
