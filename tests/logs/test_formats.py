"""Log formats: detection, fields, record grouping (vectorised vs line by line), odd input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagkit.errors import LogFormatError
from diagkit.logs.formats import FORMATS, detect_format, get_format
from diagkit.logs.model import Fields, Level, ParseContext

DATA = Path(__file__).resolve().parent.parent / "data" / "logs"
# only the directories named after a format: other tests may keep their own samples here
SAMPLES = sorted(p for p in DATA.glob("*/*") if p.is_file() and p.parent.name in FORMATS)
CTX = ParseContext(reference_time=datetime(2024, 1, 5, 12, 0))


def _lines(path: Path) -> list[str]:
    return path.read_bytes().decode("utf-8", "replace").split("\n")


def _starts(data: bytes) -> np.ndarray:
    buf = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], nl + 1)).astype(np.int64)
    if len(data) and data.endswith(b"\n"):
        starts = starts[:-1]  # no line after the final newline
    return starts


def _records(path: Path, fmt_name: str | None = None) -> list[tuple[int, int, str]]:
    """(first_line, last_line, text) per record, grouped with the vectorised record_starts."""
    data = path.read_bytes()
    fmt = get_format(fmt_name or path.parent.name)
    starts = _starts(data)
    flags = fmt.record_starts(np.frombuffer(data, dtype=np.uint8), starts)
    lines = data.decode("utf-8", "replace").split("\n")[: len(starts)]
    out: list[tuple[int, int, str]] = []
    for i, line in enumerate(lines):
        if flags[i] or not out:
            out.append((i, i, line))
        else:
            first, _, text = out[-1]
            out[-1] = (first, i, text + "\n" + line)
    return out


def _parse_records(path: Path) -> list[Fields]:
    fmt = get_format(path.parent.name)
    return [fmt.parse(text, CTX) for _, _, text in _records(path)]


# ------------------------------------------------------------------------------- detection


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_detection_picks_the_directory_format(path: Path) -> None:
    assert detect_format(_lines(path)).name == path.parent.name


def test_detection_of_nothing_is_plain() -> None:
    assert detect_format([]).name == "plain"
    assert detect_format(["", "   ", ""]).name == "plain"
    assert detect_format(["hello", "world"]).name == "plain"


def test_formats_registry_order_and_lookup() -> None:
    assert list(FORMATS) == [
        "rfc5424", "rfc3164", "journald-json", "jsonl", "logfmt", "access", "apache-error",
        "uwsgi", "w3c", "zeek", "postgres", "postgres-csv", "mysql", "mysql-general", "redis",
        "dpkg", "apt", "logcat", "glog", "strace", "tai64n", "vdsm", "python", "java",
        "iso-level", "timestamped", "plain"]
    assert get_format("java") is FORMATS["java"]
    with pytest.raises(LogFormatError, match="Known formats: rfc5424"):
        get_format("nope")


# ------------------------------------------------------------------------------- record grouping


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_record_starts_agree_with_is_record_start(path: Path) -> None:
    data = path.read_bytes()
    starts = _starts(data)
    lines = data.decode("utf-8", "replace").split("\n")[: len(starts)]
    for fmt in FORMATS.values():
        vec = fmt.record_starts(np.frombuffer(data, dtype=np.uint8), starts)
        ref = [fmt.is_record_start(line) for line in lines]
        assert vec.tolist() == ref, fmt.name


def test_record_starts_without_final_newline_and_empty_lines() -> None:
    data = b"2024-01-02 03:04:05,1 - a - INFO - x\n\n  cont\n2024-01-02"
    starts = _starts(data)
    fmt = FORMATS["python"]
    got = fmt.record_starts(np.frombuffer(data, dtype=np.uint8), starts).tolist()
    # the last line has no newline and ends exactly after the date: still a record start
    assert got == [True, False, False, True]
    data2 = b"x\n2024-01-02"
    got2 = FORMATS["iso-level"].record_starts(np.frombuffer(data2, dtype=np.uint8), _starts(data2))
    assert got2.tolist() == [False, True]
    assert FORMATS["iso-level"].is_record_start("2024-01-02")


@pytest.mark.parametrize(("name", "expected"), [
    ("python/app-default.log", [(0, 0), (1, 1), (2, 16), (17, 17), (18, 18), (19, 21)]),
    ("python/basic-config.log", [(0, 0), (1, 1), (2, 8), (9, 9), (10, 10)]),
    ("python/flask.log", [(0, 0), (1, 5), (6, 6)]),
    ("java/logback.log", [(0, 0), (1, 1), (2, 12), (13, 13), (14, 16), (17, 17)]),
    ("java/log4j-iso.log", [(0, 0), (1, 5), (6, 6)]),
    ("java/spring-boot.log", [(0, 0), (1, 1), (2, 4)]),
    ("iso-level/service.log", [(0, 0), (1, 1), (2, 4), (5, 5), (6, 6), (7, 7)]),
])
def test_multiline_grouping(name: str, expected: list[tuple[int, int]]) -> None:
    assert [(a, b) for a, b, _ in _records(DATA / name)] == expected


def test_single_line_formats_one_record_per_line() -> None:
    for name in ("rfc3164/messages-newyear.log", "access/nginx-combined.log",
                 "jsonl/app.jsonl", "apache-error/nginx-error.log"):
        path = DATA / name
        assert len(_records(path)) == len(_starts(path.read_bytes()))


# ------------------------------------------------------------------------------- fields


def test_rfc5424_fields() -> None:
    recs = _parse_records(DATA / "rfc5424/rsyslog-protocol23.log")
    r = recs[0]
    assert r.timestamp == datetime(2003, 10, 11, 22, 14, 15, 3000, tzinfo=UTC)
    assert (r.level, r.host, r.source, r.pid) == (Level.CRITICAL, "mymachine.example.com", "su",
                                                   None)
    assert r.extra == {"facility": "4", "msgid": "ID47"}
    r = recs[1]
    assert r.timestamp == datetime(2003, 8, 24, 5, 14, 15, 3,
                                   tzinfo=timezone(timedelta(hours=-7)))
    assert (r.level, r.pid, r.message) == (Level.NOTICE, 8710,
                                           "%% It's time to make the do-nuts.")
    assert recs[2].extra["exampleSDID@32473.eventSource"] == "Application"
    assert recs[2].message == "An application event log entry..."
    assert recs[3].extra["examplePriority@32473.class"] == "high" and recs[3].message == ""
    assert recs[4].extra["meta.note"] == 'a "quoted" value'
    assert recs[4].level is Level.ERROR and recs[4].pid == 4242
    nil = recs[5]
    assert (nil.timestamp, nil.host, nil.source, nil.pid) == (None, "", "", None)
    assert nil.message == "message with every header field nil"
    assert recs[6].extra["msgid"] == "CMD"


def test_rfc3164_fields_and_new_year() -> None:
    recs = _parse_records(DATA / "rfc3164/messages-newyear.log")
    assert recs[0].timestamp == datetime(2023, 12, 31, 23, 58, 1)  # file written Jan 2024
    assert recs[1].timestamp == datetime(2023, 12, 31, 23, 59, 59)
    assert (recs[1].host, recs[1].source, recs[1].pid, recs[1].level) == (
        "web1", "sshd", 1234, Level.ERROR)
    assert recs[1].message.startswith("error: Failed password for invalid user admin")
    assert recs[2].timestamp == datetime(2024, 1, 1, 0, 0, 1)
    assert (recs[3].source, recs[3].pid) == ("kernel", None)
    assert (recs[4].source, recs[4].level) == ("postfix/smtpd", Level.WARNING)
    assert recs[6].source == "org.gnome.Shell.desktop" and recs[6].host == "db-1"
    assert recs[7].message.startswith("   alice : TTY=pts/0")
    assert recs[8].timestamp < recs[7].timestamp  # time going backwards is kept as written
    assert (recs[9].source, recs[9].message) == ("", "-- MARK --")


def test_rfc3164_year_inference_rules() -> None:
    fmt = FORMATS["rfc3164"]
    ctx = ParseContext(reference_time=datetime(2024, 12, 31, 23, 0))
    # within a day after the reference: still this year ... or the next for Jan 1
    assert fmt.parse("Jan  1 10:00:00 h p: x", ctx).timestamp == datetime(2025, 1, 1, 10, 0)
    assert fmt.parse("Jan  2 10:00:00 h p: x", ctx).timestamp == datetime(2024, 1, 2, 10, 0)
    leap = ParseContext(reference_time=datetime(2023, 3, 1))
    assert fmt.parse("Feb 29 01:02:03 h p: x", leap).timestamp == datetime(2020, 2, 29, 1, 2, 3)
    aware = ParseContext(reference_time=datetime(2024, 6, 1, tzinfo=UTC),
                         default_tz=timezone(timedelta(hours=2)))
    ts = fmt.parse("May 31 10:00:00 h p: x", aware).timestamp
    assert ts == datetime(2024, 5, 31, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    assert fmt.parse("Foo 31 10:00:00 h p: x", CTX).timestamp is None
    assert fmt.parse("Feb 31 10:00:00 h p: x", CTX).timestamp is None


def test_rfc3164_iso_variant() -> None:
    recs = _parse_records(DATA / "rfc3164/rsyslog-iso.log")
    assert recs[0].timestamp == datetime(2024, 1, 2, 3, 4, 5, 123456,
                                         tzinfo=timezone(timedelta(hours=1)))
    assert (recs[0].host, recs[0].source, recs[0].pid) == ("app-1", "sshd", 811)
    assert "2001:db8::17" in recs[0].message
    assert recs[3].timestamp == datetime(2024, 1, 2, 2, 4, 8, 250000, tzinfo=UTC)
    assert recs[3].host == "app-2" and recs[3].source == "dockerd"


def test_journald_fields() -> None:
    recs = _parse_records(DATA / "journald-json/journal.json")
    r = recs[0]
    assert r.timestamp == datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert (r.level, r.host, r.source, r.pid) == (Level.INFO, "node-a", "systemd", 1)
    assert r.extra["unit"] == "init.scope" and r.extra["transport"] == "journal"
    assert recs[1].level is Level.ERROR and recs[1].source == "sshd"
    assert recs[2].source == "python3"  # no SYSLOG_IDENTIFIER: _COMM
    assert recs[2].message == "binary\ufffd data"  # MESSAGE as a list of byte values
    assert recs[3].level is Level.CRITICAL and '"VFS"' in recs[3].message
    assert recs[4].level is Level.UNKNOWN and recs[4].pid is None


def test_jsonl_fields() -> None:
    recs = _parse_records(DATA / "jsonl/app.jsonl")
    r = recs[0]
    assert r.timestamp == datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)
    assert (r.level, r.host, r.source, r.pid, r.message) == (
        Level.INFO, "api-1", "http", 77, "server started")
    assert r.extra == {"port": "8080"}
    r = recs[1]
    assert r.timestamp == datetime(2024, 1, 2, 3, 4, 6, 500000, tzinfo=UTC)
    assert r.level is Level.WARNING and r.source == "db.pool"
    assert r.message == 'slow request "GET /x"\nsecond line'
    assert r.extra == {"duration_ms": "1234", "tags": '["a","b"]'}
    r = recs[2]
    assert r.timestamp == datetime(2024, 1, 2, 3, 4, 7, tzinfo=UTC)
    assert (r.level, r.host) == (Level.ERROR, "api-2") and r.extra["error"] == '{"type":"Timeout"}'
    r = recs[3]  # pino: numeric level, epoch milliseconds
    assert (r.level, r.pid, r.host) == (Level.ERROR, 91, "worker-3")
    assert r.timestamp == datetime(2024, 1, 2, 3, 4, 8, tzinfo=UTC)
    r = recs[4]
    assert r.timestamp == datetime(2024, 1, 2, 3, 4, 9, 1000)  # naive: no zone in the log
    assert (r.level, r.source, r.message) == (Level.DEBUG, "structlog.demo", "cache miss")
    assert recs[5] == Fields(message='["not", "an", "object"]')
    assert recs[6].level is Level.INFO and recs[6].message == '{"level": "info"}'
    r = recs[7]
    assert r.timestamp is None and r.level is Level.CRITICAL and r.pid is None
    assert r.extra == {"pid": "abc"}


def test_access_fields() -> None:
    recs = _parse_records(DATA / "access/nginx-combined.log")
    plus2 = timezone(timedelta(hours=2))
    r = recs[0]
    assert r.timestamp == datetime(2023, 10, 10, 13, 55, 36, tzinfo=plus2)
    assert r.level is Level.INFO and r.message == "GET /index.html HTTP/1.1 200"
    assert r.extra["client"] == "192.0.2.10" and r.extra["bytes"] == "2326"
    assert r.extra["referrer"] == "https://example.com/start"
    assert r.extra["agent"].startswith("Mozilla/5.0 (X11")
    r = recs[1]
    assert (r.level, r.extra["client"], r.extra["user"], r.extra["method"]) == (
        Level.WARNING, "2001:db8::1", "alice", "POST")
    r = recs[2]
    assert r.extra["path"] == '/search?q="quoted"&x=1' and r.extra["agent"] == (
        'Mozilla/5.0 "weird" agent')
    r = recs[3]
    assert r.level is Level.ERROR and r.extra["status"] == "502"
    assert r.extra["rest"] == '"10.0.0.9"'
    assert recs[4].level is Level.WARNING and "method" not in recs[4].extra
    assert recs[4].timestamp < recs[3].timestamp
    assert recs[5].extra["client"] == "::1" and recs[5].extra["request"] == "-"
    r = recs[6]
    assert r.extra["vhost"] == "www.example.com:443" and r.extra["client"] == "192.0.2.44"
    assert r.extra["bytes"] == "-" and r.host == "www.example.com:443"
    common = _parse_records(DATA / "access/apache-common.log")
    assert common[0].timestamp == datetime(2000, 10, 10, 13, 55, 36,
                                           tzinfo=timezone(timedelta(hours=-7)))
    assert "referrer" not in common[0].extra and common[0].extra["user"] == "frank"
    assert [r.level for r in common] == [Level.INFO, Level.WARNING, Level.ERROR]


def test_apache_and_nginx_error_fields() -> None:
    recs = _parse_records(DATA / "apache-error/apache24-error.log")
    r = recs[0]
    assert r.timestamp == datetime(2023, 10, 11, 14, 32, 52, 123456)
    assert (r.level, r.source, r.pid) == (Level.ERROR, "core", 1234)
    assert r.extra == {"tid": "140234567890", "client": "192.0.2.1:50412", "code": "AH00124"}
    assert r.message.startswith("Request exceeded the limit")
    assert (recs[1].level, recs[1].source) == (Level.NOTICE, "mpm_event")
    assert recs[2].level is Level.WARNING
    assert recs[3].extra["client"] == "[2001:db8::5]:61000" and "tid" not in recs[3].extra
    assert recs[4].timestamp == datetime(2000, 10, 11, 14, 32, 56) and recs[4].source == ""
    assert recs[4].extra == {"client": "127.0.0.1"}
    ng = _parse_records(DATA / "apache-error/nginx-error.log")
    r = ng[0]
    assert r.timestamp == datetime(2023, 10, 11, 14, 32, 52)
    assert (r.level, r.source, r.pid) == (Level.ERROR, "nginx", 1234)
    assert r.extra["connection"] == "5" and r.extra["client"] == "192.0.2.1"
    assert r.extra["server"] == "example.com" and r.extra["request"] == "GET /api HTTP/1.1"
    assert r.extra["upstream"] == "http://127.0.0.1:8000/api"
    assert [x.level for x in ng[1:]] == [Level.NOTICE, Level.WARNING, Level.CRITICAL,
                                         Level.CRITICAL]


def test_python_fields() -> None:
    recs = _parse_records(DATA / "python/app-default.log")
    r = recs[0]
    assert r.timestamp == datetime(2024, 1, 2, 3, 4, 5, 123000)
    assert (r.level, r.source, r.message) == (Level.INFO, "myapp.server",
                                              "Listening on 0.0.0.0:8000")
    r = recs[2]
    assert r.level is Level.ERROR and r.source == "myapp.handlers"
    assert r.message.startswith("Unhandled error in request /orders/17\nTraceback")
    assert r.message.endswith("ValueError: order 17 not found")
    assert "During handling of the above exception" in r.message
    assert r.extra == {"exception": "ValueError"}
    assert recs[3].timestamp < r.timestamp  # backwards in time
    assert recs[4].level is Level.CRITICAL
    assert recs[5].message == "multi-line message\nwith a second line and\n  an indented third line"
    basic = _parse_records(DATA / "python/basic-config.log")
    assert (basic[0].level, basic[0].source, basic[0].message) == (Level.INFO, "root",
                                                                     "Starting job 7")
    assert basic[0].timestamp is None
    assert basic[2].extra == {"exception": "ZeroDivisionError"}
    flask = _parse_records(DATA / "python/flask.log")
    assert (flask[1].level, flask[1].source) == (Level.ERROR, "app")
    assert flask[1].extra == {"exception": "RuntimeError"}
    ctx = ParseContext(reference_time=CTX.reference_time, default_tz=UTC)
    assert FORMATS["python"].parse("2024-01-02 03:04:05,123 - a - INFO - x", ctx).timestamp == (
        datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=UTC))


def test_java_fields() -> None:
    recs = _parse_records(DATA / "java/logback.log")
    r = recs[0]
    assert r.timestamp == datetime(2024, 1, 2, 3, 4, 5, 123000)
    assert (r.level, r.source, r.extra) == (Level.INFO, "com.example.App", {"thread": "main"})
    r = recs[2]
    assert r.level is Level.ERROR and r.source == "com.example.web.OrderController"
    assert r.message.startswith("Request failed\njava.lang.IllegalStateException: Order 17")
    assert r.message.endswith("\t... 20 more")
    assert r.extra == {"thread": "http-nio-8080-exec-2",
                       "exception": "java.lang.IllegalStateException",
                       "root_cause": "java.net.SocketTimeoutException"}
    assert recs[4].message == "Config dump:\n  db.url=jdbc:postgresql://db/app\n  db.pool=10"
    assert recs[5].level is Level.TRACE and recs[5].timestamp < recs[4].timestamp
    l4j = _parse_records(DATA / "java/log4j-iso.log")
    assert l4j[0].timestamp == datetime(2024, 1, 2, 3, 4, 5, 123000)
    assert l4j[0].source == "org.apache.catalina.startup.Catalina"
    assert l4j[1].source == "com.acme.Importer:88"
    assert l4j[1].message.startswith('Import failed\nfor file "/data/in/batch 7.csv"\n')
    assert l4j[1].extra["exception"] == "java.io.FileNotFoundException"
    assert l4j[2].level is Level.CRITICAL
    spring = _parse_records(DATA / "java/spring-boot.log")
    s = spring[0]
    assert s.timestamp == datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=timezone(timedelta(hours=1)))
    assert (s.level, s.pid, s.source) == (Level.INFO, 12345,
                                          "o.s.b.w.embedded.tomcat.TomcatWebServer")
    assert s.extra["thread"] == "main"
    assert spring[2].extra["exception"] == "java.lang.NullPointerException"
    t = FORMATS["java"].parse("03:04:05.123 [main] INFO  a.B - hi", CTX)
    # a time of day only: on the file's day (CTX's reference), the time as written in extra
    assert (t.timestamp, t.extra["time"], t.message) == (datetime(2024, 1, 5, 3, 4, 5, 123000),
                                                         "03:04:05.123", "hi")


def test_iso_level_fields() -> None:
    recs = _parse_records(DATA / "iso-level/service.log")
    r = recs[0]
    assert r.timestamp == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert (r.level, r.source, r.message) == (Level.INFO, "myservice", "starting up version=2.1")
    assert (recs[1].level, recs[1].message) == (Level.WARNING, "disk /var at 91%")
    assert recs[2].level is Level.ERROR and recs[2].timestamp == datetime(2024, 1, 2, 3, 4, 7)
    assert recs[2].message == "failed to reach 10.0.0.1:5432\n  retrying in 5s\n  attempt 2 of 5"
    assert recs[3].timestamp.utcoffset() == timedelta(hours=5, minutes=30)
    assert (recs[3].level, recs[3].source) == (Level.DEBUG, "worker-7")
    assert recs[4].level is Level.CRITICAL and recs[4].message == "out of file descriptors"
    assert recs[5].level is Level.NOTICE


def test_plain_fields() -> None:
    recs = _parse_records(DATA / "plain/console.txt")
    assert [r.level for r in recs] == [Level.UNKNOWN, Level.UNKNOWN, Level.WARNING,
                                       Level.UNKNOWN, Level.ERROR, Level.ERROR, Level.UNKNOWN]
    assert all(r.timestamp is None for r in recs) and recs[0].message == "Starting build..."


def test_mixed_file_keeps_foreign_lines_as_messages() -> None:
    recs = _parse_records(DATA / "rfc3164/mixed-with-python.log")
    assert recs[0].timestamp == datetime(2023, 3, 3, 10, 0, 1) and recs[0].source == "app"
    assert recs[2].source == "" and "plugin crashed" in recs[2].message  # foreign: no crash
    assert recs[4].source == "systemd"


# ------------------------------------------------------------------------------- odd input

ODD = ["", "\n", "{", "[", "<999>1 x", "<13>1 - - - - - [bad", "Feb 30 25:61:61 h p: x",
       "9999-99-99 99:99:99,999 - a - INFO - x", "2024-02-30T00:00:00Z x ERROR y",
       '{"__REALTIME_TIMESTAMP": "nan", "MESSAGE": [1, "x", null]}',
       '{"time": 1e400, "level": true, "pid": {"pid": "x"}}', "[" * 5000, "{" * 5000,
       "\x00\xff\ufffd", "1.2.3.4 - - [99/Foo/2000:99:99:99 +9999] \"GET\" 200 1",
       "[Wed Foo 99 99:99:99 2000] [x:error] y", "2024/99/99 99:99:99 [error] 1#1: x",
       "03:04:05 [main] INFO a - b", "ERROR::"]


@pytest.mark.parametrize("text", ODD)
def test_odd_input_never_raises(text: str) -> None:
    for fmt in FORMATS.values():
        fields = fmt.parse(text, CTX)
        assert isinstance(fields, Fields)
        fmt.is_record_start(text)
        fmt.sniff([text])
    detect_format([text])


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_parse(text: str) -> None:
    for fmt in FORMATS.values():
        assert isinstance(fmt.parse(text, CTX), Fields)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_record_starts_match_line_test(data: bytes) -> None:
    starts = _starts(data)
    lines = data.decode("utf-8", "replace").split("\n")[: len(starts)]
    buf = np.frombuffer(data, dtype=np.uint8)
    for fmt in FORMATS.values():
        got = fmt.record_starts(buf, starts)
        assert got.dtype == bool and len(got) == len(starts)
        assert got.tolist() == [fmt.is_record_start(ln) for ln in lines], fmt.name


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["2024-01-02 03:04:05,1 - a - INFO - x", "\tat x", "",
                                 "2024-01-0", "INFO:a:b", "[2024-01-02 03:04:05] x", "03:04:05",
                                 "Traceback (most recent call last):", "é2024-01-02"]),
                max_size=30), st.booleans())
def test_fuzz_record_starts_on_log_like_lines(lines: list[str], final_newline: bool) -> None:
    data = "\n".join(lines).encode() + (b"\n" if final_newline and lines else b"")
    starts = _starts(data)
    texts = data.decode().split("\n")[: len(starts)]
    for name in ("python", "java", "iso-level"):
        fmt = FORMATS[name]
        got = fmt.record_starts(np.frombuffer(data, dtype=np.uint8), starts).tolist()
        assert got == [fmt.is_record_start(t) for t in texts]


def test_record_starts_handles_empty_and_clipped_offsets() -> None:
    fmt = FORMATS["java"]
    empty = np.frombuffer(b"", dtype=np.uint8)
    assert fmt.record_starts(empty, np.array([], dtype=np.int64)).tolist() == []
    assert fmt.record_starts(empty, np.array([0], dtype=np.int64)).tolist() == [False]
    buf = np.frombuffer(b"2024-01-02 x", dtype=np.uint8)
    assert fmt.record_starts(buf, np.array([0, 12], dtype=np.int64)).tolist() == [True, False]


# ------------------------------------------------------------------------------- formats from the wild
# The samples were captured from the programs themselves (see tests/data/logs/README.md).


def test_postgres_messages_keep_their_detail_and_statement_lines() -> None:
    path = DATA / "postgres/debian-prefix.log"  # log_line_prefix '%m [%p] %q%u@%d '
    spans = [(a, b) for a, b, _ in _records(path)]
    assert (10, 12) in spans and (14, 15) in spans  # ERROR + DETAIL + STATEMENT, ERROR + STATEMENT
    assert (16, 20) in spans  # a multi-line statement: its raw lines continue the record
    recs = {a: get_format("postgres").parse(t, CTX) for a, _, t in _records(path)}
    r = recs[10]
    assert r.timestamp == datetime(2026, 12, 5, 10, 18, 0, 901000, tzinfo=UTC)
    assert (r.level, r.source, r.pid) == (Level.ERROR, "postgres", 28145)
    assert r.message.split("\n") == ['duplicate key value violates unique constraint "t_pkey"',
                                     "DETAIL:  Key (id)=(1) already exists.",
                                     "STATEMENT:  INSERT INTO t VALUES (1, 'again');"]
    assert r.extra == {"user": "postgres", "db": "postgres",
                       "detail": "Key (id)=(1) already exists.",
                       "statement": "INSERT INTO t VALUES (1, 'again');"}
    assert recs[16].message.startswith("statement: SELECT id,\n\t       name\n")
    assert recs[22].level is Level.WARNING and recs[22].extra["context"].startswith("PL/pgSQL")
    assert recs[29].level is Level.DEBUG  # DEBUG1..5
    assert recs[45].level is Level.CRITICAL and recs[45].extra["user"] == "nosuchuser"  # FATAL
    assert recs[0].level is Level.INFO and "user" not in recs[0].extra  # LOG, no user yet


def test_postgres_prefix_variants() -> None:
    verbose = _parse_records(DATA / "postgres/pgbadger-verbose.log")  # '%t [%p]: [%l-1] user=..'
    assert verbose[0].timestamp == datetime(2026, 12, 5, 10, 18, 1, tzinfo=UTC)
    assert verbose[0].extra == {"sqlstate": "00000", "location": "PostmasterMain, postmaster.c:1203"}
    assert verbose[0].message.endswith("\nLOCATION:  PostmasterMain, postmaster.c:1203")
    errors = [r for r in verbose if r.level is Level.ERROR]
    assert errors and errors[0].extra["sqlstate"] == "23505"
    assert errors[0].extra["user"] == "postgres" and errors[0].extra["app"] == "psql"
    rds = _parse_records(DATA / "postgres/rds-prefix.log")  # '%t:%r:%u@%d:[%p]:', PST
    assert rds[0].timestamp == datetime(2026, 12, 5, 2, 18, 10, tzinfo=timezone(timedelta(hours=-8)))
    assert rds[0].pid == 28478
    fatal = [r for r in rds if r.level is Level.CRITICAL]
    assert fatal[0].extra["user"] == "nosuchuser" and fatal[0].extra["db"] == "postgres"
    lnav = _parse_records(DATA / "postgres/lnav-postgres.log")  # PDT, blank lines between
    assert lnav[0].timestamp.utcoffset() == timedelta(hours=-7)
    assert all(r.timestamp is not None for r in lnav if r.message.strip())


def test_postgres_csvlog() -> None:
    recs = _parse_records(DATA / "postgres-csv/csvlog.csv")
    spans = [(a, b) for a, b, _ in _records(DATA / "postgres-csv/csvlog.csv")]
    assert (15, 19) in spans  # a quoted multi-line statement
    err = next(r for r in recs if r.level is Level.ERROR)
    assert err.message == 'duplicate key value violates unique constraint "t_pkey"'
    assert (err.pid, err.extra["sqlstate"], err.extra["detail"]) == (
        28247, "23505", "Key (id)=(1) already exists.")
    assert err.extra["query"] == "INSERT INTO t VALUES (1, 'one');"
    assert err.timestamp == datetime(2026, 12, 5, 10, 18, 2, 188000, tzinfo=UTC)
    assert recs[0].extra["hint"].startswith("Future log output")


def test_mysql_and_mariadb_error_logs() -> None:
    recs = _parse_records(DATA / "mysql/mariadb-10.11-error.log")
    assert recs[0].timestamp == datetime(2026, 12, 5, 10, 18, 28) and recs[0].level is Level.INFO
    innodb = next(r for r in recs if r.source == "InnoDB")
    assert innodb.message.startswith("Compressed tables use zlib")
    ready = next(r for r in recs if r.message.startswith("ready for connections"))
    assert ready.source == "mariadbd" and ready.message.split("\n")[1].startswith("Version: '10")
    denied = next(r for r in recs if "Access denied" in r.message)
    assert (denied.level, denied.extra) == (Level.WARNING, {"thread": "4"})
    my8 = _parse_records(DATA / "mysql/lnav-mysql8-error.log")
    assert my8[1].timestamp == datetime(2020, 8, 6, 14, 25, 2, 936146, tzinfo=UTC)
    assert (my8[1].level, my8[1].source, my8[1].extra) == (
        Level.WARNING, "Server", {"thread": "0", "code": "MY-010068"})
    old = get_format("mysql").parse("130107  9:35:51 [ERROR] Can't open the mysql.plugin table", CTX)
    assert (old.timestamp, old.level) == (datetime(2013, 1, 7, 9, 35, 51), Level.ERROR)


def test_mysql_general_log() -> None:
    maria = _parse_records(DATA / "mysql-general/mariadb-10.11-general.log")
    assert maria[0].timestamp is None and maria[0].message.startswith("mariadbd, Version:")
    assert (maria[1].timestamp, maria[1].source, maria[1].message, maria[1].extra) == (
        datetime(2026, 12, 5, 10, 18, 32), "Connect", "root@localhost on  using Socket",
        {"connection": "3"})
    # MariaDB writes the time only when it changes: these lines have none of their own
    assert (maria[2].timestamp, maria[2].source, maria[2].message) == (None, "Query",
                                                                       "CREATE DATABASE d")
    my8 = _parse_records(DATA / "mysql-general/lnav-mysql8-general.log")
    assert all(r.timestamp is not None for r in my8[1:])
    assert (my8[7].source, my8[7].message) == ("Init DB", "testdb1")


def test_redis() -> None:
    recs = _parse_records(DATA / "redis/redis-7.0.log")
    assert (recs[0].timestamp, recs[0].level, recs[0].pid, recs[0].extra) == (
        datetime(2026, 12, 5, 10, 36, 53, 529000), Level.WARNING, 29095, {"role": "child"})
    assert recs[3].level is Level.NOTICE and recs[3].extra["role"] == "master"
    assert recs[8].level is Level.DEBUG and recs[8].message == "Accepted 127.0.0.1:55060"


def test_dpkg_and_alternatives() -> None:
    recs = _parse_records(DATA / "dpkg/dpkg.log")
    assert (recs[1].timestamp, recs[1].source, recs[1].extra) == (
        datetime(2025, 6, 24, 14, 36, 25), "dpkg",
        {"action": "upgrade", "package": "libsystemd0:amd64"})
    assert recs[2].extra == {"action": "status", "status": "triggers-pending",
                             "package": "libc-bin:amd64"}
    alt = _parse_records(DATA / "dpkg/alternatives.log")
    assert (alt[1].source, alt[1].message) == ("update-alternatives",
                                               "link group pager updated to point to /usr/bin/less")
    assert all(r.timestamp is not None for r in recs + alt)


def test_apt_history_and_term_logs() -> None:
    hist = _records(DATA / "apt/history.log")
    assert [(a, b) for a, b, _ in hist] == [(0, 0), (1, 5), (6, 9)]  # a blank first line
    r = get_format("apt").parse(hist[1][2], CTX)
    assert (r.timestamp, r.source) == (datetime(2025, 6, 24, 14, 36, 25), "apt")
    assert r.message.startswith("Commandline: apt-get -qqy upgrade\nUpgrade: libsystemd0")
    assert r.extra == {"commandline": "apt-get -qqy upgrade", "end": "2025-06-24  14:36:25"}
    term = _parse_records(DATA / "apt/term.log")
    assert term[1].timestamp == datetime(2025, 6, 24, 14, 36, 25)
    assert "\r(Reading database ... 5%" in term[1].message  # dpkg's progress, as written


def test_logcat_threadtime_and_brief() -> None:
    tt = _parse_records(DATA / "logcat/loghub-android-threadtime.log")
    assert tt[0].timestamp == datetime(2023, 3, 17, 16, 13, 38, 811000)  # year from the mtime
    assert (tt[0].level, tt[0].source, tt[0].pid, tt[0].extra) == (
        Level.DEBUG, "WindowManager", 1702, {"tid": "2395"})
    assert tt[0].message.startswith("printFreezingDisplayLogsopening app wtoken")
    brief = _parse_records(DATA / "logcat/loghub-android-as-brief.log")
    # the Loghub file has CRLF line ends (stripped by LogFile before parsing)
    assert [(b.level, b.source, b.pid, b.message) for b in brief] == [
        (t.level, t.source, t.pid, t.message.rstrip("\r")) for t in tt]
    assert all(b.timestamp is None for b in brief)  # brief has no time
    fmt = get_format("logcat")
    t = fmt.parse("03-17 16:13:38.811 W/ActivityManager(  585): Slow operation", CTX)
    assert (t.timestamp, t.level, t.source, t.pid) == (
        datetime(2023, 3, 17, 16, 13, 38, 811000), Level.WARNING, "ActivityManager", 585)
    y = fmt.parse("2024-01-02 03:04:05.678  1000  1702  1702 E Tag  : boom", CTX)
    assert (y.timestamp, y.extra, y.source) == (datetime(2024, 1, 2, 3, 4, 5, 678000),
                                                {"tid": "1702", "uid": "1000"}, "Tag")
    assert fmt.parse("--------- beginning of main", CTX) == Fields(
        message="--------- beginning of main")


def test_glog() -> None:
    spans = [(a, b) for a, b, _ in _records(DATA / "glog/glog-0.6-app.INFO.log")]
    assert spans[0] == (0, 3) and (8, 10) in spans  # the header; a message with newlines
    recs = _parse_records(DATA / "glog/glog-0.6-app.INFO.log")
    assert recs[0].timestamp == datetime(2026, 12, 5, 10, 19, 47)  # "Log file created at:"
    assert (recs[2].timestamp, recs[2].level, recs[2].source, recs[2].extra) == (
        datetime(2026, 12, 5, 10, 19, 47, 269693), Level.WARNING, "main.cc:8",
        {"thread": "30593"})
    assert recs[5].message == "multi-line message\nsecond line of it\nthird line"
    old = _parse_records(DATA / "glog/lnav-glog-unittest.log")  # glog < 0.7: no year
    assert (old[0].timestamp, old[0].level) == (datetime(2023, 5, 17, 15, 4, 22, 619632),
                                                Level.ERROR)
    assert old[4].extra == {"thread": "452992"}


def test_strace() -> None:
    recs = _parse_records(DATA / "strace/sh-f-tt.log")  # strace -f -tt -o: "PID time call"
    # -tt writes no date: the file's day (CTX's reference: 2024-01-05)
    assert (recs[0].timestamp, recs[0].source, recs[0].pid, recs[0].level) == (
        datetime(2024, 1, 5, 10, 19, 38, 314581), "execve", 30459, Level.INFO)
    assert (recs[3].level, recs[3].source, recs[3].extra) == (Level.ERROR, "access",
                                                              {"errno": "ENOENT"})
    assert recs[-1].message == "+++ exited with 0 +++" and recs[-1].level is Level.INFO
    ttt = _parse_records(DATA / "strace/cat-ttt.log")
    assert ttt[0].timestamp == datetime(2026, 12, 5, 10, 19, 38, 299135, tzinfo=UTC)
    fmt = get_format("strace")
    late = fmt.parse("23:59:58.000001 read(0, \"\", 4096) = 0", CTX)
    assert late.timestamp == datetime(2024, 1, 4, 23, 59, 58, 1)  # after the mtime: the day before
    assert fmt.parse("[pid  4242] 10:00:00.5 --- SIGCHLD {si_signo=SIGCHLD} ---", CTX).level is (
        Level.WARNING)
    assert fmt.parse("10:00:00 +++ killed by SIGKILL +++", CTX).level is Level.CRITICAL
    resumed = fmt.parse("4242 10:00:00.1 <... read resumed>\"x\", 1) = -1 EAGAIN (busy)", CTX)
    assert (resumed.source, resumed.pid, resumed.extra) == ("read", 4242, {"errno": "EAGAIN"})


def test_tai64n() -> None:
    recs = _parse_records(DATA / "tai64n/daemontools-tai64n.log")
    # what daemontools' tai64nlocal printed for these lines (TZ=UTC): 10:21:05.017348500
    assert recs[0].timestamp == datetime(2026, 12, 5, 10, 21, 5, 17348, tzinfo=UTC)
    assert (recs[1].level, recs[1].message) == (Level.WARNING, "low disk")
    assert (recs[2].source, recs[2].message) == (
        "ls", "cannot access '/nope': No such file or directory")
    svlogd = _parse_records(DATA / "tai64n/svlogd-t-current.log")
    assert svlogd[1].level is Level.CRITICAL and svlogd[1].message == "bye"


def test_vdsm() -> None:
    recs = _parse_records(DATA / "vdsm/lnav-vdsm.log")
    assert [r.level for r in recs] == [Level.INFO, Level.ERROR, Level.DEBUG, Level.DEBUG,
                                       Level.INFO]
    assert recs[1].message.startswith("Traceback (most recent call last):\nFile")
    assert recs[1].message.endswith("No such file or directory")
    assert recs[3].extra == {"thread": "Thread-16", "module": "clientIF", "line": "225",
                             "function": "wrapper"}
    assert recs[4].timestamp == datetime(2011, 12, 7, 12, 14, 15, 18000)


def test_uwsgi() -> None:
    spans = [(a, b) for a, b, _ in _records(DATA / "uwsgi/uwsgi-2.0-default.log")]
    assert spans[0] == (0, 36)  # the banner: undated lines after "*** Starting uWSGI"
    recs = _parse_records(DATA / "uwsgi/uwsgi-2.0-default.log")
    assert recs[0].timestamp == datetime(2026, 12, 5, 10, 19, 12)
    r = recs[3]
    assert (r.timestamp, r.level, r.pid, r.message.split("\n")[0]) == (
        datetime(2026, 12, 5, 10, 19, 14), Level.ERROR, 29759, "GET /boom 500")
    assert r.extra == {"client": "127.0.0.1", "status": "500", "bytes": "0", "duration_ms": "0",
                       "request": "2/3", "method": "GET", "path": "/boom"}
    dated = _parse_records(DATA / "uwsgi/uwsgi-2.0-log-date.log")  # --log-date
    assert all(d.timestamp is not None for d in dated)
    warn = next(d for d in dated if d.level is Level.WARNING)
    assert warn.message.startswith("you are running uWSGI as root")


def test_w3c_reads_its_columns_from_the_header() -> None:
    path = DATA / "w3c/lnav-iis.log"
    fmt = detect_format(_lines(path))
    assert fmt.name == "w3c" and fmt is not FORMATS["w3c"]
    assert fmt.fields[:3] == ("date", "time", "c-ip")  # type: ignore[attr-defined]
    text = path.read_text().split("\n")[4]
    r = fmt.parse(text, CTX)
    assert (r.timestamp, r.level, r.message) == (datetime(2002, 5, 2, 17, 42, 15, tzinfo=UTC),
                                                 Level.INFO, "GET /images/picture.jpg 200")
    assert r.extra["c-ip"] == "172.22.255.255" and "cs-username" not in r.extra  # "-"
    # without the header (the format given by name): IIS's default columns
    iis = FORMATS["w3c"].parse("2024-01-02 03:04:05 10.0.0.1 GET /a.aspx q=1 443 - 192.0.2.7 "
                               "Mozilla/5.0 - 500 0 0 1234", CTX)
    assert (iis.level, iis.message, iis.extra["time-taken"]) == (Level.ERROR, "GET /a.aspx 500",
                                                                 "1234")


def test_zeek() -> None:
    path = DATA / "zeek/lnav-conn.log"
    fmt = detect_format(_lines(path))
    assert fmt.name == "zeek"
    recs = [fmt.parse(t, CTX) for _, _, t in _records(path)]
    assert recs[0].timestamp is None and recs[0].message.startswith("#separator")  # the header
    r = recs[1]
    assert (r.timestamp, r.source) == (datetime(2011, 11, 3, 0, 19, 14, 496300, tzinfo=UTC),
                                       "conn")
    assert r.extra["id.resp_h"] == "208.85.42.28" and r.extra["conn_state"] == "SF"
    assert r.message.startswith("uid=Cg9xqq3JAcZusspA86 id.orig_h=192.168.2.76")
    assert recs[-1].timestamp == datetime(2017, 4, 16, 21, 36, 10)  # #close


def test_logfmt() -> None:
    recs = _parse_records(DATA / "logfmt/lnav-logrus.log")
    r = recs[1]
    assert (r.timestamp, r.level, r.message) == (
        datetime(2021, 9, 15, 21, 17, 11, 674149, tzinfo=UTC), Level.WARNING,
        "Failed to DeletePod in the provider")
    assert r.extra["error"].endswith("is not found: PodNotFound")
    assert recs[0].extra["reason"] == ""
    x = FORMATS["logfmt"].parse('ts=1700000000.5 lvl=info caller=main.go:12 msg="a \\"b\\""', CTX)
    assert (x.timestamp, x.source, x.message) == (
        datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC), "main.go:12", 'a "b"')


def test_java_relatives() -> None:
    hdfs = _parse_records(DATA / "java/loghub-hdfs.log")
    assert (hdfs[0].timestamp, hdfs[0].pid, hdfs[0].level, hdfs[0].source, hdfs[0].message) == (
        datetime(2008, 11, 9, 20, 36, 15), 148, Level.INFO, "dfs.DataNode$PacketResponder",
        "PacketResponder 1 for block blk_38865049064139660 terminating")
    spark = _parse_records(DATA / "java/lnav-spark.log")
    assert (spark[0].timestamp, spark[0].source) == (datetime(2017, 6, 9, 20, 10, 40),
                                                     "executor.CoarseGrainedExecutorBackend")
    tomcat = _records(DATA / "java/tomcat10-catalina.log")
    severe = [(a, b, get_format("java").parse(t, CTX)) for a, b, t in tomcat
              if " SEVERE " in t.split("\n")[0]]
    a, b, r = severe[0]
    assert (a, b) == (32, 44) and r.level is Level.ERROR
    assert r.timestamp == datetime(2026, 12, 5, 10, 20, 26, 829000)
    assert r.source == "org.apache.tomcat.util.digester.Digester.fatalError"
    assert r.extra == {"thread": "main", "exception": "org.xml.sax.SAXParseException"}
    zk = get_format("java").parse(
        "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:"
        "FastLeaderElection@774] - Notification time out: 3200", CTX)
    assert (zk.level, zk.source, zk.extra["thread"], zk.message) == (
        Level.INFO, "FastLeaderElection@774", "QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181",
        "Notification time out: 3200")
    log4j_date = get_format("java").parse("05 Dec 2026 10:20:26,829 WARN [main] a.B - x", CTX)
    assert log4j_date.timestamp == datetime(2026, 12, 5, 10, 20, 26, 829000)


def test_apache_error_variants() -> None:
    recs = _parse_records(DATA / "apache-error/apache-2.4.71-debug.log")
    assert recs[4].extra["src"] == "mod_proxy.c(1467)" and recs[4].extra["code"] == "AH01143"
    assert recs[9].extra["errno"] == "111" and recs[9].extra["error"] == "Connection refused"
    assert recs[9].message == "http: attempt to connect to 127.0.0.1:9 (127.0.0.1:9) failed"
    # a CGI script's stderr has no header: it continues the record before
    assert recs[13].message.endswith("\noops to stderr")


def test_syslog_continuation_lines_and_header() -> None:
    spans = [(a, b) for a, b, _ in _records(DATA / "rfc3164/rsyslog-5424-input-multiline.log")]
    assert spans[2] == (2, 5)
    recs = _parse_records(DATA / "rfc3164/rsyslog-5424-input-multiline.log")
    # rsyslog writes "tag[pid] " without a colon for a message it received as RFC 5424
    assert (recs[1].source, recs[1].pid, recs[1].message) == ("myapp", 4242, "disk usage at 91%")
    assert recs[2].message.endswith("\nValueError: bad value")
    head = _records(DATA / "rfc3164/lnav-with-header.log")
    assert [(a, b) for a, b, _ in head][:2] == [(0, 1), (2, 2)]
    nopri = _parse_records(DATA / "rfc5424/rsyslog-8.2302-no-pri.log")
    assert (nopri[1].timestamp, nopri[1].source, nopri[1].pid) == (
        datetime(2026, 12, 5, 10, 23, 53, 305807, tzinfo=UTC), "myapp", 4242)
    assert nopri[2].message.endswith("\nValueError: bad value")
    assert nopri[5].level is Level.DEBUG  # no PRI: "debug: ..." leading the message
    with_pri = _parse_records(DATA / "rfc5424/rsyslog-8.2302-multiline.log")
    assert [r.level for r in with_pri[:4]] == [Level.INFO, Level.WARNING, Level.ERROR,
                                               Level.CRITICAL]


def test_iso_level_words_in_the_wild() -> None:
    recs = _parse_records(DATA / "iso-level/lnav-leveltest.log")
    assert [r.level for r in recs] == [Level.TRACE, Level.DEBUG, Level.DEBUG, Level.DEBUG,
                                       Level.INFO, Level.WARNING, Level.CRITICAL, Level.UNKNOWN]
    assert recs[7].timestamp == datetime(2016, 6, 30, 12, 0, 8)  # no level word: still dated
    assert recs[7].message == "invalid invalidmessage"
    laravel = get_format("iso-level").parse(
        "[2023-05-15 18:19:49] local.EMERGENCY: Unable to create configured logger.", CTX)
    assert (laravel.level, laravel.source) == (Level.CRITICAL, "local")


# ------------------------------------------------------------------------------- the fallback

@pytest.mark.parametrize(("line", "when", "level", "source", "pid", "message"), [
    # svlogd -tt (a real capture in tests/data/logs/timestamped)
    ("2026-12-05_10:37:01.95948 ERROR: cannot connect", datetime(2026, 12, 5, 10, 37, 1, 959480),
     Level.ERROR, "", None, "cannot connect"),
    # Loghub BGL (attribution in tests/logs/wild/README.md): epoch after a flag, level 7 fields in
    (("- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 "
      "R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected"),
     datetime(2005, 6, 3, 22, 42, 50, tzinfo=UTC), Level.INFO, "", None,
     "instruction cache parity error corrected"),
    # Loghub HealthApp: ISO basic date, ':' before the milliseconds, '|' header fields
    ("20171223-22:16:0:119|Step_LSC|30002312|processHandleBroadcastAction action:x",
     datetime(2017, 12, 23, 22, 16, 0, 119000), Level.UNKNOWN, "Step_LSC", 30002312,
     "processHandleBroadcastAction action:x"),
    # Loghub OpenStack: a file name before the time, pid and level after it
    ("nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi x",
     datetime(2017, 5, 16, 0, 0, 0, 8000), Level.INFO, "", 25746, "nova.osapi x"),
    # Loghub Proxifier: month.day in brackets, no year (from the reference: 2023)
    ("[10.30 16:49:06] chrome.exe - proxy.example:5070 open through proxy",
     datetime(2023, 10, 30, 16, 49, 6), Level.UNKNOWN, "chrome.exe", None,
     "proxy.example:5070 open through proxy"),
    # oslo.log: pid, level, a dotted logger and the request context are header fields
    (("2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38 113d - - -] "
      "10.11.10.1 \"GET /v2/servers/detail HTTP/1.1\" status: 200"),
     datetime(2017, 5, 16, 0, 0, 0, 8000), Level.INFO, "nova.osapi_compute.wsgi.server", 25746,
     '10.11.10.1 "GET /v2/servers/detail HTTP/1.1" status: 200'),
    ("1428634687123 Hello, World!", datetime(2015, 4, 10, 2, 58, 7, 123000, tzinfo=UTC),
     Level.UNKNOWN, "", None, "Hello, World!"),  # epoch milliseconds
    ("update-alternatives 2025-06-24 14:36:53: run with --quiet",
     datetime(2025, 6, 24, 14, 36, 53), Level.UNKNOWN, "update-alternatives", None,
     "run with --quiet"),
    ("05.12.2026 10:19:52,297 [warn] disk", datetime(2026, 12, 5, 10, 19, 52, 297000),
     Level.WARNING, "", None, "disk"),
    ("12/25/2023 11:04:05 PM Information  started", datetime(2023, 12, 25, 23, 4, 5),
     Level.INFO, "", None, "started"),
    ("Tue Jan  2 03:04:05 2024 - worker connection error from x", datetime(2024, 1, 2, 3, 4, 5),
     Level.UNKNOWN, "", None, "worker connection error from x"),  # a lower-case word deep in
    ("10/Oct/2000:13:55:36 -0700 GET /", datetime(2000, 10, 10, 13, 55, 36,
                                                  tzinfo=timezone(timedelta(hours=-7))),
     Level.UNKNOWN, "", None, "GET /"),
    ("@400000006b13e957394fedac fatal: bye", datetime(2026, 12, 5, 10, 37, 1, 961539, tzinfo=UTC),
     Level.CRITICAL, "", None, "bye"),
    ("2024-01-02T03:04:05.5+05:30 myhost kernel: EMERGENCY oops",
     datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=timezone(timedelta(hours=5, minutes=30))),
     Level.CRITICAL, "", None, "oops"),
])
def test_timestamped_fallback(line: str, when: datetime, level: Level, source: str,
                              pid: int | None, message: str) -> None:
    fmt = FORMATS["timestamped"]
    assert fmt.is_record_start(line)
    f = fmt.parse(line, CTX)
    assert (f.timestamp, f.level, f.source, f.pid, f.message) == (when, level, source, pid,
                                                                  message)


def test_timestamped_fallback_odd_and_continuation() -> None:
    fmt = FORMATS["timestamped"]
    for text in ("no time here", "  at frame", "99:99:99 x", "2024-13-45 25:61:61 x", "123 456"):
        assert not fmt.is_record_start(text)
    assert fmt.parse("2024-02-30 10:00:00 impossible day", CTX).timestamp is None
    f = fmt.parse("2024-01-02 03:04:05 [error] first\n  second line", CTX)
    assert (f.level, f.message) == (Level.ERROR, "first\n  second line")
    # a file that only the fallback explains is detected as such, not as plain
    lines = ["- 1117838570 2005.06.03 R02 RAS KERNEL INFO a b c"] * 3 + ["plain trailer"]
    assert detect_format(lines).name == "timestamped"
    # ... but a dedicated format that fits as well wins
    assert detect_format(_lines(DATA / "rfc3164/mixed-with-python.log")).name == "rfc3164"


def test_unrecognised_dated_lines_still_get_their_time() -> None:
    # a foreign line in a syslog file, a java record in an unknown layout
    f = FORMATS["rfc3164"].parse("2024-03-03 10:00:03,000 - plugin.x - ERROR - plugin crashed",
                                 CTX)
    assert (f.timestamp, f.level, f.message) == (datetime(2024, 3, 3, 10, 0, 3), Level.ERROR,
                                                 "plugin crashed")
    j = FORMATS["java"].parse("2024-01-02 03:04:05,123 something else entirely", CTX)
    assert j.timestamp == datetime(2024, 1, 2, 3, 4, 5, 123000)


def test_level_words() -> None:
    assert [Level.parse(w) for w in ("debug2", "DEBUG5", "trace3", "Note", "FAILURE", "LOG",
                                     "EMERGENCY")] == [
        Level.DEBUG, Level.DEBUG, Level.TRACE, Level.INFO, Level.ERROR, Level.INFO,
        Level.CRITICAL]
    assert Level.parse("e1") is Level.UNKNOWN and Level.parse("xx9") is Level.UNKNOWN


def test_zone_abbreviations_and_times_of_day() -> None:
    from diagkit.logs.formats._base import _iso, _time_of_day

    assert _iso("2026-12-05 10:18:00.787 UTC", CTX) == datetime(2026, 12, 5, 10, 18, 0, 787000,
                                                                tzinfo=UTC)
    assert _iso("2026-12-05 11:18:11 CET", CTX).utcoffset() == timedelta(hours=1)
    assert _iso("2026-12-05 02:18:10 CST", CTX) == datetime(2026, 12, 5, 2, 18, 10)  # ambiguous
    assert _iso("2026-12-05 02:18:10 XYZW", CTX) == datetime(2026, 12, 5, 2, 18, 10)
    assert _time_of_day(11, 0, 0, 0, CTX) == datetime(2024, 1, 5, 11, 0)
    assert _time_of_day(13, 30, 0, 0, CTX) == datetime(2024, 1, 4, 13, 30)  # > mtime + 1 h


PG_LINES = ["2024-01-02 03:04:05.123 UTC [1] LOG:  x", "2024-01-02 03:04:05 UTC [1] DETAIL:  y",
            "2024-01-02 03:04:05 UTC [1] user@db HINT:  z:  w", "\t  AND a = 1", "",
            "2024-01-02 03:04:05 UTC [1] ERROR:  a DETAIL:  b", "DETAIL:  at start",
            "2024-01-02 03:04:05 x:DETAIL:  y", "2024-01-02 é DETAIL:  y", "2024-01-02",
            "MainThread::INFO::2024-01-02 03:04:05,000::m::1::l::(f) x",
            "[10.30 16:49:06] x", "- 1117838570 x", "nova 2017-05-16 00:00:00.008 1 INFO x"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(PG_LINES), max_size=30), st.booleans())
def test_fuzz_regex_and_part_record_starts(lines: list[str], final_newline: bool) -> None:
    data = "\n".join(lines).encode() + (b"\n" if final_newline and lines else b"")
    starts = _starts(data)
    texts = data.decode().split("\n")[: len(starts)]
    for name in ("postgres", "vdsm", "timestamped", "rfc3164", "glog", "uwsgi"):
        fmt = FORMATS[name]
        got = fmt.record_starts(np.frombuffer(data, dtype=np.uint8), starts).tolist()
        assert got == [fmt.is_record_start(t) for t in texts], name


def test_timestamped_binds_to_a_fixed_start_when_the_sample_has_one() -> None:
    from diagkit.logs.formats._base import RegexStart, StartSpec

    path = DATA / "timestamped/svlogd-tt-current.log"
    fmt = detect_format(_lines(path))
    assert fmt.name == "timestamped" and isinstance(fmt.start_spec, StartSpec)
    generic = FORMATS["timestamped"]
    assert isinstance(generic.start_spec, RegexStart)
    data = path.read_bytes() + b"not dated\n2026-12-05_10:37:02.1 x\n"
    buf, starts = np.frombuffer(data, dtype=np.uint8), _starts(data)
    assert fmt.record_starts(buf, starts).tolist() == generic.record_starts(buf, starts).tolist()
    # prefixes of varying length keep the regex
    mixed = ["- 1117838570 a INFO x", "update-alternatives 2025-06-24 14:36:53: y"] * 3
    assert isinstance(detect_format(mixed).start_spec, RegexStart)


def test_rfc5424_without_pri_and_version() -> None:
    recs = _parse_records(DATA / "rfc5424/lnav-with-zones.log")  # VMware NSX, shortened
    r = recs[0]
    assert (r.timestamp, r.host, r.source, r.pid) == (
        datetime(2022, 8, 27, 14, 22, 1, 613000, tzinfo=UTC), "space01.global-acme.entp", "NSX",
        3106)
    assert r.level is Level.INFO and r.extra["abc@6876.level"] == "INFO"  # no PRI: SD's level
    assert r.message == "keep-alive check received resp"
    assert recs[1].timestamp.utcoffset() == timedelta(hours=3) and recs[1].pid == 20856
    assert recs[2].extra["msgid"] == "SWITCHING"
    # a BSD line with an ISO stamp is not taken for one: its PROCID would be a word
    assert FORMATS["rfc5424"].sniff(_lines(DATA / "rfc3164/rsyslog-iso.log")) < 0.5
