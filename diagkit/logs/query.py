"""Filtering, counting, histograms and the merged timeline over indexed :class:`LogFile` s.

Text search never parses records: the pattern runs over the raw bytes of the memory-mapped file
(``bytes.find`` for literals, case-insensitive literals on an ASCII-lowercased copy of each chunk,
``re`` for regexes) and each hit is mapped to its record with ``np.searchsorted`` on the record
start offsets; the search then skips to the next record. Level and time filters use the
per-record numpy arrays (``LogFile.levels()``/``timestamps()``) when they are computed or the
candidates are many, else they parse just the candidates' first lines. Only field filters and
the records finally yielded are parsed in full.

Semantics (the brute-force reference in ``tests/logs/test_query.py`` follows them):

* text and ``exclude`` are searched in the record's raw text (all its lines); a regex runs with
  ``re.MULTILINE`` over UTF-8 bytes, so case folding and ``\\w`` are ASCII-only;
* ``min_level`` and ``levels`` drop records of unknown level;
* with ``since``/``until`` set, records without a timestamp are dropped; ``until`` is inclusive;
* ``fields``: ``host``, ``source``, ``pid``, ``level`` or any ``extra`` key, exact match
  (``level`` by name, any spelling :meth:`Level.parse` knows).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from diagkit.errors import LogFormatError
from diagkit.logs.logfile import LogFile
from diagkit.logs.model import Histogram, Level, Match, Query, Record
from diagkit.timegrammar import TimeSyntaxError, parse_moment

_CR_LINE_END = re.compile(rb"\r+\n")
SEARCH_CHUNK = 16 << 20
PARSE_FEW = 100_000  # fewer candidates than this: parse their headers instead of every record
MAX_BUCKETS = 200_000

Progress = Callable[[float], None]


@dataclass(frozen=True)
class Counts:
    total: int
    by_level: dict[Level, int]


# -- text scanning ----------------------------------------------------------------------------


def _chunks(log: LogFile, offsets: np.ndarray) -> Iterator[tuple[int, int, int]]:
    """(first record, start byte, end byte) of record-aligned chunks of about SEARCH_CHUNK."""
    n = len(offsets)
    end_all = log.data_end()
    r = 0
    while r < n:
        start = int(offsets[r])
        nxt = int(np.searchsorted(offsets, start + SEARCH_CHUNK, side="left"))
        nxt = max(nxt, r + 1)
        end = int(offsets[nxt]) if nxt < n else end_all
        yield r, start, end
        r = nxt


_Find = Callable[[bytes, int, int], tuple[int, int] | None]


def _finder(text: str, *, regex: bool, case_sensitive: bool) -> tuple[_Find, bool]:
    """A function (chunk, pos, endpos) -> (start, end) of the first hit, or None; and whether
    the chunks must be lower-cased before it reads them."""
    if regex:
        flags = re.MULTILINE | (0 if case_sensitive else re.IGNORECASE)
        try:
            pat = re.compile(text.encode("utf-8"), flags)
        except re.error as exc:
            raise LogFormatError(f"The search pattern {text!r} is not a valid regular expression "
                                 f"({exc}). Fix it, or search for it as plain text.") from exc

        def find_re(chunk: bytes, pos: int, endpos: int) -> tuple[int, int] | None:
            m = pat.search(chunk, pos, endpos)
            return (m.start(), m.end()) if m else None

        return find_re, False
    needle = text.encode("utf-8")
    if not case_sensitive:
        needle = needle.lower()

    def find_lit(chunk: bytes, pos: int, endpos: int) -> tuple[int, int] | None:
        at = chunk.find(needle, pos, endpos)
        return (at, at + len(needle)) if at >= 0 else None

    return find_lit, not case_sensitive


def _literal_positions(hay: np.ndarray, needle: bytes, *, fold_case: bool) -> np.ndarray:
    """Start offsets of ``needle`` in ``hay`` (uint8 array), vectorised with numpy.

    Anchors on the needle's rarest-looking byte (one pass over the data in C), then keeps the
    candidates whose other bytes match, one byte position at a time: no Python loop per hit.
    ``fold_case`` matches ASCII letters in either case (the needle is given in lower case).
    """
    size, width = len(hay), len(needle)
    if width == 0 or size < width:
        return np.empty(0, dtype=np.int64)

    def equal(values: np.ndarray, byte: int) -> np.ndarray:
        if fold_case and 97 <= byte <= 122:
            return (values | 32) == byte  # A-Z | 0x20 = a-z: one pass for both cases
        return values == byte

    # the anchor: the needle byte that is rarest in (a sample of) this data
    counts = np.bincount(hay[: 1 << 20], minlength=256)
    if fold_case:
        counts[97:123] += counts[65:91]
    anchor = min(range(width), key=lambda i: counts[needle[i]])
    cand = np.flatnonzero(equal(hay[anchor: size - width + 1 + anchor], needle[anchor]))
    for i, byte in enumerate(needle):
        if i == anchor or not len(cand):
            continue
        cand = cand[equal(hay[cand + i], byte)]
    return cand.astype(np.int64, copy=False)


def _without_crlf(chunk: bytes, local: np.ndarray, *, at_end: bool) -> tuple[bytes, np.ndarray]:
    """``chunk`` with each "\\r\\n" made "\\n" (and a final "\\r" dropped when the chunk ends the
    file), and the record starts moved to match."""
    data = np.frombuffer(chunk, dtype=np.uint8)
    cr = np.flatnonzero(data[:-1] == 13)
    gone = cr[data[cr + 1] == 10]  # "\r" before "\n", then "\r"s before those
    while len(gone):
        more = np.setdiff1d(gone - 1, gone)
        more = more[(more >= 0) & (data[np.maximum(more, 0)] == 13)]
        if not len(more):
            break
        gone = np.union1d(gone, more)
    del data
    cleaned = _CR_LINE_END.sub(b"\n", chunk)
    if at_end:
        cleaned = cleaned.rstrip(b"\r")
    return cleaned, local - np.searchsorted(gone, local, side="left")


def _scan(log: LogFile, text: str, *, regex: bool, case_sensitive: bool,
          cancel: threading.Event | None = None, progress: Progress | None = None,
          share: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """Indices of the records whose raw text contains ``text``."""
    find, lower = _finder(text, regex=regex, case_sensitive=case_sensitive)
    literal = None
    if not regex and "\n" not in text:
        literal = text.encode("utf-8").lower() if lower else text.encode("utf-8")
    offsets = log.record_offsets()
    n = len(offsets)
    if n == 0 or log._mm is None:
        return np.empty(0, dtype=np.int64)
    mm = log._mm
    total = max(1, log.data_end())
    hits: list[int] = []
    arrays: list[np.ndarray] = []  # literal hits, per chunk
    searchsorted = offsets.searchsorted
    for r0, start, end in _chunks(log, offsets):
        if cancel is not None and cancel.is_set():
            break
        log.check_mapped(end)
        if literal is not None:
            # Literals cannot run past a record (no newline in them): find every hit with numpy,
            # then map all of them to records at once.
            hay = np.frombuffer(mm, dtype=np.uint8, count=end - start, offset=start)
            found = _literal_positions(hay, literal, fold_case=lower)
            del hay  # the mmap cannot be closed while a view on it exists
            if len(found):
                arrays.append(np.unique(searchsorted(found + start, side="right") - 1))
            log._drop_pages(start, end)
            if progress is not None:
                progress(share[0] + share[1] * end / total)
            continue
        chunk = mm[start:end]
        r1 = int(offsets.searchsorted(end, side="left"))
        local = offsets[r0:r1] - start  # record starts in this chunk
        if b"\r" in chunk:
            # Records show "\r\n" as "\n" (and drop a "\r" ending the file): match what they
            # show, so that "x$" finds the same records in the LF and the CRLF copy.
            chunk, local = _without_crlf(chunk, local, at_end=end >= log.data_end())
        size = len(chunk)
        pos = 0
        count_local = len(local)
        while pos < size:
            hit = find(chunk, pos, size)
            if hit is None or (hit[0] == size and chunk.endswith(b"\n")):
                break  # (an empty match after the last newline is in no record)
            k = int(local.searchsorted(hit[0], side="right")) - 1
            rec_end = int(local[k + 1]) if k + 1 < count_local else size
            if hit[1] > rec_end:
                # A regex hit ran past its record (e.g. "\s" ate the newline): test the record alone.
                if find(chunk, int(local[k]), rec_end) is not None:
                    hits.append(r0 + k)
            else:
                hits.append(r0 + k)
            pos = rec_end
        log._drop_pages(start, end)
        if progress is not None:
            progress(share[0] + share[1] * end / total)
    if arrays:
        return np.concatenate(arrays).astype(np.int64, copy=False)
    return np.asarray(hits, dtype=np.int64)


# -- level / time / fields --------------------------------------------------------------------


def _epoch(when: datetime) -> float:
    return when.timestamp()  # naive = local time, like the records


def _level_time(log: LogFile, idx: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Levels and epoch times of ``idx`` (None = every record)."""
    if idx is None or log.arrays_ready() or len(idx) > PARSE_FEW:
        levels, times = log.levels(), log.timestamps()
        return (levels, times) if idx is None else (levels[idx], times[idx])
    lv = np.zeros(len(idx), dtype=np.int8)
    ts = np.full(len(idx), np.nan)
    for j, (_, level, t) in enumerate(log.headers(idx)):
        lv[j] = level
        ts[j] = t
    return lv, ts


def _field_ok(record: Record, fields: dict[str, str]) -> bool:
    for key, want in fields.items():
        k = key.lower()
        have: str | None
        if k == "host":
            have = record.host
        elif k == "source":
            have = record.source
        elif k == "pid":
            have = "" if record.pid is None else str(record.pid)
        elif k == "level":
            if record.level != Level.parse(want) or record.level == Level.UNKNOWN:
                return False
            continue
        else:
            have = record.extra.get(key, record.extra.get(k))
            if have is None:
                return False
        if have != want:
            return False
    return True


def matching_indices(log: LogFile, query: Query, *, cancel: threading.Event | None = None,
                     progress: Progress | None = None) -> np.ndarray:
    """Indices (int64, ascending) of the records matching ``query`` (context not included).

    When ``cancel`` is set the scan stops and the matches found so far are returned.
    """
    log.wait()
    n = log.record_count
    idx: np.ndarray | None = None
    steps = 1 + len(query.exclude)
    if query.text:
        idx = _scan(log, query.text, regex=query.regex, case_sensitive=query.case_sensitive,
                    cancel=cancel, progress=progress, share=(0.0, 1.0 / steps))
    for k, word in enumerate(query.exclude):
        if not word or (idx is not None and not len(idx)):
            continue
        drop = _scan(log, word, regex=False, case_sensitive=False, cancel=cancel,
                     progress=progress, share=((k + 1) / steps, 1.0 / steps))
        if idx is None:
            keep = np.ones(n, dtype=bool)
            keep[drop] = False
            idx = np.flatnonzero(keep)
        else:
            idx = idx[~np.isin(idx, drop, assume_unique=True)]
    if query.levels or query.min_level or query.since or query.until:
        lv, ts = _level_time(log, idx)
        mask = np.ones(len(lv), dtype=bool)
        if query.levels:
            mask &= np.isin(lv, [int(x) for x in query.levels if x != Level.UNKNOWN])
        if query.min_level:
            mask &= (lv >= int(query.min_level)) & (lv != 0)
        if query.since is not None:
            mask &= ts >= _epoch(query.since)
        if query.until is not None:
            mask &= ts <= _epoch(query.until)
        idx = np.flatnonzero(mask) if idx is None else idx[mask]
    if idx is None:
        idx = np.arange(n, dtype=np.int64)
    if query.fields:
        keep_list = []
        for i in idx:
            if cancel is not None and cancel.is_set():
                break
            if _field_ok(log.record(int(i)), query.fields):
                keep_list.append(int(i))
        idx = np.asarray(keep_list, dtype=np.int64)
    if progress is not None:
        progress(1.0)
    return idx.astype(np.int64, copy=False)


def search(log: LogFile, query: Query, *, cancel: threading.Event | None = None,
           progress: Progress | None = None) -> Iterator[Match]:
    """Matching records in file order, with ``query.context`` records around each (flagged)."""
    idx = matching_indices(log, query, cancel=cancel, progress=progress)
    c = max(0, query.context)
    if not c:
        for i in idx:
            yield Match(log.record(int(i)))
        return
    hit = set(idx.tolist())
    n = log.record_count
    last = -1  # the highest record already yielded
    for i in idx:
        i = int(i)
        for j in range(max(last + 1, i - c), min(n, i + c + 1)):
            if j > i and j in hit:
                break  # the next match takes over (and brings its own context)
            yield Match(log.record(j), is_context=j not in hit)
            last = j


def count(log: LogFile, query: Query) -> Counts:
    idx = matching_indices(log, query)
    levels, _ = _level_time(log, idx)
    by = np.bincount(levels.astype(np.int64), minlength=int(max(Level)) + 1)
    return Counts(len(idx), {lv: int(by[lv]) for lv in Level if by[lv]})


# -- time: histogram, timeline, parsing ---------------------------------------------------------


def _forward_fill(ts: np.ndarray) -> np.ndarray:
    """Records without a time take the previous record's; leading ones stay NaN."""
    ok = ~np.isnan(ts)
    if ok.all() or not ok.any():
        return ts
    pos = np.where(ok, np.arange(len(ts)), 0)
    np.maximum.accumulate(pos, out=pos)
    out = ts[pos]
    out[: int(np.argmax(ok))] = np.nan
    return out


def histogram(logs: Sequence[LogFile], bucket: timedelta, query: Query | None = None) -> Histogram:
    """Records per ``bucket`` and level over all ``logs`` (records without a time are left out).

    Buckets are aligned to the local clock (a 1d bucket starts at local midnight).
    """
    width = bucket.total_seconds()
    if width <= 0:
        raise LogFormatError("The histogram bucket must be longer than zero, e.g. 1m or 1h.")
    times_l, levels_l = [], []
    for log in logs:
        if query is not None and not query.is_empty:
            idx = matching_indices(log, query)
            lv, ts = _level_time(log, idx)
        else:
            lv, ts = log.levels(), log.timestamps()
        ok = ~np.isnan(ts)
        times_l.append(ts[ok])
        levels_l.append(lv[ok])
    times = np.concatenate(times_l) if times_l else np.empty(0)
    levels = np.concatenate(levels_l) if levels_l else np.empty(0, dtype=np.int8)
    if not len(times):
        return Histogram(bucket=bucket, starts=(), counts={})
    lo = float(times.min())
    shift = datetime.fromtimestamp(lo).astimezone().utcoffset()
    off = shift.total_seconds() if shift else 0.0
    first = np.floor((lo + off) / width) * width - off
    b = ((times - first) // width).astype(np.int64)
    nb = int(b.max()) + 1
    if nb > MAX_BUCKETS:
        raise LogFormatError(f"A {bucket} bucket over this time span makes {nb:,} bars; choose a "
                             "larger bucket (e.g. 1h or 1d).")
    counts: dict[Level, tuple[int, ...]] = {}
    for level in Level:
        sel = levels == int(level)
        if sel.any():
            counts[level] = tuple(int(x) for x in np.bincount(b[sel], minlength=nb))
    starts = tuple(datetime.fromtimestamp(first + k * width).astimezone() for k in range(nb))
    return Histogram(bucket=bucket, starts=starts, counts=counts)


def timeline(logs: Sequence[LogFile], query: Query | None = None) -> Iterator[Record]:
    """All (matching) records of ``logs`` ordered by time, ties kept in file order.

    Records without a time keep the previous record's time in their file (stack-trace lines stay
    with their entry); those before any timestamped record come first. Files whose times go
    backwards are sorted too: the merge orders by time, not by position.
    """
    keys_t, keys_f, keys_i = [], [], []
    for f, log in enumerate(logs):
        ts = _forward_fill(log.timestamps().copy())
        ts = np.where(np.isnan(ts), -np.inf, ts)
        idx = (np.arange(log.record_count, dtype=np.int64) if query is None or query.is_empty
               else matching_indices(log, query))
        keys_t.append(ts[idx])
        keys_f.append(np.full(len(idx), f, dtype=np.int32))
        keys_i.append(idx)
    if not keys_t:
        return
    t, fi, ii = np.concatenate(keys_t), np.concatenate(keys_f), np.concatenate(keys_i)
    order = np.lexsort((ii, fi, t))
    for k in order:
        yield logs[int(fi[k])].record(int(ii[k]))


_UNIT = {"s": 1, "sec": 1, "secs": 1, "m": 60, "min": 60, "mins": 60, "h": 3600, "hour": 3600,
         "hours": 3600, "d": 86400, "day": 86400, "days": 86400, "w": 604800, "week": 604800,
         "weeks": 604800}


def parse_time(text: str, *, now: datetime | None = None) -> datetime:
    """A point in time in the one grammar of :mod:`diagkit.timegrammar` (``2h``, ``-1h``,
    ``2024-01-02 10:00``, ``10:00`` today, ``yesterday``...). Naive = local time."""
    try:
        return parse_moment(text, now=now)
    except TimeSyntaxError as exc:
        raise LogFormatError(str(exc)) from None


def parse_bucket(text: str) -> timedelta:
    """``30s``, ``1m``, ``1h``, ``1d`` (also ``5min``, ``2hours``) to a timedelta."""
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$", text.lower())
    if m:
        unit = m.group(2)
        secs = _UNIT.get(unit) or _UNIT.get(unit.rstrip("s"))
        if secs and float(m.group(1)) > 0:
            return timedelta(seconds=float(m.group(1)) * secs)
    raise LogFormatError(f"Cannot read {text!r} as a bucket size. Use e.g. 30s, 1m, 15m, 1h or 1d.")
