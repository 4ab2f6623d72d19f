"""The bug-report bundle model: everything a developer needs, as plain frozen data.

The model is what the engineer (CLI or the "New bug report" wizard) assembles; the writer
(:mod:`diagkit.reports.bundle`) redacts every string of it, renders it (:mod:`.render`) and
writes the zip; the reader (:mod:`.reader`) verifies and opens a zip again offline.

Nothing here touches the network or the disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from diagkit import __version__
from diagkit.errors import BundleError
from diagkit.probes.base import Finding, ProbeResult

SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class HostEnvironment:
    """One affected host: its environment facts (from the system probe) and probe results."""

    name: str
    facts: dict[str, str] = field(default_factory=dict)
    results: tuple[ProbeResult, ...] = ()


@dataclass(frozen=True)
class LogExcerpt:
    """Lines of one log with their context. ``first_line`` is the 1-based number of ``lines[0]``.

    ``masked_keys``: the runs of lines (1-based numbers, inclusive) that were replaced because
    they belong to a private key block (:mod:`diagkit.reports.keyblocks`), one per block.
    """

    source: str
    lines: tuple[str, ...]
    first_line: int = 1
    note: str = ""
    masked_keys: tuple[tuple[int, int], ...] = ()
    first_time: datetime | None = None  # the time of its first record (window excerpts)


@dataclass(frozen=True)
class PlotImage:
    """A rendered plot (PNG bytes); ``name`` becomes ``plots/<name>.png`` in the bundle."""

    name: str
    title: str
    png: bytes


@dataclass(frozen=True)
class JournalEntry:
    """One session-journal line: a command run, a probe, a note, and how it ended."""

    time: datetime
    kind: str
    text: str
    host: str = ""
    exit_status: int | None = None


@dataclass(frozen=True)
class Attachment:
    """A free file the engineer adds; stored under ``attachments/<name>``.

    Text (UTF-8, 8-bit, UTF-16/32, see :mod:`diagkit.reports.textfiles`) is redacted; a file that
    cannot be scanned as text is refused unless ``allow_binary`` (``--attach-binary``), and then
    stored as is, NOT redacted. The writer fills in ``encoding`` (how it was read, or
    ``"binary"``) and ``note`` (said in the report) on the copy it writes.
    """

    name: str
    data: bytes
    allow_binary: bool = False
    encoding: str = ""
    note: str = ""

    @property
    def unredacted(self) -> bool:
        """Written as is, without redaction (a binary file the engineer allowed)."""
        return self.encoding == "binary"


@dataclass(frozen=True)
class TimeWindow:
    """The span of time a report is about (``bundle create --window START..END``).

    Both ends are timezone-aware and ``start <= end``; log excerpts are the records inside it,
    with the warnings just before ``start`` as precursors.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise BundleError("A report window needs times with a UTC offset; give them as "
                              "2024-01-02T10:00+01:00, or leave the offset out to mean local "
                              "time where the window is read from text.")
        if self.start > self.end:
            raise BundleError(f"The window starts ({self.start.isoformat()}) after it ends "
                              f"({self.end.isoformat()}); give START..END in that order.")

    def __contains__(self, when: datetime) -> bool:
        return self.start <= when <= self.end

    def label(self) -> str:
        return f"{self.start.isoformat()} .. {self.end.isoformat()}"


@dataclass(frozen=True)
class Evidence:
    """Where the evidence of a timeline event is, for the UI and the CLI to open it.

    ``kind`` is ``journal`` (``case_id`` + ``entry_id``: a case journal entry), ``probe``
    (``host`` + ``probe``: a probe card; ``entry_id`` when the run was journaled), ``log``
    (``file`` + ``line``, 1-based, and ``record``, the record number in the log viewer),
    ``alert`` (``host`` + ``metric`` + ``alert``: an alert replayed from the monitoring
    history, or journaled with ``entry_id``).
    """

    kind: str
    case_id: int | None = None
    entry_id: int | None = None
    host: str = ""
    probe: str = ""
    file: str = ""
    line: int | None = None
    record: int | None = None
    metric: str = ""
    alert: str = ""

    def to_dict(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}

    def label(self) -> str:
        """A short human reference: ``case 3 entry 17``, ``/var/log/syslog line 120``..."""
        if self.kind == "log":
            return f"{self.file} line {self.line}" if self.line else self.file
        where = f"case {self.case_id} entry {self.entry_id}" if self.entry_id is not None else ""
        if self.kind == "probe":
            card = f"probe {self.probe}" + (f" on {self.host}" if self.host else "")
            return f"{card} ({where})" if where else card
        if self.kind == "alert":
            alert = f"alert {self.metric} on {self.host}"
            return f"{alert} ({where})" if where else alert
        return where


@dataclass(frozen=True)
class TimelineEvent:
    """One timestamped event of a timeline (a case's, a host's, or a report's section).

    ``kind`` says what it is (:data:`diagkit.timeline.KINDS`: "probe", "finding", "alert",
    "forecast", "incident", "signature", "change", "command", "note", "status", "log", ...);
    ``text`` is its one-line title and ``detail`` the rest; ``ref`` points at its evidence in
    words ("logs/1-app.log line 120", "probe changes on db1"...) and ``evidence`` in a form the
    UI and CLI can open; ``host`` is the host it happened on, when known. ``id`` is stable for
    the same inputs (``diagkit timeline --before ID``); ``topic`` is what it is about, for
    ranking: the change kind (``package``), the metric (``disk.used:/var``), the probe.
    """

    time: datetime
    kind: str
    text: str
    ref: str = ""
    host: str = ""
    id: str = ""
    detail: str = ""
    topic: str = ""
    evidence: Evidence | None = None

    @property
    def title(self) -> str:
        return self.text

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "time": self.time.isoformat(), "host": self.host,
                "kind": self.kind, "title": self.text, "detail": self.detail,
                "topic": self.topic, "ref": self.ref or (self.evidence.label() if self.evidence
                                                         else ""),
                "evidence": self.evidence.to_dict() if self.evidence else None}


@dataclass(frozen=True)
class Bundle:
    """A bug report. ``severity`` is one of :data:`SEVERITIES`; ``created`` is UTC."""

    title: str
    summary: str = ""
    severity: str = "medium"
    created: datetime = field(default_factory=_now)
    hosts: tuple[HostEnvironment, ...] = ()
    steps: tuple[str, ...] = ()
    expected: str = ""
    actual: str = ""
    findings: tuple[Finding, ...] = ()
    logs: tuple[LogExcerpt, ...] = ()
    plots: tuple[PlotImage, ...] = ()
    journal: tuple[JournalEntry, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    case: str | None = None
    diagkit_version: str = __version__
    # The case's product and version, and the customer's reference (all redacted like the rest).
    product: str = ""
    product_version: str = ""
    customer_ref: str = ""
    window: TimeWindow | None = None
    timeline: tuple[TimelineEvent, ...] = ()  # in time order

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise BundleError(
                f"Unknown bug-report severity {self.severity!r}; use one of "
                f"{', '.join(SEVERITIES)}."
            )
        if self.created.tzinfo is None:
            # A naive time would be ambiguous in the manifest; treat it as UTC (it is ours).
            object.__setattr__(self, "created", self.created.replace(tzinfo=UTC))
        else:
            object.__setattr__(self, "created", self.created.astimezone(UTC))
