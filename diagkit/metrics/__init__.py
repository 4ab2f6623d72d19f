"""Support metrics over a period: volumes, response/resolution times, SLA breaches, CSAT,
backlog, top signatures and KB articles, per engineer and over time.

:func:`compute` reads a period ``[since, until)`` through a few bulk queries of the store
(:class:`diagkit.store.contract.MetricsStore`) and does the arithmetic here. Definitions (also in
``docs/metrics.md``; "in the period" always means ``since <= t < until``):

* **opened**: cases created in the period.
* **resolved**: cases whose ``resolved_at`` is in the period. A case resolved, reopened and
  resolved again has only its last resolution stored, and counts there.
* **FRT** (first response time): ``first_response_at - created`` minus the time spent in
  ``waiting_on_customer`` (net wall-clock time, 24x7: :func:`diagkit.cases.sla.elapsed` with
  :func:`~diagkit.cases.sla.pauses_from_history` pauses), over cases whose first response is
  in the period.
* **TTR** (time to resolve): ``resolved_at - created`` minus the time in
  ``waiting_on_customer`` and, for reopened cases, the time it sat resolved/closed before the
  reopen (as the SLA resolution clock counts it), over cases resolved in the period.
* **median / p90**: nearest-rank percentiles: the value at rank ``ceil(p/100 * n)`` of the
  sorted values (so the median of an even count is the lower middle value). ``None`` when no
  case qualifies.
* **SLA breaches** per severity, over cases with a severity that has a policy (the store's
  ``default_policies()`` unless ``policies`` is given). Each case has two clocks, measured in
  the policy's calendar (business hours or 24x7) net of pauses like FRT/TTR: first response
  (stopped by ``first_response_at``) and resolution (stopped by ``resolved_at``). A clock counts
  in the period when it **stopped** in the period (breached if more than the target elapsed),
  or, still running at ``min(now, until)`` and already past its target, when it fell **due** in
  the period (breached). A running clock not yet due is not counted. So a clock that fell due
  in one period and stopped in a later one counts (breached) in both. ``breach_first_response``
  and ``breach_resolution`` give ``(breached, counted)`` per clock; ``breach_rate`` combines
  them per case: counted if any of its clocks counted, breached if any counted clock breached.
* **CSAT**: among cases resolved in the period with a rating, the share rated 4 or 5, and the
  count per score 1..5.
* **backlog**: cases open at ``until`` (created before it and not resolved/closed then, from
  the status history), with ageing buckets by ``until - created``: ``<1d``, ``1-3d``,
  ``3-7d``, ``7-30d``, ``>30d`` (lower bound included).
* **top signatures / top articles**: distinct cases per masked log signature (``log_excerpt``
  entries' ``signatures``) and per KB article slug (``kb_article`` + ``known_issue`` entries),
  over journal entries written in the period; most cases first, ties by name.
* **per engineer**: the same figures per ``Case.engineer`` (``""`` = unassigned).
* **series**: per UTC day (or ISO week, starting Monday) bucket clipped to the period: cases
  opened and resolved in it and the backlog at its end.

``engineer`` keeps only that engineer's cases for every figure.
"""

from __future__ import annotations

from diagkit.metrics.figures import compute
from diagkit.metrics.model import (
    AGE_BUCKETS,
    JSON_SCHEMA_METRICS,
    TOP_N,
    EngineerRow,
    MetricsReport,
    SeriesPoint,
)
from diagkit.metrics.period import parse_since

__all__ = [
    "AGE_BUCKETS",
    "JSON_SCHEMA_METRICS",
    "TOP_N",
    "EngineerRow",
    "MetricsReport",
    "SeriesPoint",
    "compute",
    "parse_since",
]
