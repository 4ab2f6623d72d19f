"""Period bounds as the ``diagkit metrics`` command line gives them."""

from __future__ import annotations

from datetime import datetime

from diagkit.errors import ConfigError
from diagkit.timegrammar import TimeSyntaxError, as_utc, parse_moment


def parse_since(text: str, *, now: datetime) -> datetime:
    """A period bound from the command line, in the one grammar of :mod:`diagkit.timegrammar`:
    ``30d``, ``12h``, ``2w`` (back from ``now``) or a time such as ``2024-03-01`` or
    ``2024-03-01T09:00`` (without a zone: local time). Returned as an aware UTC datetime."""
    try:
        return as_utc(parse_moment(text, now=now))
    except TimeSyntaxError as exc:
        raise ConfigError(str(exc)) from None
