"""The vectorised extractors (:mod:`diagkit.logs.vectorized`) against the per-record path.

For every registered format, hypothesis writes files of generated lines in that format - valid
ones and odd ones (bad dates, odd zones, non-ASCII, NUL, tabs, CRLF, truncation, random
splices) - and both ``LogFile._compute_arrays(fast=True)`` and ``fast=False`` (every header
parsed by the format's ``parse``) must give exactly the same levels and times. Registering a
format means adding its name and a line strategy to ``FORMAT_LINES`` below.
"""

from __future__ import annotations

import json
import os
import string
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagkit.logs import vectorized
from diagkit.logs.logfile import LogFile
from tests.logs.conftest import local_zone

# --------------------------------------------------------------------------- pieces

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
          "Foo", "jan"]
LEVEL_WORDS = ["INFO", "info", "Info", "DEBUG", "debug", "WARN", "warn", "WARNING", "Warning",
               "ERROR", "error", "Error", "ERR", "err", "CRIT", "crit", "CRITICAL", "Critical",
               "FATAL", "fatal", "NOTICE", "notice", "TRACE", "trace", "ALERT", "EMERG",
               "SEVERE", "severe", "PANIC", "panic", "NOTSET", "debug2", "Emergency", "INFOS",
               "WARNINGS", "errors", "iNfO"]
ODD = ["", " ", "  ", "\t", "\x00", "\r", "é", "\u2003", "ı", "ſ", "K", "١", "[", "]", "(", ")",
       "<", ">", ":", ": ", "|", "-", " - ", '"', "\\", "\\\"", "{", "}", ",", "0", "00", "9",
       "Z", "+01:00", "+0100", "+01", " +01:00", ".", ",", "T", "null", "true", "1e5", "-1",
       "\ufeff", "ERROR", "info", "\x1c", "\x7f", "\xff"]

digits2 = st.integers(0, 99).map(lambda v: f"{v:02d}")


@st.composite
def iso_stamp(draw: st.DrawFn, seps: str = "T ", comma: bool = True) -> str:
    year = draw(st.sampled_from([1969, 1970, 2000, 2023, 2024, 2025, 2038, 2100, 9999, 1]))
    month = draw(st.integers(0, 13))
    day = draw(st.integers(0, 32))
    hh, mi, ss = draw(st.integers(0, 25)), draw(st.integers(0, 60)), draw(st.integers(0, 61))
    text = f"{year:04d}-{month:02d}-{day:02d}{draw(st.sampled_from(seps))}{hh:02d}:{mi:02d}"
    if draw(st.integers(0, 9)):
        text += f":{ss:02d}"
        if draw(st.booleans()):
            sep = draw(st.sampled_from(".," if comma else "."))
            text += sep + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=0,
                                                max_size=14)))
    text += draw(st.sampled_from(["", "", "Z", "+01:00", "-05:30", "+0100", "+01", " +01:00",
                                  " Z", "+23:59", "+24:00", "-00:00", "z", "+05:75"]))
    return text


def realistic_day(month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 28


@st.composite
def valid_iso(draw: st.DrawFn, sep: str = "T", frac: bool = True, zone: bool = True) -> str:
    """A timestamp the fast paths are meant to take (so the test is not about odd ones only)."""
    dt = datetime(2024, draw(st.integers(1, 12)), draw(st.integers(1, 28)),
                  draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59)))
    text = dt.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
    if frac and draw(st.booleans()):
        text += "." + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=1,
                                            max_size=9)))
    if zone:
        text += draw(st.sampled_from(["Z", "+01:00", "-07:00", "+0530"]))
    return text


words = st.text(alphabet=string.ascii_letters + string.digits + "_.-", min_size=1, max_size=12)
message = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\n\r"),
                  max_size=40) | st.sampled_from(["disk full", "GET /x 200", ""])


@st.composite
def mutate(draw: st.DrawFn, line: str) -> str:
    """Sometimes splice odd pieces into a line, or cut it short."""
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(line)))
        cut = draw(st.integers(0, 3))
        line = line[:at] + draw(st.sampled_from(ODD)) + line[at + cut:]
    if draw(st.integers(0, 9)) == 0:
        line = line[: draw(st.integers(0, len(line)))]
    return line


def lines_of(one: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(one.flatmap(lambda ln: st.one_of(st.just(ln), mutate(ln))), min_size=1,
                    max_size=25)


# --------------------------------------------------------------------------- per format


@st.composite
def syslog_line(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        day = draw(st.integers(0, 32))
        stamp = f"{draw(st.sampled_from(MONTHS))} {day:>2} {draw(digits2)}:{draw(digits2)}:" \
                f"{draw(digits2)}"
        if draw(st.integers(0, 5)) == 0:
            stamp += "." + draw(st.sampled_from(["5", "123456", "1234567", ""]))
        if draw(st.integers(0, 8)) == 0:
            stamp += " 2024"
    else:
        stamp = draw(st.one_of(valid_iso(), iso_stamp(seps="T")))
    pri = draw(st.sampled_from(["", "", "", "<13>", "<191>"]))
    host = draw(st.sampled_from(["web1", "db-2.example.com", "h", "x" * 60]))
    tag = draw(st.sampled_from(["sshd[1234]: ", "cron: ", "kernel: ", "app[x]: ", "a[]: ",
                                "myapp[4242] ", "myapp[42]x ", "app[1]",
                                "systemd-resolved[87654321]: ", "p" * 50 + ": ", "", "x:",
                                "prog[12]:"]))
    lead = draw(st.sampled_from(["", "", "[", "<", "(", " ", "  "]))
    word = draw(st.sampled_from(LEVEL_WORDS))
    tail = draw(st.sampled_from([" x", "", ":", ": x", "] x", ">", ")", "x", "\t", " "]))
    return f"{pri}{stamp} {host} {tag}{lead}{word}{tail}{draw(message)}"


@st.composite
def iso_level_line(draw: st.DrawFn) -> str:
    stamp = draw(st.one_of(valid_iso(sep=draw(st.sampled_from("T "))), iso_stamp()))
    if draw(st.booleans()):
        stamp = f"[{stamp}]"
    between = draw(st.one_of(
        st.sampled_from(["", " ", " [main] ", " app ", " a b c ", " é ", " 12 ", "|", " <"]),
        st.integers(40, 52).map(lambda k: " " + "x" * k),
        st.integers(40, 52).map(lambda k: " " + "x" * (k - 4) + " ab ")))
    word = draw(st.sampled_from(LEVEL_WORDS))
    around = draw(st.sampled_from([("", " "), ("[", "] "), ("<", ">"), ("(", ")"), ("|", "|"),
                                   ("", ""), ("", ":"), ("", "_x")]))
    return f"{stamp}{between}{around[0]}{word}{around[1]}{draw(message)}"


@st.composite
def python_line(draw: st.DrawFn) -> str:
    stamp = draw(st.one_of(valid_iso(sep=" ", zone=False).map(lambda s: s.replace(".", ",", 1)),
                           valid_iso(sep=" "), iso_stamp()))
    word = draw(st.sampled_from(LEVEL_WORDS))
    name = draw(st.sampled_from(["app", "app.db", "__main__", "x-y", "<module>", "é", "a b"]))
    layout = draw(st.integers(0, 5))
    msg = draw(message)
    if layout == 0:
        return f"{stamp} - {name} - {word} - {msg}"
    if layout == 1:
        return f"{word}:{name}:{msg}"
    if layout == 2:
        return f"{stamp} [{word}] {name}: {msg}"
    if layout == 3:
        return f"{stamp}:{word}:{name}:{msg}"
    if layout == 4:
        return f"[{stamp}] {word} in {name}: {msg}"
    return f"{stamp}{draw(st.sampled_from([' ', '  ']))}{word} {name}: {msg}"


@st.composite
def java_stamp(draw: st.DrawFn) -> str:
    """Hadoop's yyMMdd HHmmss, Spark's yy/MM/dd HH:mm:ss, Tomcat's dd-MMM-yyyy HH:mm:ss.SSS
    (also with spaces), a time of day; valid and odd values."""
    d2 = st.one_of(st.integers(1, 28), st.integers(0, 99)).map(lambda v: f"{v:02d}")
    mo, day, yy = draw(d2), draw(d2), draw(d2)
    hh, mi, ss = draw(d2), draw(d2), draw(d2)
    frac = draw(st.sampled_from(["", ".123", ",5", ".1234567", ".", "," + "9" * 18]))
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return f"{yy}{mo}{day} {hh}{mi}{ss}"
    if kind == 1:
        return f"{yy}/{mo}/{day} {hh}:{mi}:{ss}{frac}"
    if kind == 2:
        sep = draw(st.sampled_from(["-", " "]))
        return f"{day}{sep}{draw(st.sampled_from(MONTHS))}{sep}" \
               f"{draw(st.sampled_from(['2024', '0000', '1999']))} {hh}:{mi}:{ss}{frac}"
    return f"{hh}:{mi}:{ss}{frac}"


@st.composite
def java_line(draw: st.DrawFn) -> str:
    stamp = draw(st.one_of(valid_iso(sep=" ", zone=False), valid_iso(), iso_stamp(),
                           st.just("12:34:56.789"), st.just("12:34:56"), java_stamp()))
    if draw(st.integers(0, 4)) == 0:
        stamp = f"[{stamp}]"
    word = draw(st.sampled_from(LEVEL_WORDS))
    thread = draw(st.sampled_from(["main", "pool-1-thread-2", "", "a]b", "é"]))
    logger = draw(st.sampled_from(["com.example.App", "App:12", "a-b", "x", "Foo$Bar", "a.b:c",
                                   "é"]))
    sep = draw(st.sampled_from([" - ", ": ", " : ", " -", " ", "", " x "]))
    layout = draw(st.integers(0, 5))
    msg = draw(message)
    if layout == 4:  # Tomcat / java.util.logging
        return f"{stamp} {word} [{thread}] {logger} {msg}"
    if layout == 5:  # Hadoop / HDFS
        pid = draw(st.sampled_from(["148", "1", "", "x", "١"]))
        return f"{stamp} {pid} {word} {logger}{draw(st.sampled_from([': ', ':', ' ']))}{msg}"
    if layout == 0:
        return f"{stamp} [{thread}] {word} {logger}{sep}{msg}"
    if layout == 1:
        return f"{stamp} {word} [{thread}] {logger}{sep}{msg}"
    if layout == 2:
        return f"{stamp}  {word} 4242 --- [{thread}] {logger} : {msg}"
    return f"{stamp} {word} {logger}{sep}{msg}"


@st.composite
def access_line(draw: st.DrawFn) -> str:
    day = draw(st.integers(0, 32))
    month = draw(st.sampled_from(MONTHS))
    stamp = f"{day:02d}/{month}/{draw(st.sampled_from(['2024', '0000', '1999']))}:" \
            f"{draw(digits2)}:{draw(digits2)}:{draw(digits2)}"
    stamp += draw(st.sampled_from([" +0000", " -0700", " +0530", " +2400", " +0199", "", " +01"]))
    client = draw(st.sampled_from(["10.0.0.1", "::1", "2001:db8::1", "host:80 10.0.0.1", "-"]))
    request = draw(st.sampled_from(["GET / HTTP/1.1", "POST /a?b=c HTTP/2.0", "", "-",
                                    'GET /q\\"x HTTP/1.1', "GET /é HTTP/1.1", "\\\\"]))
    status = draw(st.sampled_from(["200", "404", "500", "503", "301", "-", "2000", "20"]))
    size = draw(st.sampled_from(["512", "-", "0", "", "12ab"]))
    rest = draw(st.sampled_from(["", ' "-" "curl/8.0"', ' "http://x/" "Mozilla/5.0 (X11)"',
                                 " 0.002", ' "a" "b" extra']))
    return f'{client} - {draw(st.sampled_from(["-", "bob"]))} [{stamp}] "{request}" ' \
           f"{status} {size}{rest}"


@st.composite
def apache_error_line(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(LEVEL_WORDS + ["notice", "emerg", "trace1"]))
    if draw(st.booleans()):
        day = draw(st.integers(0, 32))
        frac = draw(st.sampled_from(["", ".123456", ".1", ".1234567"]))
        module = draw(st.sampled_from(["core:", "proxy_http:", "", "mod-x:", "a:b:", "é:"]))
        stamp = f"{draw(st.sampled_from(['Wed', 'Thu']))} {draw(st.sampled_from(MONTHS))} " \
                f"{day:>2} {draw(digits2)}:{draw(digits2)}:{draw(digits2)}{frac} " \
                f"{draw(st.sampled_from(['2023', '0000']))}"
        extra = draw(st.sampled_from(["", "[pid 12:tid 34] ", "[client 10.0.0.1:5] ",
                                      "AH00124: "]))
        return f"[{stamp}] [{module}{word}] {extra}{draw(message)}"
    stamp = f"{draw(st.sampled_from(['2023', '0000']))}/{draw(digits2)}/{draw(digits2)} " \
            f"{draw(digits2)}:{draw(digits2)}:{draw(digits2)}"
    return f"{stamp} [{word}] {draw(st.sampled_from(['12#34: ', '1#2: *5 ', 'x#1: ', '12#: ']))}" \
           f"{draw(message)}"


@st.composite
def rfc5424_line(draw: st.DrawFn) -> str:
    pri = draw(st.sampled_from(["<13>", "<0>", "<191>", "<999>", "", "<1234>"]))
    stamp = draw(st.one_of(valid_iso(), iso_stamp(seps="T"), st.just("-")))
    sd = draw(st.sampled_from(["-", '[x@1 a="b"]', "-x", ""]))
    lead = draw(st.sampled_from(["", "error: ", "\ufeffwarning ", "[INFO] "]))
    return f"{pri}1 {stamp} host app {draw(st.sampled_from(['123', '-']))} " \
           f"{draw(st.sampled_from(['ID47', '-']))} {sd} {lead}{draw(message)}"


json_scalar = st.one_of(st.integers(-10, 70), st.integers(-(2 ** 63), 2 ** 64),
                        st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
                        st.none(), st.text(max_size=12), st.sampled_from(LEVEL_WORDS))


@st.composite
def json_time(draw: st.DrawFn) -> object:
    return draw(st.one_of(
        valid_iso(), iso_stamp(), st.just(""), st.just(" 2024-03-01T10:00:00Z "),
        st.integers(0, 2_000_000_000), st.integers(10 ** 11, 10 ** 19),
        st.floats(min_value=0, max_value=2e12, allow_nan=False), st.booleans(), st.none(),
        st.just([1, 2]), st.just({"a": 1})))


@st.composite
def jsonl_line(draw: st.DrawFn) -> str:
    from diagkit.logs.vectorized import _jsonl_keys

    time_keys, level_keys = _jsonl_keys()
    obj: dict[str, object] = {}
    sparse = st.sampled_from(["", None, "", None, "info", "ERROR", 40, 3, True, "x"])
    # several candidate keys at once, often empty or null: the first usable one counts
    for key in draw(st.lists(st.sampled_from(list(time_keys[:4]) + list(level_keys[:4])),
                             max_size=5, unique=True)):
        obj[key] = draw(sparse | (json_time() if key in time_keys else json_scalar))
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            obj[draw(st.sampled_from(time_keys))] = draw(json_time() | sparse)
        elif kind == 1:
            obj[draw(st.sampled_from(level_keys))] = draw(json_scalar | sparse)
        elif kind == 2:
            obj[draw(st.sampled_from(["msg", "host", "pid", "a\\b", "é"]))] = draw(json_scalar)
        else:
            obj["nested"] = draw(st.sampled_from([{"level": "error"}, [1, 2], {}, []]))
    spaced = draw(st.booleans())
    text = json.dumps(obj, ensure_ascii=draw(st.booleans()),
                      separators=(", ", ": ") if spaced else (",", ":"))
    if draw(st.integers(0, 6)) == 0:  # a duplicate key, odd spacing, an escaped key
        text = text.replace('"level"', '"lev\\u0065l"', 1) if draw(st.booleans()) \
            else text[:-1] + ', "level": "error"}' if len(text) > 2 else text
    return text


@st.composite
def journald_line(draw: st.DrawFn) -> str:
    obj: dict[str, object] = {"__CURSOR": "s=abc;i=1", "_HOSTNAME": "host"}
    if draw(st.integers(0, 5)):
        obj["__REALTIME_TIMESTAMP"] = draw(st.one_of(
            st.integers(0, 2 ** 60).map(str), st.integers(0, 10 ** 16), st.just(""),
            st.just(" 12"), st.just("1_000"), st.none(), st.just("-5"), st.just(1.5)))
    if draw(st.integers(0, 5)):
        obj["PRIORITY"] = draw(st.one_of(st.integers(-1, 9).map(str), st.integers(0, 9),
                                         st.none(), st.just("warning"), st.just("")))
    obj["MESSAGE"] = draw(st.one_of(message, st.just([72, 105])))
    keys = list(obj)
    order = draw(st.permutations(keys))
    return json.dumps({k: obj[k] for k in order}, separators=draw(st.sampled_from(
        [(",", ":"), (", ", ": ")])))


d2 = st.one_of(st.integers(1, 28), st.integers(0, 99)).map(lambda v: f"{v:02d}")


@st.composite
def logcat_line(draw: st.DrawFn) -> str:
    year = draw(st.sampled_from(["", "", "2024-", "0000-", "2024"]))
    frac = draw(st.sampled_from(["811", "811000", "8", "8110000", "81"]))
    stamp = f"{year}{draw(d2)}-{draw(d2)} {draw(d2)}:{draw(d2)}:{draw(d2)}.{frac}"
    ids = draw(st.sampled_from(["  1702  2395", " 1702 2395", "1000  1702  2395",
                                "u0_a12 1702 2395", " 1702", "x y z", "١ 2 3", " 17é 2"]))
    lvl = draw(st.sampled_from(list("VDIWEFA") + ["X", "", "DD", "d"]))
    tag = draw(st.sampled_from(["WindowManager: ", "Tag : ", ": ", "a:b: ", "no colon ", "é: ",
                                "x" * 120 + ": "]))
    if draw(st.integers(0, 5)) == 0:  # the time / brief layouts
        return f"{stamp} {lvl}/{tag.strip(': ')}( 1702): {draw(message)}"
    return f"{stamp}{ids} {lvl} {tag}{draw(message)}"


@st.composite
def glog_line(draw: st.DrawFn) -> str:
    lvl = draw(st.sampled_from(list("IWEF") + ["D", "i"]))
    year = draw(st.sampled_from(["", "", "2026", "0000"]))
    frac = draw(st.sampled_from(["619632", "6196", "6196321"]))
    head = f"{lvl}{year}{draw(d2)}{draw(d2)} {draw(d2)}:{draw(d2)}:{draw(d2)}.{frac}"
    thread = draw(st.sampled_from(["  1234", " 1", "", " x", "  ١"]))
    where = draw(st.sampled_from(["main.cc:253]", "a/b.go:1]", "x:]", "é.cc:1]", "f:1", ":1]",
                                  "main.cc:25 3]"]))
    if draw(st.integers(0, 9)) == 0:
        return f"Log file created at: 2026/12/05 10:19:47{draw(message)}"
    return f"{head}{thread} {where}{draw(st.sampled_from([' ', '']))}{draw(message)}"


@st.composite
def dpkg_line(draw: st.DrawFn) -> str:
    stamp = draw(st.one_of(valid_iso(sep=" ", frac=False, zone=False), iso_stamp(seps=" ")))
    alt = draw(st.sampled_from(["", "", "update-alternatives ", "update-alternative "]))
    rest = draw(st.sampled_from([": run with --install", " status installed bash:amd64 5.2",
                                 " startup archives unpack", " statusx y", " status", ":",
                                 " unpacké", " configure", " trigproc man-db:amd64",
                                 " foo bar"]))
    return f"{alt}{stamp}{rest}{draw(message)}"


@st.composite
def mysql_line(draw: st.DrawFn) -> str:
    stamp = draw(st.one_of(valid_iso(sep=draw(st.sampled_from("T "))), iso_stamp(),
                           st.sampled_from(["130107  9:35:51", "130107 19:35:51",
                                            "130107 9:35:51", "131307 25:35:51",
                                            "2020-08-06T14:25:02.835618Z",
                                            "2020-08-06T14:25:02.8356189Z"])))
    thread = draw(st.sampled_from(["", " 0", " 12", " x"]))
    word = draw(st.sampled_from(["Note", "Warning", "ERROR", "Error", "System", "Info", "Debug",
                                 "Critical", "note", "Warn", "MY-1"]))
    tail = draw(st.sampled_from(["] ", "]", "]x", "] [MY-012487] [InnoDB] "]))
    return f"{stamp}{draw(st.sampled_from([' ', '  ', '']))}{thread.strip()}" \
           f"{draw(st.sampled_from([' ', '']))}[{word}{tail}{draw(message)}"


@st.composite
def postgres_line(draw: st.DrawFn) -> str:
    stamp = draw(st.one_of(valid_iso(sep=" ", zone=False), iso_stamp(seps=" ", comma=False),
                           st.just("2024-03-01 10:00:00.1234567")))
    zone = draw(st.sampled_from([" UTC", " CET", " utc", " EST", " XYZ", " +01", " -05:30",
                                 " +0530", "", " postgres", " LOG", " +1"]))
    prefix = draw(st.sampled_from([" [1234] ", " [1234] app@db ", ":[local]:u@d:[12]:", " ",
                                   "", " [12]: [3-1] user=u,db=d ", " x"]))
    word = draw(st.sampled_from(["LOG", "ERROR", "FATAL", "PANIC", "WARNING", "NOTICE", "INFO",
                                 "DEBUG", "DEBUG1", "DEBUG5", "DEBUG7", "DETAIL", "log", "ERR"]))
    sep = draw(st.sampled_from([":  ", ": ", ":  23505: ", ":"]))
    return f"{stamp}{zone}{prefix}{word}{sep}{draw(message)}"


FORMAT_LINES: dict[str, st.SearchStrategy[str]] = {
    "postgres": postgres_line(),
    "logcat": logcat_line(),
    "glog": glog_line(),
    "dpkg": dpkg_line(),
    "mysql": mysql_line(),
    "rfc3164": syslog_line(),
    "iso-level": iso_level_line(),
    "python": python_line(),
    "java": java_line(),
    "access": access_line(),
    "apache-error": apache_error_line(),
    "rfc5424": rfc5424_line(),
    "jsonl": jsonl_line(),
    "journald-json": journald_line(),
}


# --------------------------------------------------------------------------- the property


def _write(path: Path, lines: list[str], newline: str, tail: bool, mtime: datetime) -> None:
    data = newline.join(lines) + (newline if tail else "")
    path.write_bytes(data.encode("utf-8", "surrogatepass"))
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))


def assert_same(path: Path, fmt: str, default_tz: object | None = None) -> LogFile:
    fast = LogFile.open(path, format=fmt, default_tz=default_tz)
    slow = LogFile.open(path, format=fmt, default_tz=default_tz)
    try:
        fast._compute_arrays(fast=True)
        slow._compute_arrays(fast=False)
        assert not [w for w in fast.warnings if "extraction" in w], fast.warnings
        lf, ls = fast.levels(), slow.levels()
        bad = np.flatnonzero(lf != ls)
        assert not len(bad), [(fast.raw_bytes(int(i)), int(lf[i]), int(ls[i])) for i in bad[:3]]
        tf, ts = fast.timestamps(), slow.timestamps()
        same = (tf == ts) | (np.isnan(tf) & np.isnan(ts))
        bad = np.flatnonzero(~same)
        assert not len(bad), [(fast.raw_bytes(int(i)), tf[i], ts[i]) for i in bad[:3]]
        # and what a record shows (``diagkit logs FILE --json``) agrees with the arrays
        for i in range(min(fast.record_count, 40)):
            rec = fast.record(i)
            assert int(rec.level) == int(lf[i]), (fast.raw_bytes(i), rec.level, lf[i])
            if rec.timestamp is None:
                assert np.isnan(tf[i]), (fast.raw_bytes(i), tf[i])
            else:
                assert rec.timestamp.timestamp() == tf[i], (fast.raw_bytes(i), rec.timestamp)
    finally:
        slow.close()
    return fast


@pytest.fixture(scope="module")
def berlin() -> Iterator[None]:
    """A local zone with DST for the whole module (naive times are local time)."""
    with local_zone("Europe/Berlin"):
        yield


def test_every_extractor_has_a_line_strategy() -> None:
    assert set(vectorized.EXTRACTORS) == set(FORMAT_LINES)


@pytest.mark.parametrize("fmt", sorted(FORMAT_LINES))
# VEC_EXAMPLES=3000 runs a longer hunt (minutes per format) than the default in the suite
@settings(max_examples=int(os.environ.get("VEC_EXAMPLES", "60")), deadline=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fast_path_equals_parse(fmt: str, data: st.DataObject,
                                tmp_path_factory: pytest.TempPathFactory, berlin: object) -> None:
    lines = data.draw(lines_of(FORMAT_LINES[fmt]), label="lines")
    newline = data.draw(st.sampled_from(["\n", "\r\n", "\r\r\n"]), label="newline")
    tail = data.draw(st.booleans(), label="final newline")
    tz = data.draw(st.sampled_from([None, None, "UTC", "America/New_York", "No/Such_Zone"]),
                   label="default_tz")
    mtime = data.draw(st.sampled_from([datetime(2024, 6, 1), datetime(2025, 1, 2, 0, 30),
                                       datetime(2024, 3, 31, 2, 30)]), label="mtime")
    path = tmp_path_factory.mktemp(fmt) / "x.log"
    _write(path, lines, newline, tail, mtime)
    assert_same(path, fmt, tz).close()


# --------------------------------------------------------------------------- the fast path is used


TYPICAL = {
    "rfc3164": ["Mar  1 10:00:00 web1 sshd[1234]: error: disk full",
                "2024-03-01T10:00:00.135248Z web1 app[42]: WARNING slow request",
                "2024-03-01T10:00:00+01:00 db cron: info started"],
    "iso-level": ["2024-03-01 10:00:00,123 INFO [main] started",
                  "2024-03-01T10:00:00Z [worker-2] ERROR failed",
                  "[2024-03-01 10:00:00] warn disk"],
    "python": ["2024-03-01 10:00:00,123 INFO app.db: connected",
               "2024-03-01 10:00:00,123 - app - ERROR - failed", "WARNING:root:careful"],
    "java": ["2024-03-01 10:00:00.123 [main] INFO com.example.App - started",
             "2024-03-01T10:00:00,123 ERROR [pool-1] com.example.Db - lost",
             "2024-03-01 10:00:00.123  WARN 4242 --- [main] c.e.App : hm",
             "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 done",
             "17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: Registered",
             "05-Dec-2026 10:19:52.297 SEVERE [main] org.apache.catalina.Server.await x",
             "12:34:56.789 [main] WARN com.example.App - time of day only"],
    "access": ['10.0.0.1 - - [01/Mar/2024:10:00:00 +0100] "GET / HTTP/1.1" 200 512 "-" "curl"',
               '10.0.0.2 - bob [01/Mar/2024:10:00:01 +0100] "POST /x HTTP/1.1" 503 -'],
    "apache-error": ["[Fri Mar 01 10:00:00.123456 2024] [core:error] [pid 1] AH00124: x",
                     "2024/03/01 10:00:00 [warn] 12#34: *5 upstream slow"],
    "rfc5424": ["<13>1 2024-03-01T10:00:00.123Z web1 app 42 ID1 - started",
                "<11>1 2024-03-01T10:00:01+01:00 web1 app - - - failed"],
    "jsonl": ['{"time": "2024-03-01T10:00:00.123Z", "level": "info", "msg": "a \\"b\\""}',
              '{"ts":1709287200123,"level":30,"name":"app","pid":12,"msg":"x"}',
              '{"@timestamp":"2024-03-01T10:00:00+01:00","log.level":"warn","n":null}'],
    "journald-json": [('{"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1709287200123456",'
                       '"PRIORITY":"3","_HOSTNAME":"h","MESSAGE":"boom"}')],
    "logcat": ["03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs",
               "2024-03-17 16:13:38.811  1702  2395 E ActivityManager: ANR in com.x",
               "03-17 16:13:38.811  1000  1702  2395 W uid: with -v uid"],
    "glog": ["I0517 15:04:22.619632  1234 file.cc:253] started",
             "E20261205 10:19:47.269398 30593 main.cc:7] failed"],
    "dpkg": ["2024-01-02 03:04:05 status installed bash:amd64 5.2-2",
             "2024-01-02 03:04:05 startup archives unpack",
             "update-alternatives 2024-01-02 03:04:05: run with --install /usr/bin/x x"],
    "postgres": ["2026-12-05 10:18:00.787 UTC [30218] LOG:  database system is ready",
                 "2026-12-05 10:18:01 CET [30219] postgres@app ERROR:  relation \"x\" does not",
                 "2026-12-05 10:18:02.1 +01 [1]: [2-1] user=u,db=d FATAL:  password failed"],
    "mysql": ["2020-08-06T14:25:02.835618Z 0 [Note] [MY-012487] [InnoDB] DDL log recovery",
              "2024-01-02 03:04:05 0 [Warning] Aborted connection",
              "130107  9:35:51 [ERROR] Can't start server"],
}


@pytest.mark.parametrize("fmt", sorted(TYPICAL))
def test_typical_lines_take_the_fast_path(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / "t.log"
    _write(path, TYPICAL[fmt] * 50, "\n", True, datetime(2024, 6, 1))
    with assert_same(path, fmt) as log:
        buf = np.frombuffer(log._mm, dtype=np.uint8)  # type: ignore[arg-type]
        offsets = log.record_offsets()
        ends, _ = log._header_ends(0, log.record_count, offsets, buf)
        got = vectorized.extractor_for(fmt)(  # type: ignore[misc]
            vectorized.Headers(buf, np.asarray(offsets), ends, None, log.context.reference_time))
        del buf
        assert got.done.all(), [log.raw_bytes(int(i)) for i in np.flatnonzero(~got.done)[:3]]
        assert not np.isnan(log.timestamps()).all() or fmt == "python"
        assert (log.levels() != 0).any() or fmt == "dpkg"  # dpkg writes no levels


def test_syslog_tags_without_colon(tmp_path: Path) -> None:
    # rsyslog writes "tag[pid] " without a colon for a message it received as RFC 5424: the
    # fast path reads those lines as the format does (the level word is then no message start)
    lines = ["Dec  5 10:23:53 vm myapp[4242] error: disk full", "Dec  5 10:23:53 vm myapp[1]",
             "Dec  5 10:23:53 vm myapp[4242]: warning: x", "Dec  5 10:23:53 vm myapp[42]x error"]
    path = tmp_path / "syslog"
    _write(path, lines, "\n", True, datetime(2026, 12, 6))
    with assert_same(path, "rfc3164") as log:
        buf = np.frombuffer(log._mm, dtype=np.uint8)  # type: ignore[arg-type]
        offsets = log.record_offsets()
        ends, _ = log._header_ends(0, log.record_count, offsets, buf)
        got = vectorized.extract_syslog(vectorized.Headers(buf, np.asarray(offsets), ends, None))
        del buf
        assert got.done.all()
        assert list(log.levels()) == [40, 0, 30, 0]


def test_journald_byte_list_with_a_huge_number(tmp_path: Path) -> None:
    # hypothesis found it: a MESSAGE byte list holding 71e5105 (a float, infinity) raised
    # OverflowError in parse; such a field reads as its JSON text on both paths
    path = tmp_path / "j.log"
    _write(path, [('{"__CURSOR":"s=2","__REALTIME_TIMESTAMP":"1709287200123456",'
                  '"PRIORITY":"3","_HOSTNAME":"h","MESSAGE":[71e5105]}')], "\n", True,
           datetime(2024, 6, 1))
    with assert_same(path, "journald-json") as log:
        assert log.record(0).message == "[Infinity]"
