"""Per-record times and levels in numpy: one extractor per log format, in a registry.

``LogFile.levels()``/``timestamps()`` need one (level, time) per record. Parsing every record's
first line with its format's ``parse`` costs ~5 us a record in Python (a minute for 1 GiB), so
for each format with a fixed header layout an *extractor* here reads the header bytes of many
records at once straight from the memory-mapped file. It takes the common, unambiguous layouts
and marks everything else "not done"; ``LogFile`` parses those few records with the format's
``parse``. The contract that makes this safe:

    where an extractor says ``done``, its time and level are exactly what the format's
    ``parse`` gives for that record's first line.

``tests/logs/test_vectorized.py`` checks it per format with hypothesis (generated and odd lines,
both paths compared) and on every sample file.

Registering a format (one entry, one test)
------------------------------------------
Write ``def extract(h: Headers) -> Extracted`` and decorate it with ``@register("name")``, the
``LogFormat.name`` it serves. ``h.buf`` is the whole file (uint8, never copied), ``h.starts`` and
``h.ends`` each record's first line (``ends`` excludes the newline and trailing ``\\r``s, like
the text ``parse`` gets). Use :func:`gather` for fixed-width rows of header bytes and the helpers
below (digits, ISO timestamps, wall clock to epoch, level words); return ``Extracted(times,
levels, done)``. Then add the format's name and a line generator to ``FORMAT_LINES`` in
``tests/logs/test_vectorized.py``: the property test does the rest.

Year-less timestamps (classic syslog ``Jan  2 03:04:05``)
---------------------------------------------------------
Formats infer a missing year from ``ParseContext.reference_time``: the newest year in which the
date is not after ``reference_time`` + 1 day. ``LogFile`` parses with
:data:`YEARLESS_REFERENCE` (the end of year 2400, a leap year) so every inferred year comes out as
:data:`SENTINEL_YEAR`; such records carry a *year-less key* (month, day, time of day) instead of
an epoch, extractors return the same keys (``Extracted.yearless``), and :class:`YearPlan` gives
the years per file: starting from the file's first record, the year goes up by one where the
clock jumps back by more than a day (``Dec 31`` -> ``Jan  1``), down by one where it would jump
forward by more than 364 days (a late ``Dec 31`` line after ``Jan  1``), and the whole file is
anchored so that its last year-less record is not after the file's mtime + 1 day.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache

import numpy as np

from diagkit.logs.formats._base import _abbrev_tz
from diagkit.logs.formats.apps import ISO_LEVEL_WORDS, JAVA_LEVEL_WORDS, PY_LEVEL_WORDS
from diagkit.logs.formats.databases import MYSQL_LEVELS, PG_LEVELS
from diagkit.logs.model import Level

__all__ = [
    "EXTRACTORS",
    "SENTINEL_YEAR",
    "YEARLESS_REFERENCE",
    "Extracted",
    "Headers",
    "YearPlan",
    "extractor_for",
    "gather",
    "register",
    "yearless_key",
]

SENTINEL_YEAR = 2400
YEARLESS_REFERENCE = datetime(SENTINEL_YEAR, 12, 30, 23, 59, 59, 999999)


@dataclass(frozen=True)
class Headers:
    """The first lines of a batch of records, as offsets into the mapped file."""

    buf: np.ndarray  # the whole file, uint8
    starts: np.ndarray  # int64, first byte of each record
    ends: np.ndarray  # int64, end of each record's first line (no newline, no trailing \r)
    default_tz: object | None  # ParseContext.default_tz: a tzinfo, a zone name or None
    # ParseContext.day_reference: the day a time of day without a date is put on (naive local)
    day_reference: datetime | None = None


@dataclass
class Extracted:
    """What an extractor found. ``times``: epoch seconds (float64, NaN: none) or, where
    ``yearless`` is True, a year-less key (:func:`yearless_key`); ``levels``: int8 values of
    :class:`Level`; ``done``: the records this is final for (the rest are parsed in Python)."""

    times: np.ndarray
    levels: np.ndarray
    done: np.ndarray
    yearless: np.ndarray | None = None

    @classmethod
    def empty(cls, n: int) -> Extracted:
        return cls(np.full(n, np.nan), np.zeros(n, dtype=np.int8), np.zeros(n, dtype=bool))


Extractor = Callable[[Headers], Extracted]
EXTRACTORS: dict[str, Extractor] = {}


def register(name: str) -> Callable[[Extractor], Extractor]:
    """Decorator: ``@register("rfc3164")`` makes the function the extractor of that format
    (the registry calls it only for a batch of at least one record)."""

    def add(fn: Extractor) -> Extractor:
        def run(h: Headers) -> Extracted:
            return fn(h) if len(h.starts) else Extracted.empty(0)

        EXTRACTORS[name] = run
        return fn

    return add


def extractor_for(name: str) -> Extractor | None:
    return EXTRACTORS.get(name)


# --------------------------------------------------------------------------- byte helpers

_I64 = np.int64
_EXACT = 1 << 53  # integers up to this convert to float64 exactly


def gather(buf: np.ndarray, pos: np.ndarray, ends: np.ndarray, width: int) -> np.ndarray:
    """``width`` bytes of ``buf`` from each ``pos`` as an (n, width) uint8 array; bytes at or
    after the record's ``ends`` (and past the file) are 0."""
    n = len(pos)
    rows = np.zeros((n, width), dtype=np.uint8)
    size = len(buf)
    if n == 0 or size == 0:
        return rows
    pos = np.asarray(pos, dtype=_I64)
    full = (pos >= 0) & (pos <= size - width)
    if size >= width:
        if not buf.flags.c_contiguous:
            buf = np.ascontiguousarray(buf)
        # every offset seen as a width-byte record (overlapping): one gather copies a row
        windows = np.ndarray(shape=(size - width + 1,), dtype=np.dtype((np.void, width)),
                             buffer=buf, offset=0, strides=(1,))
        if bool(full.all()):
            rows[:] = windows[pos].view(np.uint8).reshape(n, width)
        else:
            idx = np.flatnonzero(full)
            rows[idx] = windows[pos[idx]].view(np.uint8).reshape(len(idx), width)
    for j in np.flatnonzero(~full).tolist():  # the last few records of the file
        p = int(pos[j])
        if 0 <= p < size:
            chunk = buf[p: p + width]
            rows[j, : len(chunk)] = chunk
    length = np.clip(np.asarray(ends, dtype=_I64) - pos, 0, width)
    if bool((length < width).any()):
        small = np.uint8 if width < 256 else np.int32
        keep = np.arange(width, dtype=small)[None, :] < length.astype(small)[:, None]
        np.multiply(rows, keep, out=rows, casting="unsafe")
    return rows


def gather_words(buf: np.ndarray, pos: np.ndarray, ends: np.ndarray, words: int) -> np.ndarray:
    """Like :func:`gather` for ``8 * words`` bytes, as little-endian uint64 words (n, words),
    masked word by word (cheaper than byte by byte)."""
    width = 8 * words
    rows = gather(buf, pos, np.asarray(pos) + width, width).view("<u8")
    length = np.clip(np.asarray(ends, dtype=_I64) - pos, 0, width)
    for j in range(words):
        rows[:, j] &= _BYTE_MASKS[np.clip(length - 8 * j, 0, 8)]
    return rows


_BYTE_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1],
                       dtype=np.uint64)


def _lut(chars: bytes | range | list[int]) -> np.ndarray:
    t = np.zeros(256, dtype=bool)
    t[list(chars)] = True
    return t


def is_digit(col: np.ndarray) -> np.ndarray:
    return (col - np.uint8(0x30)) < np.uint8(10)


def digits(rows: np.ndarray, first: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(all ASCII digits, value) of columns ``first .. first + count - 1``."""
    ok = np.ones(len(rows), dtype=bool)
    val = np.zeros(len(rows), dtype=_I64)
    for c in range(first, first + count):
        col = rows[:, c]
        ok &= is_digit(col)
        val = val * 10 + (col.astype(_I64) - 48)
    return ok, val


def take(rows: np.ndarray, col: np.ndarray | int) -> np.ndarray:
    """``rows[i, col[i]]`` (0 where ``col`` is outside the row)."""
    n, width = rows.shape
    if not rows.flags.c_contiguous:
        rows = np.ascontiguousarray(rows)
    col = np.asarray(col)
    at = np.arange(0, n * width, width, dtype=_I64) + np.minimum(np.maximum(col, 0), width - 1)
    out = rows.reshape(-1)[at]
    outside = (col < 0) | (col >= width)
    if outside.any():
        out[outside] = 0
    return out


def col_at(rows: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Like :func:`take`, a plain column when every row asks for the same one."""
    if len(col):
        lo = int(col.min())
        if lo == int(col.max()) and 0 <= lo < rows.shape[1]:
            return rows[:, lo]
    return take(rows, col)


def first_true(mask: np.ndarray, start: np.ndarray | int = 0) -> np.ndarray:
    """Per row, the first column >= ``start`` where ``mask`` is True (``width`` when none).
    Rows are grouped by their start (a batch has few distinct ones) so no per-row threshold
    is built over the whole matrix."""
    n, width = mask.shape
    out = np.full(n, width, dtype=_I64)
    if n == 0:
        return out
    starts = np.broadcast_to(np.asarray(start, dtype=_I64), (n,))
    lo, hi = int(starts.min()), int(starts.max())
    if lo == hi:
        groups = [(lo, None)]
    elif hi - lo <= 8:
        groups = [(v, starts == v) for v in range(lo, hi + 1)]
    else:
        shifted = mask & (np.arange(width)[None, :] >= starts[:, None])
        return first_true(shifted, 0)
    for v, sel in groups:
        if v >= width:
            continue
        v = max(v, 0)
        sub = mask[:, v:] if sel is None else mask[sel, v:]
        if not len(sub):
            continue
        at = np.argmax(sub, axis=1)
        hit = sub[np.arange(len(sub)), at]
        res = np.where(hit, at + v, width)
        if sel is None:
            out[:] = res
        else:
            out[sel] = res
    return out


# Python's ``\s`` on str: ASCII whitespace and \x1c-\x1f (and non-ASCII ones, which the
# extractors never accept: any byte >= 0x80 where it matters sends the record to Python).
WS = _lut([9, 10, 11, 12, 13, 28, 29, 30, 31, 32])
WS_OR_END = WS.copy()
WS_OR_END[0] = True
WS_OR_ODD = WS.copy()
WS_OR_ODD[0x80:] = True
WORD = _lut(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
LOWER = np.arange(256, dtype=np.uint8)
LOWER[0x41:0x5B] += 32

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_KEYS = {int.from_bytes(m.encode(), "big"): i for i, m in enumerate(_MONTH_NAMES, 1)}
_MONTH_DAYS = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=_I64)
_CUM_DAYS = np.concatenate([[0], np.cumsum(_MONTH_DAYS[1:])])  # leap-year day of year


def month_from_name(rows: np.ndarray, col: int) -> np.ndarray:
    """``Jan``..``Dec`` at ``col`` -> 1..12, else 0."""
    key = ((rows[:, col].astype(_I64) << 16) | (rows[:, col + 1].astype(_I64) << 8)
           | rows[:, col + 2])
    month = np.zeros(len(rows), dtype=_I64)
    for k, m in _MONTH_KEYS.items():
        month[key == k] = m
    return month


def _is_leap(year: np.ndarray) -> np.ndarray:
    return ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)


def valid_date(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    ok = (month >= 1) & (month <= 12) & (day >= 1) & (year >= 1) & (year <= 9999)
    dim = _MONTH_DAYS[np.clip(month, 0, 12)] - ((month == 2) & ~_is_leap(year))
    return ok & (day <= dim)


def epoch_days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of valid civil dates (numpy datetime64 arithmetic)."""
    months = (year - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (month - 1)
    return (months.astype("datetime64[D]") + (day - 1)).astype(_I64)


# --------------------------------------------------------------------------- wall clock -> epoch


@lru_cache(maxsize=32)
def _zone(name: str) -> tzinfo | None:
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        return None


def default_zone(default_tz: object | None) -> tzinfo | None:
    """The tzinfo naive timestamps get (what the formats' ``_localize`` does), or None: local."""
    if default_tz is None:
        return None
    if isinstance(default_tz, str):
        return _zone(default_tz)
    return default_tz if isinstance(default_tz, tzinfo) else None


def wall_to_epoch(days: np.ndarray, sod: np.ndarray, us: np.ndarray,
                  default_tz: object | None) -> tuple[np.ndarray, np.ndarray]:
    """Naive wall-clock times (days since 1970, second of day, microseconds) -> (epoch seconds
    exactly as ``datetime.timestamp()`` gives them after the formats' ``_localize``, ok).

    Done per distinct hour in Python (the same ``timestamp()`` the parse path calls), so local
    time and DST agree; an hour with a zone transition inside is computed per record."""
    n = len(days)
    out = np.full(n, np.nan)
    ok = np.zeros(n, dtype=bool)
    if n == 0:
        return out, ok
    zone = default_zone(default_tz)
    aware = zone is not None
    hours = days * 24 + sod // 3600
    inner = sod % 3600
    lo, hi = int(hours.min()), int(hours.max())
    if hi - lo < 4_000_000:
        seen = np.zeros(hi - lo + 1, dtype=bool)
        seen[hours - lo] = True
        uniq = np.flatnonzero(seen) + lo
    else:
        uniq = np.unique(hours)
    base = np.zeros(len(uniq), dtype=_I64)
    linear = np.zeros(len(uniq), dtype=bool)
    origin = datetime(1970, 1, 1)
    for k, h in enumerate(uniq.tolist()):
        try:
            start = origin + timedelta(hours=h)
            end = start + timedelta(seconds=3599)
            if aware:
                start, end = start.replace(tzinfo=zone), end.replace(tzinfo=zone)
            t0, t1 = start.timestamp(), end.timestamp()
        except (OverflowError, ValueError, OSError):
            continue
        if t0 == int(t0) and t1 - t0 == 3599:
            base[k] = int(t0)
            linear[k] = True
    if hi - lo < 4_000_000:
        table_base = np.zeros(hi - lo + 1, dtype=_I64)
        table_lin = np.zeros(hi - lo + 1, dtype=bool)
        table_base[uniq - lo] = base
        table_lin[uniq - lo] = linear
        b, lin = table_base[hours - lo], table_lin[hours - lo]
    else:
        idx = np.searchsorted(uniq, hours)
        b, lin = base[idx], linear[idx]
    secs = b + inner
    if aware:  # timedelta.total_seconds(): integer microseconds / 10**6, one rounding
        total = secs * 1_000_000 + us
        vals = total.astype(np.float64) / 1e6
        lin &= np.abs(total) < _EXACT
    else:  # naive timestamp(): local seconds + microsecond / 1e6
        vals = secs.astype(np.float64) + us / 1e6
    out[lin] = vals[lin]
    ok[lin] = True
    for j in np.flatnonzero(~lin).tolist():  # hours with a zone transition: one by one
        try:
            dt = datetime(1970, 1, 1) + timedelta(days=int(days[j]), seconds=int(sod[j]),
                                                  microseconds=int(us[j]))
            if aware:
                dt = dt.replace(tzinfo=zone)
            out[j] = dt.timestamp()
            ok[j] = True
        except (OverflowError, ValueError, OSError):
            pass
    return out, ok


def aware_to_epoch(days: np.ndarray, sod: np.ndarray, us: np.ndarray,
                   offset: np.ndarray) -> np.ndarray:
    """Times with a UTC offset (seconds) -> epoch seconds as ``timestamp()`` gives them."""
    total = (days * 86400 + sod - offset) * 1_000_000 + us
    out = total.astype(np.float64) / 1e6
    out[np.abs(total) >= _EXACT] = np.nan  # not exact in a double: Python's division rounds once
    return out


def time_of_day_epoch(h: Headers, sod: np.ndarray, us: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Times of day without a date (``strace -tt``, log4j ``HH:mm:ss``) as the formats'
    ``_time_of_day`` dates them: on the day of ``h.day_reference``, or the day before when that
    would put them more than an hour after it. (epoch seconds, ok); nothing is ok without a
    reference day."""
    n = len(sod)
    ref = h.day_reference
    if ref is None or n == 0:
        return np.full(n, np.nan), np.zeros(n, dtype=bool)
    if ref.tzinfo is not None:
        ref = ref.astimezone().replace(tzinfo=None)
    ref_days = (ref.date() - datetime(1970, 1, 1).date()).days
    ref_us = (ref.hour * 3600 + ref.minute * 60 + ref.second) * 1_000_000 + ref.microsecond
    later = sod * 1_000_000 + us > ref_us + 3_600_000_000
    days = np.full(n, ref_days, dtype=_I64) - later
    valid = (sod >= 0) & (sod < 86400)
    t, ok = wall_to_epoch(days, np.where(valid, sod, 0), us, h.default_tz)
    return t, ok & valid


# --------------------------------------------------------------------------- year-less keys


def yearless_key(month: np.ndarray | int, day: np.ndarray | int, sod: np.ndarray | int,
                 us: np.ndarray | int) -> np.ndarray | float:
    """(month, day, second of day, microsecond) as one float64 (an exact integer < 2**53)."""
    return ((np.asarray(month, dtype=_I64) * 32 + day) * 86400 + sod) * 1_000_000 + us


def split_key(key: np.ndarray) -> tuple[np.ndarray, ...]:
    k = key.astype(_I64)
    us = k % 1_000_000
    k //= 1_000_000
    sod = k % 86400
    k //= 86400
    return k // 32, k % 32, sod, us  # month, day, sod, us


class YearPlan:
    """The year of each year-less record of one file (see the module docstring).

    ``feed(keys)`` takes the keys of the next records in file order and returns their years
    relative to the first one; ``anchor(reference)`` fixes the absolute years from the last
    key fed and the file's mtime; ``years(relative)`` then gives absolute years. Records
    appended later (a growing file) continue from the state kept here without re-anchoring.
    """

    _DAY = 86400 * 1_000_000

    def __init__(self) -> None:
        self._prev: int | None = None  # the last record's position in a leap year, in us
        self._rel = 0
        self._last_key: float | None = None
        self.base: int | None = None

    @staticmethod
    def _position(keys: np.ndarray) -> np.ndarray:
        month, day, sod, us = split_key(keys)
        doy = _CUM_DAYS[np.clip(month - 1, 0, 11)] + day - 1
        return (doy * 86400 + sod) * 1_000_000 + us

    def feed(self, keys: np.ndarray) -> np.ndarray:
        if not len(keys):
            return np.zeros(0, dtype=_I64)
        pos = self._position(keys)
        prev = np.empty(len(pos), dtype=_I64)
        prev[0] = pos[0] if self._prev is None else self._prev
        prev[1:] = pos[:-1]
        d = pos - prev
        step = (d < -self._DAY).astype(_I64) - (d > 364 * self._DAY)
        rel = self._rel + np.cumsum(step)
        self._prev, self._rel, self._last_key = int(pos[-1]), int(rel[-1]), float(keys[-1])
        return rel

    def anchor(self, reference: datetime) -> None:
        """The last record fed is the newest date not after ``reference`` (naive local wall
        clock) + 1 day; an earlier Feb 29 looks back to the last leap year."""
        if self.base is not None or self._last_key is None:
            return
        month, day, sod, us = (int(x[0]) for x in split_key(np.array([self._last_key])))
        limit = reference + timedelta(days=1)
        year = limit.year
        for y in range(limit.year, limit.year - 9, -1):
            try:
                when = datetime(y, month, day) + timedelta(seconds=sod, microseconds=us)
            except ValueError:
                continue
            if when <= limit:
                year = y
                break
        self.base = year - self._rel

    def years(self, rel: np.ndarray) -> np.ndarray:
        assert self.base is not None
        return rel + self.base


def yearless_to_epoch(keys: np.ndarray, years: np.ndarray,
                      default_tz: object | None) -> np.ndarray:
    """Year-less keys in the given years -> epoch seconds (NaN where the date does not exist,
    e.g. Feb 29 in a common year)."""
    month, day, sod, us = split_key(keys)
    out = np.full(len(keys), np.nan)
    ok = valid_date(years, month, day) & (sod < 86400)
    if not ok.any():
        return out
    idx = np.flatnonzero(ok)
    days = epoch_days(years[idx], month[idx], day[idx])
    vals, good = wall_to_epoch(days, sod[idx], us[idx], default_tz)
    out[idx[good]] = vals[good]
    return out


# --------------------------------------------------------------------------- level words

# The words the formats' ``_LEVEL_WORD_AT_START`` knows (a message's leading level word,
# case-insensitive), longest spelling first where one is a prefix of another.
_LEADING_WORDS = [(w.encode(), Level.parse(w)) for w in (
    "trace", "debug", "info", "notice", "warning", "warn", "error", "err", "critical", "crit",
    "fatal", "alert", "emerg", "panic")]
_OPEN = _lut(b"[<(")
_CLOSE = _lut(b"]>):")


def _word_key(word: bytes) -> tuple[np.uint64, np.uint64]:
    value = int.from_bytes(word.ljust(8, b"\0"), "little")
    return np.uint64(value), np.uint64((1 << (8 * len(word))) - 1)


_LEADING_KEYS = [(len(w), *_word_key(w), int(lv)) for w, lv in _LEADING_WORDS]
_FOLD = np.uint64(0x2020202020202020)
_HIGH = np.uint64(0x8080808080808080)


def _u64_at(rows: np.ndarray, col: np.ndarray) -> np.ndarray:
    """The 8 bytes from ``col`` of each row as a little-endian uint64 (0 past the row)."""
    n, width = rows.shape
    padded = np.zeros((n, width + 8), dtype=np.uint8)
    padded[:, :width] = rows
    flat = padded.reshape(-1)
    base = np.arange(n, dtype=_I64) * (width + 8) + np.clip(col, 0, width)
    win = np.ndarray(shape=(len(flat) - 7,), dtype=np.dtype((np.void, 8)), buffer=flat,
                     strides=(1,))
    return win[base].view("<u8").reshape(n)


def message_level(h: Headers, msg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`leading_level` of the messages starting at column ``msg`` of each record, past
    up to seven leading spaces or tabs (``\\s*``): (level, sure, the 16 bytes read at the
    message itself)."""
    head = gather(h.buf, h.starts + msg, h.ends, 8)
    blank = (head == 32) | (head == 9)
    skip = np.argmin(blank, axis=1)
    skip[blank.all(axis=1)] = 8
    rows = gather(h.buf, h.starts + msg + skip, h.ends, 16)
    levels, sure = leading_level(rows)
    at_msg = rows if not skip.any() else gather(h.buf, h.starts + msg, h.ends, 16)
    return levels, sure & (skip < 8), at_msg


def leading_level(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""``_LEVEL_WORD_AT_START`` on rows that start at the message: (level, sure).

    ``\s*[\[<(]?(word)[\]>):]?(?:\s|$)``, case-insensitive. Not sure (left to Python): a
    message starting with whitespace or with a non-ASCII byte near the word (IGNORECASE folds
    some non-ASCII letters)."""
    n = len(rows)
    levels = np.zeros(n, dtype=np.int8)
    if n == 0:
        return levels, np.zeros(0, dtype=bool)
    if rows.shape[1] < 16:
        rows = np.concatenate([rows, np.zeros((n, 16 - rows.shape[1]), np.uint8)], axis=1)
    rows = np.ascontiguousarray(rows[:, :16])
    first = rows[:, 0]
    sure = ~WS_OR_ODD[first] | (first == 0)
    opened = _OPEN[first]
    q = opened.astype(_I64)
    halves = rows.view("<u8")
    sure &= ((halves[:, 0] | halves[:, 1]) & _HIGH) == 0
    word = np.where(opened, (halves[:, 0] >> np.uint64(8)) | (halves[:, 1] << np.uint64(56)),
                    halves[:, 0]) | _FOLD
    found = np.zeros(n, dtype=bool)
    for k, value, mask, level in _LEADING_KEYS:
        hit = (word & mask) == value
        if not hit.any():
            continue
        at = np.flatnonzero(hit & ~found)
        qk = q[at] + k
        c1, c2 = rows[at, qk], rows[at, qk + 1]
        at = at[WS_OR_END[c1] | (_CLOSE[c1] & WS_OR_END[c2])]
        levels[at] = level
        found[at] = True
    return levels, sure


# --------------------------------------------------------------------------- ISO timestamps


def _six_digits(w: np.ndarray, col: int, count: np.ndarray) -> np.ndarray:
    """The first ``count`` (0..6) digits at ``col`` as microseconds (``"5"`` -> 500000): the
    8 bytes are read as one integer and summed pairwise (SWAR), missing digits as zeros."""
    n = len(w)
    word = np.ascontiguousarray(w[:, col: col + 8]).view("<u8").reshape(n)
    keep = np.left_shift(np.uint64(1), (count * 8).astype(np.uint64)) - np.uint64(1)
    keep[count >= 8] = np.uint64(0xFFFFFFFFFFFFFFFF)
    x = (word & keep) | (_ZEROS & ~keep)  # digits beyond count become "0"
    x = x - _ZEROS
    x = ((x * np.uint64(10)) + (x >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    x = ((x * np.uint64(100)) + (x >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    x = ((x * np.uint64(10000)) + (x >> np.uint64(32))) & np.uint64(0xFFFFFFFF)
    return (x // np.uint64(100)).astype(_I64)


_ZEROS = np.uint64(0x3030303030303030)


def _iso_words() -> list[tuple[np.uint64, np.uint64, np.uint64]]:
    """Per 8-byte word of ``YYYY-MM-DD?HH:MM:SS``: (mask, value) of the fixed bytes and the
    low-nibble mask of the digit bytes (a digit: high nibble 3, low nibble + 6 below 16)."""
    layout = "dddd-dd-dd?dd:dd:dd"
    out = []
    for j in range(3):
        mask = value = dmask = 0
        for i, ch in enumerate(layout[8 * j: 8 * j + 8]):
            shift = 8 * i
            if ch == "d":
                mask |= 0xF0 << shift
                value |= 0x30 << shift
                dmask |= 0x0F << shift
            elif ch != "?":
                mask |= 0xFF << shift
                value |= ord(ch) << shift
        out.append((np.uint64(mask), np.uint64(value), np.uint64(dmask)))
    return out


_ISO_WORDS = _iso_words()
_SIX = np.uint64(0x0606060606060606)


@dataclass
class IsoParts:
    ok: np.ndarray  # the layout matched and the values are valid for fromisoformat
    end: np.ndarray  # column just after the timestamp (fraction and zone included)
    days: np.ndarray
    sod: np.ndarray
    us: np.ndarray
    has_zone: np.ndarray
    offset: np.ndarray  # seconds east of UTC


def iso_at(rows: np.ndarray, col: np.ndarray | int, *, seps: bytes = b"T", comma: bool = False,
           zone: str = "optional", max_frac: int = 12) -> IsoParts:
    """``YYYY-MM-DD<sep>HH:MM:SS[.frac][Z|+HH:MM|+HHMM]`` starting at ``col`` of each row, as
    ``datetime.fromisoformat`` reads it (fraction truncated to microseconds). ``zone``:
    "optional", "required" or "none" (a zone is not part of the timestamp). Rows where the
    text could mean something else (a longer fraction than ``max_frac`` digits, a zone after a
    space, an offset of 24 h or more) are not ok."""
    n, width = rows.shape
    span = 32 + max_frac
    if isinstance(col, int | np.integer):
        c0 = np.full(n, int(col), dtype=_I64)
        w = rows[:, int(col): int(col) + span]
        if w.shape[1] < span:
            w = np.concatenate([w, np.zeros((n, span - w.shape[1]), np.uint8)], axis=1)
        w = np.ascontiguousarray(w)
    else:
        c0 = np.asarray(col, dtype=_I64)
        idx = np.clip(c0[:, None] + np.arange(span)[None, :], 0, width - 1)
        w = rows[np.arange(n)[:, None], idx]
        w = np.where(c0[:, None] + np.arange(span)[None, :] < width, w, np.uint8(0))
    head = np.ascontiguousarray(w[:, :24]).view("<u8")  # "YYYY-MM-DDTHH:MM:SS" + 5 bytes
    ok = np.ones(n, dtype=bool)
    for j, (mask, value, dmask) in enumerate(_ISO_WORDS):
        x = head[:, j]
        ok &= (x & mask) == value
        ok &= (((x & dmask) + (dmask & _SIX)) & (dmask << np.uint64(4))) == 0
    sep = np.zeros(n, dtype=bool)
    for c in seps:
        sep |= w[:, 10] == c
    ok &= sep
    # the date: computed once per run of records with the same date bytes (logs are sorted)
    date_key = head[:, 0] ^ ((head[:, 1] & np.uint64(0xFFFF)) * np.uint64(0x9E3779B97F4A7C15))
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = (date_key[1:] != date_key[:-1]) | (head[1:, 0] != head[:-1, 0])
    firsts = np.flatnonzero(new_run)
    run_of = np.cumsum(new_run) - 1
    fd = w[firsts, :10].astype(_I64) - 48
    r_year = fd[:, 0] * 1000 + fd[:, 1] * 100 + fd[:, 2] * 10 + fd[:, 3]
    r_month, r_day = fd[:, 5] * 10 + fd[:, 6], fd[:, 8] * 10 + fd[:, 9]
    r_ok = valid_date(r_year, r_month, r_day)
    r_days = np.zeros(len(firsts), dtype=_I64)
    if r_ok.any():
        r_days[r_ok] = epoch_days(r_year[r_ok], r_month[r_ok], r_day[r_ok])
    ok &= r_ok[run_of]
    t = lambda c: w[:, c].astype(np.int32) - 48
    hh, mi, ss = t(11) * 10 + t(12), t(14) * 10 + t(15), t(17) * 10 + t(18)
    ok &= (hh < 24) & (mi < 60) & (ss < 60)
    # fraction: [.,] then digits; truncated to 6 like fromisoformat
    dot = (w[:, 19] == 46) | ((w[:, 19] == 44) if comma else False)
    dig = is_digit(w[:, 20: 20 + max_frac + 1])
    nfrac = np.argmin(dig, axis=1)
    nfrac[dig[np.arange(n), nfrac]] = max_frac + 1  # all digits
    has_frac = dot & (nfrac > 0)
    ok &= ~(has_frac & (nfrac > max_frac))
    us = _six_digits(w, 20, np.where(has_frac, np.minimum(nfrac, 6), 0))
    end = 19 + np.where(has_frac, 1 + nfrac, 0)
    has_zone = np.zeros(n, dtype=bool)
    offset = np.zeros(n, dtype=_I64)
    if zone != "none":
        z = end
        zc = col_at(w, z)
        is_z = zc == 90  # "Z"
        sign = (zc == 43) | (zc == 45)
        d1 = col_at(w, z + 1), col_at(w, z + 2)
        colon = col_at(w, z + 3) == 58
        m1 = np.where(colon, z + 4, z + 3)
        d2 = col_at(w, m1), col_at(w, m1 + 1)
        two = is_digit(d1[0]) & is_digit(d1[1])
        four = two & is_digit(d2[0]) & is_digit(d2[1])
        oh = (d1[0].astype(_I64) - 48) * 10 + d1[1] - 48
        om = (d2[0].astype(_I64) - 48) * 10 + d2[1] - 48
        has_off = sign & four
        ok &= ~(sign & two & ~four)  # "+01" alone: fromisoformat reads it, the regexes do not
        ok &= ~(has_off & ((oh >= 24) | (om >= 60)))
        has_zone = is_z | has_off
        offset = np.where(has_off, np.where(zc == 45, -1, 1) * (oh * 3600 + om * 60), 0)
        end = np.where(is_z, end + 1, np.where(has_off, m1 + 2, end))
        # "... 12:00:00 +01:00" (a zone after a space): format-specific; left to Python
        after = col_at(w, end)
        nxt = col_at(w, end + 1)
        ok &= ~(~has_zone & (after == 32) & ((nxt == 90) | (((nxt == 43) | (nxt == 45))
                                                            & is_digit(col_at(w, end + 2)))))
        if zone == "required":
            ok &= has_zone
    days = r_days[run_of]
    sod = (hh * 3600 + mi * 60 + ss).astype(_I64)
    return IsoParts(ok=ok, end=c0 + end, days=days, sod=sod, us=us,
                    has_zone=has_zone, offset=offset)


def iso_epoch(p: IsoParts, default_tz: object | None) -> tuple[np.ndarray, np.ndarray]:
    """Epoch seconds of the ok rows of ``p`` (aware: as written; naive: ``_localize``d)."""
    n = len(p.ok)
    times = np.full(n, np.nan)
    ok = p.ok.copy()
    aware = ok & p.has_zone
    if aware.any():
        times[aware] = aware_to_epoch(p.days[aware], p.sod[aware], p.us[aware],
                                      p.offset[aware])
        ok &= ~(aware & np.isnan(times))
    naive = np.flatnonzero(ok & ~p.has_zone)
    if len(naive):
        vals, good = wall_to_epoch(p.days[naive], p.sod[naive], p.us[naive], default_tz)
        times[naive] = vals
        ok[naive[~good]] = False
    return times, ok


def nul_free(h: Headers) -> np.ndarray:
    """Records whose first line has no NUL byte (a NUL would look like the line's end in the
    zero-padded rows)."""
    n = len(h.starts)
    if n == 0:
        return np.zeros(0, dtype=bool)
    lo, hi = int(h.starts.min()), int(h.ends.max())
    part = h.buf[lo:hi] == 0
    if not part.any():
        return np.ones(n, dtype=bool)
    z = np.flatnonzero(part) + lo
    return np.searchsorted(z, h.ends) == np.searchsorted(z, h.starts)


def no_nul(rows: np.ndarray, length: np.ndarray) -> np.ndarray:
    """No NUL byte inside the text part of each row (a NUL would look like the line's end)."""
    return np.count_nonzero(rows, axis=1) == np.minimum(length, rows.shape[1])


# --------------------------------------------------------------------------- syslog (rfc3164)

_TAG_END = WS_OR_ODD.copy()
_TAG_END[[0, 0x3A, 0x5B, 0x5D]] = True  # end, ':', '[', ']'
_HOST_END = WS_OR_ODD.copy()
_HOST_END[0] = True
_SYSLOG_W = 96  # bytes of the header read for the timestamp, host and tag


def _scan(rows: np.ndarray, start: np.ndarray, span: int,
          pred: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The first column >= ``start`` (per row) where ``pred`` holds, looking at most ``span``
    columns on: (column, found). ``pred`` sees only the columns that can matter."""
    at, found = _scan_once(rows, start, min(span, 20), pred)
    rest = np.flatnonzero(~found)
    if span > 20 and len(rest):
        at[rest], found[rest] = _scan_once(rows[rest], start[rest], span, pred)
    return at, found


def _scan_once(rows: np.ndarray, start: np.ndarray, span: int,
               pred: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    n, width = rows.shape
    lo = max(int(start.min()), 0) if n else 0
    hi = min(int(start.max()) + span, width) if n else 0
    if hi <= lo:
        return np.full(n, width, dtype=_I64), np.zeros(n, dtype=bool)
    at = first_true(pred(rows[:, lo:hi]), start - lo) + lo
    found = (at < hi) & (at < start + span)
    return np.where(found, at, width), found


def _odd(x: np.ndarray) -> np.ndarray:
    return (x <= 32) | (x >= 128)  # whitespace (and every other control) or non-ASCII


def _tag_stop(x: np.ndarray) -> np.ndarray:
    return (x <= 32) | (x >= 128) | (x == 58) | (x == 91) | (x == 93)


def _non_digit(x: np.ndarray) -> np.ndarray:
    return (x < 48) | (x > 57)


def syslog_message_start(rows: np.ndarray, p: np.ndarray, length: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
    r"""Where the message starts after ``TIMESTAMP`` ending at column ``p``, as ``_RFC3164``'s
    `` (\S+) (?:([^\s:\[\]]+)(?:\[(\d+)\]:?|:)(?: |\Z))?(.*)`` reads it: (column, ok).
    Hosts and tags longer than 48 bytes are left to Python."""
    n, width = rows.shape
    ok = take(rows, p) == 32
    host_end, found = _scan(rows, p + 1, 48, _odd)
    ok &= found & (host_end > p + 1) & (take(rows, host_end) == 32) & (host_end < width - 1)
    rest = host_end + 1
    t_end, found = _scan(rows, np.where(ok, rest, p), 48, _tag_stop)
    ok &= found
    t_byte = take(rows, t_end)
    ok &= (t_end < width - 3) & (t_byte < 0x80) & ((t_byte != 0) | (t_end == length))
    after = take(rows, t_end + 1)
    colon_tag = (t_byte == 0x3A) & ((after == 32) | (t_end + 1 == length))
    bracket = t_byte == 0x5B
    d_end = np.full(n, width, dtype=_I64)
    bi = np.flatnonzero(bracket & ok)
    if len(bi):
        part = rows if len(bi) == n else rows[bi]
        d, found = _scan(part, t_end[bi] + 1, 12, _non_digit)
        d_end[bi] = np.where(found, d, width)
    d_byte = take(rows, d_end)
    # "tag[pid]:" or, as rsyslog writes a message it received as RFC 5424, "tag[pid]" without
    # the colon; then a space or the end of the line
    stop = d_end + (take(rows, d_end + 1) == 0x3A)
    after_pid = take(rows, stop + 1)
    pid_tag = (bracket & (d_end > t_end + 1) & (d_byte == 0x5D)
               & ((after_pid == 32) | (stop + 1 == length)))
    ok &= ~bracket | ((d_end < width - 3) & (d_byte < 0x80))  # \d takes Unicode digits
    tagged = (t_end > rest) & (colon_tag | pid_tag)
    colon = np.where(pid_tag, stop, t_end)
    msg = np.where(tagged, np.minimum(colon + 2, length), rest)
    return msg, ok


@register("rfc3164")
def extract_syslog(h: Headers) -> Extracted:
    """Classic ``Mmm dd HH:MM:SS[.frac] host [tag[pid]:] msg`` (a year-less key) and rsyslog's
    ``YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM) host [tag[pid]:] msg``; level: the message's leading
    level word. ``<PRI>``, a year after the time and one-space days are left to Python."""
    n = len(h.starts)
    length = h.ends - h.starts
    rows = gather(h.buf, h.starts, h.ends, _SYSLOG_W)
    ok = nul_free(h)
    # classic
    c = rows
    upper = (c[:, 0] - np.uint8(65)) < np.uint8(26)
    classic = np.zeros(n, dtype=bool)
    month = day = hh = mi = ss = us = np.zeros(n, dtype=_I64)
    p_classic = np.zeros(n, dtype=_I64)
    if upper.any():
        month = month_from_name(rows, 0)
        classic = month > 0
        classic &= (c[:, 3] == 32) & (c[:, 6] == 32) & is_digit(c[:, 5])
        classic &= (c[:, 4] == 32) | is_digit(c[:, 4])
        classic &= (c[:, 9] == 58) & (c[:, 12] == 58)
        for i in (7, 8, 10, 11, 13, 14):
            classic &= is_digit(c[:, i])
        day = np.where(c[:, 4] == 32, 0, c[:, 4].astype(_I64) - 48) * 10 + c[:, 5] - 48
        d = lambda i: c[:, i].astype(_I64) - 48
        hh, mi, ss = d(7) * 10 + d(8), d(10) * 10 + d(11), d(13) * 10 + d(14)
        classic &= (hh < 24) & (mi < 60) & (ss < 60) & (day >= 1)
        classic &= day <= _MONTH_DAYS[month]  # Feb 29 exists in the sentinel (leap) year
        # optional ".frac"
        dig = is_digit(rows[:, 16:29])
        nfrac = np.where(dig.all(axis=1), 13, np.argmin(dig, axis=1))
        frac = (c[:, 15] == 46) & (nfrac > 0)
        classic &= ~(frac & (nfrac > 12))
        us = np.zeros(n, dtype=_I64)
        for i in range(6):
            us = us * 10 + np.where(frac & (nfrac > i), rows[:, 16 + i].astype(_I64) - 48, 0)
        p_classic = np.where(frac, 16 + nfrac, 15)
        # "... 12:00:00 2024 host": the year group may or may not apply; leave it to the regex
        y = np.stack([take(rows, p_classic + k) for k in range(6)], axis=1)
        classic &= ~((y[:, 0] == 32) & is_digit(y[:, 1]) & is_digit(y[:, 2])
                     & is_digit(y[:, 3]) & is_digit(y[:, 4]) & (y[:, 5] == 32))
    # rsyslog ISO
    iso = is_digit(c[:, 0]) & ~classic
    parts = iso_at(rows, 0, seps=b"T", zone="required") if iso.any() else None
    if parts is not None:
        iso &= parts.ok
    p = np.where(classic, p_classic, parts.end if parts is not None else 0)
    ok &= classic | iso
    msg, good = syslog_message_start(rows, p, length)
    ok &= good
    levels, sure, _ = message_level(h, msg)
    ok &= sure
    times = np.full(n, np.nan)
    if parts is not None and iso.any():
        t, good = iso_epoch(parts, h.default_tz)
        times[iso] = t[iso]
        ok &= ~iso | good
    yearless = classic & ok
    times[yearless] = yearless_key(month[yearless], day[yearless],
                                   (hh * 3600 + mi * 60 + ss)[yearless], us[yearless])
    levels[~ok] = 0
    times[~ok] = np.nan
    return Extracted(times, levels, ok, yearless)


# --------------------------------------------------------------------------- JSON objects
#
# A record is taken here only when its first line is a *flat* JSON object that ``json.loads``
# certainly accepts: no backslash and no control character anywhere (so a string is exactly
# the bytes between two quotes), keys and values separated the JSON way with at most spaces
# around, literals that are valid JSON numbers or true/false/null, no nested object or array.
# Everything else (escapes, tabs, nesting, odd whitespace, invalid JSON) goes to Python.

_J_STRING, _J_LITERAL = 1, 2
_SEG_W = 24  # longest ":  <literal> ," segment looked at
# segment kinds: A ':' (a string value follows), B ': LIT ,', C ',' (after a string value),
# DS '}' (end, after a string value), DL ': LIT }' (end, after a key)
_A, _B, _C, _DS, _DL, _BAD = 1, 2, 3, 4, 5, 0


def _number_dfa() -> tuple[np.ndarray, np.ndarray]:
    """A DFA over bytes for one JSON literal as Python's json reads it: a number
    ``-?(0|[1-9]\\d*)(\\.\\d+)?([eE][-+]?\\d+)?`` or true/false/null/NaN/Infinity/-Infinity.
    Returns (transitions (states, 256) int16, accepting states); state 0 is dead."""
    table: dict[int, dict[int, int]] = {}
    accept: set[int] = set()
    count = [2]  # 0 dead, 1 start

    def new() -> int:
        count[0] += 1
        return count[0] - 1

    def edge(a: int, chars: bytes, b: int) -> None:
        for c in chars:
            table.setdefault(a, {})[c] = b

    digits_, nonzero = b"0123456789", b"123456789"
    minus, zero, intd, dot, frac, exp, esign, expd = (new() for _ in range(8))
    edge(1, b"-", minus)
    edge(1, b"0", zero)
    edge(1, nonzero, intd)
    edge(minus, b"0", zero)
    edge(minus, nonzero, intd)
    edge(intd, digits_, intd)
    for s in (zero, intd):
        edge(s, b".", dot)
        edge(s, b"eE", exp)
    edge(dot, digits_, frac)
    edge(frac, digits_, frac)
    edge(frac, b"eE", exp)
    edge(exp, b"+-", esign)
    edge(exp, digits_, expd)
    edge(esign, digits_, expd)
    edge(expd, digits_, expd)
    accept |= {zero, intd, frac, expd}
    for word in (b"true", b"false", b"null", b"NaN", b"Infinity", b"-Infinity"):
        state = 1
        for i, c in enumerate(word):
            nxt = table.get(state, {}).get(c)
            if nxt is None:
                nxt = new()
                edge(state, bytes([c]), nxt)
            state = nxt
            if i == len(word) - 1:
                accept.add(state)
    t = np.zeros((count[0], 256), dtype=np.int16)
    for a, moves in table.items():
        for c, b in moves.items():
            t[a, c] = b
    acc = np.zeros(count[0], dtype=bool)
    acc[list(accept)] = True
    return t, acc


_DFA, _DFA_ACCEPT = _number_dfa()
_INT_LIKE = _lut(b"-0123456789")


def valid_literals(rows: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Rows holding one JSON literal each (``length`` bytes, the rest 0): valid or not."""
    state = np.ones(len(rows), dtype=np.int16)
    for c in range(int(length.max()) if len(length) else 0):
        active = c < length
        state = np.where(active, _DFA[state, rows[:, c]], state)
    return _DFA_ACCEPT[state] & (length > 0)


_PRE = 6  # the "{" before the first key


def _segment_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    kinds = np.zeros((4, 256, 256), dtype=np.int8)  # [length 0..3+, second byte, first byte]
    kinds[1, :, ord(":")] = _A
    kinds[1, :, ord(",")] = _C
    kinds[1, :, ord("}")] = _DS
    kinds[2, ord(" "), ord(":")] = _A
    kinds[2, ord(" "), ord(",")] = _C
    kinds[2, ord(" "), ord("}")] = _DS
    follows = np.zeros((8, 8), dtype=bool)  # [previous segment, this one], not the last
    ends = np.zeros((8, 8), dtype=bool)  # the same for the last segment of a record
    for key_next in (_PRE, _B, _C):  # a key string comes next: ":" or ": LIT ," after it
        follows[key_next, _A] = follows[key_next, _B] = True
        ends[key_next, _DL] = True
    follows[_A, _C] = True  # a value string comes next: "," after it
    ends[_A, _DS] = True
    keyish = np.zeros(8, dtype=bool)
    keyish[[_PRE, _B, _C]] = True
    return kinds, follows, ends, keyish


_SEG_KIND, _FOLLOWS, _ENDS, _KEYISH = _segment_tables()
_SEG_SPREAD = np.array([sum(((n >> b) & 1) << (8 * b + 7) for b in range(8))
                        for n in range(17)], dtype=np.uint64)
_DIGIT_LOW = np.uint64(0x0F0F0F0F0F0F0F0F)
_ONES = np.uint64(0x0101010101010101)
_SEG_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1],
                      dtype=np.uint64)


class _SegmentTable:
    """Segment shapes seen so far (digits folded, see _fold_digits) -> (kind, literal start,
    literal end). Shared by all files: a shape means the same everywhere."""

    LIMIT = 1 << 14

    def __init__(self) -> None:
        self.codes = np.zeros(0, dtype=np.uint64)
        self.words = np.zeros((0, 2), dtype=np.uint64)
        self.info = np.zeros((0, 3), dtype=_I64)
        self._lock = threading.Lock()

    def lookup(self, codes: np.ndarray, w0: np.ndarray, w1: np.ndarray,
               texts: Callable[[np.ndarray], list[bytes]]) -> np.ndarray:
        table, words, info = self.codes, self.words, self.info
        out = np.zeros((len(codes), 3), dtype=_I64)
        if len(table):
            at = np.minimum(np.searchsorted(table, codes), len(table) - 1)
            known = (table[at] == codes) & (words[at, 0] == w0) & (words[at, 1] == w1)
            out[known] = info[at[known]]
        else:
            known = np.zeros(len(codes), dtype=bool)
        miss = np.flatnonzero(~known)
        if len(miss):
            _, first, inverse = np.unique(codes[miss], return_index=True, return_inverse=True)
            inverse = inverse.reshape(-1)
            reps = miss[first]
            rows = np.array([_classify(t) for t in texts(reps)], dtype=_I64).reshape(-1, 3)
            # a hash shared by two long shapes: those records are classified one by one
            same = (w0[miss] == w0[reps][inverse]) & (w1[miss] == w1[reps][inverse])
            out[miss[same]] = rows[inverse[same]]
            odd = miss[~same]
            if len(odd):
                out[odd] = np.array([_classify(t) for t in texts(odd)], dtype=_I64)
            with self._lock:
                if len(self.codes) + len(reps) <= self.LIMIT:
                    codes_all = np.concatenate([self.codes, codes[reps]])
                    words_all = np.concatenate([self.words,
                                                np.stack([w0[reps], w1[reps]], axis=1)])
                    info_all = np.concatenate([self.info, rows])
                    order = np.argsort(codes_all, kind="stable")
                    self.codes = codes_all[order]
                    self.words, self.info = words_all[order], info_all[order]
        return out


def _classify(text: bytes) -> tuple[int, int, int]:
    """(kind, literal start, literal end) of the bytes between two strings of an object."""
    m = _SEGMENT_RE.fullmatch(text)
    if m is None:
        return _BAD, 0, 0
    lead, lit, tail = m.group(1), m.group(2), m.group(3)
    if lit:
        try:
            value = json.loads(lit)
        except ValueError:
            return _BAD, 0, 0
        if isinstance(value, dict | list | str):
            return _BAD, 0, 0
        if lead != b":" or tail not in (b",", b"}"):
            return _BAD, 0, 0
        return (_B if tail == b"," else _DL), m.start(2), m.end(2)
    if tail:
        return _BAD, 0, 0
    return {b":": _A, b",": _C, b"}": _DS}.get(lead, _BAD), 0, 0


_SEGMENT_RE = re.compile(rb" *([:,}]) *(?:([-+.0-9A-Za-z]+) *([,}]) *)?")
_TABLE = _SegmentTable()


def _digit_flags(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per byte of each uint64 (ASCII bytes): 0x01 where it is a digit, 0x01 where it is "0"."""
    x = w ^ _ZEROS  # digits become 0x00..0x09, every other ASCII byte 0x10 or more
    digit = (~((x | _HIGH) - _TENS) & ~x & _HIGH) >> np.uint64(7)
    zero = (~((x | _HIGH) - _ONES) & ~x & _HIGH) >> np.uint64(7)
    return digit, zero


def _fold_digits(w0: np.ndarray, w1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """16 bytes as two words: a digit becomes "1" unless it is a "0" that leads a longer
    number (invalid in JSON: kept as "0"), so all numbers of one shape read alike and the
    shape keeps its validity. Other bytes stay."""
    d0, z0 = _digit_flags(w0)
    d1, z1 = _digit_flags(w1)
    b56, b8 = np.uint64(56), np.uint64(8)
    prev0, prev1 = d0 << b8, (d1 << b8) | (d0 >> b56)
    next0, next1 = (d0 >> b8) | (d1 << b56), d1 >> b8
    out = []
    for w, d, z, prev, nxt in ((w0, d0, z0, prev0, next0), (w1, d1, z1, prev1, next1)):
        fold = d & ~(z & ~prev & nxt)
        out.append((w & ~(fold * np.uint64(0xFF))) | (fold * np.uint64(0x31)))
    return out[0], out[1]


def _int_segments(buf: np.ndarray, seg0: np.ndarray, seg_len: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The most common segment with a literal, at once: ``:123,`` / ``: 123, `` / ``:123}``
    (1 to 8 digits, no leading zero). Kind 0 for anything else (see _segments)."""
    top = len(buf) - 1
    b1 = buf[seg0]
    sp = buf[np.minimum(seg0 + 1, top)] == 32
    l0 = seg0 + 1 + sp
    end = seg0 + seg_len
    last = buf[np.maximum(end - 1, 0)]
    tail_sp = last == 32
    tail = np.where(tail_sp, end - 2, end - 1)
    t_byte = buf[np.maximum(tail, 0)]
    digits_n = tail - l0
    ok = (b1 == 58) & ((t_byte == 44) | (t_byte == 125)) & (digits_n >= 1) & (digits_n <= 8)
    word = gather_words(buf, l0, tail, 1)[:, 0]
    flags, zero = _digit_flags(word)
    want = _ONES & _BYTE_MASKS[np.clip(digits_n, 0, 8)]
    ok &= flags == want
    ok &= ~((zero & np.uint64(1)).astype(bool) & (digits_n > 1))  # a leading zero
    kind = np.where(ok, np.where(t_byte == 44, _B, _DL), 0).astype(np.int8)
    return kind, np.where(ok, l0, 0), np.where(ok, tail, 0)


def _segments(buf: np.ndarray, seg0: np.ndarray, seg_len: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kind and literal span of each segment (see _classify); segments longer than 16 bytes
    or holding a non-ASCII byte are _BAD (Python decides those records)."""
    m = len(seg0)
    kind = np.zeros(m, dtype=np.int8)
    lit0 = np.zeros(m, dtype=_I64)
    lit1 = np.zeros(m, dtype=_I64)
    fits = (seg_len > 0) & (seg_len <= 16)
    idx = None if fits.all() else np.flatnonzero(fits)
    s0 = seg0 if idx is None else seg0[idx]
    ln = seg_len if idx is None else seg_len[idx]
    words = gather_words(buf, s0, s0 + ln, 2)
    ascii_ = ((words[:, 0] | words[:, 1]) & _HIGH) == 0
    w0, w1 = _fold_digits(words[:, 0], words[:, 1])
    code = w0 | _SEG_SPREAD[ln]  # exact for 8 bytes or fewer (ASCII: the high bits are free)
    long_ = ln > 8
    if long_.any():
        code = np.where(long_, (code * np.uint64(0x9E3779B97F4A7C15)) ^ w1, code)

    def texts(sel: np.ndarray) -> list[bytes]:
        both = np.stack([w0[sel], w1[sel]], axis=1).view(np.uint8)
        return [both[j, : int(ln[k])].tobytes() for j, k in enumerate(sel.tolist())]

    info = _TABLE.lookup(code, w0, w1, texts)
    k = np.where(ascii_, info[:, 0], _BAD).astype(np.int8)
    if idx is None:
        kind[:] = k
        lit0[:] = s0 + info[:, 1]
        lit1[:] = s0 + info[:, 2]
    else:
        kind[idx] = k
        lit0[idx] = s0 + info[:, 1]
        lit1[idx] = s0 + info[:, 2]
    return kind, lit0, lit1


_TENS = np.uint64(0x0A0A0A0A0A0A0A0A)
_ONES = np.uint64(0x0101010101010101)


_ESCAPES = _lut(b'"\\/bfnrtu')
_HEX = _lut(b"0123456789abcdefABCDEF")


def _unescape(buf: np.ndarray, quotes: np.ndarray, bsl: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Drop the escaped quotes (after an odd run of backslashes) from ``quotes``; also return
    where an escape is invalid for JSON (``\\x``, a short ``\\u``)."""
    brk = np.ones(len(bsl), dtype=bool)
    brk[1:] = bsl[1:] != bsl[:-1] + 1
    last = np.ones(len(bsl), dtype=bool)
    last[:-1] = brk[1:]
    run_start = bsl[brk]
    run_end = bsl[last]
    odd_end = run_end[(run_end - run_start + 1) % 2 == 1]  # its last backslash escapes
    nxt = buf[np.minimum(odd_end + 1, len(buf) - 1)]
    bad = ~_ESCAPES[nxt] | (odd_end + 1 >= len(buf))
    uni = np.flatnonzero(nxt == 117)
    for k in range(2, 6):
        pos = np.minimum(odd_end[uni] + k, len(buf) - 1)
        bad[uni] |= ~_HEX[buf[pos]] | (odd_end[uni] + k >= len(buf))
    after = odd_end + 1
    esc = after[(after < len(buf)) & (buf[np.minimum(after, len(buf) - 1)] == 34)]
    if len(esc):  # escaped quotes are string content
        at = np.searchsorted(quotes, esc)
        quotes = np.delete(quotes, at[quotes[np.minimum(at, len(quotes) - 1)] == esc])
    return quotes, odd_end[bad]


@dataclass(frozen=True)
class _KeyTable:
    """Wanted keys by (first byte, length): ``ids[s, b, n]`` (s = 0, 1: two keys may share a
    first byte and length, like levelname and log.level) indexes ``words`` (the key's bytes as
    uint64 words) and ``key_of`` (its position in the keys asked for); -1: no such key."""

    ids: np.ndarray
    words: np.ndarray
    key_of: np.ndarray


@lru_cache(maxsize=16)
def _key_table(keys: tuple[bytes, ...]) -> _KeyTable:
    width = max(1, (max(len(k) for k in keys) + 7) // 8)
    ids = np.full((3, 256, 64), -1, dtype=np.int64)
    words: list[np.ndarray] = []
    key_of: list[int] = []
    for k, key in enumerate(keys):
        if not key or len(key) >= 64:
            continue
        slot = int(np.argmax(ids[:, key[0], len(key)] < 0))
        if ids[slot, key[0], len(key)] >= 0:
            raise ValueError(f"more than three wanted keys like {key!r}")
        ids[slot, key[0], len(key)] = len(words)
        words.append(np.frombuffer(key.ljust(8 * width, b"\0"), dtype="<u8"))
        key_of.append(k)
    return _KeyTable(ids, np.array(words, dtype=np.uint64), np.array(key_of, dtype=np.int64))


@dataclass
class JsonValue:
    """One key's value per record: ``kind`` 0 absent, 1 string, 2 literal; ``start``/``end``
    its bytes in the file (a string without its quotes)."""

    kind: np.ndarray
    start: np.ndarray
    end: np.ndarray

    @classmethod
    def absent(cls, n: int) -> JsonValue:
        return cls(np.zeros(n, np.int8), np.zeros(n, _I64), np.zeros(n, _I64))


def _spaces_then(rows: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The first column >= ``at`` that is not a space."""
    return first_true(rows != 32, at)


def json_values(h: Headers, keys: tuple[bytes, ...]) -> tuple[np.ndarray, dict[bytes, JsonValue]]:
    """Which records are flat JSON objects surely valid (see above), and where the values of
    ``keys`` (top level, present once) are. A key present twice makes the record not ok
    (``json.loads`` keeps the last; Python decides)."""
    buf, s, e = h.buf, h.starts, h.ends
    n = len(s)
    found: dict[bytes, JsonValue] = {}  # only the keys seen (arrays made on first sight)
    if n == 0:
        return np.zeros(0, dtype=bool), found
    lo, hi = int(s.min()), int(e.max())
    chunk = buf[lo:hi]
    quotes = np.flatnonzero(chunk == 34) + lo
    bsl = np.flatnonzero(chunk == 92) + lo
    ctl = np.flatnonzero(chunk < 32) + lo
    del chunk

    def count(pos: np.ndarray) -> np.ndarray:
        return np.searchsorted(pos, e) - np.searchsorted(pos, s)

    length = e - s
    ctl = ctl[buf[ctl] != 10]  # the newlines between records are no part of any record
    ok = ((count(ctl) == 0) if len(ctl) else True) & (length >= 2)
    ok &= (buf[s] == 123) & (buf[np.maximum(e - 1, 0)] == 125)
    if len(bsl):
        quotes, bad_at = _unescape(buf, quotes, bsl)
        if len(bad_at):
            ok &= count(bad_at) == 0
    qa = np.searchsorted(quotes, s)
    cnt = np.searchsorted(quotes, e) - qa
    ok &= (cnt >= 2) & (cnt % 2 == 0)
    counts = np.where(ok, cnt, 0)
    total = int(counts.sum())
    if total == 0:
        return ok, found
    span = quotes[int(qa[0]): int(qa[-1] + cnt[-1])]  # every quote of the batch, in order
    q = span if total == len(span) else span[np.repeat(ok, cnt)]
    opens, closes = q[0::2], q[1::2]
    m = len(opens)
    nstr = counts // 2
    first_str = np.cumsum(nstr) - nstr  # index of each record's first string
    has = nstr > 0
    recs_nz = np.flatnonzero(has)
    first_at = first_str[has]
    last_at = first_at + nstr[has] - 1

    def rec_of(strings: np.ndarray) -> np.ndarray:
        return recs_nz[np.searchsorted(first_at, strings, side="right") - 1]

    # the segment after each string ends at the next string, or at the record's end
    seg0 = closes + 1
    seg_end = np.empty(m, dtype=_I64)
    seg_end[:-1] = opens[1:]
    seg_end[last_at] = e[recs_nz]
    seg_len = seg_end - seg0
    # ":" "," "}" (and ": " ", ") from two bytes; the rest by shape, from a table
    b1 = buf[seg0]
    b2 = buf[np.minimum(seg0 + 1, len(buf) - 1)]
    kind = _SEG_KIND[np.minimum(np.maximum(seg_len, 0), 3), b2, b1]
    lit0 = np.zeros(m, dtype=_I64)
    lit1 = np.zeros(m, dtype=_I64)
    hard = np.flatnonzero(kind == 0)
    if len(hard):
        seg_kind, l0, l1 = _int_segments(buf, seg0[hard], seg_len[hard])
        kind[hard], lit0[hard], lit1[hard] = seg_kind, l0, l1
        hard = hard[seg_kind == 0]
    if len(hard):
        kind[hard], lit0[hard], lit1[hard] = _segments(buf, seg0[hard], seg_len[hard])
    # each segment must follow the one before: a key after "{", "," or ": LIT ,", its value
    # after ":"; the object ends with the last segment
    prev = np.empty(m, dtype=np.int8)
    prev[1:] = kind[:-1]
    prev[first_at] = _PRE
    good = _FOLLOWS[prev, kind]
    good[last_at] = _ENDS[prev[last_at], kind[last_at]]
    bad = np.flatnonzero(~good)
    # "{" then spaces before the first key
    pre = opens[first_at] - s[recs_nz]
    spaced = np.flatnonzero(pre != 1)
    if len(spaced):
        rows = gather(buf, s[recs_nz[spaced]] + 1, opens[first_at[spaced]], 8)
        blank = (rows == 32) | (np.arange(8)[None, :] >= (pre[spaced] - 1)[:, None])
        ok[recs_nz[spaced[~(blank.all(axis=1) & (pre[spaced] <= 9))]]] = False
    if len(bsl):  # a key with escapes might spell a wanted one: Python decides
        si = np.searchsorted(opens, bsl, side="right") - 1
        inside = (si >= 0) & (closes[np.maximum(si, 0)] > bsl)
        si = si[inside]
        bad = np.concatenate([bad, si[_KEYISH[prev[si]]]])
    if len(bad):
        ok[rec_of(bad)] = False
    # the wanted keys
    # candidates: strings whose first byte and length are those of a wanted key
    table = _key_table(keys)
    klen_all = np.minimum(closes - opens - 1, 63)
    first_byte = buf[opens + 1]
    cand = np.flatnonzero(table.ids[0, first_byte, klen_all] >= 0)
    cand = cand[_KEYISH[prev[cand]]]
    cand_rec = rec_of(cand)
    keep = ok[cand_rec]
    cand, cand_rec = cand[keep], cand_rec[keep]
    if len(cand):
        nw = table.words.shape[1]
        words = gather_words(buf, opens[cand] + 1, closes[cand], nw)
        ids = np.full(len(cand), -1, dtype=np.int64)
        fb, kl = first_byte[cand], klen_all[cand]
        for slot in range(3):
            kid = table.ids[slot, fb, kl]
            try_ = np.flatnonzero(kid >= 0) if slot == 0 else np.flatnonzero((kid >= 0) & (ids < 0))
            if not len(try_):
                break
            want = table.words[kid[try_]]
            same = words[try_, 0] == want[:, 0]
            for j in range(1, nw):
                same &= words[try_, j] == want[:, j]
            ids[try_[same]] = kid[try_[same]]
        hit = ids >= 0
        cand, cand_rec, ids = cand[hit], cand_rec[hit], table.key_of[ids[hit]]
        order = np.argsort(ids, kind="stable")
        bounds = np.searchsorted(ids[order], np.arange(len(keys) + 1))
        for k, key in enumerate(keys):
            if bounds[k] == bounds[k + 1]:
                continue
            sel = order[bounds[k]: bounds[k + 1]]  # ascending within a key (stable sort)
            at, recs = cand[sel], cand_rec[sel]
            dup = recs[1:] == recs[:-1]  # ascending: a key twice in one record sits together
            if dup.any():
                ok[recs[1:][dup]] = False
            v = found.get(key) or found.setdefault(key, JsonValue.absent(n))
            string_val = kind[at] == _A
            v.kind[recs] = np.where(string_val, _J_STRING, _J_LITERAL)
            nxt = np.minimum(at + 1, m - 1)
            v.start[recs] = np.where(string_val, opens[nxt] + 1, lit0[at])
            v.end[recs] = np.where(string_val, closes[nxt], lit1[at])
    if found and not ok.all():
        for v in found.values():
            v.kind[~ok] = 0
    return ok, found


def _format(name: str) -> object:
    from diagkit.logs.formats import get_format

    return get_format(name)


_SYNTH_CTX: object | None = None


def _levels_by_value(fmt_name: str, key: bytes, kind: np.ndarray, buf: np.ndarray,
                     start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The level ``parse`` gives a JSON object holding only ``key`` with each record's value:
    computed once per distinct value (levels are few), with the format's own ``parse``.
    Returns (levels, sure): values longer than 16 bytes are left to Python."""
    from diagkit.logs.model import ParseContext

    n = len(kind)
    levels = np.zeros(n, dtype=np.int8)
    length = end - start
    sure = length <= 16
    idx = np.flatnonzero(sure)
    if not len(idx):
        return levels, sure
    words = gather_words(buf, start[idx], end[idx], 2)  # no NUL in a value: words identify it
    kinds = kind[idx].astype(np.uint64)
    # the values seen before (level words are few): a table per format and key
    cache = _VALUE_LEVELS.setdefault((fmt_name, key), _ValueLevels())
    found, lv = cache.lookup(words, kinds)
    levels[idx[found]] = lv[found]
    miss = np.flatnonzero(~found)
    if not len(miss):
        return levels, sure
    mw, mk = words[miss], kinds[miss]
    code = (mw[:, 0] * np.uint64(0x9E3779B97F4A7C15)) ^ mw[:, 1] ^ (mk << np.uint64(62))
    uniq, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    rep_idx = first[inverse]
    same = (mw[rep_idx, 0] == mw[:, 0]) & (mw[rep_idx, 1] == mw[:, 1]) & (mk[rep_idx] == mk)
    fmt = _format(fmt_name)
    ctx = ParseContext(reference_time=YEARLESS_REFERENCE)
    table = np.zeros(len(uniq), dtype=np.int8)
    for u, j in enumerate(first.tolist()):
        value = mw[j].astype("<u8").tobytes().rstrip(b"\0")
        body = b'"' + value + b'"' if int(mk[j]) == _J_STRING else value
        text = (b'{"' + key + b'":' + body + b"}").decode("utf-8", "replace")
        table[u] = int(fmt.parse(text, ctx).level)  # type: ignore[attr-defined]
    levels[idx[miss]] = table[inverse]
    sure[idx[miss[~same]]] = False
    cache.add(mw[first], mk[first], table)
    return levels, sure


class _ValueLevels:
    """Values already mapped to a level (two words and the kind -> level), sorted for lookup."""

    LIMIT = 4096

    def __init__(self) -> None:
        self.words = np.zeros((0, 2), dtype=np.uint64)
        self.kinds = np.zeros(0, dtype=np.uint64)
        self.levels = np.zeros(0, dtype=np.int8)
        self._lock = threading.Lock()

    def lookup(self, words: np.ndarray, kinds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w, k, lv = self.words, self.kinds, self.levels
        if not len(w):
            return np.zeros(len(words), dtype=bool), np.zeros(len(words), dtype=np.int8)
        at = np.minimum(np.searchsorted(w[:, 0], words[:, 0]), len(w) - 1)
        found = np.zeros(len(words), dtype=bool)
        # equal first words are adjacent: try a few neighbours (values sharing 8 bytes are rare)
        for step in range(4):
            j = np.minimum(at + step, len(w) - 1)
            hit = ~found & (w[j, 0] == words[:, 0]) & (w[j, 1] == words[:, 1]) \
                & (k[j] == kinds)
            at = np.where(hit, j, at)
            found |= hit
        return found, np.where(found, lv[at], 0).astype(np.int8)

    def add(self, words: np.ndarray, kinds: np.ndarray, levels: np.ndarray) -> None:
        with self._lock:
            if len(self.words) + len(words) > self.LIMIT:
                return
            w = np.concatenate([self.words, words])
            k = np.concatenate([self.kinds, kinds])
            lv = np.concatenate([self.levels, levels])
            order = np.lexsort((k, w[:, 1], w[:, 0]))
            self.words, self.kinds, self.levels = w[order], k[order], lv[order]


_VALUE_LEVELS: dict[tuple[str, bytes], _ValueLevels] = {}


def _seconds_to_us(v: np.ndarray) -> np.ndarray:
    """``timedelta(seconds=v)`` for floats, in microseconds, rounded like CPython does it."""
    ip = np.trunc(v)
    x = ip.astype(_I64) * 1_000_000
    d = (v - ip) * 1e6
    ip2 = np.trunc(d)
    left = d - ip2
    x = x + ip2.astype(_I64)
    whole = np.where(left >= 0.5, 1, np.where(left <= -0.5, -1, 0)).astype(_I64)
    half = np.abs(whole - left) == 0.5
    odd = (x & 1).astype(np.float64)
    y = (left + odd) * 0.5  # round() in C rounds halves away from zero
    alt = (2 * np.where(y >= 0.5, 1, np.where(y <= -0.5, -1, 0)) - odd).astype(_I64)
    return x + np.where(half, alt, whole)


def json_number_time(rows: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A JSON number as the jsonl format reads a time: seconds, or ms/us/ns by magnitude
    (``_json_time``). Returns (epoch seconds, sure)."""
    n = len(rows)
    times = np.full(n, np.nan)
    first = rows[:, 0]
    sure = _INT_LIKE[first] & (length > 0) & (length <= rows.shape[1])
    if not sure.any():
        return times, sure
    idx = np.flatnonzero(sure)
    text = np.ascontiguousarray(rows[idx]).view(f"S{rows.shape[1]}").reshape(-1)
    try:
        v = text.astype(np.float64)
    except ValueError:
        return times, np.zeros(n, dtype=bool)
    v = np.where(v > 1e17, v / 1e9, np.where(v > 1e14, v / 1e6, np.where(v > 1e11, v / 1e3, v)))
    good = np.isfinite(v) & (np.abs(v) < 1e11)
    us = _seconds_to_us(np.where(good, v, 0.0))
    good &= np.abs(us) < _EXACT
    vals = us.astype(np.float64) / 1e6
    times[idx[good]] = vals[good]
    sure[idx[~good]] = False
    return times, sure


_JSON_TIME_KEYS = ("timestamp", "time", "ts", "@timestamp", "asctime", "datetime", "date", "t")
_JSON_LEVEL_KEYS = ("level", "severity", "lvl", "levelname", "log.level", "loglevel", "levelno")


def _jsonl_keys() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The key lists of the jsonl format (kept in step with formats.py when it has them)."""
    from diagkit.logs import formats

    return (tuple(getattr(formats, "_J_TIME", _JSON_TIME_KEYS)),
            tuple(getattr(formats, "_J_LEVEL", _JSON_LEVEL_KEYS)))


def _usable(v: JsonValue, buf: np.ndarray) -> np.ndarray:
    """``take()``'s test: present, not null, not an empty string."""
    null = (v.kind == _J_LITERAL) & (v.end - v.start == 4)
    if null.any():
        at = np.flatnonzero(null)
        word = gather(buf, v.start[at], v.end[at], 4)
        null[at] = (word == np.frombuffer(b"null", np.uint8)[None, :]).all(axis=1)
    return (v.kind > 0) & ~null & ((v.kind != _J_STRING) | (v.end > v.start))


def _choose(order: tuple[str, ...], found: dict[bytes, JsonValue], buf: np.ndarray,
            n: int) -> np.ndarray:
    """Per record, the index in ``order`` of the first usable key (-1: none)."""
    chosen = np.full(n, -1, dtype=_I64)
    for i, key in enumerate(order):
        v = found.get(key.encode())
        if v is None:
            continue
        hit = (chosen < 0) & _usable(v, buf)
        chosen[hit] = i
    return chosen


def string_time(h: Headers, start: np.ndarray, end: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """A JSON string holding an ISO time, read like ``_iso(value.strip())``: (epoch, sure)."""
    rows = gather(h.buf, start, end, 48)
    parts = iso_at(rows, 0, seps=b"T ", comma=True, zone="optional")
    parts.ok &= parts.end == end - start
    return iso_epoch(parts, h.default_tz)


def _rows_per_key(keys: tuple[str, ...], found: dict[bytes, JsonValue], chosen: np.ndarray,
                  ok: np.ndarray) -> Iterator[tuple[bytes, JsonValue, np.ndarray]]:
    """(key, its values, the rows still ok that take their value from it) for each key some
    row chose; ``ok`` is read afresh for each key (the caller clears rows as it goes)."""
    for i, key in enumerate(keys):
        v = found.get(key.encode())
        if v is None:
            continue
        sel = np.flatnonzero(ok & (chosen == i))
        if len(sel):
            yield key.encode(), v, sel


@register("jsonl")
def extract_jsonl(h: Headers) -> Extracted:
    """Flat JSON objects: the first usable time key (an ISO string or a number) and level key
    (any value: mapped through the format's ``parse`` once per distinct value)."""
    n = len(h.starts)
    res = Extracted.empty(n)
    time_keys, level_keys = _jsonl_keys()
    ok, found = json_values(h, tuple(k.encode() for k in (*time_keys, *level_keys)))
    buf = h.buf
    chosen_t = _choose(time_keys, found, buf, n)
    chosen_l = _choose(level_keys, found, buf, n)
    for key, v, sel in _rows_per_key(level_keys, found, chosen_l, ok):
        lv, sure = _levels_by_value("jsonl", key, v.kind[sel], buf, v.start[sel], v.end[sel])
        res.levels[sel] = lv
        ok[sel[~sure]] = False
    for _, v, sel in _rows_per_key(time_keys, found, chosen_t, ok):
        kind = v.kind[sel]
        st = sel[kind == _J_STRING]
        if len(st):
            t, sure = string_time(h, v.start[st], v.end[st])
            res.times[st] = t
            ok[st[~sure]] = False
        lt = sel[kind == _J_LITERAL]
        if len(lt):
            rows = gather(buf, v.start[lt], v.end[lt], 24)
            length = v.end[lt] - v.start[lt]
            boolean = ((rows[:, 0] == 116) | (rows[:, 0] == 102))  # true / false: no time
            t, sure = json_number_time(rows, length)
            res.times[lt] = np.where(boolean, np.nan, t)
            ok[lt[~(sure | boolean)]] = False
    res.done = ok
    res.levels[~ok] = 0
    res.times[~ok] = np.nan
    return res


@register("journald-json")
def extract_journald(h: Headers) -> Extracted:
    """``journalctl -o json``: ``__REALTIME_TIMESTAMP`` (microseconds as a digit string or a
    number) and ``PRIORITY`` (mapped through the format's ``parse`` per distinct value)."""
    n = len(h.starts)
    res = Extracted.empty(n)
    t_key, p_key = b"__REALTIME_TIMESTAMP", b"PRIORITY"
    ok, found = json_values(h, (t_key, p_key))
    buf = h.buf
    pv = found.get(p_key) or JsonValue.absent(n)
    sel = np.flatnonzero(ok & (pv.kind > 0))
    if len(sel):
        lv, sure = _levels_by_value("journald-json", p_key, pv.kind[sel], buf, pv.start[sel],
                                    pv.end[sel])
        res.levels[sel] = lv
        ok[sel[~sure]] = False
    tv = found.get(t_key) or JsonValue.absent(n)
    sel = np.flatnonzero(ok & (tv.kind > 0))
    if len(sel):
        length = tv.end[sel] - tv.start[sel]
        rows = gather(buf, tv.start[sel], tv.end[sel], 17)
        dig = is_digit(rows) | (np.arange(17)[None, :] >= length[:, None])
        is_null = (tv.kind[sel] == _J_LITERAL) & (rows[:, 0] == 110)  # null: no time
        sure = dig.all(axis=1) & (length >= 1) & (length <= 16)
        us = np.zeros(len(sel), dtype=_I64)
        for c in range(16):
            take_c = c < length
            us = np.where(take_c, us * 10 + (rows[:, c].astype(_I64) - 48), us)
        sure &= us < _EXACT
        res.times[sel] = np.where(sure, us.astype(np.float64) / 1e6, np.nan)
        ok[sel[~(sure | is_null)]] = False
    res.done = ok
    res.levels[~ok] = 0
    res.times[~ok] = np.nan
    return res


# --------------------------------------------------------------------------- words at a column


def window(rows: np.ndarray, col: np.ndarray, width: int) -> np.ndarray:
    """``width`` bytes of each row from its ``col`` (0 past the row), as an (n, width) array."""
    n = len(rows)
    col = np.asarray(col, dtype=_I64)
    if len(col):
        lo = int(col.min())
        if lo == int(col.max()) and lo >= 0:
            part = rows[:, lo: lo + width]
            if part.shape[1] == width:
                return np.ascontiguousarray(part)
            out = np.zeros((n, width), dtype=np.uint8)
            out[:, : part.shape[1]] = part
            return out
    return np.stack([take(rows, col + k) for k in range(width)], axis=1)


def is_word(x: np.ndarray) -> np.ndarray:
    """ASCII ``\\w``: letters, digits, underscore."""
    letter = ((x | np.uint8(0x20)) - np.uint8(97)) < np.uint8(26)
    return letter | (x - np.uint8(48) < np.uint8(10)) | (x == 95)


class WordTable:
    """Exact words (case as written, at most 16 bytes) -> the level ``Level.parse`` gives.

    Built from the same word tuples as the formats' regexes (``ISO_LEVEL_WORDS`` ... in
    :mod:`diagkit.logs.formats.apps`), so both paths know the same words. ``numbered``: a
    word may be followed by one digit 1-9 (``debug2``, ``DEBUG1``) and keeps its level."""

    WIDTH = 16

    def __init__(self, words: tuple[str, ...] | list[str] | dict[str, Level], *,
                 numbered: bool = False, value: int | None = None) -> None:
        """``words``: a mapping gives each word its level (else ``Level.parse``); ``value``:
        what every listed word gives instead (a membership test)."""
        given = words if isinstance(words, dict) else {}
        keys = {self._key(w.encode()): w for w in words}
        pairs = sorted(keys.items())
        self.codes = np.array([c for c, _ in pairs], dtype=np.uint64)
        self.lo = np.array([int.from_bytes(keys[c].encode()[:8].ljust(8, b"\0"), "little")
                            for c, _ in pairs], dtype=np.uint64)
        self.hi = np.array([int.from_bytes(keys[c].encode()[8:].ljust(8, b"\0"), "little")
                            for c, _ in pairs], dtype=np.uint64)
        self.levels = np.array([value if value is not None else int(given.get(w) or
                                                                      Level.parse(w))
                                for _, w in pairs], dtype=np.int8)
        self.numbered = numbered

    @staticmethod
    def _key(word: bytes) -> int:
        lo = int.from_bytes(word[:8].ljust(8, b"\0"), "little")
        hi = int.from_bytes(word[8:16].ljust(8, b"\0"), "little")
        return (lo ^ (hi * 0x9E3779B97F4A7C15)) & ((1 << 64) - 1)

    def _lookup(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        code = lo ^ (hi * np.uint64(0x9E3779B97F4A7C15))
        at = np.minimum(np.searchsorted(self.codes, code), len(self.codes) - 1)
        hit = (self.codes[at] == code) & (self.lo[at] == lo) & (self.hi[at] == hi)
        return np.where(hit, self.levels[at], 0).astype(np.int8)

    def at(self, rows: np.ndarray, col: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The word starting at ``col`` (a maximal run of ASCII word bytes): (level, 0 when it is
        not a listed word; run length; ascii: the run and the byte after it are ASCII)."""
        width = self.WIDTH
        w = window(rows, col, width + 2)
        flags = is_word(w)
        run = np.argmin(flags, axis=1)
        run[flags.all(axis=1)] = width + 2
        n = len(w)
        after = w[np.arange(n), np.minimum(run, width + 1)]
        ascii_ = ~(w[:, : width + 1] >= 0x80).any(axis=1) & (after < 0x80)
        halves = np.ascontiguousarray(w[:, :width]).view("<u8").reshape(n, 2)

        def level_of(length: np.ndarray) -> np.ndarray:
            ln = np.minimum(length, width)
            lo = halves[:, 0] & _BYTE_MASKS[np.minimum(ln, 8)]
            hi = halves[:, 1] & _BYTE_MASKS[np.clip(ln - 8, 0, 8)]
            return np.where((length <= width) & (length > 0), self._lookup(lo, hi), 0)

        level = level_of(run)
        if self.numbered:
            last = w[np.arange(n), np.clip(run - 1, 0, width + 1)]
            numbered = (level == 0) & (run >= 2) & (last >= 49) & (last <= 57)
            if numbered.any():
                level = np.where(numbered, level_of(run - 1), level)
        return level.astype(np.int8), run, ascii_


def skip_spaces(rows: np.ndarray, col: np.ndarray, limit: int = 16) -> np.ndarray:
    """The first column at or after ``col`` that is not a space (``limit`` spaces at most)."""
    col = np.asarray(col, dtype=_I64).copy()
    for _ in range(limit):
        sp = take(rows, col) == 32
        if not sp.any():
            break
        col += sp
    return col


# --------------------------------------------------------------------------- ISO + level word

_ISO_LEVEL_WORDS = WordTable(ISO_LEVEL_WORDS, numbered=True)
_BRACKETISH = _lut(b"[<(|")


@register("iso-level")
def extract_iso_level(h: Headers) -> Extracted:
    """``[?YYYY-MM-DD[ T]HH:MM:SS[.,frac][zone]]?`` then, within 48 characters, a level word
    (``_ISO_LEVEL``): the earliest word of the list with word boundaries around it."""
    n = len(h.starts)
    res = Extracted.empty(n)
    length = h.ends - h.starts
    rows = gather(h.buf, h.starts, h.ends, 128)
    ok = nul_free(h)
    lead = (rows[:, 0] == 91).astype(_I64)
    parts = iso_at(rows, lead, seps=b" T", comma=True, zone="optional")
    ok &= parts.ok
    t0 = parts.end + (take(rows, parts.end) == 93)  # "\]?"
    found = np.zeros(n, dtype=bool)
    sure = np.zeros(n, dtype=bool)
    pos = t0.copy()
    todo = np.flatnonzero(ok)
    for _ in range(8):
        if not len(todo):
            break
        sub = rows[todo]
        # the next word start at or after pos: a word byte after a non-word byte
        c = pos[todo]
        lo = int(c.min())
        hi = min(int(c.max()) + 52, rows.shape[1])
        part = sub[:, max(lo - 1, 0): hi]
        wf = is_word(part)
        start = np.zeros_like(wf)
        start[:, 1:] = wf[:, 1:] & ~wf[:, :-1]
        if lo == 0:
            start[:, 0] = wf[:, 0]
        ws, got = _scan_once(start, c - max(lo - 1, 0), 52, lambda x: x)
        ws = ws + max(lo - 1, 0)
        t_base = t0[todo]
        dist = ws - t_base
        in_reach = got & ((dist <= 48) | ((dist == 49) & _BRACKETISH[take(sub, ws - 1)]))
        # ASCII up to the word: Python counts characters, \b and \w are Unicode-aware
        seg_ascii = _ascii_between(sub, t_base, np.where(in_reach, ws, np.minimum(t_base + 50,
                                                                                  length[todo])))
        level, run, word_ascii = _ISO_LEVEL_WORDS.at(sub, np.where(in_reach, ws, 0))
        hit = in_reach & seg_ascii & word_ascii & (level > 0)
        # no level word: the format's parse reads the line as a dated line of no known layout
        # (``_stamps.unparsed``), which Python does
        res.levels[todo[hit]] = level[hit]
        found[todo[hit]] = True
        sure[todo[hit]] = True
        nxt = in_reach & seg_ascii & word_ascii & (level == 0)
        pos[todo[nxt]] = ws[nxt] + np.maximum(run[nxt], 1)
        todo = todo[nxt]
    ok &= sure
    t, good = iso_epoch(parts, h.default_tz)
    ok &= ~found | good
    res.times = np.where(found & ok, t, np.nan)
    res.levels[~ok] = 0
    res.done = ok
    return res


def _ascii_between(rows: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """No byte >= 0x80 in columns ``a .. b`` (inclusive) of each row."""
    width = rows.shape[1]
    cols = np.arange(width)[None, :]
    inside = (cols >= a[:, None]) & (cols <= b[:, None])
    return np.asarray(~((rows >= 0x80) & inside).any(axis=1))


# --------------------------------------------------------------------------- Python logging

_PY_LEVEL_WORDS = WordTable(PY_LEVEL_WORDS)
_PY_NAME = _lut(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-<>")


@register("python")
def extract_python(h: Headers) -> Extracted:
    """``TS LEVEL name: msg`` / ``TS [LEVEL] name: msg`` and ``TS - name - LEVEL - msg``, and
    ``LEVEL:name:msg`` (no time); the other layouts are left to Python."""
    n = len(h.starts)
    res = Extracted.empty(n)
    rows = gather(h.buf, h.starts, h.ends, 128)
    ok = nul_free(h)
    width = rows.shape[1]
    parts = iso_at(rows, 0, seps=b" T", comma=True, zone="optional")
    te = parts.end
    levels = np.zeros(n, dtype=np.int8)
    done = np.zeros(n, dtype=bool)
    # "TS +[?LEVEL]? +name: "
    p = skip_spaces(rows, te)
    br = take(rows, p) == 91
    q = p + br
    lv, run, asc = _PY_LEVEL_WORDS.at(rows, q)
    after = take(rows, q + run)
    close = after == 93
    r = q + run + close
    spaced = (take(rows, r) == 32) & (p > te)
    r2 = skip_spaces(rows, r)
    name_end, got = _scan_once(rows, r2, 64, lambda x: ~_PY_NAME[x])
    p2 = parts.ok & (lv > 0) & asc & spaced & got & (name_end > r2) \
        & (take(rows, name_end) == 58) & (take(rows, name_end + 1) == 32) \
        & (take(rows, name_end) < 0x80) & (name_end + 1 < width)
    levels[p2] = lv[p2]
    done |= p2
    # "TS - name - LEVEL - "
    dash = (take(rows, te) == 32) & (take(rows, te + 1) == 45) & (take(rows, te + 2) == 32)
    sep = (rows[:, :-2] == 32) & (rows[:, 1:-1] == 45) & (rows[:, 2:] == 32)
    at, got = _scan_once(sep, te + 3, 96, lambda x: x)
    lv0, run0, asc0 = _PY_LEVEL_WORDS.at(rows, at + 3)
    e0 = at + 3 + run0
    p0 = parts.ok & ~done & dash & got & (lv0 > 0) & asc0 & (take(rows, e0) == 32) \
        & (take(rows, e0 + 1) == 45) & (take(rows, e0 + 2) == 32) \
        & _ascii_between(rows, te, at) & (e0 + 2 < width)
    levels[p0] = lv0[p0]
    done |= p0
    # "LEVEL:name:msg"
    lv1, run1, asc1 = _PY_LEVEL_WORDS.at(rows, np.zeros(n, dtype=_I64))
    colon = take(rows, run1) == 58
    c2, got = _scan_once(rows, run1 + 1, 120, lambda x: (x == 58) | (x == 0))
    p1 = ~done & (lv1 > 0) & asc1 & colon & got & (take(rows, c2) == 58)
    levels[p1] = lv1[p1]
    done |= p1
    # nothing else can match when the line starts like none of the layouts
    neither = ~done & ~parts.ok & ~is_digit(rows[:, 0]) & (rows[:, 0] != 91) & (lv1 == 0) \
        & asc1 & (run1 < 9)
    done |= neither
    ok &= done
    t, good = iso_epoch(parts, h.default_tz)
    timed = p2 | p0
    ok &= ~timed | good
    res.times = np.where(timed & ok, t, np.nan)
    res.levels = np.where(ok, levels, 0).astype(np.int8)
    res.done = ok
    return res


# --------------------------------------------------------------------------- Java (log4j...)

_JAVA_LEVEL_WORDS = WordTable(JAVA_LEVEL_WORDS)
_JAVA_LOGGER = _lut(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.$-")


def _java_logger_then_sep(rows: np.ndarray, col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``LOGGER *[-:]`` at ``col`` (``[\\w.$\\-]+(?::\\d+)?``): (matches, sure)."""
    end, got = _scan_once(rows, col, 96, lambda x: ~_JAVA_LOGGER[x])
    e_byte = take(rows, end)
    nxt = skip_spaces(rows, end)
    nb = take(rows, nxt)
    sep = (nb == 45) | (nb == 58)
    # a "-" inside the name lets the regex split there
    dash_inside = np.zeros(len(rows), dtype=bool)
    run_ok = got & (end > col) & (e_byte < 0x80)
    cand = np.flatnonzero(run_ok & ~sep)
    if len(cand):
        part = rows[cand]
        d, f = _scan_once(part, col[cand] + 1, 96, lambda x: x == 45)
        dash_inside[cand] = f & (d < end[cand])
    match = run_ok & (sep | dash_inside)
    sure = match | (run_ok & ~(e_byte == 58))  # ":" right after may start ":\\d+"
    sure &= match | ~(e_byte == 58)
    return match, sure & run_ok


def fraction_after(rows: np.ndarray, col: np.ndarray, *, comma: bool = True
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An optional ``[.,]\\d+`` at ``col``: (where it ends - ``col`` when there is none,
    microseconds from its first six digits, sure: fewer than 16 digits were seen)."""
    sep = take(rows, col)
    has = ((sep == 46) | ((sep == 44) if comma else False)) & is_digit(take(rows, col + 1))
    end, got = _scan_once(rows, col + 1, 17, lambda x: ~is_digit(x))
    count = np.where(has, np.minimum(end - (col + 1), 6), 0)
    us = _six_digits(window(rows, col + 1, 8), 0, count)
    return np.where(has, end, col), np.where(has, us, 0), ~has | got


def civil_epoch(year: np.ndarray, month: np.ndarray, day: np.ndarray, hh: np.ndarray,
                mi: np.ndarray, ss: np.ndarray, us: np.ndarray, default_tz: object | None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Naive civil fields -> (epoch seconds as the formats' ``_civil`` + ``timestamp()`` give
    them, valid: a real date and time - the formats give None for Feb 30 or 25:61 -, ok: the
    epoch is final)."""
    n = len(year)
    out = np.full(n, np.nan)
    valid = valid_date(year, month, day) & (hh >= 0) & (hh < 24) & (mi >= 0) & (mi < 60) \
        & (ss >= 0) & (ss < 60)
    vi = np.flatnonzero(valid)
    ok = np.zeros(n, dtype=bool)
    if len(vi):
        days = epoch_days(year[vi], month[vi], day[vi])
        vals, good = wall_to_epoch(days, (hh * 3600 + mi * 60 + ss)[vi], us[vi], default_tz)
        out[vi] = vals
        ok[vi] = good
    return out, valid, ok


_JAVA_STAMP_CASES = ("iso", "time", "compact", "yy", "dmy")


def _java_stamps(h: Headers, rows: np.ndarray, lead: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ``_J_TS`` alternatives at ``lead``, tried in the regex's order: ISO, ``HH:MM:SS``
    (the file's day), Hadoop ``yyMMdd HHmmss``, Spark ``yy/MM/dd HH:mm:ss``, Tomcat / JUL
    ``dd-MMM-yyyy HH:mm:ss`` (``-`` or space). (which case matched: index into
    ``_JAVA_STAMP_CASES`` or -1; where the stamp ends; epoch seconds; the time is valid; ok:
    the epoch is final - False sends the record to Python)."""
    n = len(rows)
    case = np.full(n, -1, dtype=np.int8)
    te = np.zeros(n, dtype=_I64)
    t = np.full(n, np.nan)
    valid = np.zeros(n, dtype=bool)
    final = np.ones(n, dtype=bool)
    parts = iso_at(rows, lead, seps=b" T", comma=True, zone="optional")
    case[parts.ok] = 0
    te[parts.ok] = parts.end[parts.ok]
    w = window(rows, lead, 24)
    dg = is_digit(w)
    v = w.astype(_I64) - 48

    def num(i: int, k: int) -> np.ndarray:
        out = np.zeros(n, dtype=_I64)
        for j in range(i, i + k):
            out = out * 10 + v[:, j]
        return out

    def all_digits(*cols: int) -> np.ndarray:
        return np.logical_and.reduce([dg[:, c] for c in cols])

    rest = case < 0
    # "HH:MM:SS[.,frac]"
    clock = rest & all_digits(0, 1, 3, 4, 6, 7) & (w[:, 2] == 58) & (w[:, 5] == 58)
    # "yyMMdd HHmmss"
    compact = rest & ~clock & all_digits(0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12) & (w[:, 6] == 32)
    # "yy/MM/dd HH:mm:ss[.,frac]"
    yy = rest & ~clock & ~compact & all_digits(0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16) \
        & (w[:, 2] == 47) & (w[:, 5] == 47) & (w[:, 8] == 32) & (w[:, 11] == 58) \
        & (w[:, 14] == 58)
    # "dd-MMM-yyyy HH:mm:ss[.,frac]", each of the two separators "-" or " "
    upper = (w[:, 3] - np.uint8(65)) < np.uint8(26)
    lower = ((w[:, 4] - np.uint8(97)) < np.uint8(26)) & ((w[:, 5] - np.uint8(97)) < np.uint8(26))
    dash = lambda x: (x == 45) | (x == 32)
    dmy = rest & ~clock & ~compact & ~yy & all_digits(0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 18, 19) \
        & dash(w[:, 2]) & upper & lower & dash(w[:, 6]) & (w[:, 11] == 32) & (w[:, 14] == 58) \
        & (w[:, 17] == 58)
    for k, (mask, frac_at) in enumerate(((clock, 8), (compact, -1), (yy, 17), (dmy, 20)), 1):
        idx = np.flatnonzero(mask)
        if not len(idx):
            continue
        if frac_at >= 0:
            end, us, sure = fraction_after(rows[idx], lead[idx] + frac_at)
        else:
            end, us, sure = lead[idx] + 13, np.zeros(len(idx), dtype=_I64), np.ones(len(idx), bool)
        case[idx] = k
        te[idx] = end
        final[idx] = sure
        if k == 1:
            hh, mi, ss = num(0, 2)[idx], num(3, 2)[idx], num(6, 2)[idx]
            good = (hh < 24) & (mi < 60) & (ss < 60)
            tv, ok_t = time_of_day_epoch(h, np.where(good, hh * 3600 + mi * 60 + ss, -1), us)
            t[idx], valid[idx] = tv, good
            final[idx] &= ok_t | ~good
            continue
        if k == 2:
            y, mo, d = 2000 + num(0, 2)[idx], num(2, 2)[idx], num(4, 2)[idx]
            hh, mi, ss = num(7, 2)[idx], num(9, 2)[idx], num(11, 2)[idx]
        elif k == 3:
            y, mo, d = 2000 + num(0, 2)[idx], num(3, 2)[idx], num(6, 2)[idx]
            hh, mi, ss = num(9, 2)[idx], num(12, 2)[idx], num(15, 2)[idx]
        else:
            y, mo, d = num(7, 4)[idx], month_from_name(w[idx], 3), num(0, 2)[idx]
            hh, mi, ss = num(12, 2)[idx], num(15, 2)[idx], num(18, 2)[idx]
        tv, good, ok_t = civil_epoch(y, mo, d, hh, mi, ss, us, h.default_tz)
        t[idx], valid[idx] = tv, good
        final[idx] &= ok_t | ~good
    if parts.ok.any():
        tv, good = iso_epoch(parts, h.default_tz)
        t = np.where(parts.ok, tv, t)
        valid |= parts.ok & good
        final &= ~parts.ok | good
    return case, te, t, valid, final


@register("java")
def extract_java(h: Headers) -> Extracted:
    """``[TS] [thread] LEVEL logger - msg``, ``TS LEVEL [thread] logger - msg``, ``TS LEVEL
    logger: msg`` (Spring Boot's ``TS LEVEL pid --- ...`` and Spark's ``TS LEVEL logger: msg``
    read the same way for time and level), Tomcat / JUL ``TS LEVEL [thread] class msg`` and
    Hadoop / HDFS ``TS pid LEVEL logger: msg``, with every stamp of ``_J_TS``; ``HH:MM:SS``
    without a date is put on the file's day (:func:`time_of_day_epoch`)."""
    n = len(h.starts)
    res = Extracted.empty(n)
    rows = gather(h.buf, h.starts, h.ends, 160)
    ok = nul_free(h)
    lead = (rows[:, 0] == 91).astype(_I64)
    case, te, t, valid, final = _java_stamps(h, rows, lead)
    started = case >= 0
    bracketed = lead > 0
    te = te + (take(rows, te) == 93)  # "\]?"
    p = skip_spaces(rows, te)
    spaced = p > te
    levels = np.zeros(n, dtype=np.int8)
    # J0: "[thread] +LEVEL +LOGGER *[-:]"
    th = take(rows, p) == 91
    close, got = _scan_once(rows, p + 1, 120, lambda x: (x == 93) | (x == 0))
    got &= take(rows, close) == 93
    q0 = skip_spaces(rows, close + 1)
    lv0, run0, asc0 = _JAVA_LEVEL_WORDS.at(rows, q0)
    l0 = skip_spaces(rows, q0 + run0)
    m0, s0 = _java_logger_then_sep(rows, l0)
    j0 = started & spaced & th & got & (q0 > close + 1) & (lv0 > 0) & asc0 & (l0 > q0 + run0)
    # J1/J3: "LEVEL +[thread] +LOGGER *[-:]" or "LEVEL +LOGGER *[-:]"
    lv1, run1, asc1 = _JAVA_LEVEL_WORDS.at(rows, p)
    q1 = skip_spaces(rows, p + run1)
    th1 = take(rows, q1) == 91
    close1, got1 = _scan_once(rows, q1 + 1, 120, lambda x: (x == 93) | (x == 0))
    got1 &= take(rows, close1) == 93
    l1 = np.where(th1, skip_spaces(rows, close1 + 1), q1)
    m1, s1 = _java_logger_then_sep(rows, l1)
    j1 = started & spaced & ~th & (lv1 > 0) & asc1 & (q1 > p + run1) \
        & (~th1 | (got1 & (l1 > close1 + 1)))
    # Tomcat / JUL: "TS LEVEL [thread] LOGGER msg", single spaces, no "[" before the stamp
    log_end, got_l = _scan_once(rows, l1, 96, lambda x: ~_JAVA_LOGGER[x])
    jt = started & ~bracketed & (p == te + 1) & (lv1 > 0) & asc1 & (q1 == p + run1 + 1) & th1 \
        & got1 & (l1 == close1 + 2) & got_l & (log_end > l1) & (take(rows, log_end) == 32)
    # Hadoop / HDFS: "TS pid LEVEL LOGGER: ", single spaces, no "[" before the stamp
    pid_end, got_p = _scan_once(rows, p, 24, lambda x: ~is_digit(x))
    lv4, run4, asc4 = _JAVA_LEVEL_WORDS.at(rows, pid_end + 1)
    l4 = pid_end + 1 + run4 + 1
    log4_end, got4 = _scan_once(rows, l4, 96, lambda x: ~_JAVA_LOGGER[x])
    j4 = started & ~bracketed & (p == te + 1) & got_p & (pid_end > p) \
        & (take(rows, pid_end) == 32) & (lv4 > 0) & asc4 & (take(rows, l4 - 1) == 32) & got4 \
        & (log4_end > l4) & (take(rows, log4_end) == 58)
    hit0 = j0 & s0 & m0
    hit1 = (j1 & s1 & m1) | jt
    hit4 = j4 & ~hit0 & ~hit1
    levels[hit0] = lv0[hit0]
    levels[hit1] = lv1[hit1]
    levels[hit4] = lv4[hit4]
    ok &= (hit0 | hit1 | hit4) & final
    res.times = np.where(ok & valid, t, np.nan)
    res.levels = np.where(ok, levels, 0).astype(np.int8)
    res.done = ok
    return res


# --------------------------------------------------------------------------- access logs

_CLF_MONTH = month_from_name


@register("access")
def extract_access(h: Headers) -> Extracted:
    """``client ident user [dd/Mon/yyyy:HH:MM:SS +zzzz] "request" status size ...``: level
    from the status (5xx error, 4xx warning, else info). A leading ``vhost:port`` field, an
    escaped quote in the request and other rarities are left to Python."""
    n = len(h.starts)
    res = Extracted.empty(n)
    buf, s, e = h.buf, h.starts, h.ends
    ok = nul_free(h)
    rows = gather(buf, s, e, 96)
    odd = (rows <= 32) | (rows >= 128)
    f1, g1 = _scan_once(odd, np.zeros(n, dtype=_I64), 64, lambda x: x)
    f2, g2 = _scan_once(odd, f1 + 1, 64, lambda x: x)
    f3, g3 = _scan_once(odd, f2 + 1, 64, lambda x: x)
    sp = lambda c: take(rows, c) == 32
    ok &= g1 & g2 & g3 & (f1 > 0) & (f2 > f1 + 1) & (f3 > f2 + 1) & sp(f1) & sp(f2) & sp(f3)
    b = f3 + 1
    ok &= take(rows, b) == 91
    ts = window(rows, b + 1, 28)
    month = month_from_name(ts, 3)
    shape = is_digit(ts[:, 0]) & is_digit(ts[:, 1]) & (ts[:, 2] == 47) & (ts[:, 6] == 47) \
        & (ts[:, 11] == 58) & (ts[:, 14] == 58) & (ts[:, 17] == 58) & (month > 0)
    for c in (7, 8, 9, 10, 12, 13, 15, 16, 18, 19):
        shape &= is_digit(ts[:, c])
    zoned = (ts[:, 20] == 32) & ((ts[:, 21] == 43) | (ts[:, 21] == 45))
    for c in (22, 23, 24, 25):
        zoned &= is_digit(ts[:, c])
    close_at = np.where(zoned, 26, 20)
    ok &= shape & (take(ts, close_at) == 93)
    rq = b + 1 + close_at + 1  # after "]"
    ok &= (take(rows, rq) == 32) & (take(rows, rq + 1) == 34)
    # the request: up to the next quote (a backslash before it: Python decides)
    r0 = s + rq + 2
    lo, hi = int(s.min()), int(e.max())
    chunk = buf[lo:hi]
    quotes = np.flatnonzero(chunk == 34) + lo
    slashes = np.flatnonzero(chunk == 92) + lo
    del chunk
    qi = np.searchsorted(quotes, r0)
    r1 = quotes[np.minimum(qi, len(quotes) - 1)] if len(quotes) else r0
    ok &= (qi < len(quotes)) & (r1 < e)
    ok &= np.searchsorted(slashes, r1) == np.searchsorted(slashes, r0)
    tail = gather(buf, r1, e, 8)
    tl = e - r1
    st_digits = is_digit(tail[:, 2]) & is_digit(tail[:, 3]) & is_digit(tail[:, 4]) \
        & (tail[:, 5] == 32)
    st_dash = (tail[:, 2] == 45) & (tail[:, 3] == 32)
    size_at = np.where(st_digits, 6, 4)
    size_b = take(tail, size_at)
    ok &= (tail[:, 1] == 32) & (st_digits | st_dash) & (is_digit(size_b) | (size_b == 45))
    ok &= tl > size_at
    first = tail[:, 2]
    res.levels = np.where(st_digits & (first == 53), int(Level.ERROR),
                          np.where(st_digits & (first == 52), int(Level.WARNING),
                                   int(Level.INFO))).astype(np.int8)
    # the time: naive when no zone (localised), else a fixed offset (an offset of a day or
    # more is no zone to the parse path: left to Python)
    d = lambda c: ts[:, c].astype(_I64) - 48
    day, year = d(0) * 10 + d(1), d(7) * 1000 + d(8) * 100 + d(9) * 10 + d(10)
    hh, mi, ss = d(12) * 10 + d(13), d(15) * 10 + d(16), d(18) * 10 + d(19)
    valid = valid_date(year, month, day) & (hh < 24) & (mi < 60) & (ss < 60)
    off_min = (d(22) * 10 + d(23)) * 60 + d(24) * 10 + d(25)
    ok &= ~(zoned & (off_min >= 24 * 60))
    times = np.full(n, np.nan)
    good = np.flatnonzero(ok & valid)
    if len(good):
        days = epoch_days(year[good], month[good], day[good])
        sod = (hh * 3600 + mi * 60 + ss)[good]
        z = zoned[good]
        sign = np.where(ts[good, 21] == 45, -1, 1)
        offset = sign * off_min[good] * 60
        aware = aware_to_epoch(days, sod, np.zeros(len(good), dtype=_I64), offset)
        naive, nok = wall_to_epoch(days, sod, np.zeros(len(good), dtype=_I64), h.default_tz)
        vals = np.where(z, aware, naive)
        times[good] = vals
        bad = good[(z & np.isnan(aware)) | (~z & ~nok)]
        ok[bad] = False
    res.times = np.where(ok, times, np.nan)
    res.levels[~ok] = 0
    res.done = ok
    return res


# --------------------------------------------------------------------------- Apache / nginx error

_APACHE_LEVELS: dict[bytes, int] = {}


def _error_log_level(words: np.ndarray, run: np.ndarray) -> np.ndarray:
    """Level.parse of each word (bytes in ``words``, ``run`` long), once per distinct word."""
    out = np.zeros(len(words), dtype=np.int8)
    code = np.ascontiguousarray(words[:, :8]).view("<u8").reshape(-1) \
        & _BYTE_MASKS[np.minimum(run, 8)]
    uniq, inverse = np.unique(code, return_inverse=True)
    table = np.array([int(Level.parse(int(u).to_bytes(8, "little").rstrip(b"\0")
                                      .decode("ascii", "replace"))) for u in uniq.tolist()],
                     dtype=np.int8)
    out[:] = table[inverse.reshape(-1)]
    return out


@register("apache-error")
def extract_apache_error(h: Headers) -> Extracted:
    """Apache ``[Www Mmm dd HH:MM:SS[.frac] yyyy] [module:level] ...`` and nginx
    ``yyyy/mm/dd HH:MM:SS [level] pid#tid: ...``."""
    n = len(h.starts)
    res = Extracted.empty(n)
    rows = gather(h.buf, h.starts, h.ends, 96)
    ok = nul_free(h)
    c = rows
    d = lambda i: c[:, i].astype(_I64) - 48
    upper = lambda x: (x - np.uint8(65)) < np.uint8(26)
    lower = lambda x: (x - np.uint8(97)) < np.uint8(26)
    # Apache: "[Wed Oct 11 14:32:52.123456 2023] [core:error] "
    ap = (c[:, 0] == 91) & upper(c[:, 1]) & lower(c[:, 2]) & lower(c[:, 3]) & (c[:, 4] == 32)
    ap &= upper(c[:, 5]) & lower(c[:, 6]) & lower(c[:, 7]) & (c[:, 8] == 32)
    ap &= ((c[:, 9] == 32) | is_digit(c[:, 9])) & is_digit(c[:, 10]) & (c[:, 11] == 32)
    for i in (12, 13, 15, 16, 18, 19):
        ap &= is_digit(c[:, i])
    ap &= (c[:, 14] == 58) & (c[:, 17] == 58)
    fr = c[:, 20] == 46
    fe, gf = _scan_once(rows, np.full(n, 21, dtype=_I64), 12, lambda x: ~is_digit(x))
    y0 = np.where(fr, fe, 20)
    ap &= (~fr | (gf & (fe > 21))) & (take(rows, y0) == 32)
    yw = window(rows, y0 + 1, 6)
    ap &= is_digit(yw[:, 0]) & is_digit(yw[:, 1]) & is_digit(yw[:, 2]) & is_digit(yw[:, 3])
    ap &= (yw[:, 4] == 93) & (yw[:, 5] == 32) & (take(rows, y0 + 7) == 91)
    lv_at = y0 + 8
    # "[module:level]" or "[level]": module [\w-]+, level \w+
    close, gc = _scan_once(rows, lv_at, 48, lambda x: (x == 93) | (x == 0) | (x >= 128))
    colon, gcol = _scan_once(rows, lv_at, 48, lambda x: (x == 58) | (x == 93) | (x == 0))
    has_mod = gcol & (take(rows, colon) == 58) & (colon < close)
    w0 = np.where(has_mod, colon + 1, lv_at)
    word = window(rows, w0, 10)
    wl = close - w0
    ap &= gc & (take(rows, close) == 93) & (take(rows, close + 1) == 32) & (wl >= 1) & (wl <= 8)
    wf = is_word(word) | (np.arange(10)[None, :] >= wl[:, None])
    ap &= wf.all(axis=1)
    mod_ok = np.ones(n, dtype=bool)
    mi = np.flatnonzero(has_mod & ap)
    if len(mi):
        mw = window(rows[mi], lv_at[mi], 48)
        ml = colon[mi] - lv_at[mi]
        mf = is_word(mw) | (mw == 45) | (np.arange(48)[None, :] >= ml[:, None])
        mod_ok[mi] = mf.all(axis=1) & (ml >= 1)
        # a second ":" before "]" would make the regex fail: Python decides
        c2, g2 = _scan_once(rows[mi], colon[mi] + 1, 48, lambda x: x == 58)
        mod_ok[mi] &= ~(g2 & (c2 < close[mi]))
    ap &= mod_ok
    # nginx: "2023/10/11 14:32:52 [error] 1234#5678: "
    ng = ~ap & (c[:, 4] == 47) & (c[:, 7] == 47) & (c[:, 10] == 32) & (c[:, 13] == 58) \
        & (c[:, 16] == 58) & (c[:, 19] == 32) & (c[:, 20] == 91)
    for i in (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18):
        ng &= is_digit(c[:, i])
    nclose, gn = _scan_once(rows, np.full(n, 21, dtype=_I64), 16, lambda x: ~is_word(x))
    nw = window(rows, np.full(n, 21, dtype=_I64), 10)
    nl = nclose - 21
    ng &= gn & (take(rows, nclose) == 93) & (take(rows, nclose + 1) == 32) & (nl >= 1) \
        & (nl <= 8)
    pid_end, gp = _scan_once(rows, nclose + 2, 16, lambda x: ~is_digit(x))
    tid_end, gt = _scan_once(rows, pid_end + 1, 16, lambda x: ~is_digit(x))
    ng &= gp & (pid_end > nclose + 2) & (take(rows, pid_end) == 35) & gt \
        & (tid_end > pid_end + 1) & (take(rows, tid_end) == 58) & (take(rows, tid_end + 1) == 32)
    levels = np.zeros(n, dtype=np.int8)
    if ap.any():
        levels[ap] = _error_log_level(word[ap], wl[ap])
    if ng.any():
        levels[ng] = _error_log_level(nw[ng], nl[ng])
    # times
    times = np.full(n, np.nan)
    ai = np.flatnonzero(ap)
    if len(ai):
        month = month_from_name(rows[ai], 5)
        day = np.where(c[ai, 9] == 32, 0, d(9)[ai] * 10) + d(10)[ai]
        year = (yw[ai, 0].astype(_I64) - 48) * 1000 + (yw[ai, 1].astype(_I64) - 48) * 100 \
            + (yw[ai, 2].astype(_I64) - 48) * 10 + yw[ai, 3] - 48
        us = _six_digits(rows[ai], 21, np.where(fr[ai], np.minimum(fe[ai] - 21, 6), 0))
        sod = (d(12) * 36000 + d(13) * 3600 + d(15) * 600 + d(16) * 60 + d(18) * 10
               + d(19))[ai]
        hh, mm, ss = (d(12) * 10 + d(13))[ai], (d(15) * 10 + d(16))[ai], (d(18) * 10 + d(19))[ai]
        valid = (month > 0) & valid_date(year, month, day) & (hh < 24) & (mm < 60) & (ss < 60)
        vi = np.flatnonzero(valid)
        if len(vi):
            days = epoch_days(year[vi], month[vi], day[vi])
            vals, good = wall_to_epoch(days, sod[vi], us[vi], h.default_tz)
            times[ai[vi]] = np.where(good, vals, np.nan)
            ok[ai[vi[~good]]] = False
    gi = np.flatnonzero(ng)
    if len(gi):
        year = (d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3))[gi]
        month, day = (d(5) * 10 + d(6))[gi], (d(8) * 10 + d(9))[gi]
        hh, mm, ss = (d(11) * 10 + d(12))[gi], (d(14) * 10 + d(15))[gi], (d(17) * 10 + d(18))[gi]
        valid = valid_date(year, month, day) & (hh < 24) & (mm < 60) & (ss < 60)
        vi = np.flatnonzero(valid)
        if len(vi):
            days = epoch_days(year[vi], month[vi], day[vi])
            sod = (hh * 3600 + mm * 60 + ss)[vi]
            vals, good = wall_to_epoch(days, sod, np.zeros(len(vi), dtype=_I64), h.default_tz)
            times[gi[vi]] = np.where(good, vals, np.nan)
            ok[gi[vi[~good]]] = False
    ok &= ap | ng
    res.times = np.where(ok, times, np.nan)
    res.levels = np.where(ok, levels, 0).astype(np.int8)
    res.done = ok
    return res


# --------------------------------------------------------------------------- RFC 5424

_SYSLOG_SEVERITY = np.array([int(Level.parse(i)) for i in range(8)], dtype=np.int8)


@register("rfc5424")
def extract_rfc5424(h: Headers) -> Extracted:
    """``<PRI>1 TIMESTAMP HOST APP PROCID MSGID - MSG`` (no structured data): level from the
    PRI's severity, else the message's leading level word. Structured data is left to Python."""
    n = len(h.starts)
    res = Extracted.empty(n)
    length = h.ends - h.starts
    rows = gather(h.buf, h.starts, h.ends, 128)
    ok = nul_free(h)
    has_pri = rows[:, 0] == 60
    pe, gp = _scan_once(rows, np.ones(n, dtype=_I64), 4, lambda x: ~is_digit(x))
    pri_len = pe - 1
    ok &= ~has_pri | (gp & (pri_len >= 1) & (pri_len <= 3) & (take(rows, pe) == 62))
    v = np.where(has_pri, pe + 1, 0)
    ok &= (take(rows, v) == 49) & (take(rows, v + 1) == 32)
    t0 = v + 2
    odd = (rows <= 32) | (rows >= 128)
    ends = []
    at = t0
    for _ in range(5):  # TIMESTAMP HOST APP PROCID MSGID, each \S+ then " "
        e_, g = _scan_once(odd, at, 64, lambda x: x)
        ok &= g & (e_ > at) & (take(rows, e_) == 32)
        ends.append(e_)
        at = e_ + 1
    sd = at
    ok &= take(rows, sd) == 45  # "-": no structured data
    after = take(rows, sd + 1)
    ok &= (after == 32) | (sd + 1 == length)
    msg = np.minimum(sd + 2, length)
    # time: "-" for none, else fromisoformat of the token
    t_end = ends[0]
    nil = (take(rows, t0) == 45) & (t_end == t0 + 1)
    parts = iso_at(rows, t0, seps=b"T", comma=True, zone="optional")
    timed = ~nil
    ok &= nil | (parts.ok & (parts.end == t_end))
    t, good = iso_epoch(parts, h.default_tz)
    ok &= nil | good
    # level: PRI % 8, else the message's level word
    pri = np.zeros(n, dtype=_I64)
    for k in range(3):
        dk = take(rows, 1 + k).astype(_I64) - 48
        pri = np.where(k < pri_len, pri * 10 + dk, pri)
    levels = np.where(has_pri, _SYSLOG_SEVERITY[pri % 8], 0).astype(np.int8)
    word_lv, sure, lv_rows = message_level(h, msg)
    # a message starting with the UTF-8 BOM: parse strips it first; left to Python
    bom = (lv_rows[:, 0] == 0xEF)
    ok &= has_pri | (sure & ~bom)
    levels = np.where(has_pri, levels, word_lv)
    res.times = np.where(ok & timed, t, np.nan)
    res.levels = np.where(ok, levels, 0).astype(np.int8)
    res.done = ok
    return res


# --------------------------------------------------------------------------- fixed layouts
#
# Layouts whose header is a fixed run of fields: each extractor checks the whole header its
# format's regex needs before the message (so ``done`` means the regex matches) and reads the
# time and level from their columns; every other line goes to Python.


def _digits_value(w: np.ndarray, first: int, count: int) -> np.ndarray:
    """Columns ``first .. first + count - 1`` of ``w`` as a number (digits not checked)."""
    out = np.zeros(len(w), dtype=_I64)
    for c in range(first, first + count):
        out = out * 10 + (w[:, c].astype(_I64) - 48)
    return out


def _all_digits(w: np.ndarray, cols: tuple[int, ...] | range) -> np.ndarray:
    return np.logical_and.reduce([is_digit(w[:, c]) for c in cols])


def _year_less_or_civil(h: Headers, year: np.ndarray | None, month: np.ndarray, day: np.ndarray,
                        hh: np.ndarray, mi: np.ndarray, ss: np.ndarray, us: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The formats' ``_civil`` where a year is written (``year`` >= 0), their ``_year_less``
    (a year-less key, see :class:`YearPlan`) where it is not (``year`` < 0 or None): (times,
    yearless, ok: the time is final - an invalid date or time is a final NaN)."""
    n = len(month)
    times = np.full(n, np.nan)
    ok = np.ones(n, dtype=bool)
    written = np.zeros(n, dtype=bool) if year is None else year >= 0
    clock = (hh < 24) & (mi < 60) & (ss < 60)
    sentinel = np.full(n, SENTINEL_YEAR, dtype=_I64)
    keyed = ~written & clock & valid_date(sentinel, month, day)
    times[keyed] = yearless_key(month[keyed], day[keyed], (hh * 3600 + mi * 60 + ss)[keyed],
                                us[keyed])
    wi = np.flatnonzero(written)
    if len(wi):
        assert year is not None
        t, _, good = civil_epoch(year[wi], month[wi], day[wi], hh[wi], mi[wi], ss[wi], us[wi],
                                 h.default_tz)
        times[wi] = t
        valid = valid_date(year[wi], month[wi], day[wi]) & clock[wi]
        ok[wi] = good | ~valid
    return times, keyed, ok


_LOGCAT_LEVEL = np.zeros(256, dtype=np.int8)
for _ch, _lv in (("V", Level.TRACE), ("D", Level.DEBUG), ("I", Level.INFO), ("W", Level.WARNING),
                 ("E", Level.ERROR), ("F", Level.CRITICAL), ("A", Level.CRITICAL)):
    _LOGCAT_LEVEL[ord(_ch)] = int(_lv)
_UID = _lut(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


@register("logcat")
def extract_logcat(h: Headers) -> Extracted:
    """threadtime: ``[YYYY-]MM-DD HH:MM:SS.fff +[uid +]pid +tid L tag *: msg`` (also ``-v
    year`` / ``-v uid``); the time and brief layouts are left to Python."""
    n = len(h.starts)
    res = Extracted.empty(n)
    rows = gather(h.buf, h.starts, h.ends, 128)
    ok = nul_free(h)
    with_year = _all_digits(rows, range(4)) & (rows[:, 4] == 45)
    off = np.where(with_year, 5, 0).astype(_I64)
    w = window(rows, off, 15)
    ok &= _all_digits(w, (0, 1, 3, 4, 6, 7, 9, 10, 12, 13)) & (w[:, 2] == 45) \
        & (w[:, 5] == 32) & (w[:, 8] == 58) & (w[:, 11] == 58) & (w[:, 14] == 46)
    frac_end, got = _scan_once(rows, off + 15, 8, lambda x: ~is_digit(x))
    nfrac = frac_end - (off + 15)
    ok &= got & (nfrac >= 3) & (nfrac <= 6) & (take(rows, frac_end) == 32)
    us = _six_digits(window(rows, off + 15, 8), 0, np.minimum(nfrac, 6))
    # the fields after the time: [uid] pid tid, then "L "
    a0 = skip_spaces(rows, frac_end)
    a1, g1 = _scan_once(rows, a0, 40, lambda x: ~_UID[x])
    b0 = skip_spaces(rows, a1)
    b1, g2 = _scan_once(rows, b0, 24, lambda x: ~is_digit(x))
    c0 = skip_spaces(rows, b1)
    c1, g3 = _scan_once(rows, c0, 24, lambda x: ~is_digit(x))
    a_num = _scan_once(rows, a0, 40, lambda x: ~is_digit(x))[0] == a1
    fields = g1 & (a1 > a0) & (take(rows, a1) == 32) & (b0 > a1) & g2 & (b1 > b0) \
        & (take(rows, b1) == 32)
    # no uid: "pid +tid L " (the regex tries a uid first; only one reading has "L " after it)
    no_uid = fields & a_num & (_LOGCAT_LEVEL[take(rows, b1 + 1)] > 0) \
        & (take(rows, b1 + 2) == 32)
    uid = fields & ~no_uid & (c0 > b1) & g3 & (c1 > c0) & (take(rows, c1) == 32)
    lv_at = np.where(no_uid, b1 + 1, c1 + 1)
    level = _LOGCAT_LEVEL[take(rows, lv_at)]
    ok &= (no_uid | uid) & (level > 0) & (take(rows, lv_at + 1) == 32)
    # "tag *: ": any ": " from the tag on (the tag is lazy, anything before it)
    colon = (rows[:, :-1] == 58) & (rows[:, 1:] == 32)
    _, found = _scan_once(colon, lv_at + 2, 96, lambda x: x)
    ok &= found
    year = np.where(with_year, _digits_value(rows, 0, 4), -1)
    times, yearless, good = _year_less_or_civil(
        h, year, _digits_value(w, 0, 2), _digits_value(w, 3, 2), _digits_value(w, 6, 2),
        _digits_value(w, 9, 2), _digits_value(w, 12, 2), us)
    ok &= good
    res.times = np.where(ok, times, np.nan)
    res.levels = np.where(ok, level, 0).astype(np.int8)
    res.done = ok
    res.yearless = yearless & ok
    return res


_GLOG_LEVEL = np.zeros(256, dtype=np.int8)
for _ch, _lv in (("I", Level.INFO), ("W", Level.WARNING), ("E", Level.ERROR),
                 ("F", Level.CRITICAL)):
    _GLOG_LEVEL[ord(_ch)] = int(_lv)
_GLOG_FILE = WS_OR_ODD.copy()  # [^:\]\s]: stops at ":", "]", whitespace and non-ASCII
_GLOG_FILE[[0, 0x3A, 0x5D]] = True


@register("glog")
def extract_glog(h: Headers) -> Extracted:
    """``Lmmdd hh:mm:ss.uuuuuu +thread file:line] msg`` (glog < 0.7: year-less) and
    ``Lyyyymmdd ...``; the ``Log file created at:`` header is left to Python."""
    n = len(h.starts)
    res = Extracted.empty(n)
    rows = gather(h.buf, h.starts, h.ends, 128)
    ok = nul_free(h)
    level = _GLOG_LEVEL[rows[:, 0]]
    with_year = _all_digits(rows, range(1, 9)) & (rows[:, 9] == 32)
    off = np.where(with_year, 5, 1).astype(_I64)  # where "mmdd" starts
    w = window(rows, off, 20)
    ok &= (level > 0) & _all_digits(w, (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 16, 17, 18, 19)) \
        & (w[:, 4] == 32) & (w[:, 7] == 58) & (w[:, 10] == 58) & (w[:, 13] == 46)
    t0 = skip_spaces(rows, off + 20)
    t1, g1 = _scan_once(rows, t0, 24, lambda x: ~is_digit(x))
    ok &= (t0 > off + 20) & g1 & (t1 > t0) & (take(rows, t1) == 32)
    f1, g2 = _scan_once(rows, t1 + 1, 64, lambda x: _GLOG_FILE[x])
    ok &= g2 & (f1 > t1 + 1) & (take(rows, f1) == 58)
    l1, g3 = _scan_once(rows, f1 + 1, 12, lambda x: ~is_digit(x))
    ok &= g3 & (l1 > f1 + 1) & (take(rows, l1) == 93)
    year = np.where(with_year, _digits_value(rows, 1, 4), -1)
    times, yearless, good = _year_less_or_civil(
        h, year, _digits_value(w, 0, 2), _digits_value(w, 2, 2), _digits_value(w, 5, 2),
        _digits_value(w, 8, 2), _digits_value(w, 11, 2), _digits_value(w, 14, 6))
    ok &= good
    res.times = np.where(ok, times, np.nan)
    res.levels = np.where(ok, level, 0).astype(np.int8)
    res.done = ok
    res.yearless = yearless & ok
    return res


_DPKG_ACTIONS = WordTable(("startup", "status", "configure", "install", "upgrade", "remove",
                           "purge", "trigproc", "conffile", "unpack"), value=1)
_ALTERNATIVES = b"update-alternatives "


@register("dpkg")
def extract_dpkg(h: Headers) -> Extracted:
    """``[update-alternatives ]YYYY-MM-DD HH:MM:SS`` then ``: msg`` or `` ACTION msg``; dpkg
    writes no levels."""
    n = len(h.starts)
    res = Extracted.empty(n)
    rows = gather(h.buf, h.starts, h.ends, 64)
    ok = nul_free(h)
    alt = np.ones(n, dtype=bool)
    for i, c in enumerate(_ALTERNATIVES):
        alt &= rows[:, i] == c
    off = np.where(alt, len(_ALTERNATIVES), 0).astype(_I64)
    w = window(rows, off, 22)
    ok &= _all_digits(w, (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18)) & (w[:, 4] == 45) \
        & (w[:, 7] == 45) & (w[:, 10] == 32) & (w[:, 13] == 58) & (w[:, 16] == 58)
    # ": msg" or " ACTION\b": the action word is a table word whose next byte is no \w
    colon = (w[:, 19] == 58) & (w[:, 20] == 32)
    known, _, asc = _DPKG_ACTIONS.at(rows, off + 20)
    ok &= colon | ((w[:, 19] == 32) & (known > 0) & asc)
    times, valid, good = civil_epoch(
        _digits_value(w, 0, 4), _digits_value(w, 5, 2), _digits_value(w, 8, 2),
        _digits_value(w, 11, 2), _digits_value(w, 14, 2), _digits_value(w, 17, 2),
        np.zeros(n, dtype=_I64), h.default_tz)
    ok &= good | ~valid
    res.times = np.where(ok & valid, times, np.nan)
    res.levels = np.zeros(n, dtype=np.int8)
    res.done = ok
    return res


_MYSQL_LEVEL_WORDS = WordTable(MYSQL_LEVELS)


@register("mysql")
def extract_mysql(h: Headers) -> Extracted:
    """``YYYY-MM-DD[T ]HH:MM:SS[.ffffff][Z|+HH:MM] +[thread +][Level] `` (MySQL 5.7+, MariaDB)
    and ``YYMMDD [H]H:MM:SS +[thread +][Level] `` (MySQL 5.5); level Note/System/Info: info."""
    n = len(h.starts)
    res = Extracted.empty(n)
    rows = gather(h.buf, h.starts, h.ends, 96)
    ok = nul_free(h)
    parts = iso_at(rows, 0, seps=b"T ", comma=False, zone="optional", max_frac=6)
    end = parts.end
    # the regex takes "Z" or "+HH:MM" only (no "+HHMM")
    zone_ok = ~parts.has_zone | (take(rows, end - 1) == 90) | (take(rows, end - 3) == 58)
    iso = parts.ok & zone_ok
    w = rows[:, :15]
    short = ~iso & _all_digits(w, (0, 1, 2, 3, 4, 5, 8, 10, 11, 13, 14)) & (w[:, 6] == 32) \
        & ((w[:, 7] == 32) | is_digit(w[:, 7])) & (w[:, 9] == 58) & (w[:, 12] == 58)
    te = np.where(iso, end, 15)
    p = skip_spaces(rows, te)
    # an optional thread id, then "[Level] "
    d1, gd = _scan_once(rows, p, 24, lambda x: ~is_digit(x))
    threaded = gd & (d1 > p) & (take(rows, d1) == 32)
    q = np.where(threaded, skip_spaces(rows, d1), p)
    level, run, asc = _MYSQL_LEVEL_WORDS.at(rows, q + 1)
    ok &= (iso | short) & (p > te) & (take(rows, q) == 91) & (level != 0) & asc \
        & (take(rows, q + 1 + run) == 93) & (take(rows, q + 2 + run) == 32)
    times = np.full(n, np.nan)
    if iso.any():
        t, good = iso_epoch(parts, h.default_tz)
        times = np.where(iso, t, times)
        ok &= ~iso | good
    si = np.flatnonzero(short & ok)
    if len(si):
        hour = np.where(w[si, 7] == 32, 0, w[si, 7].astype(_I64) - 48) * 10 + w[si, 8] - 48
        t, valid, good = civil_epoch(
            2000 + _digits_value(w[si], 0, 2), _digits_value(w[si], 2, 2),
            _digits_value(w[si], 4, 2), hour.astype(_I64), _digits_value(w[si], 10, 2),
            _digits_value(w[si], 13, 2), np.zeros(len(si), dtype=_I64), h.default_tz)
        times[si] = np.where(valid, t, np.nan)
        ok[si] &= good | ~valid
    res.times = np.where(ok, times, np.nan)
    res.levels = np.where(ok, level, 0).astype(np.int8)
    res.done = ok
    return res


_PG_LEVEL_WORDS = WordTable(PG_LEVELS)
_PG_WORD_LENGTHS = sorted({len(w) for w in PG_LEVELS})
_LETTER = _lut(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_PG_BEFORE = _lut(b" :]")


def _zone_offsets(rows: np.ndarray, start: np.ndarray, end: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The zone written in columns ``start .. end`` of each row (``UTC``, ``CET``, ``+01``,
    ``-05:30``: at most 6 bytes) as the formats' ``_abbrev_tz`` reads it: (offset seconds,
    known). Looked up once per distinct spelling."""
    n = len(rows)
    width = end - start
    w = window(rows, start, 8)
    w = np.where(np.arange(8)[None, :] < width[:, None], w, np.uint8(0))
    code = np.ascontiguousarray(w).view("<u8").reshape(n)
    offsets = np.zeros(n, dtype=_I64)
    known = np.zeros(n, dtype=bool)
    uniq, inverse = np.unique(code, return_inverse=True)
    for k, c in enumerate(uniq.tolist()):
        text = int(c).to_bytes(8, "little").rstrip(b"\0").decode("ascii", "replace")
        zone = _abbrev_tz(text) if text else None
        delta = zone.utcoffset(None) if zone is not None else None
        if delta is not None:
            at = inverse.reshape(-1) == k
            offsets[at] = int(delta.total_seconds())
            known[at] = True
    return offsets, known


@register("postgres")
def extract_postgres(h: Headers) -> Extracted:
    """``%m``/``%t`` prefixes: ``YYYY-MM-DD HH:MM:SS[.fff][ ZONE]PREFIX SEVERITY:  msg`` where
    the first ``:  `` of the line follows the severity (``LOG``, ``ERROR``, ``DEBUG1``...)
    after a space, ``:`` or ``]``; the zone (``UTC``, ``+01``) as the format reads it."""
    n = len(h.starts)
    res = Extracted.empty(n)
    rows = gather(h.buf, h.starts, h.ends, 160)
    width = rows.shape[1]
    ok = nul_free(h)
    parts = iso_at(rows, 0, seps=b" ", comma=False, zone="none", max_frac=6)
    te = parts.end
    ok &= parts.ok
    # the zone: "(?: ([A-Za-z]{1,6}|[+-]\d\d(?::?\d\d)?))?", greedy
    spaced = take(rows, te) == 32
    z0 = te + 1
    letters_end, _ = _scan_once(rows, z0, 8, lambda x: ~_LETTER[x])
    alpha = spaced & (letters_end > z0)
    sign = take(rows, z0)
    numeric = spaced & ((sign == 43) | (sign == 45)) & is_digit(take(rows, z0 + 1)) \
        & is_digit(take(rows, z0 + 2))
    colon = take(rows, z0 + 3) == 58
    mm_at = z0 + 3 + colon
    has_mm = is_digit(take(rows, mm_at)) & is_digit(take(rows, mm_at + 1))
    num_end = np.where(has_mm, mm_at + 2, z0 + 3)
    tz_end = np.where(alpha, np.minimum(letters_end, z0 + 6), np.where(numeric, num_end, te))
    has_tz = alpha | numeric
    # the first ":  " after the zone, and the severity right before it
    sep = (rows[:, :-2] == 58) & (rows[:, 1:-1] == 32) & (rows[:, 2:] == 32)
    c, found = _scan_once(sep, tz_end, width, lambda x: x)
    level = np.zeros(n, dtype=np.int8)
    for k in _PG_WORD_LENGTHS:
        ws = c - k
        lv, run, asc = _PG_LEVEL_WORDS.at(rows, ws)
        hit = found & (level == 0) & (lv > 0) & (run == k) & asc \
            & _PG_BEFORE[take(rows, ws - 1)] & (ws - 1 >= tz_end)
        level = np.where(hit, lv, level)
    ok &= level > 0
    # the time: the user's zone wins over the written one (as _pg_time: a localized time
    # keeps its zone), else the written zone where it is known, else local time
    times = np.full(n, np.nan)
    written = np.zeros(n, dtype=bool)
    if default_zone(h.default_tz) is None and (has_tz & ok).any():
        offsets, known = _zone_offsets(rows, np.where(has_tz, z0, te), tz_end)
        written = has_tz & known & ok
        wi = np.flatnonzero(written)
        if len(wi):
            times[wi] = aware_to_epoch(parts.days[wi], parts.sod[wi], parts.us[wi], offsets[wi])
            ok[wi] &= ~np.isnan(times[wi])
    naive = np.flatnonzero(ok & ~written)
    if len(naive):
        vals, good = wall_to_epoch(parts.days[naive], parts.sod[naive], parts.us[naive],
                                   h.default_tz)
        times[naive] = vals
        ok[naive[~good]] = False
    res.times = np.where(ok, times, np.nan)
    res.levels = np.where(ok, level, 0).astype(np.int8)
    res.done = ok
    return res
