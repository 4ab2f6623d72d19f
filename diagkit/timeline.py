"""One timeline per case and per host: every piece of evidence in time order, and what came
first before a symptom.

Sources, each read where it already lives (nothing new is stored):

* the case journal (:meth:`~diagkit.store.contract.CaseStore.journal`): journaled probe runs
  (``probe``: one event per run, and per host the findings' *first seen*, *worse*, *better*
  and *cleared*, derived by comparing consecutive runs that ran the finding's probe), the rows of
  the ``changes`` probe those runs carried (one event per change, however many runs saw it),
  alerts and forecasts journaled by ``monitor watch --journal``, commands run, notes and
  corrections, status changes, log excerpts, bundles and the rest of the journal;
* the monitoring history (:class:`~diagkit.store.contract.SampleStore`): the alerts a watch
  raised and cleared, replayed from the stored samples through the same
  :class:`~diagkit.monitor.thresholds.AlertTracker` and thresholds a live watch uses, and the
  fill/leak forecasts at the timeline's end;
* logs (:func:`diagkit.logs.incidents.find_incidents`): one event per incident (its start, its
  first record) and one per *new signature* (a message never seen before in the file, at its
  first record), per host of the incident;
* live probe runs not journaled (the host view's last run): findings and changes.

Every event is a :class:`~diagkit.reports.model.TimelineEvent` with an
:class:`~diagkit.reports.model.Evidence` the UI and the CLI open (a journal entry, a probe
card, a log record, an alert) and an ``id`` that is the same for the same inputs.

:func:`came_first` answers "what came before this symptom?": the events before it on the same
host within a window, ranked by closeness and by kind (a change, a resource running out, a new
error signature first). It says "came first" and "may be related", never "caused".
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diagkit.errors import ConfigError, DiagkitError, LogFormatError
from diagkit.reports.model import Evidence, TimelineEvent
from diagkit.store.contract import Case, JournalEntry, SampleStore, Store

if TYPE_CHECKING:
    from diagkit.probes.runner import HostSnapshot

SCHEMA = "diagkit.timeline/1"

#: The kinds of event, in the order the UI's filter lists them.
KINDS: tuple[str, ...] = ("change", "finding", "alert", "forecast", "incident", "signature",
                          "probe", "command", "note", "status", "log", "case")

#: Journal kinds and the timeline kind they become (the rest become "case").
_JOURNAL_KINDS: dict[str, str] = {
    "note": "note", "correction": "note", "status": "status", "command": "command",
    "alert": "alert", "finding": "forecast", "log_excerpt": "log",
}

#: How far before a symptom :func:`came_first` looks by default.
CAME_FIRST_WINDOW = timedelta(hours=2)

#: With no --since, the monitoring history is replayed from this long before the case opened.
HISTORY_LEAD = timedelta(days=1)


class TimelineError(ConfigError):
    """A timeline that cannot be built as asked (an unknown event id, a bad kind)."""


# --- the journal -------------------------------------------------------------------------------


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return _aware(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


_NUMBERS = re.compile(r"\d+(?:[.,]\d+)?")


def finding_key(title: str) -> str:
    """A finding's identity across runs: its title with the numbers left out (``/var is 85 %
    full`` and ``/var is 97 % full`` are the same finding, worse)."""
    return _NUMBERS.sub("#", title)


def journal_events(case_id: int, journal: Sequence[JournalEntry]) -> list[TimelineEvent]:
    """The events of a case journal, in journal order (see the module docstring)."""
    events: list[TimelineEvent] = []
    # (host, probe, finding key) -> (severity, title) of the finding while it is present
    present: dict[tuple[str, str, str], tuple[str, str]] = {}
    changes_seen: set[tuple[str, str, str, str]] = set()
    for e in journal:
        host = str(e.data.get("host", "") or "")
        ev = Evidence("journal", case_id=case_id, entry_id=e.id, host=host)
        first_line, _, rest = e.text.partition("\n")
        if e.kind == "probe":
            events.append(TimelineEvent(
                _aware(e.time), "probe", first_line, host=host, id=f"j{e.id}",
                detail=", ".join(str(p) for p in e.data.get("probes", ()) or ()),
                evidence=replace(ev, kind="probe", probe=""), ref=f"case {case_id} entry {e.id}"))
            events += _finding_changes(case_id, e, host, present)
            events += _journaled_changes(case_id, e, host, changes_seen)
            continue
        kind = _JOURNAL_KINDS.get(e.kind, "case")
        when, topic, detail = _aware(e.time), "", rest.strip()
        if e.kind == "alert":
            when = _parse_time(e.data.get("start")) or when
            topic = str(e.data.get("metric", ""))
            ev = replace(ev, metric=topic)
        elif e.kind == "finding":
            f = e.data.get("finding") if isinstance(e.data.get("finding"), Mapping) else {}
            assert isinstance(f, Mapping)
            topic = str(f.get("probe", ""))
            detail = str(f.get("detail", "")) or detail
            kind = "forecast" if topic == "forecast" else "finding"
        elif e.kind == "command":
            status = e.data.get("exit_status")
            detail = f"exit status {status}" if status is not None else detail
        elif e.kind == "log_excerpt":
            detail = str(e.data.get("file", ""))
        events.append(TimelineEvent(when, kind, first_line or e.kind, host=host, id=f"j{e.id}",
                                    detail=detail[:2000], topic=topic, evidence=ev,
                                    ref=f"case {case_id} entry {e.id}"))
    return events


def _finding_changes(case_id: int, e: JournalEntry, host: str,
                     present: dict[tuple[str, str, str], tuple[str, str]]) -> list[TimelineEvent]:
    """First seen / worse / cleared events of one journaled probe run against the runs before."""
    from diagkit.probes.base import Severity

    def rank(label: str) -> int:
        try:
            return int(Severity.parse(label))
        except ValueError:
            return 0

    ran = {str(p) for p in e.data.get("probes", ()) or ()}
    if not ran:
        return []  # the host was unreachable: nothing is known about its findings
    out: list[TimelineEvent] = []
    now: dict[tuple[str, str, str], tuple[str, str, str]] = {}
    for n, f in enumerate(e.data.get("findings", ()) or ()):
        if isinstance(f, Mapping) and f.get("title"):
            key = (host, str(f.get("probe", "")), finding_key(str(f["title"])))
            now[key] = (str(f.get("severity", "warning")), str(f["title"]),
                        str(f.get("detail", "")))
            sev, title, detail = now[key]
            before = present.get(key)
            what = None
            if before is None:
                what = "first seen"
            elif rank(sev) != rank(before[0]):
                better = "worse" if rank(sev) > rank(before[0]) else "better"
                what = f"{better} ({before[0]} → {sev})"
            if what:
                out.append(TimelineEvent(
                    _aware(e.time), "finding", f"{what}: {sev}: {title}", host=host,
                    id=f"j{e.id}.f{n}", detail=detail, topic=key[1],
                    evidence=Evidence("probe", case_id=case_id, entry_id=e.id, host=host,
                                      probe=key[1]),
                    ref=f"probe {key[1]} on {host} (case {case_id} entry {e.id})"))
    for key, (sev, title) in list(present.items()):
        if key[0] == host and key not in now and key[1] in ran:
            out.append(TimelineEvent(
                _aware(e.time), "finding", f"cleared: {title}", host=host,
                id=f"j{e.id}.c{_short(key)}", topic=key[1],
                detail=f"the {key[1]} probe no longer reports it (was {sev})",
                evidence=Evidence("probe", case_id=case_id, entry_id=e.id, host=host,
                                  probe=key[1]),
                ref=f"probe {key[1]} on {host} (case {case_id} entry {e.id})"))
            del present[key]
    present.update({k: (v[0], v[1]) for k, v in now.items()})
    return out


def _journaled_changes(case_id: int, e: JournalEntry, host: str,
                       seen: set[tuple[str, str, str, str]]) -> list[TimelineEvent]:
    out = []
    for row in e.data.get("changes", ()) or ():
        if not isinstance(row, Mapping):
            continue
        when = _parse_time(row.get("time"))
        key = (host, str(row.get("time")), str(row.get("kind")), str(row.get("what")))
        if when is None or key in seen:
            continue
        seen.add(key)
        out.append(_change_event(when, host, str(row.get("kind", "")), str(row.get("what", "")),
                                 str(row.get("detail", "") or ""),
                                 Evidence("probe", case_id=case_id, entry_id=e.id, host=host,
                                          probe="changes"),
                                 f"probe changes on {host} (case {case_id} entry {e.id})"))
    return out


def _change_event(when: datetime, host: str, kind: str, what: str, detail: str,
                  evidence: Evidence, ref: str) -> TimelineEvent:
    stamp = int(when.timestamp())
    return TimelineEvent(when, "change", f"{kind}: {what}", host=host,
                         id="c" + _short((host, stamp, kind, what)), detail=detail, topic=kind,
                         evidence=evidence, ref=ref)


def _short(key: tuple[object, ...]) -> str:
    """A short id for an event that has no journal entry: the same inputs give the same id
    (``diagkit timeline --before ID`` run twice), and it stays short enough to type."""
    return hashlib.sha1(repr(key).encode("utf-8"), usedforsecurity=False).hexdigest()[:7]


# --- live probe runs ---------------------------------------------------------------------------


def snapshot_events(snapshot: HostSnapshot) -> list[TimelineEvent]:
    """The findings and changes of a probe run that was not journaled (the host view's)."""
    when = _aware(snapshot.started)
    host = snapshot.host
    stamp = int(when.timestamp())
    out: list[TimelineEvent] = [TimelineEvent(
        when, "probe", f"Probes on {host}: {len(snapshot.results)} run" if snapshot.ok
        else f"Probes on {host}: host unreachable: {snapshot.error}", host=host,
        id="p" + _short((host, stamp)), evidence=Evidence("probe", host=host), ref=f"probes on {host}")]
    for r in snapshot.results:
        for n, f in enumerate(r.findings):
            if f.severity.label in ("info", "ok"):
                continue
            out.append(TimelineEvent(
                when, "finding", f"{f.severity.label}: {f.title}", host=host,
                id="p" + _short((host, stamp, r.probe, n)), detail=f.detail, topic=r.probe,
                evidence=Evidence("probe", host=host, probe=r.probe),
                ref=f"probe {r.probe} on {host}"))
        table = r.data.table("changes") if r.probe == "changes" else None
        for row in table.rows if table is not None else ():
            moment = _parse_time(row.get("time"))
            if moment is not None:
                out.append(_change_event(moment, host, str(row.get("kind", "")),
                                         str(row.get("what", "")), str(row.get("detail") or ""),
                                         Evidence("probe", host=host, probe="changes"),
                                         f"probe changes on {host}"))
    return out


# --- the monitoring history ----------------------------------------------------------------------


def alert_events(samples: SampleStore, host: str, *, since: datetime, until: datetime,
                 thresholds: Sequence[Any] | None = None) -> list[TimelineEvent]:
    """The alerts a watch of ``host`` raised and cleared between ``since`` and ``until``,
    replayed from the stored samples with the configured thresholds."""
    from diagkit.monitor.thresholds import AlertTracker, Level, load_thresholds

    tracker = AlertTracker(thresholds if thresholds is not None else load_thresholds())
    lo, hi = since.timestamp(), until.timestamp()
    out: list[TimelineEvent] = []
    for metric in samples.metrics(host):
        data = samples.read(host, metric, since=lo, until=hi, now=hi)
        for t, v in zip(data.t.tolist(), data.max.tolist(), strict=True):
            for change in tracker.feed(host, datetime.fromtimestamp(t, UTC),
                                       {metric: None if math.isnan(v) else v}):
                a = change.alert
                aid = "a" + _short((host, metric, int(a.start.timestamp())))
                ev = Evidence("alert", host=host, metric=metric, alert=aid)
                if a.level == Level.OK:
                    when, title = a.end or a.start, f"alert cleared: {metric}"
                    suffix = ".end"
                elif change.previous == Level.OK:
                    when, title, suffix = a.start, f"alert {a.level.label}: {metric}", ""
                else:
                    when = datetime.fromtimestamp(t, UTC)
                    title = f"alert {change.previous.label} → {a.level.label}: {metric}"
                    suffix = f".{int(t) % 100000}"
                out.append(TimelineEvent(when, "alert", title, host=host, id=aid + suffix,
                                         detail=a.describe(), topic=metric, evidence=ev,
                                         ref=f"alert {metric} on {host}"))
    return out


def forecast_events(samples: SampleStore, host: str, *, at: datetime) -> list[TimelineEvent]:
    """Fill and leak forecasts of ``host`` as its history stands at ``at``."""
    from diagkit.monitor.recorder import forecasts_from_history

    out = []
    for f in forecasts_from_history(samples, host, now=at.timestamp()):
        out.append(TimelineEvent(at, "forecast", f"{f.severity.label}: {f.title}", host=host,
                                 id="f" + _short((host, int(at.timestamp()), finding_key(f.title))),
                                 detail=f.detail, topic=f.probe,
                                 evidence=Evidence("alert", host=host, metric=f.probe),
                                 ref=f"monitoring history of {host}"))
    return out


# --- logs ---------------------------------------------------------------------------------------


def incident_events(paths: Sequence[str | Path], *, host: str = "",
                    warnings: list[str] | None = None) -> list[TimelineEvent]:
    """Incidents and new signatures found in these logs. ``host``: the host of records that
    name none (the logs were taken from it). A log that cannot be read is a warning, not an
    error: the rest of the timeline stands without it."""
    from diagkit.logs.incidents import find_incidents
    from diagkit.logs.logfile import open_logs

    out: list[TimelineEvent] = []
    for path in paths:
        try:
            opened = open_logs([Path(path)])
        except LogFormatError as exc:
            if warnings is not None:
                warnings.append(str(exc))
            continue
        try:
            logs = {log.label: log for log in opened}
            found = find_incidents(list(opened))
            if warnings is not None:
                warnings.extend(found.warnings)
            for inc in found:
                out += _incident_events(inc, logs, host)
        finally:
            for log in opened:
                log.close()
    return out


def _log_evidence(logs: Mapping[str, Any], ref: Any) -> Evidence:
    log = logs.get(ref.file)
    line = None
    if log is not None:
        try:
            line = log.record(ref.index).first_line + 1
        except (IndexError, DiagkitError, OSError):
            line = None
    path = str(log.path) if log is not None else ref.file
    return Evidence("log", file=path, line=line, record=ref.index)


def _incident_events(inc: Any, logs: Mapping[str, Any], host: str) -> list[TimelineEvent]:
    from diagkit.logs.model import Level

    out = []
    hosts = inc.hosts or (host,)
    first = _log_evidence(logs, inc.first_record)
    start = datetime.fromtimestamp(inc.start, UTC)
    detail = "; ".join(f"{s.count} x {s.template}" for s in inc.signatures[:5])
    for h in hosts:
        out.append(TimelineEvent(
            start, "incident", inc.summary, host=h,
            id="i" + _short((first.file, first.record, h)), detail=detail,
            topic="errors" if any(s.level >= Level.ERROR for s in inc.signatures) else "",
            evidence=first, ref=first.label()))
        for s in inc.signatures:
            if s.new:
                ev = _log_evidence(logs, s.first_record)
                out.append(TimelineEvent(
                    datetime.fromtimestamp(s.first_time, UTC), "signature",
                    f"new message: {s.template}", host=h,
                    id="s" + _short((ev.file, ev.record, h)),
                    detail=f"{s.count} record(s) in the incident; never seen before in the log",
                    topic="new", evidence=ev, ref=ev.label()))
    return out


# --- one timeline -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timeline:
    """Events in time order, what they cover and what could not be read."""

    events: tuple[TimelineEvent, ...]
    case_id: int | None = None
    host: str = ""
    since: datetime | None = None
    until: datetime | None = None
    warnings: tuple[str, ...] = ()

    def event(self, event_id: str) -> TimelineEvent:
        for e in self.events:
            if e.id == event_id:
                return e
        raise TimelineError(f"No event {event_id!r} in this timeline; list the events with "
                            "'diagkit timeline' (with the same --case/HOST and --log) and give "
                            "an id of the 'event' column.")

    def to_json(self) -> dict[str, object]:
        return {"schema": SCHEMA, "case": self.case_id, "host": self.host or None,
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
                "warnings": list(self.warnings), "events": [e.to_dict() for e in self.events]}


def check_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(k.strip() for k in kinds if k.strip())
    unknown = [k for k in chosen if k not in KINDS]
    if unknown:
        raise TimelineError(f"Unknown event kind(s): {', '.join(unknown)}. Kinds: "
                            f"{', '.join(KINDS)}.")
    return chosen


def assemble(events: Iterable[TimelineEvent], *, since: datetime | None = None,
             until: datetime | None = None, kinds: Iterable[str] = ()) -> tuple[TimelineEvent, ...]:
    """Events cut to [since, until] and ``kinds``, duplicates (same id) dropped, in time order
    (equal times keep the order the sources gave)."""
    chosen = set(check_kinds(kinds))
    seen: set[str] = set()
    kept = []
    for e in events:
        if (e.id and e.id in seen) or (chosen and e.kind not in chosen):
            continue
        if (since and e.time < since) or (until and e.time > until):
            continue
        seen.add(e.id)
        kept.append(e)
    kept.sort(key=lambda e: e.time)
    return tuple(kept)


def _without_replayed_twins(events: list[TimelineEvent]) -> list[TimelineEvent]:
    """A journaled alert and the same alert replayed from the history: keep the journal's."""
    journaled = {(e.host, e.topic, int(e.time.timestamp()) // 60) for e in events
                 if e.kind == "alert" and e.evidence and e.evidence.kind == "journal"}
    def twin(e: TimelineEvent) -> bool:
        raised = e.evidence is not None and e.evidence.kind == "alert" and e.id == e.evidence.alert
        minute = int(e.time.timestamp()) // 60
        return raised and any((e.host, e.topic, m) in journaled for m in (minute - 1, minute,
                                                                          minute + 1))

    return [e for e in events if not (e.kind == "alert" and twin(e))]


def case_timeline(store: Store, case_id: int, *, samples: SampleStore | None = None,
                  logs: Sequence[str | Path] = (), since: datetime | None = None,
                  until: datetime | None = None, kinds: Iterable[str] = (),
                  journal_logs: bool = True, now: datetime | None = None) -> Timeline:
    """The timeline of a case: its journal, the monitoring history of its hosts, the incidents
    of ``logs`` and (``journal_logs``) of the log files its journaled excerpts came from."""
    case = store.get_case(case_id)
    journal = store.journal(case_id)
    events = journal_events(case_id, journal)
    warnings: list[str] = []
    hosts = _case_hosts(case, journal)
    end = until or now or datetime.now(UTC)
    if samples is not None:
        start = since or (_aware(case.created) - HISTORY_LEAD if case.created else end
                          - HISTORY_LEAD)
        for h in hosts:
            events += alert_events(samples, h, since=start, until=end)
    paths = list(logs)
    if journal_logs:
        for e in journal:
            f = e.data.get("file") if e.kind == "log_excerpt" else None
            if isinstance(f, str) and f and Path(f).is_file() and f not in paths:
                paths.append(f)
    if paths:
        events += incident_events(paths, host=hosts[0] if len(hosts) == 1 else "",
                                  warnings=warnings)
    return Timeline(assemble(_without_replayed_twins(events), since=since, until=until,
                             kinds=kinds),
                    case_id=case_id, since=since, until=until, warnings=tuple(warnings))


def _case_hosts(case: Case, journal: Sequence[JournalEntry]) -> list[str]:
    hosts = list(case.hosts)
    for e in journal:
        h = e.data.get("host")
        if isinstance(h, str) and h and h not in hosts:
            hosts.append(h)
    return hosts


def host_timeline(host: str, *, store: Store | None = None, samples: SampleStore | None = None,
                  logs: Sequence[str | Path] = (), snapshots: Sequence[HostSnapshot] = (),
                  since: datetime | None = None, until: datetime | None = None,
                  kinds: Iterable[str] = (), now: datetime | None = None) -> Timeline:
    """The timeline of one host: what the cases linked to it journaled about it, its
    monitoring history, the incidents of ``logs`` (taken from it) and ``snapshots``."""
    events: list[TimelineEvent] = []
    if store is not None:
        for case in store.list_cases():
            journal = store.journal(case.id)
            if host not in case.hosts and not any(e.data.get("host") == host for e in journal):
                continue
            events += [e for e in journal_events(case.id, journal) if e.host in (host, "")
                       or e.kind in ("status", "note")]
    end = until or now or datetime.now(UTC)
    if samples is not None and host in samples.hosts():
        start = since or end - HISTORY_LEAD
        events += alert_events(samples, host, since=start, until=end)
        events += forecast_events(samples, host, at=end)
    journaled_runs = [e.time for e in events if e.kind == "probe" and e.host == host]
    for snap in snapshots:
        # a run the active case journaled is already there, with its findings' history
        end_of_run = _aware(snap.started) + timedelta(seconds=snap.duration + 120)
        if not any(_aware(snap.started) <= t <= end_of_run for t in journaled_runs):
            events += snapshot_events(snap)
    warnings: list[str] = []
    if logs:
        events += incident_events(logs, host=host, warnings=warnings)
    events = [replace(e, host=host) if not e.host else e for e in events]
    return Timeline(assemble(_without_replayed_twins(events), since=since, until=until,
                             kinds=kinds),
                    host=host, since=since, until=until, warnings=tuple(warnings))


def open_history() -> SampleStore | None:
    """The monitoring history for a timeline, or None when nothing was ever watched here (no
    empty history file is made just to look). Close it after use."""
    from diagkit import config
    from diagkit.store.select import configured_url, open_samples
    from diagkit.store.sqlite.samples import DB_NAME

    if configured_url() is None and not (config.data_dir() / DB_NAME).exists():
        return None
    return open_samples()


def for_report(case_ref: str | None, start: datetime, end: datetime, *,
               lead: timedelta = timedelta(hours=1)) -> tuple[tuple[TimelineEvent, ...], str]:
    """The events of case ``case_ref`` (a stored case number; anything else is a free reference
    and gives none) from ``lead`` before ``start`` to ``end``, for a bug report's Timeline.

    Best effort: the report does not depend on the case store, so a store that cannot be read
    gives no events and a note saying why (the caller prints or shows it)."""
    ref = (case_ref or "").strip()
    if not ref.isdigit():
        return (), ""
    from diagkit.store.select import open_store

    try:
        samples = open_history()
        try:
            with open_store() as store:
                tl = case_timeline(store, int(ref), samples=samples, since=start - lead,
                                   until=end, now=end)
        finally:
            if samples is not None:
                samples.close()
    except DiagkitError as exc:
        return (), f"the timeline of case {ref} was not read ({exc})"
    return batched_changes(tl.events), "; ".join(tl.warnings)


#: Logins are routine: a report gathers them per quarter of an hour.
_BATCH_SECONDS: dict[str, int] = {"login": 900}


def batched_changes(events: Sequence[TimelineEvent], *, most: int = 3) -> tuple[TimelineEvent, ...]:
    """Changes of one kind on one host in the same minute (logins: quarter of an hour), when
    more than ``most`` (logins: more than one), as one event naming them all (an upgrade of 48
    packages is one line of a report, not 48)."""
    def key(e: TimelineEvent) -> tuple[str, str, int]:
        return e.host, e.topic, int(e.time.timestamp()) // _BATCH_SECONDS.get(e.topic, 60)

    groups: dict[tuple[str, str, int], list[TimelineEvent]] = {}
    for e in events:
        if e.kind == "change":
            groups.setdefault(key(e), []).append(e)
    out = []
    for e in events:
        group = groups.get(key(e)) if e.kind == "change" else None
        if group is None or len(group) <= (1 if e.topic in _BATCH_SECONDS else most):
            out.append(e)
        elif e is group[0]:
            names = list(dict.fromkeys(g.text.partition(": ")[2] for g in group))
            span = "a quarter of an hour" if e.topic in _BATCH_SECONDS else "one minute"
            out.append(replace(e, text=f"{e.topic}: {len(group)} changes in {span}: "
                                        f"{', '.join(names)}",
                               detail="\n".join(f"{g.text} {g.detail}".strip() for g in group)))
    return tuple(out)


def merge_unique(*parts: Iterable[TimelineEvent]) -> tuple[TimelineEvent, ...]:
    """Several event lists as one in time order; an event that two sources both saw (the same
    change from a live run and from the journal) is kept once, the first given."""
    seen: set[tuple[datetime, str, str, str]] = set()
    merged = []
    for e in sorted((e for part in parts for e in part), key=lambda e: e.time):
        # a change reads "package: x" here and "package: x (upgrade ...)" in a report's own
        text = e.text.split(" (", 1)[0] if e.kind == "change" else e.text
        key = (e.time, e.kind, e.host, text)
        if key not in seen:
            seen.add(key)
            merged.append(e)
    return tuple(merged)


# --- came first ---------------------------------------------------------------------------------

_RESOURCE = re.compile(r"disk|inode|space|full|fill|memory|mem\.|swap|oom|quota|file ?descriptor"
                       r"|no space|out of", re.IGNORECASE)

#: How much each kind of change weighs as a candidate (routine ones less).
_CHANGE_WEIGHT: dict[str, float] = {
    "package": 1.0, "kernel": 1.0, "config": 1.0, "unit": 0.9, "reboot": 0.9, "mount": 0.9,
    "cron": 0.7, "login": 0.35,
}


@dataclass(frozen=True)
class Antecedent:
    """An event that came before a symptom, with why it is listed where it is."""

    event: TimelineEvent
    before: timedelta  # how long before the symptom
    score: float  # kind weight x closeness, 0..1
    reason: str  # "a package change, 38 min before: may be related"

    def to_dict(self) -> dict[str, object]:
        return {"event": self.event.to_dict(), "before_seconds": round(self.before.total_seconds()),
                "score": round(self.score, 3), "reason": self.reason}


def _weight(e: TimelineEvent) -> tuple[float, str]:
    """How likely an event of this kind is to matter for a symptom after it, and its name."""
    text = f"{e.topic} {e.text}"
    if e.kind == "change":
        return _CHANGE_WEIGHT.get(e.topic, 0.6), f"a {e.topic or 'host'} change"
    if e.kind in ("finding", "alert", "forecast"):
        if e.text.startswith(("cleared", "better", "alert cleared")):
            return 0.2, "a problem that eased"
        if _RESOURCE.search(text):
            return 1.0, "a resource running out"
        return 0.6, f"an earlier {e.kind}"
    if e.kind == "signature":
        return 0.9, "a new error message"
    if e.kind == "incident":
        return (0.85 if _RESOURCE.search(e.detail + e.text) else 0.75), "an earlier log incident"
    if e.kind == "command":
        return 0.25, "a command run"
    return 0.1, f"a {e.kind} entry"


def _ago(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    if minutes < 1:
        return f"{int(delta.total_seconds())} s"
    if minutes < 120:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"


def came_first(events: Sequence[TimelineEvent], symptom: TimelineEvent | str, *,
               window: timedelta = CAME_FIRST_WINDOW, limit: int = 20) -> list[Antecedent]:
    """The events before ``symptom`` (an event or its id) on the same host (or on no known
    host) within ``window``, best candidates first: score = kind weight x closeness, where
    closeness falls from 1 (just before) to 0.3 (at the window's far end)."""
    if isinstance(symptom, str):
        symptom = Timeline(tuple(events)).event(symptom)
    if window <= timedelta(0):
        raise TimelineError("The window before the symptom must be longer than zero, e.g. 2h.")
    candidates = [e for e in events if e.id != symptom.id and e.time <= symptom.time
                  and symptom.time - e.time <= window
                  and not (symptom.host and e.host and e.host != symptom.host)
                  and not (e.kind == symptom.kind and e.text == symptom.text)]
    # Changes of one kind in the same minute are one candidate (an upgrade of 40 packages)
    batches: dict[tuple[str, str, int], list[TimelineEvent]] = {}
    for e in candidates:
        if e.kind == "change":
            batches.setdefault((e.host, e.topic, int(e.time.timestamp()) // 60), []).append(e)
    found: list[Antecedent] = []
    for e in candidates:
        batch = batches[(e.host, e.topic, int(e.time.timestamp()) // 60)] \
            if e.kind == "change" else [e]
        if e is not batch[0]:
            continue
        before = symptom.time - e.time
        weight, what = _weight(e)
        closeness = 1.0 - 0.7 * (before / window)
        score = weight * closeness * (1.0 if e.host else 0.8)
        if len(batch) > 1:
            what += f" (with {len(batch) - 1} more in the same minute)"
        found.append(Antecedent(e, before, score,
                                f"{what} came first, {_ago(before)} before: may be related"))
    found.sort(key=lambda a: (-a.score, a.before))
    return found[:limit]
