"""Records and the :class:`MetricsStore` protocol behind :mod:`diagkit.metrics`.

Metrics read a whole period at once: a handful of bulk queries returning columns (one
sequence per field, not one object per row: a report over 100,000 cases must not build
100,000 Python objects per query), never one query per case. Which cases a period needs
("relevant" cases) is the same rule for every query:

    created < until AND (
        still open (status not resolved/closed)      -- backlog, running SLA clocks
        OR resolved_at >= since                      -- resolved in the period, backlog history
        OR first_response_at >= since                -- first response in the period
        OR first_response_at IS NULL)                -- a first-response clock still running

so a store may index ``cases(created)`` and answer from it.

Times are POSIX seconds (``float``, exact to the microsecond the store keeps: the SQLite
store parses its ISO strings with numpy as integer microseconds and divides once, which is
the same float ``datetime.timestamp()`` gives; PostgreSQL: ``extract(epoch FROM t)``), NaN
when unset in the numpy columns the SQLite store returns. Floats rather than datetimes
because building a million datetimes in Python was most of the cost.

**Regular histories.** Almost every case's status history is: some open statuses, then one
change to ``resolved`` (at ``resolved_at``), maybe followed by one to ``closed``. For such a
case the resolved/closed stretch is ``[resolved_at, ∞)`` and needs no history rows. A case is
*irregular* when its history has any other resolved/closed change: a reopen
(resolved/closed -> another status), ``resolved`` entered again or from no status, or
``closed`` entered other than from ``resolved``; :meth:`MetricsStore.metrics_history` then
returns that case's resolved/closed intervals. This relies on
the history being in time order as the store writes it (``record_status(at=...)`` times that
do not go backwards), which is what the lifecycle produces.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class CaseColumns:
    """The fields the metrics use of the relevant cases, one sequence per field, all the same
    length, ordered by ``id`` (ascending). Times are POSIX seconds, ``None`` when unset."""

    id: Sequence[int]
    created: Sequence[float]
    done: Sequence[bool]        # status is resolved or closed
    severity: Sequence[str | None]
    engineer: Sequence[str]
    first_response_at: Sequence[float | None]
    resolved_at: Sequence[float | None]
    csat: Sequence[int | None]

    def __len__(self) -> int:
        return len(self.id)


@dataclass(frozen=True)
class IntervalColumns:
    """Stretches of status history, one sequence per field: case ``case_id`` was in
    ``status`` from ``start`` (the change into it) to ``end`` (the next change; ``None``
    while it still is). Ordered by case id, then time."""

    case_id: Sequence[int]
    done: Sequence[bool]        # status is resolved or closed
    start: Sequence[float]
    end: Sequence[float | None]

    def __len__(self) -> int:
        return len(self.case_id)


@dataclass(frozen=True)
class RefCount:
    """How many distinct cases' journal entries of the period point at one thing: a log
    signature (``kind`` ``"signature"``, ``key`` the masked signature text, from
    ``log_excerpt`` entries) or a KB article (``kind`` ``"article"``, ``key`` the slug,
    ``title`` the non-empty title of the latest ``kb_article``/``known_issue`` entry)."""

    kind: str
    key: str
    cases: int
    title: str = ""


@dataclass(frozen=True)
class HistoryColumns:
    """What the metrics need of the relevant cases' status histories."""

    waits: IntervalColumns        # every waiting_on_customer interval
    irregular: Collection[int]    # ids of the cases with an irregular history
    done: IntervalColumns         # resolved/closed intervals of those cases only


@runtime_checkable
class MetricsStore(Protocol):
    """Bulk reads for one period ``[since, until)``; ``engineer`` keeps only that engineer's
    cases (``Case.engineer``). Implementations: :class:`diagkit.store.SqliteStore`,
    :class:`diagkit.store.postgres.PgStore`."""

    def metrics_cases(self, *, since: datetime, until: datetime,
                      engineer: str | None = None) -> CaseColumns:
        """The relevant cases of the period (rule in the module docstring)."""
        ...

    def metrics_history(self, *, since: datetime, until: datetime,
                        engineer: str | None = None) -> HistoryColumns:
        """The relevant cases' pauses and irregular histories (module docstring)."""
        ...

    def metrics_ref_counts(self, *, since: datetime, until: datetime,
                           engineer: str | None = None) -> list[RefCount]:
        """Distinct cases per signature of ``log_excerpt`` entries and per article of
        ``kb_article``/``known_issue`` entries written in ``[since, until)``."""
        ...
