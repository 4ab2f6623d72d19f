"""Evidence chosen by time: a report window, the log records inside it with their precursors,
and the first events of the report's Timeline.

``bundle create --window START..END`` (and the wizard's time-window field) gives a
:class:`~diagkit.reports.model.TimeWindow`. Each log then contributes the records whose time is
in the window (a record without a time of its own, such as a stack trace line, goes with the
record before it), and, as *precursors*, up to ``precursors`` warning-or-worse records of the
same file in the ``precursor_span`` before START: the disk at 85 % that came before the "No
space left on device". The excerpts are cut by :func:`diagkit.reports.bundle.log_excerpts`,
so private key blocks are found in the whole log and masked exactly as for the other excerpts.

The Timeline (:func:`window_timeline`) is for now built from what a bundle holds: the first
record of each excerpt, the findings of probe runs inside the window and the rows of the
``changes`` probe; the case timeline will feed the same :class:`TimelineEvent` list later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from diagkit.errors import BundleError, LogFormatError
from diagkit.reports.model import LogExcerpt, TimelineEvent, TimeWindow

#: Warning records before START kept per log, and how far before START they are looked for.
PRECURSORS = 20
PRECURSOR_SPAN = timedelta(hours=1)
#: Probe runs this long after END still count for the Timeline: a window that ends "now" is
#: read before the probes run.
LATE_PROBES = timedelta(minutes=10)


def parse_window(text: str, *, now: datetime | None = None) -> TimeWindow:
    """``START..END`` in the logs' ``--since``/``--until`` grammar (ISO 8601, ``2024-01-02
    10:00``, ``-2h``, ``yesterday``, ``now``...). An empty END means now; times without a UTC
    offset are local time."""
    from diagkit.logs.query import parse_time

    start_text, sep, end_text = text.partition("..")
    if not sep or not start_text.strip():
        raise BundleError(f"Cannot read {text!r} as a time window. Give START..END, e.g. "
                          "2024-01-02T07:00..2024-01-02T08:30, '2024-01-02 07:00..08:30' or "
                          "-2h..now (an empty END means now).")
    now = now or datetime.now().astimezone()
    try:
        start = parse_time(start_text, now=now)
        end = parse_time(end_text, now=now) if end_text.strip() else now
    except LogFormatError as exc:
        raise BundleError(f"In the window {text!r}: {exc}") from exc
    # naive means local time, as for the logs' records
    return TimeWindow(start.astimezone(), end.astimezone())


def changes_probe_for(window: TimeWindow, *, now: datetime | None = None) -> Any:
    """The ``changes`` probe looking back far enough to cover ``window`` (at least its default
    week)."""
    import math

    from diagkit.probes import changes

    now = now or datetime.now().astimezone()
    days = math.ceil((now - window.start).total_seconds() / 86400) + 1
    return changes.make_probe(max(changes.DEFAULT_DAYS, days))


def _carried(times: np.ndarray) -> np.ndarray:
    """Each record's time, a record without one taking the time of the last record before it."""
    known = ~np.isnan(times)
    last = np.where(known, np.arange(len(times)), 0)
    np.maximum.accumulate(last, out=last)
    carried = times[last]
    carried[~known & (np.cumsum(known) == 0)] = np.nan  # nothing before it had a time
    return carried


def _runs(indices: Iterable[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for i in indices:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def window_excerpts_of(log: Any, window: TimeWindow, *, lines: int,
                       precursors: int = PRECURSORS,
                       precursor_span: timedelta = PRECURSOR_SPAN) -> list[LogExcerpt]:
    """The excerpts of one open LogFile for ``window``: precursors first, then the window's
    records (the first and the last ``lines // 2`` lines of it when it holds more than
    ``lines``)."""
    from diagkit.logs.model import Level
    from diagkit.reports import keyblocks

    count = log.record_count
    if not count:
        return [LogExcerpt(source=log.label, lines=(), note="the log is empty")]
    blocks = keyblocks.find_blocks(log)  # over the whole log, before any window is cut
    times = _carried(np.asarray(log.timestamps()[:count], dtype=float))
    start, end = window.start.timestamp(), window.end.timestamp()
    with np.errstate(invalid="ignore"):
        inside = np.nonzero((times >= start) & (times <= end))[0]
        levels = log.levels()[:count]
        early = (times >= start - precursor_span.total_seconds()) & (times < start)
        before = np.nonzero(early & (levels >= Level.WARNING))[0]
    found: list[LogExcerpt] = []
    shown = before[-precursors:] if precursors > 0 else before[:0]
    for run in _runs(int(i) for i in shown):
        found.append(_cut(log, run, blocks, f"precursor: {len(run)} warning record(s) in the "
                          f"{_span(precursor_span)} before the window"))
    if len(before) > len(shown):
        found[0] = _noted(found[0], f"{len(before) - len(shown)} earlier precursor(s) left out")
    if not len(inside):
        first, last = np.nanmin(times) if np.isfinite(times).any() else None, np.nanmax(times) \
            if np.isfinite(times).any() else None
        span = (f"its records run from {_when(first)} to {_when(last)}" if first is not None
                else "none of its records has a time")
        found.append(LogExcerpt(source=log.label, lines=(), note=(
            f"no records in the window {window.label()}; {span}")))
        return found
    head, tail = _head_tail(log, [int(i) for i in inside], lines)
    total = len(inside)
    label = f"{total} record(s) in the window {window.label()}"
    if not tail:
        for k, run in enumerate(_runs(head)):
            found.append(_cut(log, run, blocks, label if k == 0 else "in the window, continued"))
        return found
    for k, run in enumerate(_runs(head)):
        found.append(_cut(log, run, blocks, f"{label}: its first {len(head)}" if k == 0
                          else "in the window, continued"))
    left_out = total - len(head) - len(tail)
    for k, run in enumerate(_runs(tail)):
        found.append(_cut(log, run, blocks, (
            f"the window's last {len(tail)} record(s); {left_out} record(s) in between left "
            f"out (--log-lines {lines})") if k == 0 else "in the window, continued"))
    return found


def _head_tail(log: Any, inside: list[int], lines: int) -> tuple[list[int], list[int]]:
    """The window's records to show: all when they fit in ``lines`` lines, else its first and
    last records of about half the lines each (the onset and the end). Reads only those."""
    head: list[int] = []
    used = 0
    for i in inside:
        if used >= lines:
            break
        head.append(i)
        used += log.record(i).lines
    if len(head) == len(inside):
        return head, []
    head, used = [], 0
    for i in inside:
        if used >= lines // 2:
            break
        head.append(i)
        used += log.record(i).lines
    tail: list[int] = []
    for i in reversed(inside[len(head):]):
        if used >= lines:
            break
        tail.insert(0, i)
        used += log.record(i).lines
    return head, tail


def _cut(log: Any, run: Sequence[int], blocks: Any, note: str) -> LogExcerpt:
    import dataclasses

    from diagkit.reports import keyblocks

    texts: list[str] = []
    numbers: list[int | None] = []
    first_time = None
    for rec in log.records(run[0], run[-1] + 1):
        if first_time is None and rec.timestamp is not None:
            first_time = rec.timestamp if rec.timestamp.tzinfo else rec.timestamp.astimezone()
        t, n = keyblocks.record_lines(rec)
        texts += t
        numbers += n
    excerpt: LogExcerpt = keyblocks.excerpt(log, texts, numbers, blocks, note)
    return dataclasses.replace(excerpt, first_time=first_time)


def _noted(x: LogExcerpt, more: str) -> LogExcerpt:
    import dataclasses

    return dataclasses.replace(x, note=f"{x.note}; {more}" if x.note else more)


def _span(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "?"
    return datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="seconds")


# --- the Timeline --------------------------------------------------------------------------------


def window_timeline(window: TimeWindow, *, logs: Sequence[LogExcerpt] = (),
                    probe_runs: Sequence[tuple[str, datetime, Sequence[Any]]] = (),
                    precursor_span: timedelta = PRECURSOR_SPAN) -> tuple[TimelineEvent, ...]:
    """The Timeline of ``window``, in time order: the first record of every log excerpt
    (precursors included), the findings of probe runs ``(host, started, results)`` made inside
    the window (or just after it, :data:`LATE_PROBES`) and the rows of their ``changes`` probe
    whose time is in the window or its precursor span."""
    lo, hi = window.start - precursor_span, window.end
    events: list[TimelineEvent] = []
    for n, x in enumerate(logs, 1):
        if x.first_time is None or not x.lines or not lo <= x.first_time <= hi:
            continue
        kind = "precursor" if x.note.startswith("precursor") else "log"
        events.append(TimelineEvent(x.first_time, kind, x.lines[0][:300],
                                    f"log excerpt {n}: {x.source} line {x.first_line}"))
    for host, started, results in probe_runs:
        moment = started if started.tzinfo else started.astimezone()
        for r in results:
            if window.start <= moment <= hi + LATE_PROBES:
                events.extend(TimelineEvent(moment, "finding",
                                            f"{f.severity.label}: {f.title}", f"probe {r.probe}",
                                            host) for f in r.findings)
            if r.probe == "changes":
                events.extend(_change_events(r, host, lo, hi))
    events.sort(key=lambda e: e.time)
    return tuple(events)


def merge_timeline(*parts: Iterable[TimelineEvent]) -> tuple[TimelineEvent, ...]:
    """Several event lists as one, in time order (events of equal time keep their order)."""
    return tuple(sorted((e for part in parts for e in part), key=lambda e: e.time))


def _change_events(result: Any, host: str, lo: datetime, hi: datetime) -> list[TimelineEvent]:
    table = result.data.table("changes")
    out = []
    for row in table.rows if table is not None else ():
        try:
            when = datetime.fromisoformat(row["time"])
        except (TypeError, ValueError):
            continue
        if lo <= when <= hi:
            detail = f" ({row['detail']})" if row["detail"] else ""
            out.append(TimelineEvent(when, "change", f"{row['kind']}: {row['what']}{detail}",
                                     "probe changes", host))
    return out
