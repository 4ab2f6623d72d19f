"""Shared machinery of the log formats: dates and zones, level words, record starts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any

import numpy as np

from diagkit.logs.model import Level, LogFormat, ParseContext

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
    """ISO-8601-ish text (``T`` or space, ``,`` or ``.`` fractions, ``Z``/offsets, or a zone
    abbreviation after a space as PostgreSQL and MySQL write it: ``... 10:18:00.787 UTC``)."""
    try:
        dt = datetime.fromisoformat(text)
    except (ValueError, TypeError):
        head, sep, zone = text.rpartition(" ")
        if not sep or not zone.isalpha():
            return None
        try:
            dt = datetime.fromisoformat(head)
        except ValueError:
            return None
        tz = _abbrev_tz(zone)
        if tz is not None and dt.tzinfo is None:
            return dt.replace(tzinfo=tz)
    return _localize(dt, ctx)


# Zone abbreviations that name one offset wherever they are written. CST, IST, BST, AST... name
# several and stay unresolved (the time is then taken as local, like one without a zone).
_ABBREV_MINUTES = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "WEST": 60, "CET": 60, "CEST": 120,
    "MET": 60, "MEST": 120, "EET": 120, "EEST": 180, "MSK": 180, "EST": -300, "EDT": -240,
    "CDT": -300, "MST": -420, "MDT": -360, "PST": -480, "PDT": -420, "AKST": -540, "AKDT": -480,
    "HST": -600, "JST": 540, "KST": 540, "HKT": 480, "SGT": 480, "AWST": 480, "ACST": 570,
    "ACDT": 630, "AEST": 600, "AEDT": 660, "NZST": 720, "NZDT": 780,
}


@lru_cache(maxsize=64)
def _abbrev_tz(text: str) -> tzinfo | None:
    """``UTC``, ``CET``, ``PDT``... or a numeric ``+01`` / ``-0300`` / ``+05:30`` -> tzinfo."""
    minutes = _ABBREV_MINUTES.get(text.upper() if text.isalpha() else text)
    if minutes is not None:
        return UTC if minutes == 0 else timezone(timedelta(minutes=minutes))
    if len(text) == 3 and text[0] in "+-" and text[1:].isdigit():
        text += "00"
    return _offset_tz(text)


def _reference_naive(ctx: ParseContext, *, day: bool = False) -> datetime:
    ref = ctx.day_reference if day and ctx.day_reference is not None else ctx.reference_time
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
    return _year_less(month, day, h, m, s, us, ctx)


def _us(frac: str | None) -> int:
    """Fraction digits (``"123"``, ``"123456789"``) -> microseconds."""
    return int((frac + "000000")[:6]) if frac else 0


def _year_less(month: int, day: int, h: int, m: int, s: int, us: int,
               ctx: ParseContext) -> datetime | None:
    """A timestamp without a year (syslog, logcat, glog): the newest year that puts it not
    after reference_time + 1 day, so December lines in a file written in January get last
    year."""
    limit = _reference_naive(ctx) + timedelta(days=1)
    year = limit.year
    if (month, day, h, m, s, us) > (limit.month, limit.day, limit.hour, limit.minute,
                                    limit.second, limit.microsecond):
        year -= 1
    for y in range(year, year - 9, -1):  # Feb 29 needs a leap year: up to 8 years back
        try:
            return _localize(datetime(y, month, day, h, m, s, us), ctx)
        except ValueError:
            continue
    return None


def _time_of_day(h: int, m: int, s: int, us: int, ctx: ParseContext) -> datetime | None:
    """A time without a date (``strace -tt``, log4j ``HH:mm:ss``): on the day of
    reference_time (the file's mtime), or the day before when that would put it more than an
    hour after the reference (a trace that ran past midnight). The day comes from
    ``ctx.day_reference`` where set (never from LogFile's year-less reference in 2400)."""
    ref = _reference_naive(ctx, day=True)
    try:
        dt = datetime(ref.year, ref.month, ref.day, h, m, s, us)
    except ValueError:
        return None
    if dt > ref + timedelta(hours=1):
        dt -= timedelta(days=1)
    return _localize(dt, ctx)


def _civil(y: int, mo: int, d: int, h: int, m: int, s: int, us: int,
           ctx: ParseContext, tz: tzinfo | None = None) -> datetime | None:
    """A datetime from fields, or None when they name no real time (Feb 30, 25:61...)."""
    try:
        dt = datetime(y, mo, d, h, m, s, us)
    except ValueError:
        return None
    return dt.replace(tzinfo=tz) if tz is not None else _localize(dt, ctx)


_TAI_OFFSET = (1 << 62) + 10  # TAI64 label of 1970-01-01 00:00:10 TAI = 00:00:00 UTC


def _tai64n_time(label: str, nano: str) -> datetime | None:
    """daemontools' reading of a TAI64N stamp (as ``tai64nlocal`` prints it, in UTC)."""
    try:
        return datetime.fromtimestamp(int(label, 16) - _TAI_OFFSET, UTC) + timedelta(
            microseconds=int(nano, 16) // 1000)
    except (OverflowError, ValueError, OSError):
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
_UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = b"abcdefghijklmnopqrstuvwxyz"


def _word(text: str) -> tuple[bytes, ...]:
    return tuple(bytes([c]) for c in text.encode("ascii"))


class _MultiLine(LogFormat):
    """Shared machinery for formats whose records span lines: a StartSpec and the sniff that
    counts record starts the format parses and continuation lines it recognises."""

    multiline = True
    start_spec: StartSpec | RegexStart  # RegexStart where a few byte classes cannot say it
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

    def _start_score(self, line: str) -> float | None:
        """How well a line fits as a record's first line: None when it starts no record (a
        continuation), 0 when it starts one this format does not parse."""
        if not self.is_record_start(line):
            return None
        return 1.0 if self._parses(line) else 0.0

    def _continuation_score(self, line: str) -> float:
        known = self.known_continuation is not None and self.known_continuation.match(line)
        return 1.0 if known else self.other_continuation_weight

    def _sample_scores(self, lines: list[str]) -> tuple[float, int, int]:
        """(the summed scores of the sample's lines, record starts parsed, sample size): a
        parsed start counts its ``_start_score``, a continuation of a parsed record its
        ``_continuation_score``; a short file header is skipped."""
        sample = _skip_file_header(_nonempty(lines), self._parses)
        score = 0.0
        in_record = False
        parsed = 0
        for ln in sample:
            start = self._start_score(ln)
            if start is not None:
                in_record = start > 0
                if in_record:
                    parsed += 1
                    score += start
            elif in_record:
                score += self._continuation_score(ln)
        return score, parsed, len(sample)

    def sniff(self, lines: list[str]) -> float:
        score, parsed, size = self._sample_scores(lines)
        return score / size if parsed else 0.0


def _skip_file_header(sample: list[str], parses: Any) -> list[str]:
    """The sample without a short file header (``Header: value`` lines, a banner) before the
    first line the format parses: at most 10 lines and at most half the sample, and only when
    a second line parses too."""
    for i, ln in enumerate(sample[:11]):
        if parses(ln):
            if i and 2 * i <= len(sample) and any(parses(x) for x in sample[i + 1:]):
                return sample[i:]
            return sample
    return sample


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



class RegexStart:
    """Which lines begin a record, for layouts whose first bytes are not at fixed positions
    (a thread name, a prefix of varying length): a bytes regex tried at every line start.

    The vectorised side runs one ``finditer`` over the lines' bytes (C speed, no Python loop per
    line) and the one-line side matches the line's UTF-8 bytes, so both agree as long as the
    pattern decides on ASCII bytes only: use ``[!-~]``-style classes, never ``\\s``, ``.`` or a
    class that takes non-ASCII bytes before the decision (the one-line side sees U+FFFD, three
    bytes, where the file may hold one undecodable byte).
    """

    def __init__(self, pattern: bytes) -> None:
        self.pattern = pattern
        self._line = re.compile(pattern)
        self._multi = re.compile(b"(?m)^(?:" + pattern + b")")

    def matches_line(self, line: str) -> bool:
        return self._line.match(line.encode("utf-8", "replace")) is not None

    def matches(self, buf: np.ndarray, starts: np.ndarray) -> np.ndarray:
        starts = np.asarray(starts, dtype=np.int64)
        out = np.zeros(len(starts), dtype=bool)
        size = len(buf)
        if not len(starts) or not size:
            return out
        lo, last = int(starts[0]), int(starts[-1])
        if lo >= size or lo < 0:
            return out
        hi = _line_end(buf, min(last, size))
        if not buf.flags.c_contiguous:
            buf = np.ascontiguousarray(buf)
        found = np.fromiter((m.start() for m in self._multi.finditer(buf.data, lo, hi)),
                            dtype=np.int64)
        if len(found):
            idx = np.searchsorted(starts, found)
            ok = idx < len(starts)
            idx, found = idx[ok], found[ok]
            out[idx[starts[idx] == found]] = True
        return out


def _line_end(buf: np.ndarray, start: int) -> int:
    """The offset of the newline ending the line at ``start`` (or the buffer's end)."""
    size = len(buf)
    step = 1 << 12
    pos = start
    while pos < size:
        nl = np.flatnonzero(buf[pos: pos + step] == 10)
        if len(nl):
            return pos + int(nl[0])
        pos += step
        step = min(step * 4, 1 << 24)
    return size


# --------------------------------------------------------------------------- level words in a header
#
# Where a layout has no fixed level field, the level is a word among the first fields after the
# timestamp: any case as the first field (``debug2 message``, ``[info]``, ``local.ERROR:``,
# ``|WARN|``), deeper only in capitals or brackets (``2005.06.03 R02-M1 RAS KERNEL INFO ...``),
# so that ``connection error from ...`` in a message is not taken for a level.

_ANY_CASE_WORDS = ("trace", "debug", "verbose", "info", "information", "informational",
                   "notice", "note", "warn", "warning", "err", "error", "severe", "crit",
                   "critical", "fatal", "alert", "emerg", "emergency", "panic")
_UPPER_ONLY_WORDS = ("FINE", "FINER", "FINEST", "CONFIG", "FAILURE")


def _spellings(words: tuple[str, ...], *, upper_only: bool = False) -> str:
    forms = set()
    for w in words:
        forms.add(w.upper())
        if not upper_only:
            forms.update((w.lower(), w.capitalize()))
    return "|".join(sorted(forms, key=lambda f: (-len(f), f)))


_ANY_LEVEL = rf"(?:{_spellings(_ANY_CASE_WORDS)})[1-9]?"
_UPPER_LEVEL = (rf"(?:{_spellings(_ANY_CASE_WORDS, upper_only=True)}|"
                rf"{_spellings(_UPPER_ONLY_WORDS, upper_only=True)})[1-9]?")
_LEVEL_END = r"(?=[ \t|,\-]|$)"
_LEVEL_FIRST = re.compile(
    r"[\])>]?[ \t:|,\-]*[\[(<{]?(?:[A-Za-z_]{1,20}\.)?(?P<lvl>" + _ANY_LEVEL + r")[\])>}]?"
    r"(?::|" + _LEVEL_END + ")", re.ASCII)
_LEVEL_LATER = re.compile(
    r"[\])>]?[ \t:|,\-]*(?P<between>(?:[^ \t]+[ \t]+){1,7}?)"
    r"(?:[\[(<{](?P<b>" + _ANY_LEVEL + r")[\])>}]:?|\|?(?:[A-Za-z_]{1,20}\.)?(?P<u>"
    + _UPPER_LEVEL + r")\|?:?)(?=[ \t]|$)", re.ASCII)
_SEPARATORS = re.compile(r"[\])>]?[ \t:|\-]*")
_LATER_HINT = re.compile(r"(?<![A-Za-z])(?:" + _UPPER_LEVEL + r")(?![A-Za-z])|[\[(<{][A-Za-z]",
                         re.ASCII)


def _head_level(text: str, pos: int, end: int | None = None) -> tuple[Level, int, str]:
    """The level word among the first fields of ``text[pos:]`` (a header's remainder after its
    timestamp): ``(level, where the message starts, the fields between)``. Without a level word
    the message starts after the separators at ``pos`` and the level is UNKNOWN."""
    stop = len(text) if end is None else end
    m = _LEVEL_FIRST.match(text, pos, stop)
    if m:
        word = m.group("lvl")
        sep = _SEPARATORS.match(text, m.end(), stop)
        return Level.parse(word), sep.end() if sep else m.end(), ""
    # deeper fields count only in capitals or brackets: skip the costly scan without any
    m = _LEVEL_LATER.match(text, pos, stop) if _LATER_HINT.search(text, pos, stop) else None
    if m:
        word = m.group("b") or m.group("u")
        level = Level.parse(word)
        if level is not Level.UNKNOWN:
            sep = _SEPARATORS.match(text, m.end(), stop)
            return level, sep.end() if sep else m.end(), m.group("between").strip()
    sep = _SEPARATORS.match(text, pos, stop)
    return Level.UNKNOWN, sep.end() if sep else pos, ""
