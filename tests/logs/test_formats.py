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
        "uwsgi", "w3c", "zeek", "postgres", "postgres-csv", "mysql", "mysql-general", "dpkg", "apt",
        "logcat", "glog", "strace", "tai64n", "vdsm", "python", "java", "iso-level", "timestamped",
        "plain"]
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
