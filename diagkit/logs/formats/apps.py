"""Application logging libraries: Python logging, Java (log4j / logback), ISO + level."""

from __future__ import annotations

import re

from diagkit.logs.formats._base import (
    _HMS,
    _ISO_DATE,
    _ISO_DATE_BRACKET,
    StartSpec,
    _int,
    _iso,
    _MultiLine,
    _split_first_line,
    _word,
)
from diagkit.logs.model import Fields, Level, ParseContext

# --------------------------------------------------------------------------- Python logging

_PY_TS = r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[,.]\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
_PY_LVL = r"(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL|NOTSET)"
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
            return Fields(message=text)
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
         r"|(?P<time>\d\d:\d\d:\d\d(?:[.,]\d+)?)")
_J_LVL = r"(?P<lvl>TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|SEVERE)"
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
    # TS LEVEL logger - msg   /   TS LEVEL logger: msg
    re.compile(rf"\[?(?:{_J_TS})\]? +{_J_LVL} +{_J_LOGGER} *(?:-|:) ?(?P<msg>.*)\Z", re.DOTALL),
)
_JAVA_CONTINUATION = re.compile(
    r"(?:\s+at |\s*\.\.\. \d+ (?:more|common frames omitted)|\s*Caused by: |\s*Suppressed: |"
    r"[\w$.]+(?:Exception|Error|Throwable)\b)")
_JAVA_EXC = re.compile(r"([\w$]+(?:\.[\w$]+)*(?:Exception|Error|Throwable))\b")
_JAVA_CAUSE = re.compile(r"\s*Caused by: ([\w$.]+)")


class JavaFormat(_MultiLine):
    """log4j / logback / Spring Boot: ``2024-01-02 03:04:05.123 [thread] LEVEL logger - msg``,
    ``2024-01-02T03:04:05,123 LEVEL [thread] logger - msg``, ``HH:mm:ss.SSS [thread] LEVEL
    logger - msg`` (no date: timestamp None, ``extra["time"]``), Spring Boot's ``TS LEVEL pid ---
    [thread] logger : msg``. Stack traces (``\\tat``, ``Caused by:``, ``... N more``) and
    embedded newlines are continuation lines; extra: thread, exception, root_cause."""

    name = "java"
    title = "Java (log4j / logback)"
    start_spec = StartSpec(_ISO_DATE, _ISO_DATE_BRACKET, _HMS)
    known_continuation = _JAVA_CONTINUATION
    patterns = _JAVA_PATTERNS

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        first, rest = _split_first_line(text)
        m = self._match(first)
        if m is None:
            return Fields(message=text)
        g = m.groupdict()
        extra: dict[str, str] = {}
        ts = None
        if g.get("ts"):
            ts = _iso(g["ts"], ctx)
        elif g.get("time"):
            extra["time"] = g["time"]
        if g.get("thread") is not None:
            extra["thread"] = g["thread"].strip()
        if rest:
            exc = _JAVA_EXC.search(g["msg"]) or _JAVA_EXC.search(rest)
            if exc and ("\tat " in rest or "    at " in rest):
                extra["exception"] = exc.group(1)
                causes = _JAVA_CAUSE.findall(rest)
                if causes:
                    extra["root_cause"] = causes[-1].rstrip(":")
        return Fields(timestamp=ts, level=Level.parse(g["lvl"]), source=g["logger"],
                      pid=_int(g.get("pid")), message=g["msg"] + rest, extra=extra)


# --------------------------------------------------------------------------- ISO + level (generic)

_ISO_LEVEL = re.compile(
    r"\[?(\d{4}-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?: ?(?:Z|[+-]\d\d:?\d\d))?)\]?"
    r"(.{0,48}?)[\[<(|]?\b(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERR|ERROR|CRIT|CRITICAL|FATAL|"
    r"ALERT|EMERG|SEVERE|PANIC|trace|debug|info|notice|warn|warning|err|error|crit|critical|"
    r"fatal|alert|emerg|severe|panic|Trace|Debug|Info|Notice|Warn|Warning|Error|Critical|Fatal)"
    r"\b[\]>)|:]?[ \t:|\-]*(.*)\Z", re.DOTALL)


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
            return Fields(message=text)
        ts_text, between, lvl, msg = m.groups()
        ts = _iso(ts_text.replace(" Z", "Z"), ctx)
        between = between.strip(" \t[]():|-,")
        extra: dict[str, str] = {}
        source = ""
        if between:
            if " " not in between:
                source = between
            else:
                extra["prefix"] = between
        return Fields(timestamp=ts, level=Level.parse(lvl), source=source, message=msg + rest,
                      extra=extra)

