"""The case desk: the one place where features change cases (the CLI and the GUI both use it).

:class:`CaseDesk` puts the pure rules of :mod:`diagkit.cases` (triage, lifecycle, SLA) in front
of a :class:`~diagkit.store.Store`: it validates, then records, and journals everything it does
with the vocabulary of the issue-6 contract (``note``, ``correction``, ``customer_update``,
``probe``, ``command``, ``bundle``, ``log_excerpt``, ``kb_article``, ``known_issue``, ``csat``,
``case_update``, ``host_link``; ``status`` entries are written by the store).

Secrets never reach the journal: commands and log excerpts pass through the bundle redactor's
secret rules (:class:`diagkit.reports.redact.Redactor`, no obfuscation, nothing saved) first.

SLA policies come from :func:`load_policies`. Optional file ``config_dir()/"sla.json"``::

    {
      "calendars": {
        "office": {"timezone": "Europe/Berlin", "weekdays": [0, 1, 2, 3, 4],
                   "start": "08:00", "end": "18:00", "holidays": ["2026-12-25"]}
      },
      "policies": {
        "S1": {"calendar": "24x7", "first_response": "30m", "resolution": "4h"},
        "S2": {"calendar": "office", "first_response": "2h", "resolution": "2d",
               "warn_share": 0.2}
      }
    }

* ``calendars`` (optional): named business-hours calendars. ``timezone`` is an IANA name,
  ``weekdays`` 0 = Monday .. 6 = Sunday, ``start``/``end`` ``HH:MM`` wall clock, ``holidays``
  ISO dates; ``"always_open": true`` makes a 24x7 calendar. Two names are built in: ``24x7`` and
  ``business`` (Monday-Friday 09:00-17:00 UTC).
* ``policies`` (optional): per severity ``S1``..``S4``; a severity left out keeps its default
  (see :func:`diagkit.cases.sla.default_policies`). Durations are ``"90m"``, ``"4h"``,
  ``"1h30m"`` or ``"2d"``; a ``d`` is one *business day* of the policy's calendar (8 h for
  09:00-17:00, 24 h for 24x7). ``calendar`` defaults to ``business``; ``warn_share`` (0..1) to
  0.25.

Bad input raises :class:`~diagkit.errors.ConfigError` naming the file, the line (broken JSON) or
the field (``policies.S2.first_response``) and what is expected.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diagkit import config
from diagkit.cases.lifecycle import (
    CLOSED_STATUSES,
    InvalidTransition,
    Status,
    allowed_next,
    transition,
)
from diagkit.cases.placeholders import require_filled
from diagkit.cases.sla import (
    BUSINESS_HOURS,
    TWENTY_FOUR_SEVEN,
    Calendar,
    Clock,
    SlaPolicy,
    SlaState,
    default_policies,
    pauses_from_history,
    sla_state,
)
from diagkit.cases.triage import CaseSeverity
from diagkit.cases.triage import triage as _triage
from diagkit.errors import CaseInputError, ConfigError, DiagkitError
from diagkit.probes.base import Finding, Severity
from diagkit.store.contract import UPDATABLE_FIELDS, Case, CaseDraft, JournalEntry, Store
from diagkit.units import human_duration

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from diagkit.cases.updates import Draft
    from diagkit.probes.runner import HostSnapshot

SLA_FILE = "sla.json"
CHANNELS = ("clipboard", "eml", "txt", "printed")  # printed: shown by the CLI for copying


#: What to tell an engineer whose name is not set (cases then carry the login name, "root").
ENGINEER_HINT = ("Your name is not set, so cases, journal entries and customer updates use the "
                 "login name {login!r}. Set it with: diagkit config set engineer \"Your Name\"")


def configured_engineer() -> str | None:
    """The name set with ``diagkit config set engineer`` (or in the app), None if unset."""
    try:
        name = config.load_settings().get("engineer")
    except ConfigError:
        return None
    return name.strip() if isinstance(name, str) and name.strip() else None


def engineer_name() -> str:
    """The engineer's name: settings ``"engineer"``, else the login name (see
    :data:`ENGINEER_HINT` for what to tell the user then)."""
    name = configured_engineer()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):  # no login name (containers): still usable
        return "engineer"


# --- SLA policies ------------------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*d)?\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*"
                       r"(?:(\d+(?:\.\d+)?)\s*m)?\s*$", re.IGNORECASE)


def _bad(path: Path, field: str, expected: str, value: object) -> ConfigError:
    return ConfigError(f"{path}: field {field!r} is {value!r}; expected {expected}. "
                       "Fix the file (format: see docs/cases.md) or remove it to use the defaults.")


def _duration(path: Path, field: str, value: object, day: timedelta) -> timedelta:
    m = _DURATION.match(value) if isinstance(value, str) else None
    if not m or not any(m.groups()):
        raise _bad(path, field, 'a duration such as "30m", "4h", "1h30m" or "2d" (business days)',
                   value)
    d, h, mins = (float(g) if g else 0.0 for g in m.groups())
    total = d * day + timedelta(hours=h, minutes=mins)
    if total <= timedelta(0):
        raise _bad(path, field, "a positive duration", value)
    return total


def _hhmm(path: Path, field: str, value: object) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise _bad(path, field, 'a time of day "HH:MM"', value) from None


def _calendar(path: Path, name: str, spec: object) -> Calendar:
    where = f"calendars.{name}"
    if not isinstance(spec, Mapping):
        raise _bad(path, where, "an object", spec)
    unknown = set(spec) - {"timezone", "weekdays", "start", "end", "holidays", "always_open"}
    if unknown:
        raise _bad(path, f"{where}.{min(unknown)}",
                   "one of timezone, weekdays, start, end, holidays, always_open", "unknown field")
    weekdays = spec.get("weekdays", list(range(5)))
    if not isinstance(weekdays, list) or not all(isinstance(d, int) for d in weekdays):
        raise _bad(path, f"{where}.weekdays", "a list of day numbers 0 (Monday)..6 (Sunday)",
                   weekdays)
    holidays = []
    for i, h in enumerate(spec.get("holidays", [])):
        try:
            holidays.append(date.fromisoformat(str(h)))
        except ValueError:
            raise _bad(path, f"{where}.holidays[{i}]", 'an ISO date "YYYY-MM-DD"', h) from None
    try:
        return Calendar(
            timezone=str(spec.get("timezone", "UTC")), weekdays=frozenset(weekdays),
            start=_hhmm(path, f"{where}.start", spec.get("start", "09:00")),
            end=_hhmm(path, f"{where}.end", spec.get("end", "17:00")),
            holidays=frozenset(holidays), always_open=bool(spec.get("always_open", False)),
        )
    except ConfigError as exc:
        raise ConfigError(f"{path}: field {where!r}: {exc}") from exc


def parse_policies(value: object, *, path: Path = Path(SLA_FILE)
                   ) -> dict[CaseSeverity, SlaPolicy]:
    """Policies from the parsed ``sla.json`` document (format in the module docstring)."""
    if not isinstance(value, Mapping):
        raise _bad(path, "(top level)", "an object with 'calendars' and/or 'policies'", value)
    unknown = set(value) - {"calendars", "policies"}
    if unknown:
        raise _bad(path, min(unknown), "only 'calendars' and 'policies'", "unknown field")
    calendars: dict[str, Calendar] = {"24x7": TWENTY_FOUR_SEVEN, "business": BUSINESS_HOURS}
    raw_cals = value.get("calendars", {})
    if not isinstance(raw_cals, Mapping):
        raise _bad(path, "calendars", "an object of named calendars", raw_cals)
    for name, spec in raw_cals.items():
        calendars[str(name)] = _calendar(path, str(name), spec)
    policies = default_policies()
    raw_pols = value.get("policies", {})
    if not isinstance(raw_pols, Mapping):
        raise _bad(path, "policies", "an object keyed by severity S1..S4", raw_pols)
    for key, spec in raw_pols.items():
        where = f"policies.{key}"
        try:
            sev = CaseSeverity(str(key).upper())
        except ValueError:
            raise _bad(path, where, "a severity S1, S2, S3 or S4", key) from None
        if not isinstance(spec, Mapping):
            raise _bad(path, where, "an object", spec)
        extra = set(spec) - {"calendar", "first_response", "resolution", "warn_share"}
        if extra:
            raise _bad(path, f"{where}.{min(extra)}",
                       "one of calendar, first_response, resolution, warn_share", "unknown field")
        cal_name = str(spec.get("calendar", "business"))
        if cal_name not in calendars:
            raise _bad(path, f"{where}.calendar",
                       f"a calendar name ({', '.join(sorted(calendars))})", cal_name)
        cal = calendars[cal_name]
        old = policies[sev]
        first = (_duration(path, f"{where}.first_response", spec["first_response"],
                           cal.day_length) if "first_response" in spec else old.first_response)
        resolution = (_duration(path, f"{where}.resolution", spec["resolution"], cal.day_length)
                      if "resolution" in spec else old.resolution)
        share = spec.get("warn_share", 0.25)
        if not isinstance(share, int | float) or isinstance(share, bool):
            raise _bad(path, f"{where}.warn_share", "a number between 0 and 1", share)
        try:
            policies[sev] = SlaPolicy(sev, first, resolution, cal, float(share))
        except ConfigError as exc:
            raise ConfigError(f"{path}: field {where!r}: {exc}") from exc
    return policies


def load_policies() -> dict[CaseSeverity, SlaPolicy]:
    """``config_dir()/"sla.json"`` if present (see module docstring), else the defaults."""
    path = config.config_dir() / SLA_FILE
    if not path.exists():
        return default_policies()
    return parse_policies(config.read_json(path, {}), path=path)


# --- SLA view ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseSla:
    """Both SLA clocks of a case (``None``: no severity yet, so no clock)."""

    first_response: SlaState | None
    resolution: SlaState | None
    paused: bool

    @property
    def worst(self) -> SlaState | None:
        """Breached first (most overdue), else the running clock with least time left.

        ``None`` when there is no clock or every clock stopped in time (nothing to warn about).
        """
        states = [s for s in (self.first_response, self.resolution) if s is not None]
        breached = [s for s in states if s.breached]
        if breached:
            return max(breached, key=lambda s: s.overdue)
        running = [s for s in states if not s.stopped]
        return min(running, key=lambda s: s.remaining) if running else None


def format_duration(amount: timedelta) -> str:
    """An SLA clock's time: :func:`diagkit.units.human_duration` (coarse), sign dropped."""
    return human_duration(amount, coarse=True)


def describe_sla(sla: CaseSla) -> str:
    """One cell for lists: ``2h 10m left``, ``BREACHED 1h 5m``, ``paused`` or ``-``."""
    worst = sla.worst
    if worst is None:
        return "-"
    if worst.breached:
        return f"BREACHED {format_duration(worst.overdue)}"
    if sla.paused or worst.paused:
        return "paused"
    return f"{format_duration(worst.remaining)} left"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def _redact(text: str) -> str:
    # Secrets only (no obfuscation), and nothing saved: the token map is for bundles.
    from diagkit.reports.redact import RedactOptions, Redactor

    return Redactor(RedactOptions()).redact(text)


def finding_from_dict(d: Mapping[str, Any]) -> Finding:
    """A :class:`Finding` back from ``Finding.to_dict()`` (journal ``probe`` entries)."""
    try:
        sev = Severity.parse(str(d.get("severity", "info")))
    except ValueError:
        sev = Severity.INFO
    return Finding(sev, str(d.get("title", "")), str(d.get("detail", "")),
                   str(d.get("hint", "")), str(d.get("probe", "")))


# --- the desk ----------------------------------------------------------------------------------


class CaseDesk:
    """Validated, journaled changes to cases. ``now`` is injectable for tests of SLA clocks:
    every entry and status change the desk writes is stamped with ``now()``."""

    def __init__(self, store: Store, *, engineer: str | None = None,
                 policies: Mapping[CaseSeverity, SlaPolicy] | None = None,
                 now: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self.engineer = engineer if engineer is not None else engineer_name()
        self._policies = dict(policies) if policies is not None else None
        self._now = now or (lambda: datetime.now(UTC))

    @property
    def policies(self) -> dict[CaseSeverity, SlaPolicy]:
        if self._policies is None:
            self._policies = load_policies()  # lazily: a bad sla.json only hurts SLA views
        return self._policies

    def _journal(self, case_id: int, kind: str, text: str = "",
                 data: Mapping[str, Any] | None = None, *,
                 first_response: bool = False) -> JournalEntry:
        return self.store.append_journal(case_id, kind, text, engineer=self.engineer,
                                         data=data or {}, at=self._now(),
                                         first_response=first_response)

    # -- cases ----------------------------------------------------------------------------------

    def open_case(self, title: str, *, customer: str = "", contact: str = "", product: str = "",
                  version: str = "", tags: Iterable[str] = (), ticket_ref: str = "",
                  impact: str | None = None, urgency: str | None = None,
                  hosts: Iterable[str] = ()) -> Case:
        """Create a case (status ``new``); with both ``impact`` and ``urgency`` it is triaged."""
        if not title.strip():
            raise CaseInputError("A case needs a title: a short summary of the problem.")
        case = self.store.create_case(CaseDraft(
            title.strip(), customer=customer, contact=contact, product=product, version=version,
            tags=tuple(t for t in tags if t), ticket_ref=ticket_ref, impact=impact,
            urgency=urgency, engineer=self.engineer, hosts=tuple(dict.fromkeys(hosts)),
            created=self._now(),
        ))
        if impact and urgency:
            case = self.triage(case.id, impact, urgency)
        return case

    def triage(self, case_id: int, impact: str, urgency: str) -> Case:
        """Set impact, urgency and severity; a ``new`` case moves to ``triaged``.

        Unknown or missing values round up (see :mod:`diagkit.cases.triage`); the journal says so.
        """
        t = _triage(impact, urgency)
        case = self.store.get_case(case_id)
        case = self.store.update_case(case_id, case.version_counter, impact=t.impact.value,
                                      urgency=t.urgency.value, severity=t.severity.value)
        text = f"Triaged: impact {t.impact.value} x urgency {t.urgency.value} -> {t.severity.value}"
        if t.assumed:
            text += f" ({' and '.join(t.assumed)} unknown: assumed the highest)"
        if case.status == Status.NEW:
            return self.store.record_status(case_id, Status.TRIAGED.value,
                                            expected_version=case.version_counter,
                                            engineer=self.engineer, at=self._now(), note=text)
        self._journal(case_id, "case_update", text, {"fields": {
            "impact": t.impact.value, "urgency": t.urgency.value, "severity": t.severity.value}})
        return self.store.get_case(case_id)

    def set_status(self, case_id: int, status: str, *, note: str = "") -> Case:
        """Move the case to ``status`` if the lifecycle allows it, else
        :class:`~diagkit.cases.lifecycle.InvalidTransition` with the reason."""
        case = self.store.get_case(case_id)
        target = transition(case.status, status)
        if target is Status.TRIAGED and not case.severity:
            raise InvalidTransition(case.status, target.value,
                                    "triage needs an impact and an urgency (use triage), so the "
                                    "severity is known", allowed_next(case.status))
        return self.store.record_status(case_id, target.value,
                                        expected_version=case.version_counter,
                                        engineer=self.engineer, at=self._now(), note=note.strip())

    def update_fields(self, case_id: int, **fields: Any) -> Case:
        """Save changed fields (not status: :meth:`set_status`); journals ``case_update``."""
        if "status" in fields:
            raise CaseInputError("Change the status with 'case status', not as a field.")
        unknown = set(fields) - UPDATABLE_FIELDS
        if unknown:
            raise CaseInputError(f"Unknown case field(s): {', '.join(sorted(unknown))}. "
                                 f"Editable: {', '.join(sorted(UPDATABLE_FIELDS))}.")
        if "csat" in fields and fields["csat"] is not None:
            _check_csat(fields["csat"])
        case = self.store.get_case(case_id)
        changed = {}
        for name, value in fields.items():
            if name in ("tags", "hosts"):
                value = tuple(value)
            if getattr(case, name) != value:
                changed[name] = value
        if not changed:
            return case
        case = self.store.update_case(case_id, case.version_counter, **changed)
        text = "Changed " + ", ".join(sorted(changed))
        self._journal(case_id, "case_update", text,
                      {"fields": {k: _jsonable(v) for k, v in changed.items()}})
        return case

    def add_note(self, case_id: int, text: str) -> JournalEntry:
        """A Markdown note on the timeline."""
        if not text.strip():
            raise CaseInputError("The note is empty; write what you found or did.")
        return self._journal(case_id, "note", text.strip())

    def correct(self, case_id: int, entry_id: int, text: str) -> JournalEntry:
        """The journal is append-only: a correction is a new entry pointing at the old one."""
        if not text.strip():
            raise CaseInputError("The correction is empty; write the corrected text.")
        if not any(e.id == entry_id for e in self.store.journal(case_id)):
            raise CaseInputError(f"Case {case_id} has no journal entry {entry_id}; see the "
                                 f"entry numbers with 'diagkit case show {case_id}'.")
        return self._journal(case_id, "correction", text.strip(), {"corrects": entry_id})

    def link_hosts(self, case_id: int, hosts: Iterable[str]) -> Case:
        """Add hosts to the case (existing links are kept); journals ``host_link``."""
        case = self.store.get_case(case_id)
        new = [h for h in dict.fromkeys(h.strip() for h in hosts) if h and h not in case.hosts]
        if not new:
            return case
        case = self.store.update_case(case_id, case.version_counter,
                                      hosts=(*case.hosts, *new))
        self._journal(case_id, "host_link", "Linked " + ", ".join(new), {"hosts": new})
        return case

    def set_csat(self, case_id: int, score: int) -> Case:
        """The customer's satisfaction rating, 1 (bad) .. 5 (great)."""
        _check_csat(score)
        case = self.store.get_case(case_id)
        case = self.store.update_case(case_id, case.version_counter, csat=score)
        self._journal(case_id, "csat", f"Customer satisfaction: {score}/5", {"score": score})
        return case

    # -- evidence -------------------------------------------------------------------------------

    def record_customer_update(self, case_id: int, draft: Draft, *, channel: str,
                               path: Path | None = None) -> JournalEntry:
        """Journal a message sent to the customer; the first one stops the first-response clock.

        A draft still holding a template placeholder is refused
        (:class:`~diagkit.cases.updates.UnfilledPlaceholder`): it must not reach the customer.
        """
        require_filled(draft)
        if channel not in CHANNELS:
            raise CaseInputError(f"Unknown channel {channel!r}; use one of {', '.join(CHANNELS)}.")
        data: dict[str, Any] = {"update_kind": draft.kind, "subject": draft.subject,
                                "channel": channel}
        if path is not None:
            data["path"] = str(path)
        return self._journal(case_id, "customer_update", draft.body, data, first_response=True)

    def record_probe_run(self, case_id: int, snapshot: HostSnapshot) -> JournalEntry:
        """Journal a probe run: the probes run, warning-and-worse findings, failed probes."""
        findings = [f for f in snapshot.findings if f.severity >= Severity.WARNING]
        errors = [r.probe for r in snapshot.results if not r.ok]
        if not snapshot.ok:
            text = f"Probes on {snapshot.host}: host unreachable: {snapshot.error}"
        else:
            crit = sum(f.severity >= Severity.CRITICAL for f in findings)
            text = (f"Probes on {snapshot.host}: {len(snapshot.results)} run, "
                    f"{crit} critical, {len(findings) - crit} warning(s)")
            if errors:
                text += f", failed: {', '.join(errors)}"
        data: dict[str, Any] = {
            "host": snapshot.host, "probes": [r.probe for r in snapshot.results],
            "findings": [f.to_dict() for f in findings], "errors": errors}
        changes = _change_rows(snapshot)
        if changes:
            data["changes"] = changes  # what changed on the host, for the case's timeline
        entry = self._journal(case_id, "probe", _redact(text), data)
        if snapshot.ok:
            from diagkit.kb.match import evidence_from_snapshot

            self.match_known_issues(case_id, evidence_from_snapshot(snapshot), host=snapshot.host)
        return entry

    def match_known_issues(self, case_id: int, evidence: Any, *, host: str = "") -> list[JournalEntry]:
        """Journal a ``known_issue`` for every KB article whose rules match ``evidence`` (a
        :class:`diagkit.kb.match.Evidence`), once per article and host on this case.

        Best effort: a knowledge base that fails here (a store error, a bad stored rule) leaves
        the evidence journaled and simply adds no known issue (logged)."""
        try:
            from diagkit.kb.match import load_matcher

            issues = load_matcher(self.store).match(evidence)
            if not issues:
                return []
            seen = {(e.data.get("slug"), e.data.get("host", "")) for e in self.store.journal(case_id)
                    if e.kind == "known_issue"}
            added = []
            for issue in issues:
                if (issue.slug, host) in seen:
                    continue
                article = self.store.get_article(issue.article_id)
                added.append(self.record_article(case_id, article, matched=issue, host=host))
            return added
        except DiagkitError:
            log.warning("known-issue matching for case %s failed", case_id, exc_info=True)
            return []

    def record_command(self, case_id: int, host: str, command: str, exit_status: int | None,
                       duration: float) -> JournalEntry:
        """Journal a command run on ``host``; secrets in it are masked first."""
        return self._journal(case_id, "command", _redact(command), {
            "host": host, "exit_status": exit_status, "duration": round(float(duration), 3)})

    def record_bundle(self, case_id: int, path: Path) -> JournalEntry:
        """Journal a bug-report bundle (with its SHA-256 when the file is readable)."""
        data: dict[str, Any] = {"path": str(path)}
        try:
            digest = hashlib.sha256()
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            data["sha256"] = digest.hexdigest()
        except OSError:
            pass  # the path alone is still worth recording
        return self._journal(case_id, "bundle", f"Bundle {Path(path).name}", data)

    def record_log_excerpt(self, case_id: int, file: str, lines: Sequence[str],
                           signatures: Sequence[str] = ()) -> JournalEntry:
        """Journal log lines (secrets masked) and their masked signatures."""
        entry = self._journal(case_id, "log_excerpt", _redact("\n".join(lines)), {
            "file": file, "lines": len(lines), "signatures": [str(s) for s in signatures]})
        from diagkit.kb.match import Evidence

        self.match_known_issues(case_id, Evidence(log_lines=tuple(lines),
                                                  signatures=tuple(str(s) for s in signatures)))
        return entry

    def record_article(self, case_id: int, article: Any, *, matched: Any | None = None,
                       host: str = "") -> JournalEntry:
        """Journal a KB article used on the case (``kb_article``), or, with ``matched`` (a
        :class:`diagkit.kb.match.KnownIssue`), a known issue found in the case's evidence."""
        data: dict[str, Any] = {"article_id": article.id, "slug": article.slug,
                                "title": article.title}
        if matched is None:
            return self._journal(case_id, "kb_article", f"KB article: {article.title}", data)
        if host:
            data["host"] = host
        data["reasons"] = [str(r) for r in getattr(matched, "reasons", ())]
        return self._journal(case_id, "known_issue", f"Known issue: {article.title}", data)

    def record_alert(self, case_id: int, alert: Any) -> JournalEntry:
        """Journal a monitoring alert (a :class:`diagkit.monitor.thresholds.Alert`)."""
        data = {"host": alert.host, "metric": alert.metric, "level": alert.level.label,
                "peak": alert.peak.label, "start": alert.start.isoformat()}
        return self._journal(case_id, "alert", f"Alert: {alert.describe()}", data)

    def record_finding(self, case_id: int, host: str, finding: Finding) -> JournalEntry:
        """Journal one finding (e.g. a forecast) as evidence on the case."""
        return self._journal(case_id, "finding", f"{finding.title}. {finding.hint}".strip(),
                             {"host": host, "finding": finding.to_dict()})

    # -- views ----------------------------------------------------------------------------------

    def sla(self, case: Case, *, now: datetime | None = None) -> CaseSla:
        """Both clocks of ``case`` at ``now`` (default: the desk's clock)."""
        moment = now or self._now()
        status = Status(case.status)
        if not case.severity or case.created is None:
            return CaseSla(None, None, status is Status.WAITING_ON_CUSTOMER)
        policy = self.policies[CaseSeverity(case.severity)]
        history = [(c.time, c.to_status) for c in self.store.status_changes(case.id)]
        first = sla_state(policy, Clock.FIRST_RESPONSE, started=case.created, now=moment,
                          pauses=pauses_from_history(history),
                          stopped_at=case.first_response_at)
        # Time a reopened case sat resolved/closed does not count against resolution.
        done = status in CLOSED_STATUSES
        resolution = sla_state(
            policy, Clock.RESOLUTION, started=case.created, now=moment,
            pauses=pauses_from_history(history, (Status.WAITING_ON_CUSTOMER, Status.RESOLVED,
                                                 Status.CLOSED)),
            stopped_at=(case.resolved_at or case.closed_at) if done else None)
        return CaseSla(first, resolution, status is Status.WAITING_ON_CUSTOMER)

    def findings(self, case_id: int) -> list[Finding]:
        """Warning-and-worse findings of the latest probe run per host, worst first."""
        latest: dict[str, JournalEntry] = {}
        for entry in self.store.journal(case_id):
            if entry.kind == "probe":
                latest[str(entry.data.get("host", ""))] = entry
        found = [finding_from_dict(d) for e in latest.values()
                 for d in e.data.get("findings", []) if isinstance(d, Mapping)]
        return sorted(found, key=lambda f: -f.severity)


#: Rows of the ``changes`` probe kept in a journaled probe run (the newest).
MAX_CHANGE_ROWS = 300


def _change_rows(snapshot: HostSnapshot) -> list[dict[str, str]]:
    """The ``changes`` probe's rows of a run (time, kind, what, detail), secrets masked."""
    result = snapshot.result("changes") if snapshot.ok else None
    table = result.data.table("changes") if result is not None and result.ok else None
    if table is None:
        return []
    rows = [{k: _redact(str(row.get(k) or "")) if k != "time" else str(row.get(k) or "")
             for k in ("time", "kind", "what", "detail")} for row in table.rows]
    return rows[:MAX_CHANGE_ROWS]  # the table is newest first


def _check_csat(score: object) -> None:
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise CaseInputError(f"A CSAT rating is a whole number from 1 to 5, not {score!r}.")


__all__ = ["CHANNELS", "ENGINEER_HINT", "CaseDesk", "CaseInputError", "CaseSla",
           "configured_engineer", "describe_sla", "engineer_name",
           "finding_from_dict", "format_duration", "load_policies", "parse_policies"]
