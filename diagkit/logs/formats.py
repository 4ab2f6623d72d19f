"""Log formats and format detection.

One :class:`~diagkit.logs.model.LogFormat` subclass per format; :data:`FORMATS` holds one
instance of each, in detection-priority order (ties in :func:`detect_format` go to the earlier).

Two speeds of code live here:

* ``record_starts`` runs over every line of a file while it is indexed (millions of lines), so
  multi-line formats describe their first bytes as a :class:`StartSpec` (a few byte classes at
  fixed positions) that is tested with numpy over all lines at once, and the very same spec gives
  ``is_record_start`` for one line, so both always agree.
* ``parse`` runs per record when filtering: one compiled regex match in the common case, dates
  built by hand (no ``strptime``), nothing that raises on odd input.

Adding a format: subclass :class:`LogFormat`, give it a ``name``, ``sniff``, ``parse`` (and a
``StartSpec`` if records span lines), add an instance to :data:`FORMATS` at the right priority,
and a sample under ``tests/data/logs/<name>/``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any

import numpy as np

from diagkit.errors import LogFormatError
from diagkit.logs.model import Fields, Level, LogFormat, ParseContext

__all__ = [
    "FORMATS",
    "AccessLogFormat",
    "ApacheErrorFormat",
    "IsoLevelFormat",
    "JavaFormat",
    "JournaldJsonFormat",
    "JsonLinesFormat",
    "PlainFormat",
    "PythonFormat",
    "Rfc3164Format",
    "Rfc5424Format",
    "StartSpec",
    "detect_format",
    "get_format",
]

# --------------------------------------------------------------------------- shared helpers

_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=256)
def _offset_tz(text: str) -> tzinfo | None:
    """``+0100`` / ``-07:00`` / ``Z`` -> a fixed-offset tzinfo (cached: a file has one or two)."""
    if text in ("Z", "z", "UTC", "GMT"):
        return UTC
    t = text.replace(":", "")
    if len(t) != 5 or t[0] not in "+-" or not t[1:].isdigit():
        return None
    minutes = int(t[1:3]) * 60 + int(t[3:5])
    if minutes >= 24 * 60:
        return None
    return timezone(timedelta(minutes=-minutes if t[0] == "-" else minutes))


@lru_cache(maxsize=32)
def _zone(name: str) -> tzinfo | None:
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):  # unknown zone name: better naive than a crash mid-filter
        return None


def _localize(dt: datetime | None, ctx: ParseContext) -> datetime | None:
    """Give a naive timestamp the user's ``default_tz`` (a tzinfo or a zone name), if set."""
    if dt is None or dt.tzinfo is not None or ctx.default_tz is None:
        return dt
    tz = ctx.default_tz
    if isinstance(tz, str):
        tz = _zone(tz)
    if isinstance(tz, tzinfo):
        return dt.replace(tzinfo=tz)
    return dt


def _iso(text: str, ctx: ParseContext) -> datetime | None:
    """ISO-8601-ish text (``T`` or space, ``,`` or ``.`` fractions, ``Z``/offsets) or None."""
    try:
        dt = datetime.fromisoformat(text)
    except (ValueError, TypeError):
        return None
    return _localize(dt, ctx)


def _reference_naive(ctx: ParseContext) -> datetime:
    ref = ctx.reference_time
    if ref.tzinfo is not None:
        # the log's wall clock is local time; compare against the reference in local time
        ref = ref.astimezone().replace(tzinfo=None)
    return ref


def _syslog_year(month: int, day: int, hms: str, frac: str, ctx: ParseContext) -> datetime | None:
    """A year-less syslog timestamp -> the newest year not after reference_time + 1 day."""
    try:
        h, m, s = int(hms[0:2]), int(hms[3:5]), int(hms[6:8])
        us = int((frac[1:] + "000000")[:6]) if frac else 0
    except ValueError:
        return None
    limit = _reference_naive(ctx) + timedelta(days=1)
    # Feb 29 needs a leap year: look back up to 8 years
    for year in range(limit.year, limit.year - 9, -1):
        try:
            dt = datetime(year, month, day, h, m, s, us)
        except ValueError:
            continue
        if dt <= limit:
            return _localize(dt, ctx)
    return None


_LEVEL_WORD_AT_START = re.compile(
    r"\s*[\[<(]?(trace|debug|info|notice|warn|warning|err|error|crit|critical|fatal|alert|"
    r"emerg|panic)[\]>):]?(?:\s|$)", re.IGNORECASE)
_LEVEL_WORD_UPPER = re.compile(
    r"\b(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRITICAL|CRIT|FATAL|ALERT|EMERG|SEVERE|PANIC)"
    r"\b")


def _message_level(message: str) -> Level:
    """A level word leading the message (``error: ...``, ``<warn>``, ``[ERROR]``), else UNKNOWN."""
    m = _LEVEL_WORD_AT_START.match(message)
    return Level.parse(m.group(1)) if m else Level.UNKNOWN


def _nonempty(lines: list[str]) -> list[str]:
    return [ln.rstrip("\r\n") for ln in lines if ln.strip()]


def _fraction(lines: list[str], pattern: re.Pattern[str]) -> float:
    sample = _nonempty(lines)
    if not sample:
        return 0.0
    return sum(1 for ln in sample if pattern.match(ln)) / len(sample)


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


# --------------------------------------------------------------------------- record starts


class StartSpec:
    """Which lines begin a record, as byte classes at fixed positions from the line start.

    ``alternatives`` is a tuple of patterns; a pattern is a tuple of byte strings, one per
    position 0, 1, 2 ... (the bytes allowed there). A line starts a record when any pattern
    matches all its positions. Positions are tested contiguously from 0 and no class contains a
    newline, so a short line simply fails (the bytes of the next line are never trusted), and the
    text version agrees with the byte version even when non-ASCII text follows.
    """

    CHUNK = 1 << 20  # lines per numpy pass: keeps the temporaries small and in cache

    def __init__(self, *alternatives: tuple[bytes, ...]) -> None:
        for alt in alternatives:
            for cls in alt:
                if b"\n" in cls or b"\r" in cls or any(c >= 0x80 for c in cls) or not cls:
                    raise ValueError("start classes must be non-empty printable ASCII")
        self.alternatives = alternatives
        self.width = max(len(a) for a in alternatives)
        self._words = (self.width + 7) // 8  # rows are read as little-endian uint64 words
        self._py = [[frozenset(cls) for cls in alt] for alt in alternatives]
        self._tests = [self._compile(alt) for alt in alternatives]

    def _compile(self, alt: tuple[bytes, ...]) -> tuple[Any, ...]:
        """SWAR masks per 8-byte word: exact bytes compare under a mask, digits by nibbles
        (high nibble 3, low nibble + 6 must not reach 16), other sets by a lookup table."""
        words = [[0, 0, 0, 0, 0] for _ in range(self._words)]  # mask, value, dlow, add6, dcarry
        luts: list[Any] = []
        for pos, cls in enumerate(alt):
            w, shift = divmod(pos, 8)
            shift *= 8
            values = sorted(set(cls))
            if len(values) == 1:
                words[w][0] |= 0xFF << shift
                words[w][1] |= values[0] << shift
            elif values == list(range(0x30, 0x3A)):
                words[w][0] |= 0xF0 << shift
                words[w][1] |= 0x30 << shift
                words[w][2] |= 0x0F << shift
                words[w][3] |= 0x06 << shift
                words[w][4] |= 0x10 << shift
            else:
                lut = np.zeros(256, dtype=bool)
                lut[values] = True
                luts.append((pos, lut))
        v0 = sorted(set(alt[0]))
        if len(v0) == 1:
            first: tuple[Any, ...] = ("eq", np.uint8(v0[0]))
        elif v0 == list(range(v0[0], v0[-1] + 1)):
            first = ("range", np.uint8(v0[0]), np.uint8(len(v0)))
        else:
            lut0 = np.zeros(256, dtype=bool)
            lut0[v0] = True
            first = ("lut", lut0)
        compiled = [tuple(np.uint64(v) for v in word) for word in words if word[0]]
        return first, [(i, *c) for i, c in zip(
            [j for j, word in enumerate(words) if word[0]], compiled, strict=True)], luts

    def matches_line(self, line: str) -> bool:
        data = line[: self.width].encode("utf-8", "replace")
        for alt in self._py:
            if len(data) >= len(alt) and all(data[i] in cls for i, cls in enumerate(alt)):
                return True
        return False

    def matches(self, buf: np.ndarray, starts: np.ndarray) -> np.ndarray:
        starts = np.asarray(starts, dtype=np.int64)
        out = np.zeros(len(starts), dtype=bool)
        for lo in range(0, len(starts), self.CHUNK):
            chunk = starts[lo: lo + self.CHUNK]
            out[lo: lo + len(chunk)] = self._test_rows(self._rows(buf, chunk))
        return out

    def _rows(self, buf: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """The first ``8 * words`` bytes of each line as an (n, 8 * words) uint8 array,
        zero-padded past the end of the buffer (zero fails every class)."""
        w = self._words * 8
        size = len(buf)
        n = len(starts)
        if n == 0 or size == 0:
            return np.zeros((n, w), dtype=np.uint8)
        if size >= w:
            if not buf.flags.c_contiguous:
                buf = np.ascontiguousarray(buf)
            # every offset seen as a w-byte record (overlapping): one gather copies w bytes/line
            windows = np.ndarray(shape=(size - w + 1,), dtype=np.dtype((np.void, w)),
                                 buffer=buf, offset=0, strides=(1,))
            if int(starts.min()) >= 0 and int(starts.max()) <= size - w:  # the usual case
                return windows[starts].view(np.uint8).reshape(n, w)
        rows = np.zeros((n, w), dtype=np.uint8)
        full = (starts >= 0) & (starts <= size - w)
        if size >= w:
            idx = np.flatnonzero(full)
            rows[idx] = windows[starts[idx]].view(np.uint8).reshape(len(idx), w)
        rest = np.flatnonzero(~full)
        if len(rest):
            base = max(0, size - w)
            padded = np.zeros(2 * w + 1, dtype=np.uint8)
            padded[: size - base] = buf[base:]
            offs = starts[rest] - base
            pos = offs[:, None] + np.arange(w)[None, :]
            valid = (offs >= 0)[:, None] & (pos < size - base)
            rows[rest] = np.where(valid, padded[np.clip(pos, 0, 2 * w)], 0)
        return rows

    def _test_rows(self, rows: np.ndarray) -> np.ndarray:
        n = len(rows)
        words = rows.view("<u8")  # (n, words)
        col0 = rows[:, 0]
        result = np.zeros(n, dtype=bool)
        for first, word_tests, luts in self._tests:
            if first[0] == "eq":
                cand = col0 == first[1]
            elif first[0] == "range":
                cand = (col0 - first[1]) < first[2]  # uint8 wraps: one compare for a range
            else:
                cand = first[1][col0]
            count = int(np.count_nonzero(cand))
            if count == 0:
                continue
            if count < n // 4:  # rare first byte: test the few candidate rows only
                idx = np.flatnonzero(cand)
                result[idx] |= self._test_words(words[idx], rows, idx, word_tests, luts)
            else:
                result |= cand & self._test_words(words, rows, None, word_tests, luts)
        return result

    @staticmethod
    def _test_words(words: np.ndarray, rows: np.ndarray, idx: np.ndarray | None,
                    word_tests: list[tuple[int, ...]], luts: list[Any]) -> np.ndarray:
        ok = np.ones(len(words), dtype=bool)
        for j, mask, value, dlow, add6, dcarry in word_tests:
            x = words[:, j]
            ok &= (x & mask) == value
            if dlow:
                ok &= ((x & dlow) + add6) & dcarry == 0
        for pos, lut in luts:
            col = rows[:, pos] if idx is None else rows[idx, pos]
            ok &= lut[col]
        return ok


_D = b"0123456789"
_ISO_DATE = (_D, _D, _D, _D, b"-", _D, _D, b"-", _D, _D)
_ISO_DATE_BRACKET = (b"[",) + _ISO_DATE
_HMS = (_D, _D, b":", _D, _D, b":", _D, _D)


def _word(text: str) -> tuple[bytes, ...]:
    return tuple(bytes([c]) for c in text.encode("ascii"))


class _MultiLine(LogFormat):
    """Shared machinery for formats whose records span lines: a StartSpec and the sniff that
    counts record starts the format parses and continuation lines it recognises."""

    multiline = True
    start_spec: StartSpec
    # continuation lines typical of this format (stack frames...): count fully in sniff
    known_continuation: re.Pattern[str] | None = None
    other_continuation_weight = 0.5
    # first-line layouts tried in order (the last one that matched goes first): see _first_match
    patterns: tuple[re.Pattern[str], ...] = ()

    def __init__(self) -> None:
        self._hint = [0]

    def _match(self, first_line: str) -> re.Match[str] | None:
        return _first_match(self.patterns, first_line, self._hint)[1]

    def record_starts(self, buf: np.ndarray, starts: np.ndarray) -> np.ndarray:
        return self.start_spec.matches(buf, starts)

    def is_record_start(self, line: str) -> bool:
        return self.start_spec.matches_line(line)

    def _parses(self, line: str) -> bool:
        return self._match(line) is not None

    def sniff(self, lines: list[str]) -> float:
        sample = _nonempty(lines)
        if not sample:
            return 0.0
        score = 0.0
        in_record = False
        parsed = 0
        for ln in sample:
            if self.is_record_start(ln):
                in_record = self._parses(ln)
                if in_record:
                    parsed += 1
                    score += 1.0
            elif in_record:
                known = self.known_continuation is not None and self.known_continuation.match(ln)
                score += 1.0 if known else self.other_continuation_weight
        return score / len(sample) if parsed else 0.0


def _first_match(patterns: tuple[re.Pattern[str], ...], text: str,
                 hint: list[int]) -> tuple[int, re.Match[str] | None]:
    """Try the pattern that matched last time first: a file uses one layout, so the common
    case costs one match. ``hint`` is a one-element list (a benign race between threads only
    costs an extra match)."""
    first = hint[0]
    m = patterns[first].match(text)
    if m:
        return first, m
    for i, p in enumerate(patterns):
        if i != first:
            m = p.match(text)
            if m:
                hint[0] = i
                return i, m
    return -1, None


def _split_first_line(text: str) -> tuple[str, str]:
    """``first line``, ``"\\n" + rest`` (or "")."""
    nl = text.find("\n")
    if nl < 0:
        return text, ""
    return text[:nl], text[nl:]


# --------------------------------------------------------------------------- RFC 5424

_RFC5424 = re.compile(
    r"(?:<(\d{1,3})>)?1 (\S+) (\S+) (\S+) (\S+) (\S+) "
    r"(-|(?:\[(?:[^\]\\\"]|\\.|\"(?:[^\"\\]|\\.)*\")*\])+)(?: (.*))?\Z", re.DOTALL)
_SD_ELEMENT = re.compile(r"\[([^\s\]=]+)((?:\s+[^\s=\]]+=\"(?:[^\"\\]|\\.)*\")*)\s*\]")
_SD_PARAM = re.compile(r"([^\s=\]]+)=\"((?:[^\"\\]|\\.)*)\"")
_SD_UNESCAPE = re.compile(r"\\([\"\\\]])")


class Rfc5424Format(LogFormat):
    """RFC 5424 syslog: ``<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`` (``-`` = empty).

    Level from PRI's severity; extra: facility, msgid, and each structured-data parameter as
    ``sdid.param``.
    """

    name = "rfc5424"
    title = "Syslog (RFC 5424)"

    def sniff(self, lines: list[str]) -> float:
        return _fraction(lines, _RFC5424)

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        m = _RFC5424.match(text)
        if not m:
            return Fields(message=text)
        pri, ts, host, app, procid, msgid, sd, msg = m.groups()
        extra: dict[str, str] = {}
        level = Level.UNKNOWN
        if pri is not None:
            p = int(pri)
            level = Level.parse(p % 8)
            extra["facility"] = str(p // 8)
        if msgid != "-":
            extra["msgid"] = msgid
        if sd != "-":
            for el in _SD_ELEMENT.finditer(sd):
                for pm in _SD_PARAM.finditer(el.group(2)):
                    extra[f"{el.group(1)}.{pm.group(1)}"] = _SD_UNESCAPE.sub(r"\1", pm.group(2))
        msg = msg or ""
        msg = msg.removeprefix("\ufeff")  # RFC 5424 marks UTF-8 messages with a BOM
        return Fields(
            timestamp=None if ts == "-" else _iso(ts, ctx),
            level=level if level is not Level.UNKNOWN else _message_level(msg),
            host="" if host == "-" else host,
            source="" if app == "-" else app,
            pid=_int(procid) if procid != "-" else None,
            message=msg,
            extra=extra,
        )


# --------------------------------------------------------------------------- RFC 3164

_RFC3164 = re.compile(
    r"(?:<(\d{1,3})>)?"
    r"(?:([A-Z][a-z]{2}) +(\d{1,2}) (\d\d:\d\d:\d\d)(\.\d+)?(?: (\d{4}))?"
    r"|(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)))"
    r" (\S+) (?:([^\s:\[\]]+)(?:\[(\d+)\])?:(?: |\Z))?(.*)\Z", re.DOTALL)


class Rfc3164Format(LogFormat):
    """Classic syslog ``Jan  2 03:04:05 host prog[pid]: msg`` and rsyslog's ISO variant
    ``2024-01-02T03:04:05.123456+01:00 host prog[pid]: msg``.

    The classic timestamp has no year: it is inferred from ``ctx.reference_time`` (the newest
    year not after it + 1 day, so December lines in a file written in January get last year).
    Level: from ``<PRI>`` if present, else a level word leading the message (``error: ...``).
    """

    name = "rfc3164"
    title = "Syslog (BSD / rsyslog)"

    def sniff(self, lines: list[str]) -> float:
        sample = _nonempty(lines)
        if not sample:
            return 0.0
        score = 0.0
        for ln in sample:
            m = _RFC3164.match(ln)
            if m:
                # a "prog[pid]:" tag is what makes it syslog; a bare "time word text" is weak
                score += 1.0 if m.group(9) else 0.3
        return score / len(sample)

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        m = _RFC3164.match(text)
        if not m:
            return Fields(message=text)
        pri, mon, day, hms, frac, year, iso, host, tag, pid, msg = m.groups()
        if iso is not None:
            ts = _iso(iso, ctx)
        else:
            month = _MONTHS.get(mon)
            ts = None
            if month is not None:
                if year is not None:
                    try:
                        us = int((frac[1:] + "000000")[:6]) if frac else 0
                        ts = _localize(datetime(int(year), month, int(day), int(hms[0:2]),
                                                int(hms[3:5]), int(hms[6:8]), us), ctx)
                    except ValueError:
                        ts = None
                else:
                    ts = _syslog_year(month, int(day), hms, frac or "", ctx)
        extra: dict[str, str] = {}
        level = Level.UNKNOWN
        if pri is not None:
            p = int(pri)
            level = Level.parse(p % 8)
            extra["facility"] = str(p // 8)
        if level is Level.UNKNOWN:
            level = _message_level(msg)
        return Fields(timestamp=ts, level=level, host=host, source=tag or "", pid=_int(pid),
                      message=msg, extra=extra)


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
        except (TypeError, ValueError):
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
            return Fields(message=text)
        if not isinstance(obj, dict):
            return Fields(message=text)
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
_J_LEVEL = ("level", "severity", "lvl", "levelname", "log.level", "loglevel", "levelno")
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
            return Fields(message=text)
        if not isinstance(obj, dict):
            return Fields(message=text)
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


# --------------------------------------------------------------------------- plain


class PlainFormat(LogFormat):
    """The fallback: one record per line, the line is the message; the level is an upper-case
    level word in the first 80 characters (or a leading ``error:``-like word), if any."""

    name = "plain"
    title = "Plain text (one record per line)"

    def sniff(self, lines: list[str]) -> float:
        return 0.01

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        m = _LEVEL_WORD_UPPER.search(text, 0, 80)
        level = Level.parse(m.group(1)) if m else _message_level(text)
        return Fields(level=level, message=text)


# --------------------------------------------------------------------------- registry, detection

FORMATS: dict[str, LogFormat] = {
    f.name: f for f in (
        Rfc5424Format(), Rfc3164Format(), JournaldJsonFormat(), JsonLinesFormat(),
        AccessLogFormat(), ApacheErrorFormat(), PythonFormat(), JavaFormat(), IsoLevelFormat(),
        PlainFormat(),
    )
}

SAMPLE_LINES = 200
_THRESHOLD = 0.5


def detect_format(lines: list[str]) -> LogFormat:
    """The format that fits a sample best (the first ~200 non-empty lines are used).

    Every format's ``sniff`` scores the sample (0..1); the best wins, ties go to the earlier in
    :data:`FORMATS`; ``plain`` when nothing scores above 0.5.
    """
    sample: list[str] = []
    for ln in lines:
        if ln.strip():
            sample.append(ln.rstrip("\r\n"))
            if len(sample) >= SAMPLE_LINES:
                break
    best: LogFormat = FORMATS["plain"]
    best_score = _THRESHOLD
    if not sample:
        return best
    for fmt in FORMATS.values():
        if fmt.name == "plain":
            continue
        score = fmt.sniff(sample)  # sniffers never raise (tested on odd and random input)
        if score > best_score:
            best, best_score = fmt, score
    return best


def get_format(name: str) -> LogFormat:
    """The format called ``name``; :class:`~diagkit.errors.LogFormatError` if there is none."""
    try:
        return FORMATS[name]
    except KeyError:
        raise LogFormatError(
            f"Unknown log format {name!r}. Known formats: {', '.join(FORMATS)}; "
            "or leave the format out to detect it from the file."
        ) from None


# --------------------------------------------------------------------------- vectorised headers
#
# ``LogFile.levels()/timestamps()`` need one (level, time) per record. Parsing every header in
# Python costs ~5 us a record (a minute for a 1 GiB syslog), so a format may offer
# ``vector_headers(buf, starts, ends, ctx) -> (times, levels, handled)``: ``buf`` the whole file
# (uint8), ``starts``/``ends`` each record's header (its first line without the newline, capped
# like the Python path). Where ``handled`` is True the time (float64 epoch, NaN = none) and level
# (int8) must equal what ``parse`` gives for that header; everything else is parsed in Python,
# so a hook only takes the common, unambiguous layouts and marks anything odd unhandled.

_VEC_WINDOW = 64  # bytes of each header looked at by the vectorised paths


def gather_windows(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                   width: int = _VEC_WINDOW, pad: int = 0) -> np.ndarray:
    """The first ``width`` bytes of each header as an (n, width + pad) uint8 array; bytes at or
    after the header's end (and the ``pad`` extra columns) are 0."""
    n = len(starts)
    size = len(buf)
    rows = np.zeros((n, width + pad), dtype=np.uint8)
    if n == 0 or size == 0:
        return rows
    full = starts <= size - width
    if size >= width:
        if not buf.flags.c_contiguous:
            buf = np.ascontiguousarray(buf)
        # every offset seen as a width-byte record: one gather copies a row
        windows = np.ndarray(shape=(size - width + 1,), dtype=np.dtype((np.void, width)),
                             buffer=buf, offset=0, strides=(1,))
        if full.all():
            rows[:, :width] = windows[starts].view(np.uint8).reshape(n, width)
        else:
            idx = np.flatnonzero(full)
            rows[idx, :width] = windows[starts[idx]].view(np.uint8).reshape(len(idx), width)
    for j in np.flatnonzero(~full).tolist():  # the last few records of the file
        chunk = buf[int(starts[j]): int(starts[j]) + width]
        rows[j, : len(chunk)] = chunk
    length = np.clip(ends - starts, 0, width)
    rows[:, :width] *= np.arange(width)[None, :] < length[:, None]
    return rows


def _is_digit(col: np.ndarray) -> np.ndarray:
    return (col - np.uint8(0x30)) < np.uint8(10)


# bytes that Python's ``\s`` may match (ASCII whitespace, \x1c-\x1f) or that start a non-ASCII
# character (which might be Unicode whitespace): a vectorised scan stops and gives up on them
_WS_OR_ODD = np.zeros(256, dtype=bool)
_WS_OR_ODD[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_WS_OR_ODD[0x80:] = True
_LOWER = np.arange(256, dtype=np.uint8)
_LOWER[0x41:0x5B] += 32
# the first three letters of every level word _LEVEL_WORD_AT_START knows, as 24-bit keys
_LEVEL_PREFIXES = np.array(sorted({int.from_bytes(w[:3].encode(), "big") for w in (
    "trace", "debug", "info", "notice", "warn", "err", "crit", "fatal", "alert", "emerg",
    "panic")}), dtype=np.int64)
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_MONTH_KEYS = {int.from_bytes(m.encode(), "big"): i for m, i in _MONTHS.items()}


def _epoch_days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of valid civil dates (numpy datetime64 arithmetic)."""
    months = (year - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (month - 1)
    return (months.astype("datetime64[D]") + (day - 1)).astype(np.int64)


def _wall_hours_to_epoch(hours: np.ndarray, ctx: ParseContext) -> tuple[np.ndarray, np.ndarray]:
    """Naive wall-clock hours since 1970 -> (epoch second of the hour's start, whether the
    hour maps linearly: no zone transition inside it). Done in Python per distinct hour with
    the same ``_localize`` + ``timestamp()`` the parse path uses, so local time and DST agree."""
    if len(hours) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    lo, hi = int(hours.min()), int(hours.max())
    if hi - lo < 4_000_000:  # the usual case: a lookup table over the span, no sort
        seen = np.zeros(hi - lo + 1, dtype=bool)
        seen[hours - lo] = True
        uniq = np.flatnonzero(seen) + lo
    else:
        uniq = np.unique(hours)
    base = np.zeros(len(uniq), dtype=np.int64)
    linear = np.zeros(len(uniq), dtype=bool)
    origin = datetime(1970, 1, 1)
    for k, h in enumerate(uniq.tolist()):
        try:
            start = _localize(origin + timedelta(hours=h), ctx)
            end = _localize(origin + timedelta(hours=h, seconds=3599), ctx)
            assert start is not None and end is not None
            t0, t1 = start.timestamp(), end.timestamp()
        except (OverflowError, ValueError, OSError):
            continue
        if t0 == int(t0) and t1 - t0 == 3599:
            base[k] = int(t0)
            linear[k] = True
    if hi - lo < 4_000_000:
        table_base = np.zeros(hi - lo + 1, dtype=np.int64)
        table_lin = np.zeros(hi - lo + 1, dtype=bool)
        table_base[uniq - lo] = base
        table_lin[uniq - lo] = linear
        return table_base[hours - lo], table_lin[hours - lo]
    idx = np.searchsorted(uniq, hours)
    return base[idx], linear[idx]


_TAG_END = _WS_OR_ODD.copy()
_TAG_END[[0, 0x3A, 0x5B, 0x5D]] = True  # end, ':', '[', ']'
_OPEN = np.zeros(256, dtype=bool)
_OPEN[[0x5B, 0x3C, 0x28]] = True  # [ < (
_CLOSE = np.zeros(256, dtype=bool)
_CLOSE[[0x5D, 0x3E, 0x29, 0x3A]] = True  # ] > ) :
_SPACE_OR_END = np.zeros(256, dtype=bool)
_SPACE_OR_END[[0, 9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
# _LEVEL_WORD_AT_START's words, longest spelling first per level
_LEVEL_FORMS = [(w.encode(), Level.parse(w)) for w in (
    "trace", "debug", "info", "notice", "warning", "warn", "error", "err", "critical", "crit",
    "fatal", "alert", "emerg", "panic")]


def _syslog_vector_headers(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                           ctx: ParseContext) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Classic ``Mmm dd HH:MM:SS host [tag[pid]:] message`` headers (no PRI, fraction or year)
    in numpy: the layout checks mirror ``_RFC3164`` and the message's first word mirrors
    ``_LEVEL_WORD_AT_START``. Anything odd in the bytes that matter (non-ASCII, NUL, whitespace
    other than one space, a line longer than the window where it matters) is left to Python."""
    n = len(starts)
    times = np.full(n, np.nan)
    levels = np.zeros(n, dtype=np.int8)
    ends = ends.copy()
    for _ in range(4):  # the parse path strips trailing "\r"s
        cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
        if not cr.any():
            break
        ends -= cr
    width, pad = _VEC_WINDOW, 16
    w = gather_windows(buf, starts, ends, width, pad)
    length = ends - starts
    long_line = length > width
    rows = np.arange(n)
    col = [w[:, i] for i in range(21)]
    key = (col[0].astype(np.int64) << 16) | (col[1].astype(np.int64) << 8) | col[2]
    month = np.zeros(n, dtype=np.int64)
    for k, m in _MONTH_KEYS.items():
        month[key == k] = m
    ok = month > 0
    ok &= (col[3] == 32) & (col[6] == 32) & _is_digit(col[5])
    ok &= (col[4] == 32) | _is_digit(col[4])
    for i in (7, 8, 10, 11, 13, 14):
        ok &= _is_digit(col[i])
    ok &= (col[9] == 58) & (col[12] == 58) & (col[15] == 32)
    # "... 12:00:00 2024 host": the year group may or may not apply; leave it to the regex
    ok &= ~(_is_digit(col[16]) & _is_digit(col[17]) & _is_digit(col[18]) & _is_digit(col[19])
            & (col[20] == 32))
    # a NUL inside the line would look like its end here
    ok &= np.count_nonzero(w[:, :width], axis=1) == np.minimum(length, width)
    d = lambda i: col[i].astype(np.int64) - 48  # noqa: E731 - a local shorthand
    day = np.where(col[4] == 32, 0, d(4) * 10) + d(5)
    hh, mm, ss = d(7) * 10 + d(8), d(10) * 10 + d(11), d(13) * 10 + d(14)
    ok &= (hh < 24) & (mm < 60) & (ss < 60) & (day >= 1) & (day <= _MONTH_DAYS[month])
    # the host: bytes from 16 up to the first whitespace, which must be a space; "(\S+) "
    tail = w[:, 16:width]
    host_end = np.argmax(_WS_OR_ODD[tail], axis=1) + 16
    ok &= (host_end > 16) & (w[rows, host_end] == 32)
    # the tag "([^\s:\[\]]+)(?:\[(\d+)\])?:(?: |\Z)" right after "host ", else none
    rest = host_end + 1
    cols = np.arange(width + pad)[None, :]
    t_end = np.argmax(_TAG_END[w] & (cols >= rest[:, None]), axis=1)
    t_byte = w[rows, t_end]
    ok &= (t_end + 3 < width) | ~long_line
    ok &= t_byte < 0x80
    after = w[rows, t_end + 1]
    colon_tag = (t_byte == 0x3A) & ((after == 32) | (after == 0))
    digit_end = np.argmax(~_is_digit(w) & (cols > t_end[:, None]), axis=1)
    pid_tag = ((t_byte == 0x5B) & (digit_end > t_end + 1) & (w[rows, digit_end] == 0x5D)
               & (w[rows, np.minimum(digit_end + 1, width + pad - 1)] == 0x3A))
    after_pid = w[rows, np.minimum(digit_end + 2, width + pad - 1)]
    pid_tag &= (after_pid == 32) | (after_pid == 0)
    ok &= (digit_end + 3 < width) | ~long_line | (t_byte != 0x5B)
    ok &= ~((t_byte == 0x5B) & (w[rows, digit_end] >= 0x80))  # \d takes Unicode digits
    tagged = (t_end > rest) & (colon_tag | pid_tag)
    colon = np.where(pid_tag, digit_end + 1, t_end)
    msg = np.where(tagged, colon + 2, rest)  # past the end when the message is empty
    msg = np.minimum(msg, width)
    ok &= (msg + 12 <= width) | ~long_line
    # the message's leading level word: "\s*[\[<(]?(word)[\]>):]?(?:\s|$)"
    first = w[rows, msg]
    ok &= ~(_WS_OR_ODD[first])
    q = msg + _OPEN[first]
    look = w[rows[:, None], q[:, None] + np.arange(11)[None, :]]
    ok &= ~(look >= 0x80).any(axis=1)  # re.IGNORECASE folds some non-ASCII letters
    low = _LOWER[look]
    found = np.zeros(n, dtype=bool)
    for word, level in _LEVEL_FORMS:
        k = len(word)
        hit = ~found
        for i, c in enumerate(word):
            hit &= low[:, i] == c
        if not hit.any():
            continue
        c1 = look[:, k]
        c2 = look[:, k + 1]
        hit &= _SPACE_OR_END[c1] | (_CLOSE[c1] & _SPACE_OR_END[c2])
        levels[hit] = int(level)
        found |= hit
    levels[~ok] = 0
    if not ok.any():
        return times, levels, ok
    idx = np.flatnonzero(ok)
    limit = _reference_naive(ctx) + timedelta(days=1)
    lim_key = ((((limit.month * 32 + limit.day) * 24 + limit.hour) * 60 + limit.minute) * 60
               + limit.second) * 1_000_000 + limit.microsecond
    m_, d_, h_, mi_, s_ = month[idx], day[idx], hh[idx], mm[idx], ss[idx]
    rec_key = ((((m_ * 32 + d_) * 24 + h_) * 60 + mi_) * 60 + s_) * 1_000_000
    year = np.where(rec_key <= lim_key, limit.year, limit.year - 1)
    hours = _epoch_days(year, m_, d_) * 24 + h_
    base, linear = _wall_hours_to_epoch(hours, ctx)
    times[idx] = (base + mi_ * 60 + s_).astype(np.float64)
    ok[idx[~linear]] = False
    times[idx[~linear]] = np.nan
    return times, levels, ok


Rfc3164Format.vector_headers = staticmethod(_syslog_vector_headers)  # type: ignore[attr-defined]
