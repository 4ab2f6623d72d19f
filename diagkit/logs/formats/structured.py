"""Structured logs: systemd journal JSON and JSON lines."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from diagkit.logs.formats._base import _EPOCH, _int, _iso, _nonempty
from diagkit.logs.formats._stamps import unparsed
from diagkit.logs.model import Fields, Level, LogFormat, ParseContext

# --------------------------------------------------------------------------- journald JSON

_JOURNAL_EXTRA = {
    "_SYSTEMD_UNIT": "unit", "_TRANSPORT": "transport", "_BOOT_ID": "boot_id",
    "SYSLOG_FACILITY": "facility", "_UID": "uid", "_EXE": "exe", "CODE_FILE": "code_file",
    "CODE_LINE": "code_line", "CODE_FUNC": "code_func", "UNIT": "about_unit",
}


def _journal_text(value: Any) -> str:
    """journald writes non-UTF-8 or binary fields as a list of byte values."""
    if value is None:
        return ""
    if isinstance(value, list):
        try:
            return bytes(int(b) & 0xFF for b in value).decode("utf-8", "replace")
        except (TypeError, ValueError, OverflowError):  # a float such as 1e999 (inf)
            return json.dumps(value)
    return str(value)


class JournaldJsonFormat(LogFormat):
    """``journalctl -o json``: one JSON object per line; ``__REALTIME_TIMESTAMP`` (µs, UTC),
    ``PRIORITY``, ``_HOSTNAME``, ``SYSLOG_IDENTIFIER``/``_COMM``, ``_PID``, ``MESSAGE``."""

    name = "journald-json"
    title = "systemd journal (journalctl -o json)"

    def sniff(self, lines: list[str]) -> float:
        sample = _nonempty(lines)
        if not sample:
            return 0.0
        hits = 0
        for ln in sample:
            if ln.lstrip().startswith("{") and "__REALTIME_TIMESTAMP" in ln:
                try:
                    obj = json.loads(ln)
                except ValueError:
                    continue
                if isinstance(obj, dict) and "__REALTIME_TIMESTAMP" in obj:
                    hits += 1
        return hits / len(sample)

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            return unparsed(text, ctx)
        if not isinstance(obj, dict):
            return unparsed(text, ctx)
        ts = None
        raw_ts = obj.get("__REALTIME_TIMESTAMP")
        if raw_ts is not None:
            try:
                ts = _EPOCH + timedelta(microseconds=int(raw_ts))
            except (ValueError, TypeError, OverflowError):
                ts = None
        prio = obj.get("PRIORITY")
        level = Level.parse(str(prio)) if prio is not None else Level.UNKNOWN
        source = _journal_text(obj.get("SYSLOG_IDENTIFIER") or obj.get("_COMM") or "")
        pid = _int(_journal_text(obj.get("_PID") or obj.get("SYSLOG_PID")) or None)
        extra = {short: _journal_text(obj[key]) for key, short in _JOURNAL_EXTRA.items()
                 if key in obj}
        return Fields(timestamp=ts, level=level, host=_journal_text(obj.get("_HOSTNAME")),
                      source=source, pid=pid, message=_journal_text(obj.get("MESSAGE")),
                      extra=extra)


# --------------------------------------------------------------------------- JSON lines

_J_TIME = ("timestamp", "time", "ts", "@timestamp", "asctime", "datetime", "date", "t")
_J_LEVEL = ("level", "severity", "lvl", "levelname", "log.level", "loglevel", "levelno",
            "error_severity")  # PostgreSQL's jsonlog
_J_MSG = ("msg", "message", "event", "@message", "log")
_J_SOURCE = ("logger", "name", "source", "logger_name", "component", "module")
_J_HOST = ("host", "hostname", "host.name")
_J_PID = ("pid", "process.pid", "process")
# bunyan / pino numeric levels
_BUNYAN = {10: Level.TRACE, 20: Level.DEBUG, 30: Level.INFO, 40: Level.WARNING, 50: Level.ERROR,
           60: Level.CRITICAL}


def _json_time(value: Any, ctx: ParseContext) -> datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        v = float(value)
        if v > 1e17:  # ns
            v /= 1e9
        elif v > 1e14:  # µs
            v /= 1e6
        elif v > 1e11:  # ms
            v /= 1e3
        try:
            return _EPOCH + timedelta(seconds=v)
        except (OverflowError, ValueError):
            return None
    if isinstance(value, str):
        return _iso(value.strip(), ctx)
    return None


def _json_level(key: str, value: Any) -> Level:
    if isinstance(value, bool):
        return Level.UNKNOWN
    if isinstance(value, int):
        if key == "levelno":  # Python logging numbers match our enum values
            return Level(value) if value in Level._value2member_map_ else Level.UNKNOWN
        if 0 <= value <= 7:
            return Level.parse(value)
        return _BUNYAN.get(value, Level.UNKNOWN)
    if isinstance(value, str):
        return Level.parse(value)
    return Level.UNKNOWN


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class JsonLinesFormat(LogFormat):
    """JSON lines with the usual keys (``time``/``ts``/``@timestamp``, ``level``/``severity``,
    ``msg``/``message``, ``logger``/``name``, ``host``, ``pid``). Other keys go to ``extra``
    (values that are not strings as compact JSON). A line that is not an object is a plain
    message."""

    name = "jsonl"
    title = "JSON lines"

    def sniff(self, lines: list[str]) -> float:
        sample = _nonempty(lines)
        if not sample:
            return 0.0
        score = 0.0
        for ln in sample:
            if not ln.lstrip().startswith(("{", "[")):
                continue
            try:
                obj = json.loads(ln)
            except (ValueError, RecursionError):
                continue
            score += 1.0 if isinstance(obj, dict) else 0.5
        return score / len(sample)

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            return unparsed(text, ctx)
        if not isinstance(obj, dict):
            return unparsed(text, ctx)
        used: set[str] = set()

        def take(keys: tuple[str, ...]) -> tuple[str, Any]:
            for k in keys:
                if k in obj and obj[k] is not None and obj[k] != "":
                    used.add(k)
                    return k, obj[k]
            return "", None

        _, tv = take(_J_TIME)
        lk, lv = take(_J_LEVEL)
        _, mv = take(_J_MSG)
        _, sv = take(_J_SOURCE)
        _, hv = take(_J_HOST)
        pk, pv = take(_J_PID)
        pid = None
        if isinstance(pv, dict):
            pv = pv.get("pid")
        if isinstance(pv, int) and not isinstance(pv, bool):
            pid = pv
        elif isinstance(pv, str):
            pid = _int(pv)
        if pid is None and pk:
            used.discard(pk)
        extra = {k: _scalar(v) for k, v in obj.items() if k not in used}
        return Fields(
            timestamp=_json_time(tv, ctx),
            level=_json_level(lk, lv),
            host=_scalar(hv) if hv is not None else "",
            source=_scalar(sv) if sv is not None else "",
            pid=pid,
            message=_scalar(mv) if mv is not None else text,
            extra=extra,
        )



# --------------------------------------------------------------------------- logfmt

_LOGFMT_PAIR = re.compile(r'([\w.\-/@]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)(?=\s|\Z)')
_LOGFMT_LINE = re.compile(r'(?:[\w.\-/@]+=(?:"(?:[^"\\]|\\.)*"|[^\s"]*)(?:[ \t]+|\Z)){3,}\Z')
_LF_TIME = ("time", "ts", "t", "timestamp", "@timestamp", "date", "datetime")
_LF_LEVEL = ("level", "lvl", "severity", "loglevel", "log.level")
_LF_MSG = ("msg", "message", "@message")
_LF_SOURCE = ("logger", "component", "module", "source", "caller", "app", "service")
_LF_HOST = ("host", "hostname")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return _LF_ESCAPE.sub(lambda m: _LF_UNESCAPED.get(m.group(1), m.group(1)), value[1:-1])
    return value


_LF_ESCAPE = re.compile(r"\\(.)")
_LF_UNESCAPED = {"n": "\n", "t": "\t", "r": "\r"}


class LogfmtFormat(LogFormat):
    """logfmt (Go's logrus, Heroku, Grafana Loki and Prometheus tools): ``time="2021-09-15T21:17:
    10.220731Z" level=error msg="..." key=value``. Time from ``time``/``ts``/``t``, level from
    ``level``/``lvl``, message from ``msg``, source from ``logger``/``component``/``caller``;
    the other pairs go to ``extra``."""

    name = "logfmt"
    title = "logfmt (key=value)"

    def sniff(self, lines: list[str]) -> float:
        sample = _nonempty(lines)
        if not sample:
            return 0.0
        hits = 0
        for ln in sample:
            if _LOGFMT_LINE.match(ln):
                keys = {m.group(1) for m in _LOGFMT_PAIR.finditer(ln)}
                if keys & set(_LF_TIME + _LF_LEVEL + _LF_MSG):
                    hits += 1
        return hits / len(sample)

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        pairs = {m.group(1): m.group(2) for m in _LOGFMT_PAIR.finditer(text)}
        if not pairs:
            return unparsed(text, ctx)
        used: set[str] = set()

        def take(keys: tuple[str, ...]) -> str:
            for k in keys:
                if pairs.get(k):
                    used.add(k)
                    return _unquote(pairs[k])
            return ""

        tv, lv, mv, sv, hv = (take(k) for k in (_LF_TIME, _LF_LEVEL, _LF_MSG, _LF_SOURCE,
                                                  _LF_HOST))
        ts = None
        if tv:
            ts = _json_time(float(tv), ctx) if tv.replace(".", "", 1).isdigit() else _iso(tv, ctx)
        extra = {k: _unquote(v) for k, v in pairs.items() if k not in used}
        return Fields(timestamp=ts, level=Level.parse(lv) if lv else Level.UNKNOWN, host=hv,
                      source=sv, message=mv or text, extra=extra)
