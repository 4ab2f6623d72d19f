"""Timestamps in the usual layouts, at or near the start of a line: the fallback format's
detector, and every format's answer for a line it does not recognise but that is dated."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from diagkit.logs.formats._base import (
    _EPOCH,
    _MONTHS,
    _abbrev_tz,
    _civil,
    _head_level,
    _split_first_line,
    _tai64n_time,
    _time_of_day,
    _us,
    _year_less,
)
from diagkit.logs.model import Fields, Level, ParseContext

_MON = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_DOW = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"
_F = r"[0-9]{1,9}"
# One alternative per layout; group names start with the layout's letter. ASCII only, and
# classes that never take a newline: the same pattern, as bytes, finds record starts.
_LAYOUTS = (
    # ISO 8601 / RFC 3339, T or space, and yyyy/mm/dd (nginx, Go's log): 2024-01-02 03:04:05,123Z
    (r"(?P<iy>[12][0-9]{3})(?P<ids>[-/.])(?P<imo>[01]?[0-9])(?P=ids)(?P<id>[0-3]?[0-9])"
     r"(?:[T _]| {1,2})(?P<iH>[0-2]?[0-9]):(?P<iM>[0-5][0-9])"
     rf"(?::(?P<iS>[0-6][0-9])(?:[.,:](?P<if>{_F}))?)?"
     r"(?: ?(?P<iz>Z|[+-][0-9]{2}(?::?[0-9]{2})?|UTC|GMT)(?![A-Za-z]))?"),
    # ISO basic date and a time after a separator: 20240102T030405Z, 20171223-22:16:0:119
    (r"(?P<cy>[12][0-9]{3})(?P<cmo>[01][0-9])(?P<cd>[0-3][0-9])[-T ]"
     r"(?:(?P<cH>[0-2]?[0-9]):(?P<cM>[0-5]?[0-9]):(?P<cS>[0-6]?[0-9])"
     r"|(?P<cH2>[0-2][0-9])(?P<cM2>[0-5][0-9])(?P<cS2>[0-6][0-9]))"
     rf"(?:[.,:](?P<cf>{_F}))?(?P<cz>Z)?"),
    # syslog and ctime: Jan  2 03:04:05, Tue Jan  2 03:04:05 2024, Jan 02, 2024 3:04:05 PM
    (rf"(?:(?:{_DOW}),? )?(?P<sm>{_MON}) +(?P<sd>[0-3]?[0-9]),?(?: (?P<sy>[12][0-9]{{3}}))? "
     rf"(?P<sH>[0-2]?[0-9]):(?P<sM>[0-5][0-9]):(?P<sS>[0-6][0-9])(?:[.,](?P<sf>{_F}))?"
     r"(?: (?P<sap>[AP]M))?(?: (?P<sy2>[12][0-9]{3})(?![0-9:]))?"),
    # Apache / CLF: 10/Oct/2000:13:55:36 -0700
    (rf"(?P<ld>[0-3][0-9])/(?P<lm>{_MON})/(?P<ly>[12][0-9]{{3}}):(?P<lH>[0-2][0-9]):"
     r"(?P<lM>[0-5][0-9]):(?P<lS>[0-6][0-9])(?: (?P<lz>[+-][0-9]{4}))?"),
    # day first: 05.12.2026 10:19, 05-Dec-2026 10:19:52.297, 05 Dec 2026 10:20:26,829
    (rf"(?P<dd>[0-3]?[0-9])(?P<dsep>[-. ])(?P<dm>{_MON}|[01]?[0-9])(?P=dsep)"
     r"(?P<dy>[12][0-9]{3})[ T:](?P<dH>[0-2]?[0-9]):(?P<dM>[0-5][0-9])"
     rf"(?::(?P<dS>[0-6][0-9]))?(?:[.,](?P<df>{_F}))?"),
    # US month first: 12/05/2026 10:19:52 PM
    (r"(?P<um>[01]?[0-9])/(?P<ud>[0-3]?[0-9])/(?P<uy>[12][0-9]{3})[ ,]{1,2}(?P<uH>[0-2]?[0-9]):"
     rf"(?P<uM>[0-5][0-9])(?::(?P<uS>[0-6][0-9]))?(?:[.,](?P<uf>{_F}))?(?: ?(?P<uap>[AP]M))?"),
    # month and day without a year (logcat, Proxifier): 03-17 16:13:38.811, 10.30 16:49:06
    (r"(?P<mm>[01][0-9])(?P<msep>[-/.])(?P<md>[0-3][0-9]) (?P<mH>[0-2][0-9]):(?P<mM>[0-5][0-9])"
     rf":(?P<mS>[0-6][0-9])(?:[.,](?P<mf>{_F}))?"),
    # epoch seconds (2001-2039), milli-, micro- or nanoseconds, or seconds.fraction
    (r"(?P<ep>(?:1[0-9]|2[01])[0-9]{8})"
     r"(?:(?P<epx>[0-9]{9}|[0-9]{6}|[0-9]{3})|\.(?P<epf>[0-9]{1,9}))?"),
    # TAI64N (daemontools, runit)
    r"@(?P<tai>4000000[0-9a-f]{9})(?P<tain>[0-9a-f]{8})",
)
# a time of day alone counts only at the very start of a line
_TIME_ONLY = rf"(?P<tH>[0-2][0-9]):(?P<tM>[0-5][0-9]):(?P<tS>[0-6][0-9])(?:[.,](?P<tf>{_F}))?"
# up to two short prefix fields before the time ("update-alternatives", "-", a file name)
_PREFIX = r"(?P<pre>(?:[!-~]{1,64}[ \t]+){0,2}?)[\[(<]?"
_TS_PATTERN = (rf"(?:{_TIME_ONLY}|{_PREFIX}(?:" + "|".join(_LAYOUTS) + r"))(?![0-9])")
_TS_LINE = re.compile(_TS_PATTERN, re.ASCII)
_LOGGER_AFTER = re.compile(
    r"(?P<src>[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*){2,}):? (?:\[(?P<ctx>[^\[\]\n]{1,300})\] )?",
    re.ASCII)
# "program - msg", also with a short qualifier after the name: "chrome.exe *64 - msg" (a
# 64-bit process), "app (1234) - msg", "worker [2] - msg", "job #7 - msg"
_DASHED_SOURCE = re.compile(r"(?P<src>[!-~]{1,64}(?: [*#(\[][!-~]{0,15})?) - (?=\S)", re.ASCII)
_NAME = re.compile(r"[A-Za-z][\w.\-/]*:?\Z", re.ASCII)


def _hour(h: str, ampm: str | None) -> int:
    hour = int(h)
    if ampm:
        hour = hour % 12 + (12 if ampm == "PM" else 0)
    return hour


def _iso_stamp(m: re.Match[str], ctx: ParseContext) -> datetime | None:
    g = m.group
    tz = _abbrev_tz(g("iz")) if g("iz") else None
    return _civil(int(g("iy")), int(g("imo")), int(g("id")), int(g("iH")), int(g("iM")),
                  int(g("iS") or 0), _us(g("if")), ctx, tz)


def _time_only_stamp(m: re.Match[str], ctx: ParseContext) -> datetime | None:
    g = m.group
    return _time_of_day(int(g("tH")), int(g("tM")), int(g("tS")), _us(g("tf")), ctx)


def _syslog_stamp(m: re.Match[str], ctx: ParseContext) -> datetime | None:
    g = m.group
    month, day = _MONTHS[g("sm")], int(g("sd"))
    hour = _hour(g("sH"), g("sap"))
    year = g("sy") or g("sy2")
    if year:
        return _civil(int(year), month, day, hour, int(g("sM")), int(g("sS")), _us(g("sf")), ctx)
    return _year_less(month, day, hour, int(g("sM")), int(g("sS")), _us(g("sf")), ctx)


def _epoch_stamp(m: re.Match[str], ctx: ParseContext) -> datetime | None:
    g = m.group
    extra, frac = g("epx"), g("epf")
    us = _us(frac) if frac else 0
    if extra:  # the digits after the first ten: ms, us or ns
        us = int(extra[:6].ljust(6, "0"))
    return _EPOCH + timedelta(seconds=int(g("ep")), microseconds=us)


def _compact_stamp(m: re.Match[str], ctx: ParseContext) -> datetime | None:
    g = m.group
    h, mi, sec = (g("cH"), g("cM"), g("cS")) if g("cH") else (g("cH2"), g("cM2"), g("cS2"))
    return _civil(int(g("cy")), int(g("cmo")), int(g("cd")), int(h), int(mi), int(sec),
                  _us(g("cf")), ctx, UTC if g("cz") else None)


def _clf_stamp(m: re.Match[str], ctx: ParseContext) -> datetime | None:
    g = m.group
    tz = _abbrev_tz(g("lz")) if g("lz") else None
    return _civil(int(g("ly")), _MONTHS[g("lm")], int(g("ld")), int(g("lH")), int(g("lM")),
                  int(g("lS")), 0, ctx, tz)


def _day_first_stamp(m: re.Match[str], ctx: ParseContext) -> datetime | None:
    g = m.group
    month_text = g("dm")
    month = _MONTHS.get(month_text) or int(month_text)
    return _civil(int(g("dy")), month, int(g("dd")), int(g("dH")), int(g("dM")),
                  int(g("dS") or 0), _us(g("df")), ctx)


def _us_stamp(m: re.Match[str], ctx: ParseContext) -> datetime | None:
    g = m.group
    month, day = int(g("um")), int(g("ud"))
    if month > 12 >= day:  # 25/12/2024: day first after all
        month, day = day, month
    return _civil(int(g("uy")), month, day, _hour(g("uH"), g("uap")), int(g("uM")),
                  int(g("uS") or 0), _us(g("uf")), ctx)


def _month_day_stamp(m: re.Match[str], ctx: ParseContext) -> datetime | None:
    g = m.group
    return _year_less(int(g("mm")), int(g("md")), int(g("mH")), int(g("mM")), int(g("mS")),
                      _us(g("mf")), ctx)


def _tai_stamp(m: re.Match[str], ctx: ParseContext) -> datetime | None:
    return _tai64n_time(m.group("tai"), m.group("tain"))


# (group that is set when the layout matched, its reader); a file uses one layout, so the one
# that read the last line is tried first
_READERS = (("iy", _iso_stamp), ("tH", _time_only_stamp), ("sm", _syslog_stamp),
            ("ep", _epoch_stamp), ("cy", _compact_stamp), ("ld", _clf_stamp),
            ("dd", _day_first_stamp), ("um", _us_stamp), ("mm", _month_day_stamp),
            ("tai", _tai_stamp))
_LAST_READER = [0]


def _stamp(m: re.Match[str], ctx: ParseContext) -> datetime | None:
    """The datetime a _TS_LINE match names (None for one that names no real time)."""
    key, read = _READERS[_LAST_READER[0]]
    if m.start(key) >= 0:
        return read(m, ctx)
    for i, (key, read) in enumerate(_READERS):
        if m.start(key) >= 0:
            _LAST_READER[0] = i  # a benign race between threads costs a lookup, no error
            return read(m, ctx)
    return None


def dated_fields(text: str, ctx: ParseContext) -> Fields | None:
    """Fields of a record whose first line starts with a timestamp in a usual layout (None when
    it does not): the time, a level word among the first fields, the message after them. A
    single field between the time and the level becomes ``source`` (a number: ``pid``), several
    go to ``extra["prefix"]``; ``|``-separated fields after the time are header fields up to
    the first one with a space; after them, a dotted logger name (and a ``[request context]``
    after it, to ``extra["context"]``) or a ``program - `` becomes ``source``; a short word
    before the time becomes ``source``."""
    first, rest = _split_first_line(text)
    m = _TS_LINE.match(first)
    if m is None:
        return None
    ts = _stamp(m, ctx)
    end = m.end()
    level, start, between = _head_level(first, end, min(len(first), end + 200))
    extra: dict[str, str] = {}
    source = ""
    pid = None
    if level is Level.UNKNOWN and first.startswith("|", start - 1):
        # 2017...|Step_LSC|30002312|onStandStepChanged 3579: header fields up to a spaced one
        fields = first[start:].split("|")
        head = 0
        while head < len(fields) - 1 and fields[head] and " " not in fields[head]:
            head += 1
        start += sum(len(f) + 1 for f in fields[:head])
        for f in fields[:head]:
            if f.isdigit() and pid is None:
                pid = int(f)
            elif not source:
                source = f
            else:
                extra["prefix"] = (extra.get("prefix", "") + " " + f).strip()
    if between:
        if between.isdigit():
            pid = int(between)
        elif " " not in between:
            source = between.strip("[]():")
        else:
            words = between.split(" ")
            if words[0].isdigit() and len(words) == 2:  # "25746 nova.api"
                pid, source = int(words[0]), words[1].strip("[]():")
            else:
                extra["prefix"] = between
    if not source:
        # "LEVEL dotted.logger.name [request context] message" (oslo.log, Python's logging),
        # "program - message": header fields too, not part of what the program said
        h = _LOGGER_AFTER.match(first, start) or _DASHED_SOURCE.match(first, start)
        if h:
            source = h.group("src").strip("[]()")
            if h.groupdict().get("ctx"):
                extra["context"] = h.group("ctx")
            start = h.end()
    pre = (m.group("pre") or "").strip()
    if pre:
        if not source and " " not in pre and _NAME.match(pre):
            source = pre.rstrip(":")
        else:
            extra["prefix_before"] = pre
    return Fields(timestamp=ts, level=level, source=source, pid=pid,
                  message=first[start:] + rest, extra=extra)


def unparsed(text: str, ctx: ParseContext) -> Fields:
    """What a format gives for a record it does not recognise: its time and level if it starts
    with a timestamp in a usual layout, else the text as the message."""
    return dated_fields(text, ctx) or Fields(message=text)
