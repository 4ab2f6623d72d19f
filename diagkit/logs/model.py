"""The shared vocabulary of offline log inspection: levels, records, formats, queries.

Data flows one way: **files -> index -> records/queries -> (cli | ui | reports)**.

* :mod:`diagkit.logs.formats` - one :class:`LogFormat` per log format, format detection.
* :mod:`diagkit.logs.logfile` - :class:`~diagkit.logs.logfile.LogFile`: opening (plain,
  compressed, rotated sets), the memory-mapped line/record index, record access.
* :mod:`diagkit.logs.query` - filtering, counting, histograms, the merged timeline.
* :mod:`diagkit.logs.signatures` - recurring message templates.
* :mod:`diagkit.logs.fetch` - copying logs from a connected host into the local cache.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np


class Level(enum.IntEnum):
    """Normalised severity. ``UNKNOWN`` sorts lowest; filters treat it as "no level"."""

    UNKNOWN = 0
    TRACE = 5
    DEBUG = 10
    INFO = 20
    NOTICE = 25
    WARNING = 30
    ERROR = 40
    CRITICAL = 50

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str | int | None) -> Level:
        """Map the many spellings to a level: ``warn``, ``E``, ``fatal``, ``err``, syslog 0-7...

        Unknown text gives ``UNKNOWN`` (never an error: logs are messy).
        """
        if text is None:
            return cls.UNKNOWN
        if isinstance(text, int):
            return _SYSLOG_SEVERITY.get(text, cls.UNKNOWN)
        key = text.strip().strip("[]<>:").lower()
        if key.isdecimal():  # not isdigit(): "²" is a digit that int() refuses
            return _SYSLOG_SEVERITY.get(int(key), cls.UNKNOWN)
        level = _ALIASES.get(key)
        if level is None and key[-1:].isdigit():
            # numbered sub-levels: PostgreSQL's DEBUG1..5, lnav's debug2, TRACE3 ...
            base = key.rstrip("0123456789")
            level = _ALIASES.get(base) if len(base) >= 3 else None
        return level if level is not None else cls.UNKNOWN


_ALIASES: dict[str, Level] = {
    "trace": Level.TRACE, "finest": Level.TRACE, "finer": Level.TRACE, "t": Level.TRACE,
    "debug": Level.DEBUG, "dbg": Level.DEBUG, "fine": Level.DEBUG, "d": Level.DEBUG,
    "verbose": Level.DEBUG, "v": Level.DEBUG,
    "info": Level.INFO, "information": Level.INFO, "informational": Level.INFO, "i": Level.INFO,
    "config": Level.INFO, "note": Level.INFO, "log": Level.INFO,
    "notice": Level.NOTICE, "n": Level.NOTICE,
    "warn": Level.WARNING, "warning": Level.WARNING, "w": Level.WARNING,
    "error": Level.ERROR, "err": Level.ERROR, "e": Level.ERROR, "severe": Level.ERROR,
    "failure": Level.ERROR,
    "crit": Level.CRITICAL, "critical": Level.CRITICAL, "fatal": Level.CRITICAL,
    "alert": Level.CRITICAL, "emerg": Level.CRITICAL, "emergency": Level.CRITICAL,
    "panic": Level.CRITICAL, "f": Level.CRITICAL, "c": Level.CRITICAL,
}
# RFC 5424 / journald PRIORITY numbers
_SYSLOG_SEVERITY: dict[int, Level] = {
    0: Level.CRITICAL, 1: Level.CRITICAL, 2: Level.CRITICAL, 3: Level.ERROR,
    4: Level.WARNING, 5: Level.NOTICE, 6: Level.INFO, 7: Level.DEBUG,
}


@dataclass(frozen=True, slots=True)
class Fields:
    """What a format's ``parse`` extracts from one record's text."""

    timestamp: datetime | None = None
    level: Level = Level.UNKNOWN
    host: str = ""
    source: str = ""  # program / process / logger / unit
    pid: int | None = None
    message: str = ""  # the message, continuation lines included ("\n"-joined)
    extra: dict[str, str] = field(default_factory=dict)  # e.g. status=500, method=GET, url=...


@dataclass(frozen=True, slots=True)
class Record:
    """One log record: a line, or a line plus its continuation lines (stack traces...)."""

    file: str  # the LogFile's label (its path, or "host:path" for fetched logs)
    index: int  # record number within the file
    first_line: int  # 0-based line numbers, inclusive
    last_line: int
    raw: str  # the record's text as in the file (decoded with replacement characters)
    timestamp: datetime | None
    level: Level
    host: str
    source: str
    pid: int | None
    message: str
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def lines(self) -> int:
        return self.last_line - self.first_line + 1

    @property
    def first_text_line(self) -> str:
        return self.raw.split("\n", 1)[0]

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "record": self.index,
            "line": self.first_line + 1,  # 1-based for people
            "lines": self.lines,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "level": self.level.label,
            "host": self.host,
            "source": self.source,
            "pid": self.pid,
            "message": self.message,
            "extra": dict(self.extra),
            "raw": self.raw,
        }


@dataclass(frozen=True)
class ParseContext:
    """What a format needs besides the text: the file's modification time infers the year of
    syslog timestamps that have none (the newest year not after ``reference_time`` + 1 day),
    ``day_reference`` dates times of day that have no date at all, and ``default_tz`` is used for timestamps without a zone when the user set one (else they stay
    naive = "local time of the machine that wrote the log")."""

    reference_time: datetime
    default_tz: object | None = None
    # the day a time without any date is put on (``strace -tt``, log4j ``HH:mm:ss``): the
    # file's mtime. None: ``reference_time``. LogFile parses year-less dates against a
    # reference in year 2400 (see diagkit.logs.vectorized) but a time of day needs a real day.
    day_reference: datetime | None = None


class LogFormat:
    """One log format. Subclasses override what differs; see :mod:`diagkit.logs.formats`.

    * ``name``/``title``: stable id (``rfc3164``, ``python``...) and the words shown to people.
    * ``multiline``: records may span several lines (continuations joined into one record).
    * ``sniff(lines) -> float``: how well sample lines fit (0..1); detection picks the best.
    * ``record_starts(buf, starts) -> bool array``: *vectorised* - which lines begin a record.
      ``buf`` is the whole file as a numpy uint8 array (memory-mapped, never copied),
      ``starts`` the int64 offsets of each line's first byte. Single-line formats return all
      True. Multi-line formats test a few bytes per line with numpy (no Python loop per line):
      this runs over millions of lines while a file is indexed.
    * ``is_record_start(line) -> bool``: the same test for one line (text).
    * ``parse(text, ctx) -> Fields``: a whole record's text to fields; never raises for odd
      input (a line that does not fit gives ``Fields(message=text)``). The timestamp, level,
      source and pid come from the record's first line alone (the header), so that parsing
      only headers (``LogFile.levels()/timestamps()``) agrees with parsing whole records.
    * ``for_sample(lines) -> LogFormat``: the format for one file, given its first lines:
      ``self``, or a copy bound to what the file declares in a header (W3C's ``#Fields:``).
    * ``message_start(line, ctx) -> int | None``: where the message begins in a first line.
    * ``inherits_time``: records without a time take the previous record's (LogFile does it).
    """

    name = "plain"
    title = "Plain text (one record per line)"
    multiline = False
    # a record without a time of its own happened at the previous record's time: the writer
    # stamps only when the second changes (MariaDB's general query log)
    inherits_time = False

    def sniff(self, lines: list[str]) -> float:
        return 0.01  # the fallback: anything fits a little

    def record_starts(self, buf: np.ndarray, starts: np.ndarray) -> np.ndarray:
        return np.ones(len(starts), dtype=bool)

    def is_record_start(self, line: str) -> bool:
        return True

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        return Fields(message=text)

    def for_sample(self, lines: list[str]) -> LogFormat:
        return self

    def message_start(self, line: str, ctx: ParseContext) -> int | None:
        """Where the message begins in a record's first ``line`` (a character offset: what
        comes before it is the header), or None when the message is not the line's tail (JSON,
        access logs: a message built from fields). The signature miner cuts headers with it
        when their width varies from line to line (``timestamped``: ``[10.30 16:49:06]
        chrome.exe *64 - msg``). From ``parse``; a format may answer faster."""
        message = self.parse(line, ctx).message
        return len(line) - len(message) if line.endswith(message) else None


@dataclass(frozen=True)
class Query:
    """A filter over records. Empty fields do not filter.

    ``levels``: keep only these levels (``None`` = all); ``min_level``: keep this level and worse;
    ``since``/``until``: time window (records without a timestamp are kept only when no window is
    set); ``text``: literal or regex (``regex=True``) searched in the record's raw text,
    ``case_sensitive`` off by default; ``fields``: exact matches like ``{"host": "web1",
    "source": "sshd"}`` (keys: host, source, pid, level, or any ``extra`` key); ``exclude``: drop
    records whose raw text contains any of these literals (case-insensitive); ``context``: also
    yield this many records before and after each match (as context).
    """

    levels: frozenset[Level] | None = None
    min_level: Level | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""
    regex: bool = False
    case_sensitive: bool = False
    fields: dict[str, str] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    context: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.levels or self.min_level or self.since or self.until or self.text
                    or self.fields or self.exclude)


@dataclass(frozen=True)
class Match:
    record: Record
    is_context: bool = False


@dataclass(frozen=True)
class Histogram:
    """Counts per time bucket and level. ``starts[i]`` is the start of bucket ``i``."""

    bucket: timedelta
    starts: tuple[datetime, ...]
    counts: dict[Level, tuple[int, ...]]

    def total(self) -> tuple[int, ...]:
        return tuple(sum(c[i] for c in self.counts.values()) for i in range(len(self.starts)))
