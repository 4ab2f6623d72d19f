"""What a probe is, and the typed results it produces.

A probe is *declarative*: one module per probe in ``diagkit/probes/`` (the file name is the
probe's ``name``) holding a module-level ``PROBE = Probe(...)`` with

* ``name``, ``title``, ``description`` - what it is, in the engineer's words;
* ``script`` - a POSIX ``sh`` script run on the target. It may use only coreutils-level tools
  and ``/proc``; no Python on the target. It must degrade, not fail: when a tool is missing,
  access is denied (not root), there is no systemd (containers) or only busybox, it prints what it
  can and says what it could not (``@@note``). Output is split into sections by lines of the form
  ``@@section NAME`` (see :func:`split_sections`);
* ``parse(output) -> ProbeData`` - a *pure* function from the script's stdout to metrics, tables,
  facts and findings. Parsers are tested on captured outputs in ``tests/data/probes/<name>/``.
  The built-in probes write it as three steps, each testable alone, joined by
  :func:`read_then_judge`::

      read(output) -> <Name>Reading               # text -> typed, frozen data
      describe(reading) -> ProbeData              # metrics, tables, facts, notes
      judge(reading, thresholds) -> findings      # <Name>Thresholds given explicitly
      parse = read_then_judge(read, describe, judge, THRESHOLDS)

  ``read`` knows the text and no thresholds (tested on captures); ``judge`` knows the typed
  reading and the thresholds it is given (a frozen ``<Name>Thresholds``; ``THRESHOLDS`` holds the
  defaults) and no text (tested on hand-built readings); ``describe`` only lays the reading out;
* ``timeout`` - seconds before the runner kills the script;
* ``summarize(data) -> str`` (optional) - the one-line headline shown in tables.

The runner (:mod:`diagkit.probes.runner`) executes the script through a
:class:`~diagkit.transport.base.Transport` and wraps the parsed data in a :class:`ProbeResult`
with raw output, exit status, duration and error. A parser that raises becomes an error result
for that probe only; the other probes go on.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Self, SupportsIndex, TypeVar, overload


class Severity(enum.IntEnum):
    """Finding severity; ordered so ``max()`` gives the worst."""

    INFO = 10
    WARNING = 20
    CRITICAL = 30

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        key = text.strip().upper()
        aliases = {"WARN": "WARNING", "CRIT": "CRITICAL", "ERROR": "CRITICAL", "OK": "INFO"}
        try:
            return cls[aliases.get(key, key)]
        except KeyError:
            raise ValueError(f"unknown severity {text!r}; use info, warning or critical") from None


@dataclass(frozen=True)
class Metric:
    """One number. ``labels`` tell instances apart (``{"mount": "/"}``, ``{"cpu": "3"}``)."""

    name: str
    value: float
    unit: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "unit": self.unit, "labels": dict(self.labels)}


class Row(tuple[Any, ...]):
    """One row of a :class:`Table`: a tuple whose cells can also be read by column name.

    ``row["pid"]`` and ``row.get("pid")`` name the column; ``row[0]``, slices, unpacking, ``len``
    and equality with plain tuples work as for any tuple (the UI and reports walk rows by
    position). :class:`Table` makes its rows ``Row`` objects sharing one column index.
    """

    _index: Mapping[str, int] = {}

    def __new__(cls, values: Iterable[Any] = (), index: Mapping[str, int] | None = None) -> Self:
        row = super().__new__(cls, values)
        if index is not None:
            row._index = index
        return row

    def __getnewargs__(self) -> tuple[Any, ...]:  # copy and pickle keep the column index
        return tuple(self), self._index

    @overload
    def __getitem__(self, key: SupportsIndex | str) -> Any: ...

    @overload
    def __getitem__(self, key: slice) -> tuple[Any, ...]: ...

    def __getitem__(self, key: SupportsIndex | str | slice) -> Any:
        if isinstance(key, str):
            try:
                key = self._index[key]
            except KeyError:
                known = ", ".join(self._index) or "none (a row built without its table)"
                raise KeyError(f"no column {key!r}; the columns are: {known}") from None
        return super().__getitem__(key)

    def get(self, column: str, default: Any = None) -> Any:
        """The cell under ``column``, or ``default`` when there is no such column or cell."""
        position = self._index.get(column)
        return default if position is None or position >= len(self) else self[position]

    def as_dict(self) -> dict[str, Any]:
        """``{column: cell}`` for the cells this row has."""
        return {column: self[i] for column, i in self._index.items() if i < len(self)}


@dataclass(frozen=True, init=False)
class Table:
    """Rows of values under named columns (processes, mounts, interfaces...).

    Rows are given as tuples in column order and become :class:`Row` objects, so
    ``table.rows[0]["pid"]`` reads a cell by its column's name.
    """

    name: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    #: The column the rows are ordered by, ``-`` in front for biggest first (``"-rss_bytes"``),
    #: or "" when the order is the source's own. Views show this order and mark its column (a
    #: name that is not a column is ignored). Not part of to_dict: the rows carry the order.
    sorted_by: str = field(default="", compare=False)

    def __init__(self, name: str, title: str, columns: tuple[str, ...],
                 rows: Iterable[Iterable[Any]], sorted_by: str = "") -> None:
        index = {column: i for i, column in enumerate(columns)}
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "title", title)
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "rows", tuple(Row(r, index) for r in rows))
        object.__setattr__(self, "sorted_by", sorted_by)

    def column(self, name: str) -> tuple[Any, ...]:
        """Every row's cell under the column ``name``."""
        return tuple(row[name] for row in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "columns": list(self.columns),
            "rows": [list(r) for r in self.rows],
        }


@dataclass(frozen=True)
class Finding:
    """Something the engineer should look at, with a hint on what to do next."""

    severity: Severity
    title: str
    detail: str = ""
    hint: str = ""
    probe: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity.label,
            "title": self.title,
            "detail": self.detail,
            "hint": self.hint,
            "probe": self.probe,
        }


@dataclass(frozen=True)
class ProbeData:
    """What ``parse()`` returns: the meaning of one probe's output."""

    metrics: tuple[Metric, ...] = ()
    tables: tuple[Table, ...] = ()
    findings: tuple[Finding, ...] = ()
    facts: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    summary: str = ""  # one line for tables; filled from the probe's ``summarize`` by the runner

    def metric(self, name: str, default: float | None = None, **labels: str) -> float | None:
        """The value of the first metric called ``name`` whose labels include ``labels``."""
        for m in self.metrics:
            if m.name == name and all(m.labels.get(k) == v for k, v in labels.items()):
                return m.value
        return default

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)


@dataclass(frozen=True)
class ProbeResult:
    """One probe run on one host: parsed data plus how the run went."""

    probe: str
    host: str
    data: ProbeData
    raw: str
    stderr: str
    exit_status: int | None
    duration: float
    error: str | None = None
    error_kind: str | None = None  # the diagkit.errors class name, e.g. "ConnectionLost"

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.data.findings

    def summary(self) -> str:
        """One line for tables: the error, else a few facts or headline metrics."""
        if self.error:
            return self.error
        data = self.data
        if data.summary:
            return data.summary + (f" ({len(data.notes)} note(s))" if data.notes else "")
        parts = [f"{k}: {v}" for k, v in list(data.facts.items())[:4]]
        if not parts:
            parts = [f"{m.name} {_num(m.value)}{m.unit}" for m in data.metrics if not m.labels][:4]
        if not parts and data.tables:
            parts = [f"{t.title}: {len(t.rows)} rows" for t in data.tables[:3]]
        if data.notes:
            parts.append(f"({len(data.notes)} note(s): {data.notes[0]})")
        return "; ".join(parts) or "no data"

    def to_dict(self) -> dict[str, Any]:
        return {
            "probe": self.probe,
            "host": self.host,
            "ok": self.ok,
            "error": self.error,
            "error_kind": self.error_kind,
            "exit_status": self.exit_status,
            "duration": round(self.duration, 4),
            "facts": dict(self.data.facts),
            "metrics": [m.to_dict() for m in self.data.metrics],
            "tables": [t.to_dict() for t in self.data.tables],
            "findings": [f.to_dict() for f in self.data.findings],
            "notes": list(self.data.notes),
            "summary": self.data.summary,
            "raw": self.raw,
            "stderr": self.stderr,
        }


Parser = Callable[[str], ProbeData]
Reading = TypeVar("Reading")
Limits = TypeVar("Limits")


def read_then_judge(read: Callable[[str], Reading], describe: Callable[[Reading], ProbeData],
                    judge: Callable[[Reading, Limits], tuple[Finding, ...]],
                    thresholds: Limits) -> Parser:
    """A built-in probe's ``parse`` from its three steps (see the module docstring)."""

    def parse(output: str) -> ProbeData:
        reading = read(output)
        return replace(describe(reading), findings=judge(reading, thresholds))

    return parse


@dataclass(frozen=True)
class Probe:
    """A probe declaration. See the module docstring."""

    name: str
    title: str
    description: str
    script: str
    parse: Parser
    timeout: float = 15.0
    source: str = "builtin"  # "builtin" or the path of a user probe script
    summarize: Callable[[ProbeData], str] | None = None  # one-line headline of parsed data


# --- helpers for scripts and parsers -------------------------------------------------------------

#: Every built-in script starts with this: a fixed locale makes the output of df, date, ss and
#: friends parseable whatever the target user's environment says.
SCRIPT_PREAMBLE = "LC_ALL=C; export LC_ALL; LANG=C; export LANG\n"

#: One sampling pause, used by the probes that diff two readings. At most 0.5 s so a full host
#: snapshot (all probes in parallel) stays well under a second; `sleep 1` is the fallback for
#: sleeps without fractional seconds.
SAMPLE_SLEEP = "sleep 0.5 2>/dev/null || sleep 1"

_SECTION = re.compile(r"^@@section\s+(\S+)\s*$")
_NOTE = re.compile(r"^@@note\s+(.*)$")


def split_sections(output: str) -> dict[str, str]:
    """Split script output on ``@@section NAME`` lines. Text before the first marker is ``""``.

    A repeated section name appends to the earlier text. ``@@note`` lines are dropped here; read
    them with :func:`notes`.
    """
    sections: dict[str, list[str]] = {}
    current = ""
    for line in output.splitlines():
        m = _SECTION.match(line)
        if m:
            current = m.group(1)
            sections.setdefault(current, [])
            continue
        if _NOTE.match(line):
            continue
        sections.setdefault(current, []).append(line)
    return {k: "\n".join(v) for k, v in sections.items()}


def notes(output: str) -> tuple[str, ...]:
    """The ``@@note TEXT`` lines a script printed (what it could not collect, and why)."""
    return tuple(m.group(1).strip() for line in output.splitlines() if (m := _NOTE.match(line)))


def key_values(text: str, sep: str = "=") -> dict[str, str]:
    """``KEY=VALUE`` lines to a dict (quotes around values removed; other lines ignored)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, found, value = line.partition(sep)
        if found and key.strip():
            out[key.strip()] = value.strip().strip('"').strip("'")
    return out


def to_float(text: str | None, default: float | None = None) -> float | None:
    if text is None:
        return default
    try:
        return float(text.strip().rstrip("%"))
    except ValueError:
        return default


def pct(part: float, whole: float) -> float:
    """part/whole in percent, 0 when whole is 0 (an idle or absent counter, not an error)."""
    return 100.0 * part / whole if whole > 0 else 0.0


def _num(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def worst(findings: Iterable[Finding]) -> Severity | None:
    levels = [f.severity for f in findings]
    return max(levels) if levels else None
