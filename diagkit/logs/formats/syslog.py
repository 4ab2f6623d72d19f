"""Syslog: RFC 5424 and RFC 3164 (BSD / rsyslog)."""

from __future__ import annotations

import re
from datetime import datetime

from diagkit.logs.formats._base import (
    _D,
    _ISO_DATE,
    _MONTHS,
    StartSpec,
    _int,
    _iso,
    _localize,
    _message_level,
    _MultiLine,
    _syslog_year,
)
from diagkit.logs.formats._stamps import unparsed
from diagkit.logs.model import Fields, Level, ParseContext

# --------------------------------------------------------------------------- RFC 5424

_SD = r"(-|(?:\[(?:[^\]\\\"]|\\.|\"(?:[^\"\\]|\\.)*\")*\])+)(?: (.*))?\Z"
_RFC5424_PATTERNS = (
    # VERSION is 1; rsyslog writes 0 for a message it received in the old format when a
    # template prints RFC 5424 fields without the PRI
    re.compile(r"(?:<(\d{1,3})>1|[01]) (-|\d{4}-\d\d-\d\dT\S+) (\S+) (\S+) (\S+) (\S+) " + _SD,
               re.DOTALL),
    # files that keep the fields but neither PRI nor VERSION (VMware's, syslog-ng templates):
    # "2022-08-27T14:22:01.613Z host app 3106 - [sd] msg"; the PROCID (a number or "-") and the
    # SD ("-" or "[...]") tell it from a BSD line with an ISO stamp
    re.compile(r"()(\d{4}-\d\d-\d\dT\S+) (\S+) (\S+) (-|\d+) (\S+) " + _SD, re.DOTALL),
)
_RFC5424 = _RFC5424_PATTERNS[0]
_SD_ELEMENT = re.compile(r"\[([^\s\]=]+)((?:\s+[^\s=\]]+=\"(?:[^\"\\]|\\.)*\")*)\s*\]")
_SD_PARAM = re.compile(r"([^\s=\]]+)=\"((?:[^\"\\]|\\.)*)\"")
_SD_UNESCAPE = re.compile(r"\\([\"\\\]])")


class Rfc5424Format(_MultiLine):
    """RFC 5424 syslog: ``<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`` (``-`` = empty), also
    as files written without the PRI (``1 TIMESTAMP HOST ...``) or without PRI and VERSION
    (``TIMESTAMP HOST APP PROCID MSGID [SD] MSG``). Lines without the header (a message with
    newlines, written unescaped) continue the record.

    Level from PRI's severity, else a ``level``/``severity`` structured-data parameter, else a
    level word leading the message; extra: facility, msgid, and each structured-data parameter
    as ``sdid.param``.
    """

    name = "rfc5424"
    title = "Syslog (RFC 5424)"
    start_spec = StartSpec((b"<", _D), (b"01", b" ", _D + b"-"), _ISO_DATE)
    patterns = _RFC5424_PATTERNS

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        m = self._match(text)
        if not m:
            return unparsed(text, ctx)
        pri, ts, host, app, procid, msgid, sd, msg = m.groups()
        extra: dict[str, str] = {}
        level = Level.UNKNOWN
        if pri:
            p = int(pri)
            level = Level.parse(p % 8)
            extra["facility"] = str(p // 8)
        if msgid != "-":
            extra["msgid"] = msgid
        if sd != "-":
            for el in _SD_ELEMENT.finditer(sd):
                for pm in _SD_PARAM.finditer(el.group(2)):
                    extra[f"{el.group(1)}.{pm.group(1)}"] = _SD_UNESCAPE.sub(r"\1", pm.group(2))
        if level is Level.UNKNOWN:  # no PRI: a "level" or "severity" parameter, if any
            level = next((Level.parse(v) for k, v in extra.items()
                          if k.endswith((".level", ".severity"))), Level.UNKNOWN)
        msg = msg or ""
        msg = msg.removeprefix("\ufeff")  # RFC 5424 marks UTF-8 messages with a BOM
        return Fields(
            timestamp=None if ts == "-" else _iso(ts, ctx),
            level=level if level is not Level.UNKNOWN else _message_level(msg.split("\n", 1)[0]),
            host="" if host == "-" else host,
            source="" if app == "-" else app,
            pid=_int(procid) if procid != "-" else None,
            message=msg,
            extra=extra,
        )


# --------------------------------------------------------------------------- RFC 3164

_RFC3164 = re.compile(
    r"(?:<(\d{1,3})>)?"
    r"(?:([A-Z][a-z]{2}) +(\d{1,2}) (\d\d:\d\d:\d\d)(\.\d+)?(?: (\d{4}))?"
    r"|(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)))"
    r" (\S+) (?:([^\s:\[\]]+)(?:\[(\d+)\]:?|:)(?: |(?=\n)|\Z))?(.*)\Z", re.DOTALL)


class Rfc3164Format(_MultiLine):
    """Classic syslog ``Jan  2 03:04:05 host prog[pid]: msg`` and rsyslog's ISO variant
    ``2024-01-02T03:04:05.123456+01:00 host prog[pid]: msg``.

    The classic timestamp has no year: it is inferred from ``ctx.reference_time`` (the newest
    year not after it + 1 day, so December lines in a file written in January get last year).
    Level: from ``<PRI>`` if present, else a level word leading the message (``error: ...``).
    Lines that start with neither a syslog header nor a date (a message with newlines written
    unescaped, a traceback) continue the record before; lines before the first header (a file
    header) make a record of their own.
    """

    name = "rfc3164"
    title = "Syslog (BSD / rsyslog)"
    # "Mmm dd" (the month's letters), "<PRI>", or an ISO date (rsyslog's, or a foreign dated line)
    start_spec = StartSpec((b"ADFJMNOS", b"aceopu", b"bcglnprtvy", b" ", b" " + _D, _D + b" "),
                           (b"<", _D), _ISO_DATE)

    def _parses(self, line: str) -> bool:
        return _RFC3164.match(line) is not None

    def _start_score(self, line: str) -> float | None:
        if not self.is_record_start(line):
            return None
        m = _RFC3164.match(line)
        if m is None:
            return 0.0
        # a "prog[pid]:" tag is what makes it syslog; "time word text" is weak, less so after
        # the classic year-less stamp (rsyslog writes no colon after the tag of a message it
        # received as RFC 5424)
        return 1.0 if m.group(9) else 0.7 if m.group(2) else 0.3

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        m = _RFC3164.match(text)
        if not m:
            return unparsed(text, ctx)
        pri, mon, day, hms, frac, year, iso, host, tag, pid, msg = m.groups()
        if iso is not None:
            ts = _iso(iso, ctx)
        else:
            month = _MONTHS.get(mon)
            ts = None
            if month is not None:
                if year is not None:
                    try:
                        us = int((frac[1:] + "000000")[:6]) if frac else 0
                        ts = _localize(datetime(int(year), month, int(day), int(hms[0:2]),
                                                int(hms[3:5]), int(hms[6:8]), us), ctx)
                    except ValueError:
                        ts = None
                else:
                    ts = _syslog_year(month, int(day), hms, frac or "", ctx)
        extra: dict[str, str] = {}
        level = Level.UNKNOWN
        if pri is not None:
            p = int(pri)
            level = Level.parse(p % 8)
            extra["facility"] = str(p // 8)
        if level is Level.UNKNOWN:
            level = _message_level(msg.split("\n", 1)[0])
        return Fields(timestamp=ts, level=level, host=host, source=tag or "", pid=_int(pid),
                      message=msg, extra=extra)

