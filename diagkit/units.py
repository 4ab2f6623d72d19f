"""Numbers as an engineer reads them: sizes in binary units, durations in words."""

from __future__ import annotations

import re

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


def human_duration(seconds: float) -> str:
    """93784 -> '1 d 2 h 3 min', 600 -> '10 min', 7200 -> '2 h' (what an engineer says on the
    phone, not ISO 8601; trailing zero parts left out)."""
    seconds = int(max(seconds, 0))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        parts = [(days, "d"), (hours, "h"), (minutes, "min")]
    elif hours:
        parts = [(hours, "h"), (minutes, "min")]
    elif minutes:
        parts = [(minutes, "min"), (secs, "s")]
    else:
        return f"{secs} s"
    while len(parts) > 1 and parts[-1][0] == 0:
        parts.pop()
    return " ".join(f"{n} {unit}" for n, unit in parts)


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """'500k', '100M', '2G', '1.5GiB', '4096' (bytes) -> bytes, binary units as human_bytes
    prints them. ValueError says what is accepted."""
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"not a size: {text!r}; use e.g. 500k, 100M, 2G or a number of bytes")
    power = " kmgt".index(m.group(2).lower() or " ")
    return int(float(m.group(1)) * 1024 ** power)
