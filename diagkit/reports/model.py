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
class TimelineEvent:
    """One timestamped event of the report's Timeline section.

    ``kind`` says where it comes from ("log", "finding", "change", "incident", ...); ``ref``
    points at its evidence inside the bundle or the case ("logs/1-app.log line 120",
    "probe changes on db1"...); ``host`` is the host it happened on, when known.
    """

    time: datetime
    kind: str
    text: str
    ref: str = ""
    host: str = ""


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
