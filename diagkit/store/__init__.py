"""The case store: every piece of SQL in diagkit lives behind this small repository layer.

Features (cases, journal, SLA, KB, metrics) talk only to the :class:`Store` protocol (and
:mod:`diagkit.store.kb`'s and :mod:`diagkit.store.metrics`'s) and the frozen records below, never
to a database driver. Two implementations keep the same contract: :class:`SqliteStore`, the
local one (``diagkit.config.data_dir()/"diagkit.db"``), and
:class:`diagkit.store.postgres.PgStore`, a team's PostgreSQL. Features open whichever is
configured through :func:`diagkit.store.select.open_store`; logic both share is in
:mod:`diagkit.store.common`.

Contract every implementation keeps:

* every write is one transaction: after a crash either all of it is there or none of it;
* one writer at a time; readers never see half a write;
* the journal and the status history are append-only (no update/delete API; corrections are
  new entries);
* ``update_case`` / ``record_status`` take the ``version_counter`` the caller last read and raise
  :class:`StaleWrite` when someone saved in between (optimistic concurrency);
* times are timezone-aware ``datetime`` objects in UTC on the way out; naive ones are refused.

Business rules (which status may follow which, severity from impact x urgency, SLA arithmetic)
live in :mod:`diagkit.cases`, not here: the store records what the caller decided.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from diagkit.errors import DiagkitError


class StoreError(DiagkitError):
    """The case database cannot be opened, migrated, read or written."""


class StoreUnavailable(StoreError):
    """The (team) store cannot be reached or the connection dropped mid-operation. Whatever
    the operation was writing was rolled back; what the caller already has stays valid."""


class StaleWrite(StoreError):
    """Someone saved the case after the caller read it; the save was refused, nothing changed."""

    def __init__(self, case_id: int, expected: int, actual: int) -> None:
        self.case_id = case_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"Case {case_id} was changed by someone else since you opened it (your copy is "
            f"version {expected}, the saved one is version {actual}); your changes were not "
            "saved. Reload the case, re-apply your changes and save again."
        )


class CaseNotFound(StoreError):
    def __init__(self, case_id: int) -> None:
        self.case_id = case_id
        super().__init__(
            f"There is no case {case_id}. List cases with 'diagkit case list' to find its number."
        )


@dataclass(frozen=True)
class Case:
    """One support case as stored. ``version_counter`` goes up by one on every save."""

    id: int
    title: str
    customer: str = ""
    contact: str = ""
    product: str = ""
    version: str = ""
    tags: tuple[str, ...] = ()
    ticket_ref: str = ""
    impact: str | None = None
    urgency: str | None = None
    severity: str | None = None
    status: str = "new"
    created: datetime | None = None
    updated: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    csat: int | None = None
    engineer: str = ""
    version_counter: int = 1
    hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class JournalEntry:
    """One line of a case's timeline. ``kind`` is e.g. note, probe, command, status,
    customer_update, bundle, log_excerpt, correction; ``data`` holds its details (host, exit
    status, file...) as JSON-compatible values."""

    id: int
    case_id: int
    time: datetime
    engineer: str
    kind: str
    text: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusChange:
    id: int
    case_id: int
    time: datetime
    from_status: str | None
    to_status: str
    engineer: str = ""


# Fields update_case accepts. ``status`` is deliberately absent: it changes only through
# record_status so the status history (and so the SLA pause intervals) is always complete.
UPDATABLE_FIELDS: frozenset[str] = frozenset({
    "title", "customer", "contact", "product", "version", "tags", "ticket_ref", "impact",
    "urgency", "severity", "first_response_at", "csat", "engineer", "hosts",
})


@runtime_checkable
class Store(Protocol):
    """What features may ask of a case store. Implementations: :class:`SqliteStore`,
    :class:`diagkit.store.postgres.PgStore`."""

    def migrate(self) -> int:
        """Apply missing schema migrations; return the schema version now in force."""
        ...

    def close(self) -> None: ...

    def create_case(
        self,
        title: str,
        *,
        customer: str = "",
        contact: str = "",
        product: str = "",
        version: str = "",
        tags: Sequence[str] = (),
        ticket_ref: str = "",
        impact: str | None = None,
        urgency: str | None = None,
        severity: str | None = None,
        status: str = "new",
        engineer: str = "",
        hosts: Iterable[str] = (),
        created: datetime | None = None,
    ) -> Case: ...

    def get_case(self, case_id: int) -> Case:
        """The case, or :class:`CaseNotFound`."""
        ...

    def list_cases(
        self,
        *,
        status: str | Iterable[str] | None = None,
        customer: str | None = None,
        engineer: str | None = None,
        severity: str | Iterable[str] | None = None,
        tag: str | None = None,
        host: str | None = None,
        updated_since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Case]:
        """Cases matching every given filter, most recently updated first."""
        ...

    def update_case(self, case_id: int, expected_version: int, **fields: Any) -> Case:
        """Save ``fields`` (see ``UPDATABLE_FIELDS``) if the case is still at
        ``expected_version``; else :class:`StaleWrite`. Returns the saved case."""
        ...

    def record_status(
        self,
        case_id: int,
        to_status: str,
        *,
        expected_version: int,
        engineer: str = "",
        at: datetime | None = None,
        note: str = "",
    ) -> Case:
        """Change the case's status in one transaction: status history row, case row, and a
        ``status`` journal entry. The caller has already checked the transition is allowed."""
        ...

    def status_changes(self, case_id: int) -> list[StatusChange]: ...

    def append_journal(
        self,
        case_id: int,
        kind: str,
        text: str = "",
        *,
        engineer: str = "",
        data: Mapping[str, Any] | None = None,
        at: datetime | None = None,
        first_response: bool = False,
    ) -> JournalEntry:
        """Add one entry to the case's timeline (``at`` defaults to now). With
        ``first_response=True`` (customer updates) the same transaction sets the case's
        ``first_response_at`` to the entry's time if it is not set yet, bumping its version."""
        ...

    def journal(self, case_id: int) -> list[JournalEntry]:
        """The case's timeline, oldest first (by time, then by insertion order)."""
        ...


# Imported last: sqlite.py needs the names above.
from diagkit.store.sqlite import SqliteStore

__all__ = [
    "UPDATABLE_FIELDS",
    "Case",
    "CaseNotFound",
    "JournalEntry",
    "SqliteStore",
    "StaleWrite",
    "StatusChange",
    "Store",
    "StoreError",
    "StoreUnavailable",
]
