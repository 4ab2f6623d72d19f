"""Log formats and format detection.

One :class:`~diagkit.logs.model.LogFormat` subclass per format; :data:`FORMATS` holds one
instance of each, in detection-priority order (ties in :func:`detect_format` go to the earlier).
The modules group them: ``syslog`` (RFC 5424, RFC 3164), ``structured`` (journald JSON, JSON
lines, logfmt), ``web`` (access, Apache/nginx error, uWSGI), ``tabular`` (W3C, Zeek),
``databases`` (PostgreSQL, MySQL/MariaDB, Redis), ``system`` (dpkg, apt, strace, TAI64N),
``apps`` (Python, Java and relatives, glog, logcat, vdsm, ISO + level), ``fallback``
(``timestamped``: any dated log; ``plain``); ``_base`` and ``_stamps`` hold what they share.
Per-record times and levels in numpy live in :mod:`diagkit.logs.vectorized`, one extractor
per format with a fixed header layout.

Two speeds of code live here:

* ``record_starts`` runs over every line of a file while it is indexed (millions of lines), so
  multi-line formats describe their first bytes as a :class:`StartSpec` (a few byte classes at
  fixed positions) that is tested with numpy over all lines at once, and the very same spec gives
  ``is_record_start`` for one line, so both always agree. A layout whose start has no fixed
  width (a thread name first, a prefix of varying length) uses a ``RegexStart`` (one bytes regex
  run over the lines with ``finditer``), slower but still without a Python loop per line.
* ``parse`` runs per record when filtering: one compiled regex match in the common case, dates
  built by hand (no ``strptime``), nothing that raises on odd input. Time, level, source and pid
  come from the record's first line only. A record a format does not recognise still gets its
  time and level if it starts with a timestamp in a usual layout (``_stamps.unparsed``).

Adding a format: subclass :class:`LogFormat` (``_MultiLine`` if records span lines), give it a
``name``, ``title``, ``sniff``, ``parse`` (and a ``start_spec``), ``for_sample`` if its header
declares the columns, add an instance to :data:`FORMATS` at the right priority (before the
generic ones: ``iso-level``, ``timestamped``), a sample captured from the real program under
``tests/data/logs/<name>/`` (with its origin in that folder's README), and the file with its
expected figures to ``tests/logs/wild/manifest.json``.
"""

from __future__ import annotations

from diagkit.errors import LogFormatError
from diagkit.logs.formats._base import (  # noqa: F401 - the helpers, importable as before the split
    _D,
    _EPOCH,
    _HMS,
    _ISO_DATE,
    _ISO_DATE_BRACKET,
    _LEVEL_WORD_AT_START,
    _LEVEL_WORD_UPPER,
    _MONTHS,
    StartSpec,
    _first_match,
    _fraction,
    _int,
    _iso,
    _localize,
    _message_level,
    _MultiLine,
    _nonempty,
    _offset_tz,
    _reference_naive,
    _split_first_line,
    _syslog_year,
    _word,
    _zone,
)
from diagkit.logs.formats.apps import (
    GlogFormat,
    IsoLevelFormat,
    JavaFormat,
    LogcatFormat,
    PythonFormat,
    VdsmFormat,
)
from diagkit.logs.formats.databases import (
    MysqlErrorFormat,
    MysqlGeneralFormat,
    PostgresCsvFormat,
    PostgresFormat,
    RedisFormat,
)
from diagkit.logs.formats.fallback import PlainFormat, TimestampedFormat
from diagkit.logs.formats.structured import JournaldJsonFormat, JsonLinesFormat, LogfmtFormat
from diagkit.logs.formats.syslog import Rfc3164Format, Rfc5424Format
from diagkit.logs.formats.system import AptFormat, DpkgFormat, StraceFormat, Tai64nFormat
from diagkit.logs.formats.tabular import W3cFormat, ZeekFormat
from diagkit.logs.formats.web import AccessLogFormat, ApacheErrorFormat, UwsgiFormat
from diagkit.logs.model import LogFormat

__all__ = [
    "FORMATS",
    "AccessLogFormat",
    "ApacheErrorFormat",
    "AptFormat",
    "DpkgFormat",
    "GlogFormat",
    "IsoLevelFormat",
    "JavaFormat",
    "JournaldJsonFormat",
    "JsonLinesFormat",
    "LogcatFormat",
    "LogfmtFormat",
    "MysqlErrorFormat",
    "MysqlGeneralFormat",
    "PlainFormat",
    "PostgresCsvFormat",
    "PostgresFormat",
    "PythonFormat",
    "RedisFormat",
    "Rfc3164Format",
    "Rfc5424Format",
    "StartSpec",
    "StraceFormat",
    "Tai64nFormat",
    "TimestampedFormat",
    "UwsgiFormat",
    "VdsmFormat",
    "W3cFormat",
    "ZeekFormat",
    "detect_format",
    "get_format",
]
# --------------------------------------------------------------------------- registry, detection

FORMATS: dict[str, LogFormat] = {
    f.name: f for f in (
        Rfc5424Format(), Rfc3164Format(), JournaldJsonFormat(), JsonLinesFormat(), LogfmtFormat(),
        AccessLogFormat(), ApacheErrorFormat(), UwsgiFormat(), W3cFormat(), ZeekFormat(),
        PostgresFormat(), PostgresCsvFormat(), MysqlErrorFormat(), MysqlGeneralFormat(), RedisFormat(),
        DpkgFormat(), AptFormat(), LogcatFormat(), GlogFormat(), StraceFormat(), Tai64nFormat(),
        VdsmFormat(), PythonFormat(), JavaFormat(), IsoLevelFormat(), TimestampedFormat(),
        PlainFormat(),
    )
}

SAMPLE_LINES = 200
_THRESHOLD = 0.5


def detect_format(lines: list[str]) -> LogFormat:
    """The format that fits a sample best (the first ~200 non-empty lines are used).

    Every format's ``sniff`` scores the sample (0..1); the best wins, ties go to the earlier in
    :data:`FORMATS`; ``plain`` when nothing scores above 0.5. The winner is bound to the
    sample (``for_sample``: W3C and Zeek read their columns from the header).
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
    return best.for_sample(sample)


def get_format(name: str) -> LogFormat:
    """The format called ``name``; :class:`~diagkit.errors.LogFormatError` if there is none."""
    try:
        return FORMATS[name]
    except KeyError:
        raise LogFormatError(
            f"Unknown log format {name!r}. Known formats: {', '.join(FORMATS)}; "
            "or leave the format out to detect it from the file."
        ) from None

