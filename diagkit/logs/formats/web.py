"""Web servers: access logs (combined / common), Apache and nginx error logs."""

from __future__ import annotations

import re
from datetime import datetime

from diagkit.logs.formats._base import (
    _D,
    _ISO_DATE,
    _LOWER,
    _MONTHS,
    _UPPER,
    StartSpec,
    _fraction,
    _head_level,
    _int,
    _localize,
    _MultiLine,
    _offset_tz,
    _split_first_line,
    _word,
)
from diagkit.logs.formats._stamps import unparsed
from diagkit.logs.model import Fields, Level, LogFormat, ParseContext

# --------------------------------------------------------------------------- access logs

_ACCESS = re.compile(
    r"(?:(\S+:\d+) )?(\S+) (\S+) (\S+) \[(\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d(?: [+-]\d{4})?)\] "
    r"\"((?:[^\"\\]|\\.)*)\" (\d{3}|-) (\d+|-)"
    r"(?: \"((?:[^\"\\]|\\.)*)\" \"((?:[^\"\\]|\\.)*)\")?(.*)\Z", re.DOTALL)


def _clf_time(text: str, ctx: ParseContext) -> datetime | None:
    """``10/Oct/2000:13:55:36 -0700``."""
    try:
        month = _MONTHS[text[3:6]]
        dt = datetime(int(text[7:11]), month, int(text[0:2]), int(text[12:14]), int(text[15:17]),
                      int(text[18:20]))
    except (KeyError, ValueError):
        return None
    if len(text) > 21:
        tz = _offset_tz(text[21:])
        return dt.replace(tzinfo=tz) if tz is not None else dt
    return _localize(dt, ctx)


def _unescape_clf(text: str) -> str:
    return text.replace('\\"', '"').replace("\\\\", "\\") if "\\" in text else text


class AccessLogFormat(LogFormat):
    """Apache/nginx access logs, combined and common log format (optionally with a leading
    ``vhost:port``). Level from the status: 5xx ERROR, 4xx WARNING, else INFO. Message:
    ``"METHOD path PROTO" status``. Extra: method, path, protocol, status, bytes, client, ident,
    user, referrer, agent, vhost, rest (whatever follows the standard fields)."""

    name = "access"
    title = "Web server access log (combined / common)"

    def sniff(self, lines: list[str]) -> float:
        return _fraction(lines, _ACCESS)

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        m = _ACCESS.match(text)
        if not m:
            return unparsed(text, ctx)
        vhost, client, ident, user, ts, request, status, size, referrer, agent, rest = m.groups()
        request = _unescape_clf(request)
        parts = request.split(" ")
        extra: dict[str, str] = {"client": client, "status": status, "bytes": size,
                                 "request": request}
        if len(parts) == 3:
            extra["method"], extra["path"], extra["protocol"] = parts
        elif len(parts) == 2:
            extra["method"], extra["path"] = parts
        if ident != "-":
            extra["ident"] = ident
        if user != "-":
            extra["user"] = user
        if referrer is not None:
            extra["referrer"] = _unescape_clf(referrer)
            extra["agent"] = _unescape_clf(agent)
        if vhost:
            extra["vhost"] = vhost
        rest = rest.strip()
        if rest:
            extra["rest"] = rest
        if status.startswith("5"):
            level = Level.ERROR
        elif status.startswith("4"):
            level = Level.WARNING
        else:
            level = Level.INFO
        return Fields(timestamp=_clf_time(ts, ctx), level=level, host=vhost or "", source="",
                      pid=None, message=f"{request} {status}", extra=extra)


# --------------------------------------------------------------------------- Apache/nginx error

_APACHE_ERR = re.compile(
    r"\[([A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)? \d{4})\] "
    r"\[(?:([\w-]+):)?(\w+)\] (?:\[pid (\d+)(?::tid (\d+))?\] )?"
    # ErrorLogFormat's %F (source file, at debug), %E (APR status), [client %a], AH code
    r"(?:([\w.\-]+\(\d+\)): )?(?:\((-?\d+)\)([^:\[\n]*): )?"
    r"(?:\[(?:client|remote) ((?:\[[^\]]*\]|[^\]\s])+)\] )?(?:(AH\d+): )?(.*)\Z", re.DOTALL)
_NGINX_ERR = re.compile(
    r"(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[(\w+)\] (\d+)#(\d+): (?:\*(\d+) )?(.*)\Z", re.DOTALL)
_NGINX_CTX = re.compile(r", (client|server|request|upstream|host|referrer): \"?([^\",]*)\"?")


class ApacheErrorFormat(_MultiLine):
    """Apache 2.2/2.4 error log ``[Wed Oct 11 14:32:52.123456 2023] [core:error] [pid 1:tid 2]
    [client 1.2.3.4:5678] AH00124: msg`` (with the source file at debug level, ``(111)Connection
    refused:`` statuses) and nginx ``2023/10/11 14:32:52 [error] 1234#5678: *5 msg, client:
    ..., server: ...``. Lines without the header (a CGI script's stderr, a PHP trace) continue
    the record before. Source: the Apache module (or ``nginx``); extra: tid, client, code (AH
    number), src, errno and error, connection, nginx context (client, server, request...)."""

    name = "apache-error"
    title = "Apache / nginx error log"
    start_spec = StartSpec((b"[", _UPPER, _LOWER, _LOWER, b" "),
                           (_D, _D, _D, _D, b"/", _D, _D, b"/", _D, _D, b" "))

    def _parses(self, line: str) -> bool:
        return (_APACHE_ERR if line.startswith("[") else _NGINX_ERR).match(line) is not None

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        if text.startswith("["):
            m = _APACHE_ERR.match(text)
            if not m:
                return unparsed(text, ctx)
            ts_text, module, lvl, pid, tid, srcfile, errno, errstr, client, code, msg = m.groups()
            ts = None
            try:
                _, mon, day, hms, year = ts_text.split()
                frac = hms[8:]
                us = int((frac[1:] + "000000")[:6]) if frac else 0
                ts = _localize(datetime(int(year), _MONTHS[mon], int(day), int(hms[0:2]),
                                        int(hms[3:5]), int(hms[6:8]), us), ctx)
            except (KeyError, ValueError):
                ts = None
            extra: dict[str, str] = {}
            if tid:
                extra["tid"] = tid
            if client:
                extra["client"] = client
            if code:
                extra["code"] = code
            if srcfile:
                extra["src"] = srcfile
            if errno:
                extra["errno"] = errno
                extra["error"] = errstr.strip()
            return Fields(timestamp=ts, level=Level.parse(lvl), host="", source=module or "",
                          pid=_int(pid), message=msg, extra=extra)
        m = _NGINX_ERR.match(text)
        if not m:
            return unparsed(text, ctx)
        ts_text, lvl, pid, tid, conn, msg = m.groups()
        try:
            ts = _localize(datetime(int(ts_text[0:4]), int(ts_text[5:7]), int(ts_text[8:10]),
                                    int(ts_text[11:13]), int(ts_text[14:16]),
                                    int(ts_text[17:19])), ctx)
        except ValueError:
            ts = None
        extra = {"tid": tid}
        if conn:
            extra["connection"] = conn
        if ", client: " in msg:
            for cm in _NGINX_CTX.finditer(msg):
                extra.setdefault(cm.group(1), cm.group(2))
        return Fields(timestamp=ts, level=Level.parse(lvl), host="", source="nginx",
                      pid=_int(pid), message=msg, extra=extra)



# --------------------------------------------------------------------------- uWSGI

_CTIME = r"[A-Z][a-z]{2} ([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4})"
_UWSGI_REQ = re.compile(
    r"\[pid: (?P<pid>\d+)\|app: (?P<app>-?\d+)\|req: (?P<req>\d+/\d+)\] (?P<client>\S*) "
    r"\((?P<user>[^)]*)\) \{\d+ vars in \d+ bytes\} \[" + _CTIME + r"\] (?P<method>\S+) "
    r"(?P<path>\S*) => generated (?P<bytes>\d+) bytes in (?P<took>\d+) (?P<unit>msecs|micros) "
    r"\((?P<proto>\S+) (?P<status>\d{3})\)(?P<rest>.*)\Z", re.DOTALL)
_UWSGI_DATED = re.compile(
    r"(?:" + _CTIME + r"|(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)) - (?P<msg>.*)\Z", re.DOTALL)
_UWSGI_BANNER = re.compile(r"\*\*\* Starting uWSGI (?P<version>\S+) .*? on \[" + _CTIME
                           + r"\] \*\*\*(?P<rest>.*)\Z", re.DOTALL)
_WEEKDAY = b"FMSTW"


def _ctime(g: tuple[str | None, ...], ctx: ParseContext) -> datetime | None:
    mon, day, h, m, s, year = g
    month = _MONTHS.get(mon or "")
    if month is None:
        return None
    try:
        return _localize(datetime(int(year or 0), month, int(day or 0), int(h or 0), int(m or 0),
                                  int(s or 0)), ctx)
    except ValueError:
        return None


def _status_level(status: str) -> Level:
    return Level.ERROR if status[:1] == "5" else Level.WARNING if status[:1] == "4" else Level.INFO


class UwsgiFormat(_MultiLine):
    """uWSGI's log: request lines ``[pid: 1|app: 0|req: 1/1] 127.0.0.1 () {38 vars in 696
    bytes} [Sun Mar 13 22:49:12 2016] POST /x => generated 47 bytes in 129 msecs (HTTP/1.1
    200) ...``, the startup banner (``*** Starting uWSGI ... on [date] ***``) and, with
    ``--log-date``, ``Sun Mar 13 22:49:12 2016 - message`` lines. Undated lines (the rest of the
    banner, an application's traceback on stderr) continue the record before. Requests: level
    from the status, message ``METHOD path status``, extra client, status, bytes, duration_ms."""

    name = "uwsgi"
    title = "uWSGI log"
    other_continuation_weight = 0.75  # the startup banner: 30 undated lines before any request
    start_spec = StartSpec(_word("[pid: "), _word("*** Starting uWSGI"),
                           (_WEEKDAY, _LOWER, _LOWER, b" ", _UPPER, _LOWER, _LOWER, b" "),
                           _ISO_DATE + (b" ",))

    def _parses(self, line: str) -> bool:
        return bool(_UWSGI_REQ.match(line) or _UWSGI_DATED.match(line)
                    or _UWSGI_BANNER.match(line))

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        first, rest = _split_first_line(text)
        m = _UWSGI_REQ.match(first)
        if m:
            took = int(m.group("took"))
            duration = took if m.group("unit") == "msecs" else took / 1000
            status = m.group("status")
            extra = {"client": m.group("client"), "status": status, "bytes": m.group("bytes"),
                     "duration_ms": f"{duration:g}", "request": m.group("req"),
                     "method": m.group("method"), "path": m.group("path")}
            return Fields(timestamp=_ctime(m.groups()[5:11], ctx), level=_status_level(status),
                          source="uwsgi", pid=int(m.group("pid")),
                          message=f"{m.group('method')} {m.group('path')} {status}" + rest,
                          extra=extra)
        m = _UWSGI_BANNER.match(first)
        if m:
            return Fields(timestamp=_ctime(m.groups()[1:7], ctx), source="uwsgi",
                          message=first + rest, extra={"version": m.group("version")})
        m = _UWSGI_DATED.match(first)
        if m is None:
            return unparsed(text, ctx)
        g = m.groups()
        if g[0] is not None:
            ts = _ctime(g[0:6], ctx)
        else:
            try:
                year, month, day, hour, minute, second = (int(x or 0) for x in g[6:12])
                ts = _localize(datetime(year, month, day, hour, minute, second), ctx)
            except ValueError:
                ts = None
        msg = m.group("msg")
        level, start, _ = _head_level(msg, 0, min(len(msg), 200))
        if level is Level.UNKNOWN:
            start = 0
        return Fields(timestamp=ts, level=level, source="uwsgi", message=msg[start:] + rest)
