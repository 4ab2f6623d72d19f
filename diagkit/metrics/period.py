"""Period bounds as the ``diagkit metrics`` command line gives them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from diagkit.errors import ConfigError

_RELATIVE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$", re.IGNORECASE)


def parse_since(text: str, *, now: datetime) -> datetime:
    """A period bound from the command line: ``30d``, ``12h``, ``2w`` (before ``now``) or an
    ISO date/datetime (a date is midnight UTC; a naive datetime is taken as UTC)."""
    m = _RELATIVE.match(text)
    if m:
        amount, unit = int(m.group(1)), m.group(2).lower()
        delta = {"h": timedelta(hours=amount), "d": timedelta(days=amount),
                 "w": timedelta(weeks=amount)}[unit]
        return now - delta
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            return datetime.combine(date.fromisoformat(text.strip()), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"{text!r} is not a period start: give a relative one like 30d, 12h or 2w, or an "
            "ISO date such as 2024-03-01 (or 2024-03-01T09:00)."
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

