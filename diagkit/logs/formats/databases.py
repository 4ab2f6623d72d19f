"""Databases: PostgreSQL (stderr with a ``log_line_prefix``, csvlog), MySQL / MariaDB (error
log, general query log), Redis."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import numpy as np

from diagkit.logs.formats._base import (
    _D,
    _ISO_DATE,
    _MONTHS,
    StartSpec,
    _abbrev_tz,
    _civil,
    _fraction,
    _int,
    _iso,
    _line_end,
    _MultiLine,
    _nonempty,
    _split_first_line,
    _year_less,
)
from diagkit.logs.formats._stamps import unparsed
from diagkit.logs.model import Fields, Level, LogFormat, ParseContext

# --------------------------------------------------------------------------- PostgreSQL stderr

# A server message is one line "<prefix>SEVERITY:  text" (two spaces), followed by lines of the
# same message: DETAIL, HINT, QUERY, CONTEXT, STATEMENT and LOCATION, each with the prefix
# again, and raw lines of a multi-line value (tab-indented by the server). PostgreSQL writes
# them in one write() and csvlog/jsonlog keep them in one row, so they are one record here:
# ``--level error`` shows the statement that failed with its error.
_PG_MAIN = ("DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5", "DEBUG", "LOG", "INFO", "NOTICE",
            "WARNING", "ERROR", "FATAL", "PANIC")
_PG_PARTS = ("DETAIL", "HINT", "QUERY", "CONTEXT", "STATEMENT", "LOCATION")
_PG_LEVELS = {"LOG": Level.INFO, "FATAL": Level.CRITICAL, "PANIC": Level.CRITICAL}
# every severity of a message line and its level (also the vectorised extractor's table)
PG_LEVELS: dict[str, Level] = {w: _PG_LEVELS.get(w) or Level.parse(w) for w in _PG_MAIN}
_PG_TS = (r"(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?)"
          r"(?: (?P<tz>[A-Za-z]{1,6}|[+-]\d\d(?::?\d\d)?))?")
_PG_LINE = re.compile(
    _PG_TS + r"(?P<prefix>(?:[^\n]*?[ :\]])?)(?P<lvl>" + "|".join(_PG_MAIN) + r"):  "
    r"(?:(?P<state>[0-9A-Z]{5}): )?(?P<msg>.*)\Z", re.DOTALL)
_PG_PART = re.compile(
    _PG_TS + r"[^\n]*?[ :\]](?P<part>" + "|".join(_PG_PARTS) + r"):  (?P<text>[^\n]*)")
_PG_PREFIX_FIELDS = re.compile(
    r"\[(?P<pid>\d+)(?:-\d+)?\]|(?P<user>[\w\[\]-]*)@(?P<db>[\w\[\]-]*)|"
    r"(?P<key>user|db|app|client|host)=(?P<value>[^,\s]*)")


def _pg_time(m: re.Match[str], ctx: ParseContext) -> datetime | None:
    ts = _iso(m.group("ts"), ctx)
    tz = m.group("tz")
    if ts is not None and tz and ts.tzinfo is None:
        zone = _abbrev_tz(tz)
        if zone is not None:
            ts = ts.replace(tzinfo=zone)
    return ts


def _is_part_line(data: bytes) -> bool:
    """Whether the first ``SEVERITY:  `` of a line is one of the follow-up parts (DETAIL...)."""
    i = data.find(b":  ")
    if i < 0:
        return False
    for word in _PG_PART_BYTES:
        j = i - len(word)
        if j >= 0 and data[j:i] == word and (j == 0 or data[j - 1] in b" :]"):
            return True
    return False


_PG_PART_BYTES = tuple(w.encode() for w in _PG_PARTS)


class PostgresFormat(_MultiLine):
    """PostgreSQL's stderr log with any ``log_line_prefix`` that starts with ``%m`` or ``%t``
    (``'%m [%p] '``, Debian's ``'%m [%p] %q%u@%d '``, pgBadger's ``'%t [%p]: [%l-1] user=%u,db=%d
    '``, RDS's ``'%t:%r:%u@%d:[%p]:'``...), with ``log_error_verbosity`` terse to verbose.

    A record is a message with its DETAIL/HINT/QUERY/CONTEXT/STATEMENT/LOCATION lines and the
    raw lines of a multi-line statement. Level: DEBUG1-5 debug, LOG/INFO info, NOTICE, WARNING,
    ERROR, FATAL/PANIC critical. Extra: user, db, app, client (from the prefix), sqlstate, and
    the first line of each follow-up part (``detail``, ``hint``, ``statement``...)."""

    name = "postgres"
    title = "PostgreSQL (stderr)"
    start_spec = StartSpec(_ISO_DATE)

    def record_starts(self, buf: np.ndarray, starts: np.ndarray) -> np.ndarray:
        out = self.start_spec.matches(buf, starts)
        starts = np.asarray(starts, dtype=np.int64)
        if not out.any():
            return out
        # a dated line whose first ":  " follows DETAIL, HINT... continues the message before
        size = len(buf)
        lo = int(starts[0])
        hi = _line_end(buf, min(int(starts[-1]), size))
        seg = buf[lo:hi]
        if len(seg) < 3:
            return out
        hits = np.flatnonzero((seg[:-2] == 58) & (seg[1:-1] == 32) & (seg[2:] == 32)) + lo
        if not len(hits):
            return out
        line = np.searchsorted(starts, hits, side="right") - 1
        line, first = np.unique(line, return_index=True)  # the first ":  " of each line
        pos = hits[first]
        part = np.zeros(len(pos), dtype=bool)
        for word in _PG_PART_BYTES:
            k = len(word)
            begin = pos - k
            ok = begin >= starts[line]
            for i, c in enumerate(word):
                ok &= buf[np.clip(begin + i, 0, size - 1)] == c
            before = buf[np.clip(begin - 1, 0, size - 1)]
            ok &= (begin == starts[line]) | (before == 32) | (before == 58) | (before == 93)
            part |= ok
        out[line[part]] = False
        return out

    def is_record_start(self, line: str) -> bool:
        return self.start_spec.matches_line(line) and not _is_part_line(
            line.encode("utf-8", "replace"))

    def _parses(self, line: str) -> bool:
        return _PG_LINE.match(line) is not None

    def sniff(self, lines: list[str]) -> float:
        sample = _nonempty(lines)
        if not sample:
            return 0.0
        score = 0.0
        parsed = 0
        in_record = False
        for ln in sample:
            if _PG_LINE.match(ln):
                parsed += 1
                score += 1.0
                in_record = True
            elif in_record and (_PG_PART.match(ln) or ln.startswith(("\t", " "))):
                score += 1.0
        return score / len(sample) if parsed else 0.0

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        first, rest = _split_first_line(text)
        m = _PG_LINE.match(first)
        if m is None:
            return unparsed(text, ctx)
        level = PG_LEVELS[m.group("lvl")]
        extra: dict[str, str] = {}
        pid = None
        prefix = m.group("prefix")
        if prefix:
            for f in _PG_PREFIX_FIELDS.finditer(prefix):
                if f.group("pid") and pid is None:
                    pid = int(f.group("pid"))
                elif f.group("key"):
                    if f.group("value"):
                        extra[f.group("key").replace("host", "client")] = f.group("value")
                elif f.group("user") or f.group("db"):
                    extra.setdefault("user", f.group("user"))
                    extra.setdefault("db", f.group("db"))
        if m.group("state"):
            extra["sqlstate"] = m.group("state")
        if rest:
            # the follow-up lines without their prefix: "DETAIL:  Key (id)=(1) already exists."
            lines = rest.split("\n")
            for i, ln in enumerate(lines):
                p = _PG_PART.match(ln)
                if p:
                    extra.setdefault(p.group("part").lower(), p.group("text"))
                    lines[i] = f"{p.group('part')}:  {ln[p.start('text'):]}"
            rest = "\n".join(lines)
        return Fields(timestamp=_pg_time(m, ctx), level=level, source="postgres", pid=pid,
                      message=m.group("msg") + rest, extra=extra)


# --------------------------------------------------------------------------- PostgreSQL csvlog

_PG_CSV_HEAD = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [A-Za-z+\-:0-9]{1,6})?,")
# csvlog columns (PostgreSQL 13-17; older versions lack the last ones)
_PG_CSV_COLS = ("log_time", "user", "db", "pid", "client", "session", "session_line",
                "command_tag", "session_start", "vxid", "txid", "severity", "sqlstate",
                "message", "detail", "hint", "internal_query", "internal_query_pos", "context",
                "query", "query_pos", "location", "application", "backend_type", "leader_pid",
                "query_id")
_PG_CSV_EXTRA = ("user", "db", "client", "session", "command_tag", "sqlstate", "detail", "hint",
                 "context", "query", "location", "application", "backend_type")


def _pg_csv_row(text: str) -> list[str] | None:
    try:
        row = next(csv.reader(io.StringIO(text, newline="")), None)
    except (csv.Error, ValueError):
        return None
    return row if row and len(row) >= 14 else None


class PostgresCsvFormat(_MultiLine):
    """PostgreSQL's csvlog (``log_destination = 'csvlog'``): one CSV row per message; quoted
    fields may span lines (multi-line statements). Level from ``error_severity``, source
    ``postgres``, pid; extra: user, db, client, session, sqlstate, detail, hint, context, query,
    application, backend_type..."""

    name = "postgres-csv"
    title = "PostgreSQL (csvlog)"
    start_spec = StartSpec(_ISO_DATE)

    def _parses(self, line: str) -> bool:
        if not _PG_CSV_HEAD.match(line):
            return False
        row = _pg_csv_row(line)
        return row is not None and row[11] in _PG_MAIN + _PG_PARTS

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        row = _pg_csv_row(text)
        if row is None:
            return unparsed(text, ctx)
        values = dict(zip(_PG_CSV_COLS, row, strict=False))
        severity = values.get("severity", "")
        level = _PG_LEVELS.get(severity) or Level.parse(severity)
        extra = {k: values[k] for k in _PG_CSV_EXTRA if values.get(k)}
        return Fields(timestamp=_iso(values["log_time"], ctx), level=level, source="postgres",
                      pid=_int(values.get("pid")), message=values.get("message", ""),
                      extra=extra)


# --------------------------------------------------------------------------- MySQL / MariaDB

_MY_TS = (r"(?P<ts>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)?)"
          r"|(?P<short>\d{6} [ \d]\d:\d\d:\d\d)")
# the level words of the error log and what they mean (the regex and the vectorised
# extractor in diagkit.logs.vectorized are both built from this table)
MYSQL_LEVELS: dict[str, Level] = {
    "Note": Level.INFO, "System": Level.INFO, "Info": Level.INFO, "Warning": Level.WARNING,
    "ERROR": Level.ERROR, "Error": Level.ERROR, "Debug": Level.DEBUG, "Critical": Level.CRITICAL}
_MYSQL_ERR = re.compile(
    r"(?:" + _MY_TS + r") +(?:(?P<thread>\d+) +)?\[(?P<lvl>" + "|".join(MYSQL_LEVELS) + r")\] "
    r"(?:\[(?P<code>MY-\d+)\] \[(?P<subsys>[^\]]*)\] )?"
    r"(?:(?P<engine>InnoDB|Aria|mysqld|mariadbd|Slave SQL|Slave I/O|WSREP): )?(?P<msg>.*)\Z",
    re.DOTALL)


def _mysql_time(m: re.Match[str], ctx: ParseContext) -> datetime | None:
    if m.group("ts"):
        return _iso(m.group("ts"), ctx)
    s = m.group("short")  # YYMMDD HH:MM:SS, hour space-padded (MySQL 5.5, MariaDB 10.0)
    try:
        return _civil(2000 + int(s[0:2]), int(s[2:4]), int(s[4:6]), int(s[7:9]), int(s[10:12]),
                      int(s[13:15]), 0, ctx)
    except ValueError:
        return None


_MY_START = StartSpec(_ISO_DATE, (_D, _D, _D, _D, _D, _D, b" ", b" 0123456789", _D, b":"))


class MysqlErrorFormat(_MultiLine):
    """MySQL and MariaDB error log: ``2020-08-06T14:25:02.835618Z 0 [Note] [MY-012487]
    [InnoDB] msg`` (MySQL 8), ``2024-01-02 03:04:05 0 [Warning] msg`` (MariaDB), ``130107
    9:35:51 [ERROR] msg`` (MySQL 5.5). Lines without a date (``Version: ...``, crash dumps)
    continue the record. Level: Note/System info, Warning, Error; source: the subsystem
    (``InnoDB``, ``Server``...); extra: thread, code."""

    name = "mysql"
    title = "MySQL / MariaDB error log"
    start_spec = _MY_START

    def _parses(self, line: str) -> bool:
        return _MYSQL_ERR.match(line) is not None

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        first, rest = _split_first_line(text)
        m = _MYSQL_ERR.match(first)
        if m is None:
            return unparsed(text, ctx)
        word = m.group("lvl")
        extra: dict[str, str] = {}
        if m.group("thread"):
            extra["thread"] = m.group("thread")
        if m.group("code"):
            extra["code"] = m.group("code")
        source = m.group("subsys") or m.group("engine") or ""
        return Fields(timestamp=_mysql_time(m, ctx),
                      level=MYSQL_LEVELS[word],
                      source=source, message=m.group("msg") + rest, extra=extra)


# The general query log: a header (``mysqld, Version: ... started with:``, ``Tcp port``,
# ``Time Id Command Argument``), then ``TIME\tID COMMAND\tARGUMENT``. MySQL 5.7+ dates every
# line (ISO); MariaDB and MySQL 5.6 write ``YYMMDD HH:MM:SS`` only when the second changes and
# two tabs otherwise, so those lines have no time of their own. Multi-line queries continue.
_MYSQL_GEN = re.compile(
    r"(?:(?:" + _MY_TS + r")\t|\t\t) *(?P<id>\d+) (?P<cmd>[A-Z][A-Za-z ]*?)\t(?P<arg>.*)\Z",
    re.DOTALL)


class MysqlGeneralFormat(_MultiLine):
    """MySQL / MariaDB general query log. Source: the command (``Query``, ``Connect``,
    ``Quit``...), message: its argument (the SQL), extra ``connection``: the connection id.
    No levels."""

    name = "mysql-general"
    title = "MySQL / MariaDB general query log"
    inherits_time = True  # MariaDB writes the time only when the second changes
    start_spec = StartSpec(_ISO_DATE + (b"T ",), (_D, _D, _D, _D, _D, _D, b" ", b" 0123456789"),
                           (b"\t", b"\t", b" 0123456789"))

    def _parses(self, line: str) -> bool:
        return _MYSQL_GEN.match(line) is not None

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        first, rest = _split_first_line(text)
        m = _MYSQL_GEN.match(first)
        if m is None:
            return unparsed(text, ctx)
        ts = _mysql_time(m, ctx) if (m.group("ts") or m.group("short")) else None
        return Fields(timestamp=ts, source=m.group("cmd"), message=m.group("arg") + rest,
                      extra={"connection": m.group("id")})



# --------------------------------------------------------------------------- Redis

_REDIS = re.compile(
    r"(?:(?P<pid>\d+):(?P<role>[XCSM])|\[(?P<oldpid>\d+)\]) (?P<d>\d\d) (?P<mon>[A-Z][a-z]{2})"
    r"(?: (?P<y>\d{4}))? (?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)\.(?P<f>\d{3}) (?P<lvl>[.\-*#]) "
    r"(?P<msg>.*)\Z", re.DOTALL)
_REDIS_LEVELS = {".": Level.DEBUG, "-": Level.DEBUG, "*": Level.NOTICE, "#": Level.WARNING}
_REDIS_ROLES = {"X": "sentinel", "C": "child", "S": "replica", "M": "master"}


class RedisFormat(LogFormat):
    """Redis server log: ``29095:M 05 Dec 2026 10:36:53.531 * Ready to accept connections``
    (Redis 3+; ``[pid] 05 Dec 10:36:53.531 *`` before). Level from the mark: ``.`` debug, ``-``
    verbose (debug), ``*`` notice, ``#`` warning; pid; extra ``role`` (master, replica, child,
    sentinel)."""

    name = "redis"
    title = "Redis server log"

    def sniff(self, lines: list[str]) -> float:
        return _fraction(lines, _REDIS)

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        m = _REDIS.match(text)
        if m is None:
            return unparsed(text, ctx)
        month = _MONTHS.get(m.group("mon"))
        ts = None
        if month is not None:
            d, h, mi, s, us = (int(m.group(k)) for k in ("d", "h", "mi", "s", "f"))
            us *= 1000
            ts = (_civil(int(m.group("y")), month, d, h, mi, s, us, ctx) if m.group("y")
                  else _year_less(month, d, h, mi, s, us, ctx))
        extra = {"role": _REDIS_ROLES[m.group("role")]} if m.group("role") else {}
        return Fields(timestamp=ts, level=_REDIS_LEVELS[m.group("lvl")], source="redis",
                      pid=int(m.group("pid") or m.group("oldpid")), message=m.group("msg"),
                      extra=extra)
