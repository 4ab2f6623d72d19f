"""The fallback formats: ``timestamped`` (a timestamp at or near the start of lines, in any of
the usual layouts, and a level word among the first fields) and ``plain``."""

from __future__ import annotations

from diagkit.logs.formats._base import (
    _LEVEL_WORD_UPPER,
    RegexStart,
    _message_level,
    _MultiLine,
    _nonempty,
    _skip_file_header,
)
from diagkit.logs.formats._stamps import _TS_LINE, _TS_PATTERN, dated_fields
from diagkit.logs.model import Fields, Level, LogFormat, ParseContext

# --------------------------------------------------------------------------- timestamped


class TimestampedFormat(_MultiLine):
    """The fallback for dated logs in no known layout: a timestamp at or near the start of
    the line (after at most two short fields, optionally in brackets) in any usual layout -
    ISO 8601 / RFC 3339 with or without ``T``, zone and fraction, ``yyyy/mm/dd``, ISO basic,
    syslog and ctime, Apache's ``dd/Mon/yyyy:hh:mm:ss zone``, ``dd.mm.yyyy``,
    ``dd-Mon-yyyy``, ``mm/dd/yyyy``, ``mm-dd`` without a year, epoch seconds / ms / us / ns,
    TAI64N - and a level word among the first fields after it.

    The header (prefix, time, fields up to the level word) is not part of the message, so
    signatures are mined on what the program said; a single field between the time and the
    level becomes ``source`` (a number: ``pid``), several go to ``extra["prefix"]``; fields
    separated by ``|`` after the time are header fields up to the first one with a space. Lines
    without a timestamp continue the record before."""

    name = "timestamped"
    title = "Timestamped text (generic)"
    start_spec = RegexStart(_TS_PATTERN.encode("ascii"))

    def _parses(self, line: str) -> bool:
        return _TS_LINE.match(line) is not None

    def sniff(self, lines: list[str]) -> float:
        sample = _skip_file_header(_nonempty(lines), self._parses)
        if not sample:
            return 0.0
        dated = 0
        score = 0.0
        in_record = False
        for ln in sample:
            if _TS_LINE.match(ln):
                dated += 1
                score += 1.0
                in_record = True
            elif in_record:
                score += 0.5
        if dated < 0.3 * len(sample):
            return 0.0
        # below a dedicated format that fits as well: it knows the fields
        return 0.7 * score / len(sample)

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        return dated_fields(text, ctx) or _plain(text)


# --------------------------------------------------------------------------- plain


def _plain(text: str) -> Fields:
    m = _LEVEL_WORD_UPPER.search(text, 0, 80)
    level = Level.parse(m.group(1)) if m else _message_level(text)
    return Fields(level=level, message=text)


class PlainFormat(LogFormat):
    """The fallback: one record per line, the line is the message; the level is an upper-case
    level word in the first 80 characters (or a leading ``error:``-like word), if any."""

    name = "plain"
    title = "Plain text (one record per line)"

    def sniff(self, lines: list[str]) -> float:
        return 0.01

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        return _plain(text)
