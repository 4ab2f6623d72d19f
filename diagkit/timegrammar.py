"""The one grammar of ``--since`` / ``--until`` (logs, metrics, history) and the log viewer's
"go to time" box.

* a duration counts back from now: ``2h``, ``3d``, ``90m``, ``2w``, ``30s``, ``1h30m``; also
  ``-1h``, ``2 days ago``;
* a time: ``2024-03-01T10:00``, ``2024-03-01 10:00``, ``2024-03-01`` (midnight), ``10:00``
  (today), ``now``, ``today``, ``yesterday``, ISO 8601 with a zone (``...Z``, ``...+02:00``).

The zone rule, the same everywhere: **a time without a zone is local time**. A naive input
gives a naive (local wall-clock) datetime, a zoned one an aware datetime; :func:`as_utc` turns
either into an aware UTC one for code that counts in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

#: One line for the parsers' help, so every ``--since`` says the same.
HELP = ("a duration back from now (2h, 3d, 90m) or a time (2024-03-01T10:00, 2024-03-01, "
        "10:00 today, yesterday); times without a zone are local time")

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|h|days?|d|"
                   r"weeks?|w)", re.IGNORECASE)
_SPAN = re.compile(r"^\s*-?\s*((?:\d+(?:\.\d+)?\s*[a-z]+\s*)+?)(?:\s+ago)?\s*$", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class TimeSyntaxError(ValueError):
    """Text that is neither a duration nor a time; callers re-raise it as their own error."""


def parse_span(text: str) -> timedelta | None:
    """``2h``, ``90m``, ``1h30m``, ``-1h``, ``2 days ago`` as a timedelta; ``None`` if ``text``
    is not a duration (a time, or nothing valid)."""
    m = _SPAN.match(text)
    if not m:
        return None
    body = m.group(1)
    total, pos = 0.0, 0
    for part in _PART.finditer(body):
        if body[pos:part.start()].strip():
            return None
        unit = part.group(2).lower()
        unit = "m" if unit.startswith("mi") else unit[0]
        total += float(part.group(1)) * _SECONDS[unit]
        pos = part.end()
    if pos == 0 or body[pos:].strip():
        return None
    return timedelta(seconds=total)


def parse_moment(text: str, *, now: datetime | None = None) -> datetime:
    """A point in time in the grammar above. ``now`` (default: local time, naive) is what
    durations count back from and what ``today`` means. :class:`TimeSyntaxError` otherwise."""
    now = now or datetime.now()
    s = text.strip()
    low = s.lower()
    if low == "now":
        return now
    span = parse_span(s)
    if span is not None:
        return now - span
    # "today" and a bare clock time are local even when ``now`` is given in another zone
    local = now.astimezone() if now.tzinfo is not None else now
    if low in ("today", "yesterday"):
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return day - timedelta(days=1) if low == "yesterday" else day
    for fmt in ("%H:%M", "%H:%M:%S"):
        try:
            t = datetime.strptime(s, fmt).time()
        except ValueError:
            continue
        return datetime.combine(local.date(), t, tzinfo=local.tzinfo)
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
    except ValueError:
        pass
    raise TimeSyntaxError(
        f"Cannot read {text!r} as a time. Use a duration back from now (2h, 30d, 90m, 2w, "
        "'2 days ago') or a time (2024-03-01T10:00, '2024-03-01 10:00', 2024-03-01, 10:00 "
        "for today, yesterday); times without a zone are local time.")


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is local time (the zone rule above)."""
    return moment.astimezone(UTC)


def seconds_back(text: str, *, now: datetime | None = None) -> float:
    """How far back from now ``text`` reaches, in seconds: a duration as given, a time as
    ``now - time`` (for options that count a window back from now, e.g. ``history --since``)."""
    span = parse_span(text)
    if span is not None:
        return span.total_seconds()
    now = now or datetime.now().astimezone()
    moment = parse_moment(text, now=now)
    return (as_utc(now) - as_utc(moment)).total_seconds()


__all__ = ["HELP", "TimeSyntaxError", "as_utc", "parse_moment", "parse_span", "seconds_back"]
