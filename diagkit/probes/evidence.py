"""The key tables of each probe, cut to a few rows: what a text summary shows under findings.

A finding says what is wrong; the table under it shows who and how much (the top processes, the
fullest filesystems, the listening sockets). :func:`key_tables` picks, for one probe result, the
tables worth a glance, the columns that matter, the rows that matter most (fullest first, busiest
first) and formats the cells (sizes in KiB/MiB/GiB); :func:`text_lines` lays one out as aligned
plain-text lines, each cell escaped with :func:`diagkit.textsafe.one_line` so host text cannot
forge a line. Pure: no I/O, no terminal; the CLI prints the lines, a report could too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from diagkit.probes.base import ProbeResult, Row, Table
from diagkit.textsafe import one_line
from diagkit.units import human_bytes

#: Rows shown per key table unless its spec says otherwise.
ROWS = 5


@dataclass(frozen=True)
class Column:
    """One column shown: the table's column ``name`` under ``header``, formatted by ``show``."""

    name: str
    header: str
    show: Callable[[Any], str] = str
    numeric: bool = False  # right-aligned


@dataclass(frozen=True)
class Spec:
    """Which table of a probe is key, which of its columns to show, and its most telling rows."""

    table: str
    columns: tuple[Column, ...]
    rows: int = ROWS
    order: Callable[[Row], Any] | None = None  # sort key, largest first; None: the table's order
    title: str = ""  # "" keeps the table's own title


@dataclass(frozen=True)
class KeyTable:
    """A key table ready to show: headers and cells already formatted, at most a few rows."""

    probe: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    total_rows: int  # how many rows the full table has


def _size(value: Any) -> str:
    return "" if value is None else human_bytes(float(value))


def _kib(value: Any) -> str:
    return "" if value is None else human_bytes(float(value) * 1024)


def _pct(value: Any) -> str:
    return "" if value is None else f"{float(value):.0f}%"


def _number(value: Any) -> str:
    return "" if value is None else str(value)


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


PID = Column("pid", "PID", numeric=True)
USER = Column("user", "USER")
COMMAND = Column("command", "COMMAND")

SPECS: dict[str, tuple[Spec, ...]] = {
    "cpu": (
        Spec("top_cpu", (PID, USER, Column("cpu_percent", "CPU", _pct, True),
                         Column("state", "S"), COMMAND)),
        Spec("blocked", (PID, USER, COMMAND)),
    ),
    "memory": (
        Spec("top_rss", (PID, Column("rss_bytes", "RSS", _size, True), COMMAND), rows=3,
             title="Largest resident memory"),
    ),
    "disk": (
        Spec("filesystems", (Column("mount", "MOUNT"), Column("type", "TYPE"),
                             Column("size_bytes", "SIZE", _size, True),
                             Column("avail_bytes", "FREE", _size, True),
                             Column("used_pct", "USED", _pct, True),
                             Column("inodes_used_pct", "INODES", _pct, True)),
             order=lambda r: max(_float(r["used_pct"]), _float(r["inodes_used_pct"])),
             title="Fullest filesystems"),
    ),
    "network": (
        Spec("listening", (Column("proto", "PROTO"), Column("address", "ADDRESS"),
                           Column("port", "PORT", _number, True), Column("process", "PROCESS")),
             rows=8),
    ),
    "processes": (
        Spec("users", (Column("user", "USER"), Column("tasks", "TASKS", _number, True),
                       Column("limit", "LIMIT", _number, True),
                       Column("main_parent", "MOSTLY CHILDREN OF")), rows=3),
        Spec("zombies", (PID, Column("ppid", "PPID", numeric=True), Column("parent", "PARENT")),
             rows=3),
    ),
    "files": (
        Spec("top_fds", (PID, USER, Column("open_files", "OPEN", _number, True),
                         Column("soft_limit", "LIMIT", _number, True),
                         Column("used_pct", "USED", _pct, True), COMMAND),
             rows=3, order=lambda r: _float(r["used_pct"])),
    ),
    "services": (
        Spec("failed_units", (Column("unit", "UNIT"), Column("sub", "STATE"),
                              Column("description", "DESCRIPTION"))),
    ),
}


def _cut(table: Table, spec: Spec, probe: str) -> KeyTable | None:
    columns = [c for c in spec.columns if c.name in table.columns]
    if not table.rows or not columns:
        return None
    rows: Sequence[Row] = table.rows
    if spec.order is not None:
        rows = sorted(rows, key=spec.order, reverse=True)  # stable: ties keep the table's order
    cells = tuple(tuple(one_line(c.show(row[c.name])) for c in columns) for row in rows[:spec.rows])
    return KeyTable(probe, spec.title or table.title, tuple(c.header for c in columns), cells,
                    tuple(c.numeric for c in columns), len(table.rows))


def key_tables(result: ProbeResult) -> list[KeyTable]:
    """The key tables of ``result`` that have rows (none for a failed probe)."""
    if not result.ok:
        return []
    found = []
    for spec in SPECS.get(result.probe, ()):
        table = result.data.table(spec.table)
        if table is not None and (cut := _cut(table, spec, result.probe)) is not None:
            found.append(cut)
    return found


def text_lines(table: KeyTable, *, width: int = 120, indent: str = "") -> list[str]:
    """``table`` as aligned lines: the title (with "N of M" when cut), headers, rows. The last
    column is cut with "..." to keep each line within ``width``."""
    shown = len(table.rows)
    more = f" ({shown} of {table.total_rows})" if table.total_rows > shown else ""
    lines = [f"{indent}{one_line(table.title)}{more}"]
    grid = [table.headers, *table.rows]
    widths = [max(len(r[i]) for r in grid) for i in range(len(table.headers))]
    for cells in grid:
        parts = [c.rjust(w) if num else c.ljust(w)
                 for c, w, num in zip(cells[:-1], widths[:-1], table.numeric[:-1], strict=True)]
        line = indent + "  " + "  ".join([*parts, cells[-1]])
        if len(line) > width > 3:
            line = line[:width - 3] + "..."
        lines.append(line.rstrip())
    return lines
