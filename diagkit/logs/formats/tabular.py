"""Logs whose columns a header declares: W3C extended (IIS) and Zeek (Bro) TSV.

The header names the columns, so :func:`~diagkit.logs.formats.detect_format` asks the chosen
format for a copy bound to the file's header (``for_sample``); without one (the format given by
name) the usual default columns are assumed. Directive lines (``#...``) are one record per
header block: IIS and Zeek write a new block when they start a new file or restart.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from diagkit.logs.formats._base import (
    _EPOCH,
    StartSpec,
    _civil,
    _MultiLine,
    _nonempty,
    _split_first_line,
    _word,
)
from diagkit.logs.model import Fields, Level, LogFormat, ParseContext

# every printable ASCII byte but "#": a data line
_NOT_HASH = bytes(c for c in range(0x20, 0x7F) if c != 0x23)

# IIS's default W3C fields, for a file whose header is not at hand
_IIS_DEFAULT = ("date", "time", "s-ip", "cs-method", "cs-uri-stem", "cs-uri-query", "s-port",
                "cs-username", "c-ip", "cs(User-Agent)", "cs(Referer)", "sc-status",
                "sc-substatus", "sc-win32-status", "time-taken")


def _status_level(status: str | None) -> Level:
    if not status or not status[:1].isdigit():
        return Level.UNKNOWN
    return Level.ERROR if status[0] == "5" else Level.WARNING if status[0] == "4" else Level.INFO


class W3cFormat(_MultiLine):
    """W3C extended log files (IIS, and others that write ``#Fields:``): space-separated
    columns named by the header. Timestamp: ``date`` + ``time`` (UTC, as the W3C draft says);
    level from ``sc-status``; message ``METHOD uri-stem status``; every other column is in
    ``extra`` under its W3C name (``c-ip``, ``time-taken``, ``cs(User-Agent)``...)."""

    name = "w3c"
    title = "W3C extended log (IIS)"
    start_spec = StartSpec((_NOT_HASH,), _word("#Software:"))

    def __init__(self, fields: tuple[str, ...] = _IIS_DEFAULT) -> None:
        super().__init__()
        self.fields = fields

    def for_sample(self, lines: list[str]) -> LogFormat:
        for ln in lines:
            if ln.startswith("#Fields:"):
                names = tuple(ln[len("#Fields:"):].split())
                return W3cFormat(names) if names else self
        return self

    def _parses(self, line: str) -> bool:
        return line.startswith("#")

    def sniff(self, lines: list[str]) -> float:
        sample = _nonempty(lines)
        fields = next((ln.split()[1:] for ln in sample if ln.startswith("#Fields:")), None)
        if not sample or not fields:
            return 0.0
        fit = sum(1 for ln in sample if ln.startswith("#") or len(ln.split(" ")) == len(fields))
        return fit / len(sample)

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        first, rest = _split_first_line(text)
        if first.startswith("#"):
            return Fields(message=text)
        values = first.split(" ")
        row = dict(zip(self.fields, values, strict=False))
        ts = None
        date, time = row.get("date", ""), row.get("time", "")
        if len(date) == 10 and len(time) >= 8:
            try:
                ts = _civil(int(date[0:4]), int(date[5:7]), int(date[8:10]), int(time[0:2]),
                            int(time[3:5]), int(time[6:8]), 0, ctx, UTC)
            except ValueError:
                ts = None
        status = row.get("sc-status")
        method, stem = row.get("cs-method", ""), row.get("cs-uri-stem", "")
        message = " ".join(x for x in (method, stem, status) if x and x != "-") or first
        extra = {k: v for k, v in row.items() if k not in ("date", "time") and v != "-"}
        return Fields(timestamp=ts, level=_status_level(status), host=row.get("s-computername",
                      ""), message=message + rest, extra=extra)


# --------------------------------------------------------------------------- Zeek / Bro


class ZeekFormat(_MultiLine):
    """Zeek (Bro) TSV logs (``conn.log``, ``http.log``, ``dns.log``...): the ``#fields`` header
    names the tab-separated columns; ``ts`` is the time (epoch seconds, UTC). Source: the log's
    ``#path`` (``conn``, ``http``...); message: the other non-empty columns as ``name=value``;
    extra: every column. ``#close`` is a record dated by its stamp. Zeek writes no levels."""

    name = "zeek"
    title = "Zeek (Bro) TSV log"
    start_spec = StartSpec((_NOT_HASH,), _word("#separator"), _word("#close"))

    def __init__(self, fields: tuple[str, ...] = ("ts",), path: str = "") -> None:
        super().__init__()
        self.fields = fields
        self.path = path

    def for_sample(self, lines: list[str]) -> LogFormat:
        fields: tuple[str, ...] = ()
        path = ""
        for ln in lines:
            if ln.startswith("#fields\t"):
                fields = tuple(ln.split("\t")[1:])
            elif ln.startswith("#path\t"):
                path = ln.split("\t", 1)[1].strip()
        return ZeekFormat(fields, path) if fields else self

    def _parses(self, line: str) -> bool:
        return line.startswith("#")

    def sniff(self, lines: list[str]) -> float:
        sample = _nonempty(lines)
        if not sample or not any(ln.startswith("#fields\t") for ln in sample):
            return 0.0
        fit = sum(1 for ln in sample if ln.startswith("#") or ln.count("\t") >= 2)
        return fit / len(sample)

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        first, rest = _split_first_line(text)
        if first.startswith("#close\t"):
            stamp = first.split("\t", 1)[1].strip()  # 2017-04-16-21-36-10, the sensor's clock
            parts = stamp.split("-")
            ts = None
            if len(parts) == 6 and all(p.isdigit() for p in parts):
                y, mo, d, h, mi, sec = (int(p) for p in parts)
                ts = _civil(y, mo, d, h, mi, sec, 0, ctx)
            return Fields(timestamp=ts, source=self.path, message=first + rest)
        if first.startswith("#"):
            return Fields(source=self.path, message=text)
        values = first.split("\t")
        row = dict(zip(self.fields, values, strict=False))
        ts = None
        try:
            ts = _EPOCH + timedelta(seconds=float(row.get("ts") or values[0]))
        except (ValueError, OverflowError):
            ts = None
        shown = " ".join(f"{k}={v}" for k, v in row.items()
                         if k != "ts" and v not in ("-", "(empty)", ""))
        extra = {k: v for k, v in row.items() if k != "ts" and v != "-"}
        return Fields(timestamp=ts, source=self.path, message=(shown or first) + rest,
                      extra=extra)

