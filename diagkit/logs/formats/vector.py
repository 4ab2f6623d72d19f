"""Vectorised header parsing (numpy) for formats with a fixed header layout."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from diagkit.logs.formats._base import _MONTHS, _localize, _reference_naive
from diagkit.logs.formats.syslog import Rfc3164Format
from diagkit.logs.model import Level, ParseContext

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
    d = lambda i: col[i].astype(np.int64) - 48
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
    # "tag[pid]: " or "tag[pid] " (rsyslog writes no colon for a message it got as RFC 5424)
    c1 = w[rows, np.minimum(digit_end + 1, width + pad - 1)]
    c2 = w[rows, np.minimum(digit_end + 2, width + pad - 1)]
    pid_open = (t_byte == 0x5B) & (digit_end > t_end + 1) & (w[rows, digit_end] == 0x5D)
    pid_colon = pid_open & (c1 == 0x3A) & ((c2 == 32) | (c2 == 0))
    pid_bare = pid_open & ((c1 == 32) | (c1 == 0))
    pid_tag = pid_colon | pid_bare
    ok &= (digit_end + 3 < width) | ~long_line | (t_byte != 0x5B)
    ok &= ~((t_byte == 0x5B) & (w[rows, digit_end] >= 0x80))  # \d takes Unicode digits
    tagged = (t_end > rest) & (colon_tag | pid_tag)
    # the message starts past "tag: ", "tag[pid]: " or "tag[pid] " (past the end when empty)
    msg = np.where(tagged, np.where(pid_colon, digit_end + 3,
                                    np.where(pid_bare, digit_end + 2, t_end + 2)), rest)
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
