"""Web servers: access logs (combined / common), Apache and nginx error logs."""

from __future__ import annotations

import re
from datetime import datetime

from diagkit.logs.formats._base import (
    _MONTHS,
    _fraction,
    _int,
    _localize,
    _nonempty,
    _offset_tz,
)
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
            return Fields(message=text)
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
    r"(?:\[client ((?:\[[^\]]*\]|[^\]\s])+)\] )?(?:(AH\d+): )?(.*)\Z", re.DOTALL)
_NGINX_ERR = re.compile(
    r"(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[(\w+)\] (\d+)#(\d+): (?:\*(\d+) )?(.*)\Z", re.DOTALL)
_NGINX_CTX = re.compile(r", (client|server|request|upstream|host|referrer): \"?([^\",]*)\"?")


class ApacheErrorFormat(LogFormat):
    """Apache 2.2/2.4 error log ``[Wed Oct 11 14:32:52.123456 2023] [core:error] [pid 1:tid 2]
    [client 1.2.3.4:5678] AH00124: msg`` and nginx ``2023/10/11 14:32:52 [error] 1234#5678: *5
    msg, client: ..., server: ...``. Source: the Apache module (or ``nginx``); extra: tid,
    client, code (AH number), connection, nginx context (client, server, request, upstream...)."""

    name = "apache-error"
    title = "Apache / nginx error log"

    def sniff(self, lines: list[str]) -> float:
        sample = _nonempty(lines)
        if not sample:
            return 0.0
        return sum(1 for ln in sample if _APACHE_ERR.match(ln) or _NGINX_ERR.match(ln)) / len(
            sample)

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        if text.startswith("["):
            m = _APACHE_ERR.match(text)
            if not m:
                return Fields(message=text)
            ts_text, module, lvl, pid, tid, client, code, msg = m.groups()
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
            return Fields(timestamp=ts, level=Level.parse(lvl), host="", source=module or "",
                          pid=_int(pid), message=msg, extra=extra)
        m = _NGINX_ERR.match(text)
        if not m:
            return Fields(message=text)
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

