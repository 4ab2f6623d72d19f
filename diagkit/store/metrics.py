"""Records and the :class:`MetricsStore` protocol behind :mod:`diagkit.metrics`.

Metrics read a whole period at once: a handful of bulk queries returning the plain records
below, never one query per case, so a store of 100,000 cases answers in well under a second.
Which cases a period needs ("relevant" cases) is the same rule for every query:

    created < until AND (
        still open (status not resolved/closed)      -- backlog, running SLA clocks
        OR resolved_at >= since                      -- resolved in the period, backlog history
        OR first_response_at >= since                -- first response in the period
        OR first_response_at IS NULL)                -- a first-response clock still running

so a store may index ``cases(created)`` and answer from it. Times are UTC-aware datetimes.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class MetricsCase:
    """The fields of one case the metrics use."""

    id: int
    created: datetime
    status: str
    severity: str | None = None
    engineer: str = ""
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    csat: int | None = None


@dataclass(frozen=True, slots=True)
class StatusInterval:
    """A stretch of a case's status history spent in ``status``: from the change into it
    (``start``) to the next change (``end``; ``None`` while the case is still in it)."""

    case_id: int
    status: str
    start: datetime
    end: datetime | None


@dataclass(frozen=True, slots=True)
class JournalRef:
    """One thing a journal entry points at: a log signature (``kind`` ``log_excerpt``, ``key``
    the masked signature text) or a KB article (``kb_article``/``known_issue``, ``key`` the
    slug, ``title`` the article title at the time)."""

    case_id: int
    time: datetime
    kind: str
    key: str
    title: str = ""


@runtime_checkable
class MetricsStore(Protocol):
    """Bulk reads for one period ``[since, until)``; ``engineer`` keeps only that engineer's
    cases (``Case.engineer``). Implementations: :class:`diagkit.store.SqliteStore`."""

    def metrics_cases(self, *, since: datetime, until: datetime,
                      engineer: str | None = None) -> list[MetricsCase]:
        """The relevant cases of the period (rule in the module docstring)."""
        ...

    def metrics_intervals(self, *, since: datetime, until: datetime,
                          engineer: str | None = None,
                          statuses: Collection[str] = ()) -> list[StatusInterval]:
        """The relevant cases' status intervals in one of ``statuses``, by case then time."""
        ...

    def metrics_journal_refs(self, *, since: datetime, until: datetime,
                             engineer: str | None = None) -> list[JournalRef]:
        """Signatures of ``log_excerpt`` entries and articles of ``kb_article`` /
        ``known_issue`` entries written in ``[since, until)``."""
        ...
