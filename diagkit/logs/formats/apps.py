"""Application logging libraries: Python logging, Java (log4j / logback), ISO + level."""

from __future__ import annotations

import re
from datetime import datetime

from diagkit.logs.formats._base import (
    _D,
    _HMS,
    _ISO_DATE,
    _ISO_DATE_BRACKET,
    _LOWER,
    _MONTHS,
    _UPPER,
    RegexStart,
    StartSpec,
    _civil,
    _first_match,
    _int,
    _iso,
    _MultiLine,
    _nonempty,
    _split_first_line,
    _time_of_day,
    _us,
    _word,
    _year_less,
)
from diagkit.logs.formats._stamps import unparsed
from diagkit.logs.model import Fields, Level, LogFormat, ParseContext

# --------------------------------------------------------------------------- Python logging

_PY_TS = r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[,.]\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
# The level words of each layout, as written (case matters): the regexes below and the
# vectorised extractors (diagkit.logs.vectorized) are both built from these tables.
PY_LEVEL_WORDS = ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "FATAL", "NOTSET")
JAVA_LEVEL_WORDS = ("TRACE", "DEBUG", "INFO", "WARNING", "WARN", "ERROR", "FATAL", "SEVERE",
                    "CONFIG", "FINEST", "FINER", "FINE")
# iso-level: any of these, then optionally one digit 1-9 (lnav's debug2, PostgreSQL's DEBUG1)
ISO_LEVEL_WORDS = tuple(
    [w for base in ("trace", "debug", "info", "notice", "warn", "warning", "err", "error",
                    "crit", "critical", "fatal", "alert", "emerg", "severe", "panic", "emergency")
     for w in (base.upper(), base)]
    + ["Trace", "Debug", "Info", "Notice", "Warn", "Warning", "Error", "Critical", "Fatal",
       "Emergency", "Alert"])


def _alternatives(words: tuple[str, ...]) -> str:
    """A regex alternation of ``words``, longest first (so ``WARNING`` is tried before
    ``WARN``)."""
    return "|".join(sorted(words, key=lambda w: (-len(w), w)))


_PY_LVL = rf"({_alternatives(PY_LEVEL_WORDS)})"
_PY_NAME = r"([\w.\-<>]+)"
# each pattern yields (timestamp, name, level, message) in named groups
_PY_PATTERNS = (
    # "%(asctime)s - %(name)s - %(levelname)s - %(message)s" (the logging cookbook's)
    re.compile(rf"(?P<ts>{_PY_TS[1:-1]}) - (?P<name>[^\n]*?) - (?P<lvl>{_PY_LVL[1:-1]}) - "
               r"(?P<msg>.*)\Z", re.DOTALL),
    # basicConfig's default "%(levelname)s:%(name)s:%(message)s"
    re.compile(rf"(?P<lvl>{_PY_LVL[1:-1]}):(?P<name>[^:\n]*):(?P<msg>.*)\Z", re.DOTALL),
    # "%(asctime)s %(levelname)s %(name)s: %(message)s", "... [%(levelname)s] %(name)s: ..."
    re.compile(rf"(?P<ts>{_PY_TS[1:-1]}) +\[?(?P<lvl>{_PY_LVL[1:-1]})\]? +(?P<name>[\w.\-<>]+): "
               r"(?P<msg>.*)\Z", re.DOTALL),
    # "%(asctime)s:%(levelname)s:%(name)s:%(message)s"
    re.compile(rf"(?P<ts>{_PY_TS[1:-1]}):(?P<lvl>{_PY_LVL[1:-1]}):(?P<name>[^:\n]*):"
               r"(?P<msg>.*)\Z", re.DOTALL),
    # Flask/Django "[%(asctime)s] %(levelname)s in %(module)s: %(message)s"
    re.compile(rf"\[(?P<ts>{_PY_TS[1:-1]})\] (?P<lvl>{_PY_LVL[1:-1]}) in (?P<name>[\w.\-<>]+): "
               r"(?P<msg>.*)\Z", re.DOTALL),
)
_PY_CONTINUATION = re.compile(
    r"(?:\s|Traceback \(most recent call last\):|During handling of the above exception|"
    r"The above exception was the direct cause|[A-Za-z_][\w.]*(?:Error|Exception|Warning|Exit|"
    r"Interrupt|Iteration|Group)\b|\^+\s*$|\s*\.\.\.)")
_PY_EXC_LINE = re.compile(r"([A-Za-z_][\w.]*)(?::|\s*$)")


def _python_exception(rest: str) -> str:
    """The exception type a traceback ends with (the last unindented ``Type: msg`` line)."""
    if "Traceback (most recent call last):" not in rest:
        return ""
    for line in reversed(rest.split("\n")):
        if not line or line[0].isspace() or line.startswith(("Traceback", "During", "The above")):
            continue
        m = _PY_EXC_LINE.match(line)
        if m:
            return m.group(1)
    return ""


class PythonFormat(_MultiLine):
    """Python ``logging`` output: ``2024-01-02 03:04:05,123 - name - LEVEL - msg``,
    ``LEVEL:name:msg``, ``TS LEVEL name: msg``, ``TS [LEVEL] name: msg``, ``TS:LEVEL:name:msg``,
    Flask's ``[TS] LEVEL in module: msg``. Tracebacks are continuation lines of the record;
    extra ``exception`` names the exception type the traceback ends with."""

    name = "python"
    title = "Python logging"
    start_spec = StartSpec(_ISO_DATE, _ISO_DATE_BRACKET, *(
        _word(w + ":") for w in ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL",
                                 "FATAL", "NOTSET")))
    known_continuation = _PY_CONTINUATION
    patterns = _PY_PATTERNS

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        first, rest = _split_first_line(text)
        m = self._match(first)
        if m is None:
            return unparsed(text, ctx)
        groups = m.groupdict()
        ts = _iso(groups["ts"], ctx) if groups.get("ts") else None
        extra: dict[str, str] = {}
        if rest:
            exc = _python_exception(rest)
            if exc:
                extra["exception"] = exc
        return Fields(timestamp=ts, level=Level.parse(groups["lvl"]), source=groups["name"] or "",
                      message=groups["msg"] + rest, extra=extra)


# --------------------------------------------------------------------------- Java (log4j/logback)

_J_TS = (r"(?P<ts>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
         r"|(?P<time>\d\d:\d\d:\d\d(?:[.,]\d+)?)"
         # Hadoop's yyMMdd HHmmss, Spark's yy/MM/dd HH:mm:ss, java.util.logging / Tomcat's
         # dd-MMM-yyyy HH:mm:ss.SSS, log4j's DATE dd MMM yyyy HH:mm:ss,SSS
         r"|(?P<compact>\d{6} \d{6})|(?P<yy>\d\d/\d\d/\d\d \d\d:\d\d:\d\d(?:[.,]\d+)?)"
         r"|(?P<dmy>\d\d[- ][A-Z][a-z]{2}[- ]\d{4} \d\d:\d\d:\d\d(?:[.,]\d+)?)")
_J_LVL = rf"(?P<lvl>{_alternatives(JAVA_LEVEL_WORDS)})"
_J_LOGGER = r"(?P<logger>[\w.$\-]+(?::\d+)?)"
_JAVA_PATTERNS = (
    # logback/log4j: TS [thread] LEVEL logger - msg
    re.compile(rf"\[?(?:{_J_TS})\]? +\[(?P<thread>[^\]]*)\] +{_J_LVL} +{_J_LOGGER} *[-:] ?"
               r"(?P<msg>.*)\Z", re.DOTALL),
    # TS LEVEL [thread] logger - msg
    re.compile(rf"\[?(?:{_J_TS})\]? +{_J_LVL} +\[(?P<thread>[^\]]*)\] +{_J_LOGGER} *[-:] ?"
               r"(?P<msg>.*)\Z", re.DOTALL),
    # Spring Boot: TS  LEVEL pid --- [app] [thread] logger : msg
    re.compile(rf"(?:{_J_TS}) +{_J_LVL} +(?P<pid>\d+) --- (?:\[[^\]]*\] )?\[ *(?P<thread>[^\]]*)\] "
               rf"+{_J_LOGGER} *: ?(?P<msg>.*)\Z", re.DOTALL),
    # TS LEVEL logger - msg   /   TS LEVEL logger: msg  (Spark)
    re.compile(rf"\[?(?:{_J_TS})\]? +{_J_LVL} +{_J_LOGGER} *(?:-|:) ?(?P<msg>.*)\Z", re.DOTALL),
    # Hadoop / HDFS: TS thread-id LEVEL logger: msg
    re.compile(rf"(?:{_J_TS}) (?P<pid>\d+) {_J_LVL} {_J_LOGGER}: ?(?P<msg>.*)\Z", re.DOTALL),
    # ZooKeeper: TS [myid:N] - LEVEL  [thread:Class@line] - msg
    re.compile(rf"(?:{_J_TS})(?: \[myid:[^\]]*\])? - {_J_LVL} +\[(?P<thread>.*?)\] - "
               r"(?P<msg>.*)\Z", re.DOTALL),
    # Tomcat / java.util.logging OneLineFormatter: TS LEVEL [thread] class.method msg
    re.compile(rf"(?:{_J_TS}) {_J_LVL} \[(?P<thread>[^\]]*)\] {_J_LOGGER} (?P<msg>.*)\Z",
               re.DOTALL),
)
_JAVA_CONTINUATION = re.compile(
    r"(?:\s+at |\s*\.\.\. \d+ (?:more|common frames omitted)|\s*Caused by: |\s*Suppressed: |"
    r"[\w$.]+(?:Exception|Error|Throwable)\b)")
_JAVA_EXC = re.compile(r"([\w$]+(?:\.[\w$]+)*(?:Exception|Error|Throwable))\b")
_JAVA_CAUSE = re.compile(r"\s*Caused by: ([\w$.]+)")


def _java_time(g: dict[str, str | None], ctx: ParseContext) -> datetime | None:
    if g.get("ts"):
        return _iso(g["ts"] or "", ctx)
    text = g.get("compact") or g.get("yy") or g.get("dmy") or g.get("time") or ""
    try:
        if g.get("compact"):  # 081109 203615
            return _civil(2000 + int(text[0:2]), int(text[2:4]), int(text[4:6]), int(text[7:9]),
                          int(text[9:11]), int(text[11:13]), 0, ctx)
        if g.get("yy"):  # 17/06/09 20:10:40.123
            return _civil(2000 + int(text[0:2]), int(text[3:5]), int(text[6:8]),
                          int(text[9:11]), int(text[12:14]), int(text[15:17]),
                          _us(text[18:]), ctx)
        if g.get("dmy"):  # 05-Dec-2026 10:19:52.297 / 05 Dec 2026 10:19:52,297
            month = _MONTHS.get(text[3:6])
            if month is None:
                return None
            return _civil(int(text[7:11]), month, int(text[0:2]), int(text[12:14]),
                          int(text[15:17]), int(text[18:20]), _us(text[21:]), ctx)
        if text:  # a time of day only: the file's date
            return _time_of_day(int(text[0:2]), int(text[3:5]), int(text[6:8]), _us(text[9:]),
                                ctx)
    except ValueError:
        return None
    return None


class JavaFormat(_MultiLine):
    """log4j / logback / Spring Boot and their relatives: ``2024-01-02 03:04:05.123 [thread]
    LEVEL logger - msg``, ``2024-01-02T03:04:05,123 LEVEL [thread] logger - msg``, Spring Boot's
    ``TS LEVEL pid --- [thread] logger : msg``, Hadoop/HDFS ``081109 203615 148 INFO
    dfs.DataNode: msg``, Spark ``17/06/09 20:10:40 INFO executor.Executor: msg``, ZooKeeper
    ``TS - INFO  [thread:Class@774] - msg``, Tomcat / java.util.logging ``05-Dec-2026
    10:19:52.297 SEVERE [main] org.apache.Class.method msg`` and time-only ``HH:mm:ss.SSS
    [thread] LEVEL logger - msg`` (dated with the file's day; ``extra["time"]`` keeps the time as
    written). Stack traces (``\\tat``, ``Caused by:``, ``... N more``) and embedded newlines are
    continuation lines; extra: thread, exception, root_cause."""

    name = "java"
    title = "Java (log4j / logback)"
    start_spec = StartSpec(
        _ISO_DATE, _ISO_DATE_BRACKET, _HMS,
        (_D, _D, _D, _D, _D, _D, b" ", _D, _D, _D, _D, _D, _D, b" "),
        (_D, _D, b"/", _D, _D, b"/", _D, _D, b" ", _D, _D, b":"),
        (_D, _D, b"- ", _UPPER, _LOWER, _LOWER, b"- ", _D, _D, _D, _D, b" ", _D, _D, b":"))
    known_continuation = _JAVA_CONTINUATION
    patterns = _JAVA_PATTERNS

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        first, rest = _split_first_line(text)
        m = self._match(first)
        if m is None:
            return unparsed(text, ctx)
        g = m.groupdict()
        extra: dict[str, str] = {}
        ts = _java_time(g, ctx)
        if g.get("time"):
            extra["time"] = g["time"] or ""
        logger = g.get("logger") or ""
        thread = g.get("thread")
        if thread is not None:
            thread = thread.strip()
            if not logger and ":" in thread:  # ZooKeeper: "thread:Class@line"
                thread, _, logger = thread.rpartition(":")
            extra["thread"] = thread
        if rest:
            exc = _JAVA_EXC.search(g["msg"]) or _JAVA_EXC.search(rest)
            if exc and ("\tat " in rest or "    at " in rest):
                extra["exception"] = exc.group(1)
                causes = _JAVA_CAUSE.findall(rest)
                if causes:
                    extra["root_cause"] = causes[-1].rstrip(":")
        return Fields(timestamp=ts, level=Level.parse(g["lvl"]), source=logger,
                      pid=_int(g.get("pid")), message=g["msg"] + rest, extra=extra)


# --------------------------------------------------------------------------- ISO + level (generic)

_ISO_LEVEL = re.compile(
    r"\[?(\d{4}-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?: ?(?:Z|[+-]\d\d:?\d\d))?)\]?"
    r"(.{0,48}?)[\[<(|]?\b(" + _alternatives(ISO_LEVEL_WORDS) + r")[1-9]?\b[\]>)|:]?[ \t:|\-]*"
    r"(.*)\Z", re.DOTALL)


class IsoLevelFormat(_MultiLine):
    """Generic: an ISO-8601 timestamp at the line start, a level word within the next ~48
    characters. A single word between them becomes ``source`` (else ``extra["prefix"]``).
    Lines not starting with a date continue the record."""

    name = "iso-level"
    title = "Timestamp + level (generic)"
    start_spec = StartSpec(_ISO_DATE, _ISO_DATE_BRACKET)
    other_continuation_weight = 0.5

    def _parses(self, line: str) -> bool:
        return _ISO_LEVEL.match(line) is not None

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        first, rest = _split_first_line(text)
        m = _ISO_LEVEL.match(first)
        if m is None:
            return unparsed(text, ctx)
        ts_text, between, lvl, msg = m.groups()
        ts = _iso(ts_text.replace(" Z", "Z"), ctx)
        between = between.strip(" \t[]():|-,.")
        extra: dict[str, str] = {}
        source = ""
        if between:
            if " " not in between:
                source = between
            else:
                extra["prefix"] = between
        return Fields(timestamp=ts, level=Level.parse(lvl), source=source, message=msg + rest,
                      extra=extra)



# --------------------------------------------------------------------------- glog

_GLOG = re.compile(
    r"(?P<lvl>[IWEF])(?P<y>\d{4})?(?P<mo>\d\d)(?P<d>\d\d) (?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)"
    r"\.(?P<f>\d{6}) +(?P<thread>\d+) (?P<file>[^:\]\s]+):(?P<line>\d+)\] ?(?P<msg>.*)\Z",
    re.DOTALL)
_GLOG_HEADER = re.compile(
    r"Log file created at: (\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)(?P<rest>.*)\Z", re.DOTALL)
_GLOG_LEVELS = {"I": Level.INFO, "W": Level.WARNING, "E": Level.ERROR, "F": Level.CRITICAL}


class GlogFormat(_MultiLine):
    """Google's glog (C++, Go's klog and others): ``I0517 15:04:22.619632  1234
    file.cc:253] msg`` (glog < 0.7 writes no year: it is inferred like syslog's) and
    ``I20261205 10:19:47.269398 30593 main.cc:7] msg``. The file header (``Log file created at:
    ...``) is one record dated by it; lines without the prefix continue the message. Source:
    ``file:line``; extra: thread."""

    name = "glog"
    title = "glog (Google logging)"
    start_spec = StartSpec((b"IWEF", _D, _D, _D, _D, b" ", _D, _D, b":"),
                           (b"IWEF", _D, _D, _D, _D, _D, _D, _D, _D, b" ", _D, _D, b":"),
                           _word("Log file created at: "))

    def _parses(self, line: str) -> bool:
        return bool(_GLOG.match(line) or _GLOG_HEADER.match(line))

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        first, rest = _split_first_line(text)
        m = _GLOG.match(first)
        if m is None:
            h = _GLOG_HEADER.match(first)
            if h is None:
                return unparsed(text, ctx)
            y, mo, d, hh, mi, s = (int(x) for x in h.groups()[:6])
            return Fields(timestamp=_civil(y, mo, d, hh, mi, s, 0, ctx), message=first + rest)
        mo, d, hh, mi, s, us = (int(m.group(k)) for k in ("mo", "d", "h", "mi", "s", "f"))
        if m.group("y"):
            ts = _civil(int(m.group("y")), mo, d, hh, mi, s, us, ctx)
        else:
            ts = _year_less(mo, d, hh, mi, s, us, ctx)
        return Fields(timestamp=ts, level=_GLOG_LEVELS[m.group("lvl")],
                      source=f"{m.group('file')}:{m.group('line')}", message=m.group("msg") + rest,
                      extra={"thread": m.group("thread")})


# --------------------------------------------------------------------------- Android logcat

_LOGCAT_TIME = (r"(?:(?P<y>\d{4})-)?(?P<mo>\d\d)-(?P<d>\d\d) (?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)"
                r"\.(?P<f>\d{3,6})")
_LOGCAT_PATTERNS = (
    # threadtime (the default since Android 7), with -v uid: MM-DD TIME [uid] PID TID L Tag: msg
    re.compile(_LOGCAT_TIME + r" +(?:(?P<uid>[\w.]+) +)?(?P<pid>\d+) +(?P<tid>\d+) "
               r"(?P<lvl>[VDIWEFA]) (?P<tag>.*?) *: (?P<msg>.*)\Z", re.DOTALL),
    # time and brief: [MM-DD TIME ]L/Tag( PID): msg
    re.compile(r"(?:" + _LOGCAT_TIME + r" )?(?P<lvl>[VDIWEFA])/(?P<tag>[^(]*?) *"
               r"\( *(?P<pid>\d+)\): ?(?P<msg>.*)\Z", re.DOTALL),
)
_LOGCAT_SEPARATOR = re.compile(r"-{9} (?:beginning of|switch to) ")
_LOGCAT_LEVELS = {"V": Level.TRACE, "D": Level.DEBUG, "I": Level.INFO, "W": Level.WARNING,
                  "E": Level.ERROR, "F": Level.CRITICAL, "A": Level.CRITICAL}


class LogcatFormat(LogFormat):
    """Android ``adb logcat`` output in its usual layouts: ``threadtime`` (``03-17
    16:13:38.811  1702  2395 D WindowManager: msg``, also with ``-v year`` / ``-v uid``),
    ``time`` (``03-17 16:13:38.811 D/WindowManager( 1702): msg``) and ``brief``
    (``D/WindowManager( 1702): msg``: no time). The year, when not written, is inferred like
    syslog's. Source: the tag; extra: tid, uid. ``--------- beginning of main`` lines are kept
    as records of their own."""

    name = "logcat"
    title = "Android logcat"

    def __init__(self) -> None:
        self._hint = [0]

    def _match(self, text: str) -> re.Match[str] | None:
        return _first_match(_LOGCAT_PATTERNS, text, self._hint)[1]

    def sniff(self, lines: list[str]) -> float:
        sample = _nonempty(lines)
        if not sample:
            return 0.0
        hits = sum(1 for ln in sample if self._match(ln) or _LOGCAT_SEPARATOR.match(ln))
        return hits / len(sample)

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        m = self._match(text)
        if m is None:
            return Fields(message=text) if _LOGCAT_SEPARATOR.match(text) else unparsed(text, ctx)
        g = m.group
        ts = None
        if g("mo"):
            mo, d, hh, mi, s = int(g("mo")), int(g("d")), int(g("h")), int(g("mi")), int(g("s"))
            us = _us(g("f"))
            ts = (_civil(int(g("y")), mo, d, hh, mi, s, us, ctx) if g("y")
                  else _year_less(mo, d, hh, mi, s, us, ctx))
        extra: dict[str, str] = {}
        if m.re is _LOGCAT_PATTERNS[0]:
            extra["tid"] = g("tid")
            if g("uid"):
                extra["uid"] = g("uid")
        return Fields(timestamp=ts, level=_LOGCAT_LEVELS[g("lvl")], source=g("tag").strip(),
                      pid=int(g("pid")), message=g("msg"), extra=extra)


# --------------------------------------------------------------------------- vdsm

_VDSM = re.compile(
    r"(?P<thread>[^\s:]+(?::[^\s:]+)*?)::(?P<lvl>DEBUG|INFO|WARNING|ERROR|CRITICAL)::"
    r"(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})::(?P<module>[^:\n]*)::(?P<line>\d+)::"
    r"(?P<logger>[^:\n]*)::(?:\((?P<func>[^)\n]*)\) ?)?(?P<msg>.*)\Z", re.DOTALL)


class VdsmFormat(_MultiLine):
    """oVirt's vdsm log (before 4.18): ``Thread-15::DEBUG::2011-12-07 11:44:17,737::clientIF::54::
    vds::(wrapper) msg``; tracebacks continue the record. Source: the logger; extra: thread,
    module, line, function."""

    name = "vdsm"
    title = "vdsm (oVirt)"
    # the thread name comes first and has no fixed length
    start_spec = RegexStart(rb"[!-9;-~]{1,80}::(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)::[0-9]{4}-")
    known_continuation = _PY_CONTINUATION

    def _parses(self, line: str) -> bool:
        return _VDSM.match(line) is not None

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        first, rest = _split_first_line(text)
        m = _VDSM.match(first)
        if m is None:
            return unparsed(text, ctx)
        extra = {"thread": m.group("thread"), "module": m.group("module"),
                 "line": m.group("line")}
        if m.group("func"):
            extra["function"] = m.group("func")
        return Fields(timestamp=_iso(m.group("ts"), ctx), level=Level.parse(m.group("lvl")),
                      source=m.group("logger"), message=m.group("msg") + rest, extra=extra)
