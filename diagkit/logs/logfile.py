"""Opening log files and indexing them: :class:`LogFile`.

A log file is memory-mapped read-only and indexed once: the byte offset of every line start
(numpy int64, 8 bytes a line, built chunk by chunk with ``np.flatnonzero(chunk == b"\\n")``),
then which lines begin a record (the format's vectorised ``record_starts``; single-line formats
store nothing more). Records are decoded and parsed only when asked for.

* Compressed files (``.gz``, ``.bz2``, ``.xz``) are stream-decompressed once into a cache file
  under ``data_dir()/cache/logs`` (keyed by path, size and mtime, reused) and that is mapped. A
  truncated or corrupt archive keeps what was readable and says where it stopped.
* A rotated set (``syslog``, ``syslog.1``, ``syslog.2.gz``...) opened with :func:`open_logs`
  becomes one LogFile: its segments, oldest first, are concatenated into one cache file
  (``LogFile.segments`` lists them).
* Pages of the mapping are dropped from our resident set after each indexed chunk
  (``madvise(MADV_DONTNEED)``; the OS page cache keeps them), so indexing a 1 GiB file costs
  about the index itself in memory, not the file.
* ``levels()``/``timestamps()`` give one value per record for numpy filtering. They parse only
  each record's first line (the header, capped at 512 bytes) with the format, once, and cache.
"""

from __future__ import annotations

import bisect
import bz2
import hashlib
import json
import lzma
import mmap
import os
import re
import stat
import sys
import tempfile
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self

import numpy as np

from diagkit.config import data_dir, make_private, private_dir
from diagkit.errors import LogFormatError, LogTruncated
from diagkit.logs import vectorized as vec
from diagkit.logs.formats import detect_format, get_format
from diagkit.logs.model import Level, LogFormat, ParseContext, Record

_CR_LINE_END = re.compile(r"\r+\n")
CHUNK = 8 << 20  # bytes indexed per step: big enough for numpy, small enough for memory
FIRST_CHUNK = 4 << 20  # background open: this much is indexed before open() returns
DISPLAY_CAP = 64 << 10  # a record's text is cut here for display and parsing
ARRAY_STEP = 1 << 17  # at most this many records per pass of levels()/timestamps()
ARRAY_BYTES = 2 << 20  # and about this many bytes: bounds the temporaries (long JSON lines)
_KEY_MIN = 1e12  # times at or above are year-less keys (epochs of years <= 9999 are below)
SNIFF_LINES = 200
COMPRESSED = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz"}


@dataclass(frozen=True)
class IndexProgress:
    """How far opening got. ``phase``: "index" (fraction known), "reading" (a pipe or stdin
    being copied into the cache: ``bytes_done`` so far, total unknown) or "waiting" (a FIFO
    that nothing writes to yet; ``note`` says so)."""

    fraction: float
    records: int
    bytes_done: int
    bytes_total: int
    phase: str = "index"
    note: str = ""


@dataclass(frozen=True)
class Refresh:
    """What :meth:`LogFile.refresh` found: new records appended, or a re-open after rotation."""

    new_records: int
    reopened: bool = False
    warning: str | None = None


class _Growable:
    """An int64 array that grows in place. Capacity is reserved with ``np.empty``: pages never
    written are never resident, so a generous estimate costs address space, not memory."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._a = np.empty(max(capacity, 16), dtype=np.int64)
        self.n = 0

    def reserve(self, capacity: int) -> None:
        if capacity > len(self._a):
            bigger = np.empty(capacity, dtype=np.int64)
            bigger[: self.n] = self._a[: self.n]
            self._a = bigger

    def extend(self, values: np.ndarray) -> None:
        need = self.n + len(values)
        if need > len(self._a):
            self.reserve(max(need, int(len(self._a) * 1.5)))
        self._a[self.n: need] = values
        self.n = need

    def truncate(self, n: int) -> None:
        self.n = min(self.n, n)

    def view(self) -> np.ndarray:
        return self._a[: self.n]


def resolve_format(name: str | LogFormat | None, sample: list[str]) -> LogFormat:
    """The named format, or the best fit for ``sample`` lines (plain text when none fits)."""
    if isinstance(name, LogFormat):
        return name
    if name:
        # bound to the sample like a detected one: W3C and Zeek read their columns from the
        # file's header, also when the format is given by name
        return get_format(name).for_sample([ln.rstrip("\r\n") for ln in sample
                                            if ln.strip()][:200])
    if not sample:
        return LogFormat()
    return detect_format(sample)


def _human(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def _decompress(src: Path, kind: str, out: Any) -> tuple[int, str | None]:
    """Stream ``src`` into the open file ``out``; return (bytes written, truncation warning)."""

    def new() -> Any:
        if kind == "gzip":
            return zlib.decompressobj(wbits=47)  # 32+15: gzip or zlib header, auto-detected
        if kind == "bzip2":
            return bz2.BZ2Decompressor()
        return lzma.LZMADecompressor()

    written = 0
    consumed = 0
    dec = new()
    started = False
    with open(src, "rb") as fh:
        pending = b""
        while True:
            data = pending or fh.read(64 << 10)
            pending = b""
            if not data:
                break
            if started and dec_eof(dec):
                # another member/stream follows (concatenated .gz, pbzip2); zero padding ends it
                if not data.strip(b"\0"):
                    consumed += len(data)
                    continue
                dec = new()
            started = True
            try:
                chunk = dec.decompress(data)
            except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError):
                return written, (f"{src} is corrupt: decompressed {_human(written)}, the rest after "
                                 f"compressed byte {consumed} is unreadable.")
            out.write(chunk)
            written += len(chunk)
            if dec_eof(dec):
                rest = dec.unused_data
                consumed += len(data) - len(rest)
                pending = rest
            else:
                consumed += len(data)
    if not started or not dec_eof(dec):
        return written, (f"{src} is truncated: decompressed {_human(written)}, the rest after "
                         f"compressed byte {consumed} is unreadable.")
    return written, None


def dec_eof(dec: Any) -> bool:
    return bool(getattr(dec, "eof", False))


def _cache_path(parts: Sequence[Path]) -> Path:
    key = hashlib.sha256()
    for p in parts:
        st = p.stat()
        key.update(f"{p.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return data_dir() / "cache" / "logs" / f"{key.hexdigest()[:32]}.log"


def _materialise(parts: Sequence[Path]) -> tuple[Path, list[str]]:
    """Decompress/concatenate ``parts`` (oldest first) into one cache file, reused when fresh."""
    target = _cache_path(parts)
    meta = target.with_suffix(".json")
    if target.exists() and meta.exists():
        try:
            return target, list(json.loads(meta.read_text("utf-8"))["warnings"])
        except (OSError, ValueError, KeyError):
            pass  # a damaged sidecar: build again
    private_dir(target.parent)  # decompressed logs hold customer data: owner only
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
    warnings: list[str] = []
    try:
        with open(tmp, "w+b") as out:
            for part in parts:
                kind = COMPRESSED.get(part.suffix.lower())
                start = out.tell()
                if kind:
                    _, warning = _decompress(part, kind, out)
                    if warning:
                        warnings.append(warning)
                else:
                    with open(part, "rb") as fh:
                        while block := fh.read(8 << 20):
                            out.write(block)
                end = out.tell()
                if end > start and len(parts) > 1:
                    out.seek(end - 1)
                    if out.read(1) != b"\n":  # segments must not glue two lines together
                        out.write(b"\n")
        make_private(tmp)
        os.replace(tmp, target)
        meta.write_text(json.dumps({"sources": [str(p) for p in parts], "warnings": warnings}),
                        "utf-8")
        make_private(meta)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LogFormatError(f"Cannot prepare {parts[-1]} for reading: {exc.strerror or exc}. "
                             f"Check free space in {target.parent}.") from exc
    return target, warnings


def _binary_warning(sample: bytes, path: Path) -> str | None:
    if not sample:
        return None
    if b"\0" in sample:
        return f"{path} looks binary (it contains NUL bytes); it is shown as text anyway."
    text_bytes = bytes(range(32, 127)) + b"\t\n\r\f\b\x1b"
    odd = len(sample.translate(None, text_bytes))
    if odd / len(sample) > 0.30:
        try:
            sample.decode("utf-8")
            return None  # plenty of non-ASCII but valid UTF-8: a non-English log
        except UnicodeDecodeError:
            pass
        return (f"{path} looks binary ({odd * 100 // len(sample)} % of its first bytes are not "
                "text); it is shown as text anyway.")
    return None


class LogFile:
    """One log (a file, a decompressed archive or a rotated set), indexed and memory-mapped.

    Thread-safety: one background thread may index while other threads read records; every
    reader works on a snapshot of the record count. ``refresh`` must not overlap indexing.
    """

    def __init__(self, path: Path, *, label: str, segments: Sequence[Path], data_path: Path,
                 fmt: LogFormat | None, default_tz: object | None, warnings: list[str]) -> None:
        self._path = path
        self._label = label
        self._segments = tuple(segments)
        self._data_path = data_path
        self._live = data_path == path  # a plain file mapped directly: refresh() can follow it
        self._default_tz = default_tz
        self._warnings = warnings
        self._lock = threading.RLock()
        self._arrays_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._error: BaseException | None = None
        self._fh: Any = None
        self._mm: mmap.mmap | None = None
        self._spool: Path | None = None  # a copy of a stream, removed on close
        self._source_mtime: float | None = None
        self._reset_index()
        self._format: LogFormat = fmt or LogFormat()

    # -- opening ------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, format: str | LogFormat | None = None,
             label: str | None = None, background: bool = False,
             progress: Callable[[IndexProgress], None] | None = None,
             cancel: threading.Event | None = None, default_tz: object | None = None,
             segments: Sequence[str | os.PathLike[str]] | None = None) -> LogFile:
        """Open and index ``path`` (or ``segments``, oldest first, as one log labelled ``path``).

        ``background=True`` returns once the first chunk is indexed and indexes the rest in a
        daemon thread (``wait()``, ``complete``, ``cancel()``). Errors: :class:`LogFormatError`.
        """
        if str(path) == STDIN or (not segments and is_stream(Path(path))):
            return cls._open_stream(str(path), format=format, label=label, background=background,
                                    progress=progress, cancel=cancel, default_tz=default_tz)
        p = Path(path)
        parts = [Path(s) for s in segments] if segments else [p]
        for part in parts:
            if not part.exists():
                raise LogFormatError(f"There is no file at {part}. Check the path.")
            if part.is_dir():
                raise LogFormatError(f"{part} is a folder. Give a log file, or use open_logs() "
                                     "('diagkit logs' accepts folders) to open the logs in it.")
            if not os.access(part, os.R_OK):
                raise LogFormatError(f"Cannot read {part}: permission denied. Run as a user "
                                     "who may read it, or copy it somewhere readable.")
        warnings: list[str] = []
        if len(parts) == 1 and parts[0].suffix.lower() not in COMPRESSED:
            data_path = parts[0]
        else:
            data_path, warnings = _materialise(parts)
        log = cls(p, label=label or str(p), segments=parts, data_path=data_path, fmt=None,
                  default_tz=default_tz, warnings=list(warnings))
        try:
            # a year-less date is placed by the newest source file's mtime, not the cache's
            log._source_mtime = max(part.stat().st_mtime for part in parts)
        except OSError:
            pass
        log._map()
        log._choose_format(format)
        log._start(background=background, progress=progress, cancel=cancel)
        return log

    @classmethod
    def _open_stream(cls, source: str, *, format: str | LogFormat | None, label: str | None,
                     background: bool, progress: Callable[[IndexProgress], None] | None,
                     cancel: threading.Event | None, default_tz: object | None) -> LogFile:
        """stdin (``-``), a pipe (``<(...)``) or a FIFO: copied once into the cache (it cannot
        be mapped or read twice), then opened from there; the copy goes when the log closes."""
        data_path, warnings = spool(source, progress=progress, cancel=cancel)
        name = "stdin" if source == STDIN else source
        log = cls(Path(source), label=label or name, segments=[Path(source)],
                  data_path=data_path, fmt=None, default_tz=default_tz, warnings=warnings)
        log._spool = data_path
        log._source_mtime = time.time()
        try:
            log._map()
        finally:
            if os.name != "nt":  # the mapping keeps the data; nothing is left behind on a crash
                data_path.unlink(missing_ok=True)
                log._spool = None
        log._choose_format(format)
        log._start(background=background, progress=progress, cancel=cancel)
        return log

    def _map(self) -> None:
        try:
            self._fh = open(self._data_path, "rb")  # noqa: SIM115 - lives as long as the map
            st = os.fstat(self._fh.fileno())
        except OSError as exc:
            raise LogFormatError(f"Cannot read {self._data_path}: {exc.strerror or exc}. Check "
                                 "the path and its permissions.") from exc
        self._inode = (st.st_dev, st.st_ino)
        self._mm = mmap.mmap(self._fh.fileno(), 0, access=mmap.ACCESS_READ) if st.st_size else None
        self._size = st.st_size
        self._mtime = self._source_mtime if self._source_mtime is not None else st.st_mtime
        if not st.st_size and not any("is empty" in w for w in self._warnings):
            self._warnings.append(f"{self._path} is empty: there are no records.")
        elif st.st_size:
            warning = _binary_warning(self._mm[: 64 << 10], self._path)  # type: ignore[index]
            if warning and warning not in self._warnings:
                self._warnings.append(warning)

    def _choose_format(self, name: str | LogFormat | None) -> None:
        sample: list[str] = []
        if self._mm is not None:
            head = self._mm[: 256 << 10]
            sample = list(head.decode("utf-8", "replace").splitlines()[:SNIFF_LINES])
        self._format = resolve_format(name, sample)
        self._ctx = ParseContext(reference_time=datetime.fromtimestamp(self._mtime),
                                 default_tz=self._default_tz)
        # records are parsed against the year-less reference; LogFile supplies the years
        self._pctx = ParseContext(reference_time=vec.YEARLESS_REFERENCE,
                                  default_tz=self._default_tz,
                                  day_reference=self._ctx.reference_time)

    def _reset_index(self) -> None:
        self._lines = _Growable()
        # record start line numbers; None: every line so far is a record
        self._recs: _Growable | None = None
        self._next_line = 0  # offset where the next not-yet-complete line begins
        self._data_end = 0  # end of the last indexed line
        self._partial_tail = False  # the last indexed line had no newline (end of file)
        self._levels: np.ndarray | None = None
        self._times: np.ndarray | None = None
        self._year_plan = vec.YearPlan()
        self._year_changes: list[tuple[int, int]] = []  # (record, relative year) where it changes
        self._offsets_cache: np.ndarray | None = None

    def _start(self, *, background: bool, progress: Callable[[IndexProgress], None] | None,
               cancel: threading.Event | None) -> None:
        if cancel is not None:
            self._cancel = cancel
        self._done.clear()
        if self._mm is None:
            self._done.set()
            return
        if self._lines.n == 0:
            self._lines.reserve(self._estimate_lines())
        if not background:
            self._index_range(self._size, progress, final=True)
            self._done.set()
            return
        self._index_range(min(self._size, FIRST_CHUNK), progress, final=self._size <= FIRST_CHUNK)
        if self._size <= FIRST_CHUNK:
            self._done.set()
            return

        def work() -> None:
            try:
                self._index_range(self._size, progress, final=True)
            except BaseException as exc:  # noqa: BLE001 - reported by wait()
                self._error = exc
            finally:
                self._done.set()

        self._thread = threading.Thread(target=work, name=f"index {self._label}", daemon=True)
        self._thread.start()

    def _estimate_lines(self) -> int:
        assert self._mm is not None
        sample = self._mm[: 1 << 20]
        per_byte = (sample.count(b"\n") + 1) / max(1, len(sample))
        return int(self._size * per_byte * 1.15) + 1024

    # -- indexing -----------------------------------------------------------------------------

    def _index_range(self, end: int, progress: Callable[[IndexProgress], None] | None, *,
                     final: bool) -> None:
        mm = self._mm
        assert mm is not None
        pos = self._next_line
        whole = np.frombuffer(mm, dtype=np.uint8) if self._format.multiline else None

        def newlines(a: int, b: int) -> np.ndarray:
            return np.flatnonzero(np.frombuffer(mm, np.uint8, b - a, a) == 10)

        # the newline search of the next chunks runs in two threads (numpy lets go of the GIL)
        pool = ThreadPoolExecutor(max_workers=2) if end - pos > 4 * CHUNK else None
        ahead: deque[Any] = deque()
        queued = pos
        try:
            while pos < end:
                if self._cancel.is_set():
                    self._warnings.append(f"Indexing {self._path} was stopped at byte {pos}: "
                                          "only the records before are shown.")
                    return
                stop = min(end, pos + CHUNK)
                self.check_mapped(stop)
                if pool is not None:
                    while queued < end and len(ahead) < 3:
                        self.check_mapped(min(end, queued + CHUNK))
                        ahead.append(pool.submit(newlines, queued, min(end, queued + CHUNK)))
                        queued = min(end, queued + CHUNK)
                    nl = ahead.popleft().result()
                else:
                    nl = newlines(pos, stop)
                if len(nl):
                    nl += pos
                    starts = np.empty(len(nl), dtype=np.int64)
                    starts[0] = self._next_line
                    starts[1:] = nl[:-1] + 1
                    self._add_lines(starts, whole, int(nl[-1]) + 1)
                # from before pos: the line that straddled the chunk start was read again
                # (record_starts), which faults back in the whole page-cache folio it sits in
                # (up to 2 MB of the chunk dropped before; 200 MB of a 1 GiB log stayed mapped)
                self._drop_pages(max(0, pos - (2 << 20)), stop)
                pos = stop
                if progress is not None:
                    progress(IndexProgress(pos / self._size, self.record_count, pos, self._size))
            if final and self._next_line < self._size and end >= self._size:
                self._partial_tail = True
                self._add_lines(np.array([self._next_line], dtype=np.int64), whole, self._size)
        finally:
            if pool is not None:
                for fut in ahead:
                    fut.cancel()
                pool.shutdown(wait=True)
            del whole

    def _add_lines(self, starts: np.ndarray, whole: np.ndarray | None, end: int) -> None:
        base = self._lines.n
        new_recs: np.ndarray | None = None
        if whole is not None:
            try:
                mask = np.asarray(self._format.record_starts(whole, starts), dtype=bool)
            except Exception as exc:  # noqa: BLE001 - a format bug must not lose the file
                mask = np.ones(len(starts), dtype=bool)
                self._warnings.append(f"The {self._format.name} format failed to split records "
                                      f"({exc}); every line is a record.")
            if base == 0 and len(mask):
                mask[0] = True  # the file's first line always opens a record
            if self._recs is not None or not mask.all():
                # the first continuation line: from here on records need their own index
                # (until then every line is a record and none is kept: a multi-line format
                # on a file without continuations costs no second array of line numbers)
                new_recs = np.flatnonzero(mask) + base
                if self._recs is None:
                    recs = _Growable(max(1024, self._lines._a.size // 4))
                    recs.extend(np.arange(base, dtype=np.int64))
        with self._lock:
            self._lines.extend(starts)
            if new_recs is not None:
                if self._recs is None:
                    self._recs = recs
                self._recs.extend(new_recs)
            self._offsets_cache = None
            self._data_end = end
            if not self._partial_tail:
                self._next_line = end

    def _drop_pages(self, start: int, stop: int) -> None:
        # Indexing reads every page once; keep them in the page cache, not in our RSS.
        if self._mm is None or not hasattr(mmap, "MADV_DONTNEED"):
            return
        page = mmap.PAGESIZE
        a = start - start % page
        try:
            self._mm.madvise(mmap.MADV_DONTNEED, a, stop - a)
        except (OSError, ValueError):
            pass

    # -- background control -------------------------------------------------------------------

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for indexing to finish; True when complete. Re-raises an indexing error."""
        done = self._done.wait(timeout)
        if self._error is not None:
            err, self._error = self._error, None
            raise err
        return done

    @property
    def complete(self) -> bool:
        return self._done.is_set()

    def cancel(self) -> None:
        self._cancel.set()
        if self._thread is not None:
            self._thread.join()

    def close(self) -> None:
        self.cancel()
        self._close_map()
        if self._spool is not None:
            self._spool.unlink(missing_ok=True)
            self._spool = None

    def _close_map(self) -> None:
        if self._mm is not None:
            try:
                self._mm.close()
            except BufferError:
                pass  # a caller still holds a view; the OS unmaps at exit
            self._mm = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<LogFile {self._label} {self.record_count} records {self._format.name}>"

    # -- properties ---------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self._path

    @property
    def label(self) -> str:
        return self._label

    @property
    def segments(self) -> tuple[Path, ...]:
        """The files this log was read from, oldest first (one unless a rotated set)."""
        return self._segments

    @property
    def format(self) -> LogFormat:
        return self._format

    @property
    def size(self) -> int:
        """Bytes indexed so far."""
        return self._data_end

    @property
    def warnings(self) -> list[str]:
        return self._warnings

    @property
    def line_count(self) -> int:
        return self._lines.n

    @property
    def record_count(self) -> int:
        with self._lock:
            return self._recs.n if self._recs is not None else self._lines.n

    @property
    def mtime(self) -> float:
        return self._mtime

    @property
    def context(self) -> ParseContext:
        return self._ctx

    # -- records ------------------------------------------------------------------------------

    def record_offsets(self) -> np.ndarray:
        """Byte offset where each record begins (int64, ascending), plus nothing else."""
        with self._lock:
            if self._recs is None:
                return self._lines.view()
            if self._offsets_cache is None or len(self._offsets_cache) != self._recs.n:
                self._offsets_cache = self._lines.view()[self._recs.view()]
            return self._offsets_cache

    def data_end(self) -> int:
        """Offset just after the last indexed record."""
        return self._data_end

    def _span(self, i: int) -> tuple[int, int, int, int]:
        """(first line, last line, start byte, end byte) of record ``i``."""
        with self._lock:
            n = self._recs.n if self._recs is not None else self._lines.n
            if not 0 <= i < n:
                raise IndexError(f"record {i} out of range (0..{n - 1})")
            lines = self._lines.view()
            if self._recs is None:
                first = last = i
            else:
                recs = self._recs.view()
                first = int(recs[i])
                last = int(recs[i + 1]) - 1 if i + 1 < n else self._lines.n - 1
            start = int(lines[first])
            end = int(lines[last + 1]) if last + 1 < self._lines.n else self._data_end
        return first, last, start, end

    def raw_bytes(self, i: int) -> bytes:
        """Record ``i`` as in the file, without its final newline (uncapped)."""
        _, _, start, end = self._span(i)
        return self._bytes(start, end)

    def check_mapped(self, end: int) -> None:
        """Raise :class:`~diagkit.errors.LogTruncated` when the file no longer reaches ``end``:
        a file truncated in place while it is mapped (logrotate's ``copytruncate``) kills the
        process with SIGBUS at the first touch of a page past its new end, which Python cannot
        catch, so every read of the map checks the size first (one fstat)."""
        fh = self._fh
        if fh is None or fh.closed:
            return
        try:
            size = os.fstat(fh.fileno()).st_size
        except (OSError, ValueError):
            return
        if size < end:
            raise LogTruncated(
                f"{self._path} was truncated while open (rotated with copytruncate?): it has "
                f"{size:,} bytes now, {self._size:,} were indexed. Open it again to read what it "
                "holds now.")

    def _bytes(self, start: int, end: int) -> bytes:
        assert self._mm is not None
        self.check_mapped(end)
        data = self._mm[start:end]
        if data.endswith(b"\n"):
            data = data[:-1]
        return data.rstrip(b"\r")

    def record(self, i: int) -> Record:
        first, last, start, end = self._span(i)
        cut = end - start > DISPLAY_CAP
        data = self._bytes(start, start + DISPLAY_CAP if cut else end)
        text = data.decode("utf-8", "replace")
        if "\r" in text:  # line ends as written on Windows (or worse): shown and parsed as "\n"
            text = _CR_LINE_END.sub("\n", text).rstrip("\r")
        if cut:
            text += f"\n… [record cut for display: {end - start:,} bytes in all]"
        fields = self._format.parse(text, self._pctx)
        timestamp, level = self._settle_year(i, fields.timestamp), fields.level
        if timestamp is None and self._format.inherits_time:
            timestamp = self._inherited_time(i)
        if cut:  # time and level come from the whole first line, like levels()/timestamps()
            text1 = self._first_line(start, end).decode("utf-8", "replace").rstrip("\r")
            head = self._format.parse(text1, self._pctx)
            timestamp, level = self._settle_year(i, head.timestamp), head.level
        return Record(file=self._label, index=i, first_line=first, last_line=last, raw=text,
                      timestamp=timestamp, level=level, host=fields.host,
                      source=fields.source, pid=fields.pid, message=fields.message,
                      extra=dict(fields.extra))

    def _inherited_time(self, i: int) -> datetime | None:
        """The time record ``i`` takes from the records before it (``inherits_time``), as the
        per-record arrays hold it (naive local time, or in the user's zone)."""
        value = float(self.timestamps()[i])
        if np.isnan(value):
            return None
        zone = vec.default_zone(self._default_tz)
        return datetime.fromtimestamp(value, zone) if zone is not None else \
            datetime.fromtimestamp(value)

    def records(self, start: int, stop: int) -> list[Record]:
        stop = min(stop, self.record_count)
        return [self.record(i) for i in range(max(0, start), stop)]

    def line_text(self, line: int) -> str:
        """Line ``line`` (0-based) as text, without its line break, cut at DISPLAY_CAP bytes."""
        with self._lock:
            n = self._lines.n
            if not 0 <= line < n:
                raise IndexError(f"line {line} out of range (0..{n - 1})")
            lines = self._lines.view()
            start = int(lines[line])
            end = int(lines[line + 1]) if line + 1 < n else self._data_end
        return self._bytes(start, min(end, start + DISPLAY_CAP)).decode("utf-8", "replace")

    def lines_containing(self, needles: Sequence[str]) -> list[int]:
        """0-based numbers (ascending) of the lines that hold one of ``needles`` (literal text
        without line breaks, matched as UTF-8 bytes), over everything indexed.

        For scans that must see the whole log, not a window of it (private key blocks before
        an excerpt is cut, :mod:`diagkit.reports.keyblocks`). Each needle is found by ``re``'s
        literal fast search over the mapping, chunk by chunk (pages dropped afterwards, as while
        indexing): a few GB/s per needle, no Python per line."""
        self.wait()
        mm = self._mm
        if mm is None or not needles:
            return []
        patterns = [(re.compile(re.escape(s.encode("utf-8"))), len(s.encode("utf-8")))
                    for s in needles if s]
        end_all = self._data_end
        hits: list[int] = []
        for start in range(0, end_all, CHUNK):
            stop = min(end_all, start + CHUNK)
            self.check_mapped(stop)
            for rx, size in patterns:
                pos = start
                reach = min(end_all, stop + size - 1)  # a needle straddling the chunk's end
                while True:
                    m = rx.search(mm, pos, reach)
                    if m is None:
                        break
                    hits.append(m.start())
                    nl = mm.find(b"\n", m.end(), end_all)  # one hit per line is enough
                    if nl < 0:
                        break
                    pos = nl + 1
            self._drop_pages(start, stop)
        if not hits:
            return []
        with self._lock:
            lines = self._lines.view()
            found = np.searchsorted(lines, np.asarray(hits, dtype=np.int64), side="right") - 1
        return np.unique(found).tolist()

    def record_for_line(self, line: int) -> int:
        """The record containing 0-based ``line``."""
        if not 0 <= line < self._lines.n:
            raise IndexError(f"line {line} out of range (0..{self._lines.n - 1})")
        with self._lock:
            if self._recs is None:
                return line
            return int(np.searchsorted(self._recs.view(), line, side="right") - 1)

    # -- per-record arrays --------------------------------------------------------------------

    def headers(self, indices: Iterable[int]) -> Iterable[tuple[int, Level, float]]:
        """(index, level, epoch seconds or NaN) from each record's first line (all of it)."""
        wanted = [int(i) for i in indices]
        out = []
        for i in wanted:
            _, _, start, end = self._span(i)
            level, value = self._header_fields(self._first_line(start, end))
            if value >= _KEY_MIN:
                # a year-less time: its year depends on the records before it (the year plan)
                self._compute_arrays()
                assert self._levels is not None and self._times is not None
                return [(j, Level(int(self._levels[j])), float(self._times[j])) for j in wanted]
            out.append((i, level, value))
        return out

    def _first_line(self, start: int, end: int) -> bytes:
        assert self._mm is not None
        self.check_mapped(end)
        nl = self._mm.find(b"\n", start, end)
        return self._mm[start: nl if nl >= 0 else end]

    def _header_fields(self, data: bytes) -> tuple[Level, float]:
        """(level, epoch seconds / year-less key / NaN) of one record's first line: the format's
        ``parse`` with the year-less reference (see :mod:`diagkit.logs.vectorized`)."""
        fields = self._format.parse(data.decode("utf-8", "replace").rstrip("\r"), self._pctx)
        ts = fields.timestamp
        if ts is None:
            return fields.level, np.nan
        if ts.year == vec.SENTINEL_YEAR:
            sod = ts.hour * 3600 + ts.minute * 60 + ts.second
            return fields.level, float(vec.yearless_key(ts.month, ts.day, sod, ts.microsecond))
        try:
            return fields.level, ts.timestamp()
        except (OverflowError, ValueError, OSError):
            return fields.level, np.nan

    def _header_ends(self, a: int, b: int, offsets: np.ndarray,
                     buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the first lines of records ``a..b`` end (no newline, no trailing ``\r``s: the
        text ``parse`` is given), and which records had so many ``\r``s that the vectorised
        path should leave them to Python."""
        with self._lock:
            lines = self._lines.view()
            single = self._recs is None
            line_no = None if single else self._recs.view()[a:b]  # type: ignore[union-attr]
            n_lines = self._lines.n
        starts = offsets[a:b]
        if single:  # a record is a line: it ends where the next begins
            ends = np.empty(b - a, dtype=np.int64)
            ends[:-1] = lines[a + 1: b]
            ends[-1] = lines[b] if b < n_lines else self._data_end
        else:
            assert line_no is not None
            nxt = line_no + 1
            ends = np.where(nxt < n_lines, lines[np.minimum(nxt, n_lines - 1)], self._data_end)
        if len(ends) and ends[-1] > 0:
            has_nl = buf[np.maximum(ends - 1, 0)] == 10
            ends = ends - (has_nl & (ends > starts))
        for _ in range(8):
            cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
            if not cr.any():
                break
            ends = ends - cr
        else:
            cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
            return ends, cr
        return ends, np.zeros(len(ends), dtype=bool)

    def _compute_arrays(self, fast: bool = True) -> None:
        """Fill the level/time arrays: each format's extractor in
        :mod:`diagkit.logs.vectorized` does the records it can in numpy and only the rest are
        parsed in Python; ``fast=False`` parses every header (the reference the tests use).
        Year-less times are then given their years by the file's :class:`YearPlan`."""
        self.wait()
        with self._arrays_lock:
            n = self.record_count
            have = 0 if self._levels is None else len(self._levels)
            if have == n and self._times is not None:
                return
            levels = np.zeros(n, dtype=np.int8)
            times = np.full(n, np.nan, dtype=np.float64)
            if have and self._levels is not None and self._times is not None:
                levels[:have] = self._levels
                times[:have] = self._times
            yearless_chunks: list[tuple[int, int]] = []

            def store(a: int, b: int, lv: np.ndarray, tm: np.ndarray, yearless: bool) -> None:
                levels[a:b] = lv
                times[a:b] = tm
                if yearless:
                    yearless_chunks.append((a, b))  # (atomic: batches run in threads)

            self._each_batch(have, n, store, fast=fast)
            if yearless_chunks:
                self._plan_years(times, sorted(yearless_chunks))
            if self._format.inherits_time:
                _carry_times_forward(times)
            self._levels, self._times = levels, times

    def _each_batch(self, first: int, n: int,
                    sink: Callable[[int, int, np.ndarray, np.ndarray, bool], None], *,
                    fast: bool = True) -> None:
        """The levels and times (epoch seconds, year-less keys, NaN) of records ``first..n`` in
        batches of about ARRAY_BYTES: ``sink(a, b, levels, times, has year-less keys)`` gets
        each, two batches at a time in threads (numpy lets go of the GIL), in any order."""
        offsets = self.record_offsets()
        mm = self._mm
        extract = vec.extractor_for(self._format.name) if fast and mm is not None else None
        buf = np.frombuffer(mm, dtype=np.uint8) if mm is not None else None
        failed: list[str] = []

        def batch(a: int, b: int) -> None:
            """One batch, start to end: extract, parse what is left, hand over, drop pages."""
            assert buf is not None
            self.check_mapped(int(offsets[b]) if b < n else self._data_end)
            starts = np.asarray(offsets[a:b], dtype=np.int64)
            ends, odd = self._header_ends(a, b, offsets, buf)
            got = None
            if extract is not None and not failed:
                try:
                    got = extract(vec.Headers(buf, starts, ends, self._default_tz,
                                              self._pctx.day_reference))
                except Exception as exc:  # noqa: BLE001 - Python parses them all
                    failed.append(f"{type(exc).__name__}: {exc}")
            lv, tm = self._fill_batch(b - a, (starts, ends, odd, got), mm)
            sink(a, b, lv, tm, bool((tm >= _KEY_MIN).any()))
            # from 2 MB before: the page-cache folio of the first record reaches back into the
            # batch before, whose pages this one mapped again (see _index_range)
            self._drop_pages(max(0, int(starts[0]) - (2 << 20)),
                             int(offsets[b]) if b < n else self._data_end)

        try:
            bounds = _batches(offsets, first, n, self._data_end)
            if extract is None or len(bounds) < 2:
                for a, b in bounds:
                    batch(a, b)
            else:
                with ThreadPoolExecutor(max_workers=2) as pool:
                    for fut in [pool.submit(batch, a, b) for a, b in bounds]:
                        fut.result()
        finally:
            buf = None  # the mapping cannot close while a view on it exists
        if failed:
            self._warnings.append(
                f"Fast time/level extraction for the {self._format.name} format failed "
                f"({failed[0]}); those records were parsed one by one.")

    def _fill_batch(self, size: int, result: tuple[np.ndarray, np.ndarray, np.ndarray, Any],
                    mm: Any) -> tuple[np.ndarray, np.ndarray]:
        """One batch's (levels, times): the extractor's results, then Python for what it
        left."""
        starts, ends, odd, got = result
        if got is None:
            levels = np.zeros(size, dtype=np.int8)
            times = np.full(size, np.nan)
            todo = np.arange(size)
        else:
            done = got.done & ~odd
            if done.all():
                times, levels = got.times, got.levels
                todo = np.zeros(0, dtype=np.int64)
            else:
                times = np.where(done, got.times, np.nan)
                levels = np.where(done, got.levels, 0).astype(np.int8)
                todo = np.flatnonzero(~done)
        for j in todo.tolist():
            s = int(starts[j])
            levels[j], times[j] = self._header_fields(mm[s: int(ends[j])])
        return np.asarray(levels, dtype=np.int8), np.asarray(times, dtype=np.float64)

    def _year_less_ahead(self, sample: int = 200) -> bool:
        """Whether one of the first records has a date without a year (or there is no record):
        its year needs the whole file's plan, so a summary is made from the arrays."""
        n = min(self.record_count, sample)
        if n == 0:
            return True
        offsets = self.record_offsets()
        for i in range(n):
            end = int(offsets[i + 1]) if i + 1 < self.record_count else self._data_end
            if self._header_fields(self._first_line(int(offsets[i]), end))[1] >= _KEY_MIN:
                return True
        return False

    def summary(self) -> HeaderSummary:
        """Records per level, records without a time and the time span (epoch seconds), over
        every record. From the arrays when they exist; else batch by batch without keeping
        them (``diagkit logs stats``: a 1 GiB log has ten million records, and the arrays
        would be most of the memory), unless a batch holds year-less dates or the format's
        records inherit times (the whole file decides those: then the arrays are made)."""
        self.wait()
        if not (self.arrays_ready() or self._format.inherits_time or self._year_less_ahead()):
            parts: list[HeaderSummary] = []
            whole = threading.Event()

            def add(a: int, b: int, lv: np.ndarray, tm: np.ndarray, yearless: bool) -> None:
                if yearless:
                    whole.set()
                elif not whole.is_set():
                    parts.append(HeaderSummary.of(lv, tm))  # (atomic: batches run in threads)

            with self._arrays_lock:
                self._each_batch(0, self.record_count, add)
            if not whole.is_set():
                return HeaderSummary.merged(parts)
        return HeaderSummary.of(self.levels(), self.timestamps())

    def header_batches(self, sink: Callable[[int, int, np.ndarray, np.ndarray], None], *,
                       first: int = 0, stop: int | None = None) -> bool:
        """Levels and times (epoch seconds, NaN) of records ``first..stop`` batch by batch,
        without keeping per-record arrays (a 1 GiB log has ten million records):
        ``sink(a, b, levels, times)`` gets each batch, in any order, from up to two threads.
        From the arrays when they exist. False when the times need the whole file (year-less
        dates, times inherited from earlier records): use :meth:`levels`/:meth:`timestamps`
        then, and drop what ``sink`` got (a year-less batch can turn up after others went)."""
        self.wait()
        n = self.record_count if stop is None else min(stop, self.record_count)
        if self.arrays_ready():
            levels, times = self.levels(), self.timestamps()
            for a in range(first, n, ARRAY_STEP):
                b = min(n, a + ARRAY_STEP)
                sink(a, b, levels[a:b], times[a:b])
            return True
        if self._mm is None or self._format.inherits_time or self._year_less_ahead():
            return False
        whole = threading.Event()

        def add(a: int, b: int, lv: np.ndarray, tm: np.ndarray, yearless: bool) -> None:
            if yearless:
                whole.set()
            elif not whole.is_set():
                sink(a, b, lv, tm)

        with self._arrays_lock:
            self._each_batch(first, n, add)
        return not whole.is_set()

    def _plan_years(self, times: np.ndarray, chunks: list[tuple[int, int]]) -> None:
        """Replace the year-less keys in ``times[a:b]`` of each chunk by epoch seconds. Two
        passes (the anchor is the last record), keeping only where the year changes."""
        plan = self._year_plan
        for a, b in chunks:
            idx = np.flatnonzero(times[a:b] >= _KEY_MIN) + a
            rel = plan.feed(times[idx])
            if len(rel):
                change = np.flatnonzero(np.diff(rel, prepend=rel[0] - 1))
                if self._year_changes and self._year_changes[-1][1] == int(rel[0]):
                    change = change[1:]  # the year goes on from the chunk before
                self._year_changes.extend(zip(idx[change].tolist(), rel[change].tolist(),
                                              strict=True))
        plan.anchor(self._reference_naive())
        at = np.array([i for i, _ in self._year_changes], dtype=np.int64)
        rels = np.array([r for _, r in self._year_changes], dtype=np.int64)
        for a, b in chunks:
            idx = np.flatnonzero(times[a:b] >= _KEY_MIN) + a
            if not len(idx):
                continue
            rel = rels[np.maximum(np.searchsorted(at, idx, side="right") - 1, 0)]
            times[idx] = vec.yearless_to_epoch(times[idx], plan.years(rel), self._default_tz)

    def _reference_naive(self) -> datetime:
        return datetime.fromtimestamp(self._mtime)

    def _year_of(self, i: int) -> int | None:
        """The planned year of year-less record ``i``, or None before the arrays exist."""
        if self._year_plan.base is None or not self._year_changes or not self.arrays_ready():
            return None
        k = bisect.bisect_right(self._year_changes, (i, 1 << 30)) - 1
        rel = self._year_changes[max(k, 0)][1]
        return self._year_plan.base + rel

    def _settle_year(self, i: int, ts: datetime | None) -> datetime | None:
        """A record's timestamp with its inferred year: the file's year plan once the arrays
        are computed; before that, the newest year not after the mtime + 1 day."""
        if ts is None or ts.year != vec.SENTINEL_YEAR:
            return ts
        year = self._year_of(i)
        if year is None:
            limit = self._reference_naive() + timedelta(days=1)
            for y in range(limit.year, limit.year - 9, -1):
                try:
                    if ts.replace(year=y, tzinfo=None) <= limit:
                        year = y
                        break
                except ValueError:
                    continue
            if year is None:
                return None
        try:
            return ts.replace(year=year)
        except ValueError:  # Feb 29 in a common year
            return None

    def settle_years(self) -> None:
        """Compute the per-record arrays now if the first records have year-less timestamps,
        so that ``record()`` gives every record its final year (see :meth:`_settle_year`)."""
        self.wait()
        n = min(self.record_count, 1000)
        for _, _, value in self.headers(range(n)) if not self.arrays_ready() else ():
            if value >= _KEY_MIN:
                self._compute_arrays()
                return

    def levels(self) -> np.ndarray:
        """Each record's level (int8 values of :class:`Level`), computed once and cached."""
        self._compute_arrays()
        assert self._levels is not None
        return self._levels

    def timestamps(self) -> np.ndarray:
        """Each record's time as epoch seconds (float64, NaN when unknown; naive = local)."""
        self._compute_arrays()
        assert self._times is not None
        return self._times

    def arrays_ready(self) -> bool:
        return self._levels is not None and len(self._levels) == self.record_count

    # -- following a live file ----------------------------------------------------------------

    def refresh(self) -> Refresh:
        """Index bytes appended since the last look; re-open when rotated or truncated."""
        self.wait()
        if not self._live:
            return Refresh(0)
        try:
            st = os.stat(self._path)
        except OSError:
            warning = f"{self._path} disappeared (rotated away?); showing what was read."
            if warning not in self._warnings:
                self._warnings.append(warning)
            return Refresh(0, warning=warning)
        before = self.record_count
        if (st.st_dev, st.st_ino) != self._inode or st.st_size < self._data_end:
            what = "replaced (rotated)" if (st.st_dev, st.st_ino) != self._inode else "truncated"
            warning = f"{self._path} was {what} while open; it was re-opened from the start."
            self._close_map()
            self._reset_index()
            self._map()
            self._warnings.append(warning)
            self._start(background=False, progress=None, cancel=None)
            return Refresh(self.record_count, reopened=True, warning=warning)
        if st.st_size == self._size:
            return Refresh(0)
        self._close_map()
        self._map()
        if self._partial_tail:  # the unterminated last line may have grown: index it again
            last_start = int(self._lines.view()[-1])
            with self._lock:
                self._lines.truncate(self._lines.n - 1)
                if self._recs is not None and self._recs.n and \
                        int(self._recs.view()[-1]) >= self._lines.n:
                    self._recs.truncate(self._recs.n - 1)
                self._next_line = self._data_end = last_start
                self._partial_tail = False
                self._offsets_cache = None
            kept = self.record_count
            if self._year_changes:  # the year plan ran past the cut: plan again from the start
                self._levels = self._times = None
                self._year_plan = vec.YearPlan()
                self._year_changes = []
            if self._levels is not None and len(self._levels) > kept:
                self._levels, self._times = self._levels[:kept], self._times[:kept]  # type: ignore[index]
        self._start(background=False, progress=None, cancel=None)
        return Refresh(self.record_count - before)


@dataclass(frozen=True)
class HeaderSummary:
    """What ``diagkit logs stats`` tells of a log's records (see :meth:`LogFile.summary`)."""

    levels: np.ndarray  # int64 count per Level value (index = the value)
    without_time: int
    first: float | None  # epoch seconds
    last: float | None

    STEP: ClassVar[int] = 1 << 20  # records per numpy pass over big arrays

    @classmethod
    def of(cls, levels: np.ndarray, times: np.ndarray) -> HeaderSummary:
        """The summary of per-record arrays, a slice at a time (no whole-array temporaries)."""
        counts = np.zeros(int(max(Level)) + 1, dtype=np.int64)
        missing = 0
        first, last = np.inf, -np.inf
        for a in range(0, len(times), cls.STEP):
            part = times[a: a + cls.STEP]
            nan = int(np.count_nonzero(np.isnan(part)))
            missing += nan
            if nan < len(part):
                first = min(first, float(np.nanmin(part)))
                last = max(last, float(np.nanmax(part)))
            counts += np.bincount(levels[a: a + cls.STEP].view(np.uint8), minlength=len(counts))
        timed = bool(np.isfinite(first))
        return cls(counts, missing, first if timed else None, last if timed else None)

    @classmethod
    def merged(cls, parts: Sequence[HeaderSummary]) -> HeaderSummary:
        firsts = [p.first for p in parts if p.first is not None]
        lasts = [p.last for p in parts if p.last is not None]
        counts = np.zeros(int(max(Level)) + 1, dtype=np.int64)
        for p in parts:
            counts += p.levels
        return cls(counts, sum(p.without_time for p in parts), min(firsts) if firsts else None,
                   max(lasts) if lasts else None)


def _carry_times_forward(times: np.ndarray) -> None:
    """Give each record without a time (NaN) the time of the last record before it that has
    one (``LogFormat.inherits_time``); records before the first time keep none."""
    known = ~np.isnan(times)
    if known.all() or not known.any():
        return
    idx = np.where(known, np.arange(len(times)), -1)
    np.maximum.accumulate(idx, out=idx)
    fill = ~known & (idx >= 0)
    times[fill] = times[idx[fill]]


def _batches(offsets: np.ndarray, a: int, n: int, data_end: int) -> list[tuple[int, int]]:
    """Record ranges of about ARRAY_BYTES (at most ARRAY_STEP records, at least one)."""
    out = []
    while a < n:
        start = int(offsets[a])
        b = int(np.searchsorted(offsets, start + ARRAY_BYTES, side="left"))
        b = max(a + 1, min(b, a + ARRAY_STEP, n))
        out.append((a, b))
        a = b
    return out


class LogSet(list[LogFile]):
    """The logs :func:`open_logs` opened (a list of :class:`LogFile`), with ``warnings`` about
    what it skipped (unreadable members of a folder, an empty folder)."""

    def __init__(self, logs: Iterable[LogFile] = ()) -> None:
        super().__init__(logs)
        self.warnings: list[str] = []


# -- streams: stdin, pipes, FIFOs ------------------------------------------------------------

STDIN = "-"
FIFO_NOTICE_AFTER = 1.0  # seconds without a writer before a FIFO open says what it waits for
_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz"}


def is_stream(path: Path) -> bool:
    """A FIFO, a pipe (``/dev/fd/N`` from ``<(...)``), a socket or a character device: data that
    can be read once, not mapped."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode)


def _open_fifo(path: str, progress: Callable[[IndexProgress], None] | None,
               cancel: threading.Event | None, timeout: float | None) -> Any:
    """Open a FIFO for reading. Opening blocks until something opens it for writing, so it
    happens in a helper thread; after FIFO_NOTICE_AFTER seconds ``progress`` hears what we wait
    for (the CLI prints it), and ``cancel``/``timeout`` end the wait with an error."""
    box: dict[str, Any] = {}

    def opener() -> None:
        try:
            box["fh"] = open(path, "rb")  # noqa: SIM115 - handed to the caller
        except OSError as exc:
            box["error"] = exc

    thread = threading.Thread(target=opener, name=f"open {path}", daemon=True)
    thread.start()
    started = time.monotonic()
    told = False
    while thread.is_alive():
        thread.join(0.1)
        waited = time.monotonic() - started
        if not thread.is_alive():
            break
        if not told and waited >= FIFO_NOTICE_AFTER and progress is not None:
            told = True
            progress(IndexProgress(0.0, 0, 0, 0, phase="waiting",
                                   note=f"waiting for a program to write to the FIFO {path} "
                                        "(nothing has opened it for writing yet); Ctrl-C stops"))
        if (cancel is not None and cancel.is_set()) or (timeout is not None and waited > timeout):
            _unblock_fifo(path)
            thread.join(2)
            fh = box.get("fh")
            if fh is not None:
                fh.close()
            raise LogFormatError(f"Nothing wrote to the FIFO {path} within {waited:.0f} s. Start "
                                 "the program that writes to it, then open it again.")
    if "error" in box:
        exc = box["error"]
        raise LogFormatError(f"Cannot read {path}: {exc.strerror or exc}. Check the path and "
                             "its permissions.") from exc
    return box["fh"]


def _unblock_fifo(path: str) -> None:
    """Open the FIFO for writing and close it: the blocked reader's open returns (at EOF)."""
    try:
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return
    os.close(fd)


def spool(source: str, *, progress: Callable[[IndexProgress], None] | None = None,
          cancel: threading.Event | None = None, fifo_timeout: float | None = None
          ) -> tuple[Path, list[str]]:
    """Copy stdin (``-``), a pipe or a FIFO into a new file in the log cache (with progress:
    phase "reading"); compressed data is decompressed. Returns (the file, warnings)."""
    folder = data_dir() / "cache" / "logs"
    warnings: list[str] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="stream-", suffix=".log", dir=folder)
    except OSError as exc:
        raise LogFormatError(f"Cannot make a copy of {source} in {folder}: "
                             f"{exc.strerror or exc}. Check that folder.") from exc
    target = Path(name)
    if source == STDIN:
        src: Any = sys.stdin.buffer
        if sys.stdin.isatty() and progress is not None:
            progress(IndexProgress(0.0, 0, 0, 0, phase="waiting",
                                   note="reading the log from the terminal: end with Ctrl-D"))
    elif stat.S_ISFIFO(Path(source).stat().st_mode) and not source.startswith("/dev/fd/"):
        src = _open_fifo(source, progress, cancel, fifo_timeout)
    else:
        try:
            src = open(source, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            os.close(fd)
            target.unlink(missing_ok=True)
            raise LogFormatError(f"Cannot read {source}: {exc.strerror or exc}.") from exc
    done = 0
    last = 0.0
    try:
        with os.fdopen(fd, "wb") as out:
            read = getattr(src, "read1", src.read)
            while True:
                if cancel is not None and cancel.is_set():
                    warnings.append(f"Reading {source} was stopped after {_human(done)}: only "
                                    "what was read is shown.")
                    break
                block = read(1 << 20)
                if not block:
                    break
                out.write(block)
                done += len(block)
                now = time.monotonic()
                if progress is not None and now - last > 0.2:
                    last = now
                    progress(IndexProgress(0.0, 0, done, 0, phase="reading",
                                           note=f"reading {source}: {_human(done)}"))
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise LogFormatError(f"Cannot copy {source} into {folder}: {exc.strerror or exc}. "
                             "Check free space there.") from exc
    finally:
        if src is not sys.stdin.buffer:
            src.close()
    with open(target, "rb") as fh:
        head = fh.read(6)
    kind = next((k for magic, k in _MAGIC.items() if head.startswith(magic)), None)
    if kind is not None:  # zcat-free: compressed data on stdin is read like a .gz file
        plain = target.with_name(target.stem + "-plain.log")
        try:
            with open(plain, "wb") as out:
                _, warning = _decompress(target, kind, out)
        except OSError as exc:
            plain.unlink(missing_ok=True)
            raise LogFormatError(f"Cannot decompress {source} into {folder}: "
                                 f"{exc.strerror or exc}.") from exc
        finally:
            target.unlink(missing_ok=True)
        if warning:
            warnings.append(warning.replace(str(target), source))
        target = plain
    return target, warnings


# -- rotated sets -----------------------------------------------------------------------------

_ROTATED = re.compile(r"^(?P<base>.+?)[.-](?P<num>\d{1,3}|\d{8})(?P<ext>\.(gz|bz2|xz))?$")


def _rotation_key(name: str) -> tuple[str, int] | None:
    m = _ROTATED.match(name)
    if not m:
        return None
    num = int(m["num"])
    return m["base"], (num if len(m["num"]) <= 3 else -num)  # dated: newer date = smaller key


def rotated_set(path: Path) -> list[Path]:
    """``path`` and its rotated siblings, oldest first (``syslog.3.gz``, ..., ``syslog``).
    A folder that may not be listed gives just ``path``."""
    base = path.name
    found: list[tuple[int, Path]] = []
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return [path]
    for sib in siblings:
        k = _rotation_key(sib.name)
        if k and k[0] == base and sib.is_file():
            found.append((k[1], sib))
    found.sort(key=lambda t: -t[0])  # highest number = oldest
    return [p for _, p in found] + [path]


def open_logs(paths: Sequence[str | os.PathLike[str]], *, format: str | LogFormat | None = None,
              background: bool = False, default_tz: object | None = None,
              progress: Callable[[IndexProgress], None] | None = None,
              cancel: threading.Event | None = None) -> LogSet:
    """Open files, folders, ``-`` (stdin), pipes and FIFOs; a base name with rotated siblings
    opens as one LogFile.

    A folder opens every log in it (rotations grouped); a member that cannot be read is
    skipped with a warning in the result's ``warnings`` (the others open). A file that is
    itself a rotation (``syslog.1``) opens alone. Errors: :class:`LogFormatError` (a folder
    that cannot be listed, a named file that cannot be read, a folder with nothing readable).
    """
    groups: list[tuple[Path, list[Path], Path | None]] = []  # (path, segments, from folder)
    result = LogSet()
    for raw in paths:
        if str(raw) == STDIN:
            groups.append((Path(STDIN), [Path(STDIN)], None))
            continue
        p = Path(raw).expanduser()
        if p.is_dir():
            try:
                entries = list(p.iterdir())
            except OSError as exc:
                raise LogFormatError(
                    f"Cannot list the folder {p}: {exc.strerror or exc}. Run as a user who may "
                    "read it, or give the log files inside it one by one.") from exc
            members = sorted(f for f in entries if f.is_file() and not f.name.startswith("."))
            if not members:
                result.warnings.append(f"{p} holds no log files.")
            bases = {f.name for f in members}
            for f in members:
                k = _rotation_key(f.name)
                if k and k[0] in bases:
                    continue  # opened with its base file
                groups.append((f, rotated_set(f) if not k else [f], p))
        elif p.exists() and not is_stream(p) and _rotation_key(p.name) is None:
            groups.append((p, rotated_set(p), None))
        else:
            groups.append((p, [p], None))
    skipped: dict[Path, list[str]] = {}
    try:
        for p, parts, folder in groups:
            try:
                result.append(LogFile.open(p, format=format, background=background,
                                           default_tz=default_tz, progress=progress,
                                           cancel=cancel,
                                           segments=parts if len(parts) > 1 else None))
            except LogFormatError as exc:
                if folder is None:
                    raise
                skipped.setdefault(folder, []).append(str(exc))
                result.warnings.append(f"Skipped {p}: {exc}")
    except BaseException:
        for log in result:
            log.close()
        raise
    if skipped and not result:
        folder, why = next(iter(skipped.items()))
        raise LogFormatError(f"None of the logs in {folder} could be opened ({len(why)} tried); "
                             f"the first: {why[0]}")
    return result
