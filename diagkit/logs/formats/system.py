"""Logs of system tools: dpkg and update-alternatives, apt's history and term logs, strace,
daemontools / runit ``tai64n`` stamps."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from diagkit.logs.formats._base import (
    _EPOCH,
    StartSpec,
    _civil,
    _fraction,
    _head_level,
    _int,
    _MultiLine,
    _split_first_line,
    _tai64n_time,
    _time_of_day,
    _us,
    _word,
)
from diagkit.logs.formats._stamps import unparsed
from diagkit.logs.model import Fields, Level, LogFormat, ParseContext

# --------------------------------------------------------------------------- dpkg

_DPKG_ACTIONS = ("startup", "status", "configure", "install", "upgrade", "remove", "purge",
                 "trigproc", "conffile", "unpack")
_DPKG = re.compile(
    r"(?:(?P<alt>update-alternatives) )?(?P<ts>(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d))"
    r"(?:: (?P<amsg>.*)| (?P<action>" + "|".join(_DPKG_ACTIONS) + r")\b ?(?P<msg>.*))\Z",
    re.DOTALL)


def _plain_time(m: re.Match[str], first_group: int, ctx: ParseContext) -> datetime | None:
    y, mo, d, h, mi, s = (int(m.group(first_group + i)) for i in range(6))
    return _civil(y, mo, d, h, mi, s, 0, ctx)


class DpkgFormat(LogFormat):
    """``/var/log/dpkg.log`` (``2024-01-02 03:04:05 status installed bash:amd64 5.2-2``) and
    ``/var/log/alternatives.log`` (``update-alternatives 2024-01-02 03:04:05: run with ...``).
    Source: ``dpkg`` or ``update-alternatives``; extra ``action`` (status, install, upgrade,
    configure, trigproc...) and ``package`` where the line names one. dpkg writes no levels."""

    name = "dpkg"
    title = "dpkg / update-alternatives log"

    def sniff(self, lines: list[str]) -> float:
        return _fraction(lines, _DPKG)

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        m = _DPKG.match(text)
        if m is None:
            return unparsed(text, ctx)
        ts = _plain_time(m, 3, ctx)
        source = "update-alternatives" if m.group("alt") else "dpkg"
        if m.group("amsg") is not None:  # "TS: msg" (the regex allows it with or without alt)
            return Fields(timestamp=ts, source=source, message=m.group("amsg"))
        action, msg = m.group("action"), m.group("msg")
        extra = {"action": action}
        words = msg.split(" ")
        if action == "status" and len(words) >= 2:
            extra["status"], extra["package"] = words[0], words[1]
        elif action in ("install", "upgrade", "remove", "purge", "configure", "trigproc") and words[0]:
            extra["package"] = words[0]
        return Fields(timestamp=ts, source=source, message=f"{action} {msg}".rstrip(),
                      extra=extra)


# --------------------------------------------------------------------------- apt

_APT_START = re.compile(
    r"(?P<kind>Start-Date|Log started): (\d{4})-(\d\d)-(\d\d)  ?(\d\d):(\d\d):(\d\d)(?P<rest>.*)\Z",
    re.DOTALL)
_APT_FIELD = re.compile(r"^(Commandline|Requested-By|Error|End-Date|Log ended): (.*)$", re.MULTILINE)


class AptFormat(_MultiLine):
    """apt's ``/var/log/apt/history.log`` (``Start-Date:`` ... ``End-Date:`` stanzas) and
    ``term.log`` (``Log started:`` ... ``Log ended:``): one record per run, dated by its start.
    Message: the run's lines (``Commandline: apt-get install ...`` first); extra:
    commandline, requested_by, error, end (the end date)."""

    name = "apt"
    title = "apt history / term log"
    start_spec = StartSpec(_word("Start-Date: "), _word("Log started: "))

    def _parses(self, line: str) -> bool:
        return _APT_START.match(line) is not None

    def sniff(self, lines: list[str]) -> float:
        # the stanzas' own lines (Commandline, Install...) count as the record's
        score = super().sniff(lines)
        return min(1.0, score * 1.6) if score else 0.0

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        first, rest = _split_first_line(text)
        m = _APT_START.match(first)
        if m is None:
            return unparsed(text, ctx)
        ts = _plain_time(m, 2, ctx)
        extra: dict[str, str] = {}
        for f in _APT_FIELD.finditer(rest):
            key = {"Log ended": "end", "End-Date": "end"}.get(f.group(1), f.group(1))
            extra.setdefault(key.lower().replace("-", "_"), f.group(2).strip())
        return Fields(timestamp=ts, source="apt", message=rest.strip("\n") or first,
                      extra=extra)


# --------------------------------------------------------------------------- strace

_STRACE = re.compile(
    r"(?:\[pid +(?P<pid1>\d+)\] |(?P<pid2>\d+) +)?"
    r"(?:(?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)(?:\.(?P<f>\d{1,9}))?|(?P<ep>\d{9,10})\.(?P<epf>\d{1,9}))"
    r" (?:\[pid +(?P<pid3>\d+)\] )?"
    r"(?P<msg>(?:<\.\.\. (?P<resumed>\w+) resumed>|(?P<call>\w+)\(|--- (?P<sig>SIG\w+)|\+\+\+ "
    r"(?P<end>exited|killed))(?P<rest>.*))\Z", re.DOTALL)
_STRACE_FAIL = re.compile(r"\) += -1 (E[A-Z0-9]+)")


class StraceFormat(LogFormat):
    """``strace -t/-tt/-ttt`` output (``-f``: with the pid first, or ``[pid N]``). Source: the
    system call; level: ERROR for a call that failed (``= -1 ENOENT``), CRITICAL for ``+++
    killed by``, WARNING for a signal, INFO otherwise; extra ``errno``. ``-t``/``-tt`` stamp
    times of day only: the date is the file's (the day before for times after its mtime)."""

    name = "strace"
    title = "strace output"

    def sniff(self, lines: list[str]) -> float:
        return _fraction(lines, _STRACE)

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        m = _STRACE.match(text)
        if m is None:
            return unparsed(text, ctx)
        if m.group("ep"):
            try:
                ts: datetime | None = _EPOCH + timedelta(seconds=int(m.group("ep")),
                                                         microseconds=_us(m.group("epf")))
            except OverflowError:
                ts = None
        else:
            ts = _time_of_day(int(m.group("h")), int(m.group("m")), int(m.group("s")),
                              _us(m.group("f")), ctx)
        extra: dict[str, str] = {}
        fail = _STRACE_FAIL.search(m.group("rest")) if (m.group("call") or
                                                        m.group("resumed")) else None
        if fail:
            level = Level.ERROR
            extra["errno"] = fail.group(1)
        elif m.group("end"):
            level = Level.CRITICAL if m.group("end") == "killed" else Level.INFO
        elif m.group("sig"):
            level = Level.WARNING
        else:
            level = Level.INFO
        source = m.group("call") or m.group("resumed") or m.group("sig") or ""
        pid = _int(m.group("pid1") or m.group("pid2") or m.group("pid3"))
        return Fields(timestamp=ts, level=level, source=source, pid=pid, message=m.group("msg"),
                      extra=extra)


# --------------------------------------------------------------------------- tai64n

_TAI64N = re.compile(r"@(4000000[0-9a-f]{9})([0-9a-f]{8}) (.*)\Z", re.DOTALL)
_TAI_SOURCE = re.compile(r"([A-Za-z][\w.\-/]{0,40}): ")
class Tai64nFormat(LogFormat):
    """Lines stamped by daemontools' ``multilog t`` / ``tai64n`` or runit's ``svlogd -t``:
    ``@400000006b13e59b0108b794 message``. Source: a leading ``program: `` (``tcpserver:``);
    level: a level word among the first fields of the message."""

    name = "tai64n"
    title = "TAI64N-stamped lines (daemontools, runit)"

    def sniff(self, lines: list[str]) -> float:
        return _fraction(lines, _TAI64N)

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        m = _TAI64N.match(text)
        if m is None:
            return unparsed(text, ctx)
        ts = _tai64n_time(m.group(1), m.group(2))
        body = m.group(3)
        level, start, _ = _head_level(body, 0, min(len(body), 200))
        source = ""
        if start == 0:
            s = _TAI_SOURCE.match(body)
            if s:
                source = s.group(1)
                level, start, _ = _head_level(body, s.end(), min(len(body), 200))
                start = start if level is not Level.UNKNOWN else s.end()
        return Fields(timestamp=ts, level=level, source=source, message=body[start:])

