""":func:`compute`: the figures of one period from a few bulk reads of the store, for all cases
at once with numpy (definitions in :mod:`diagkit.metrics`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from diagkit.cases.lifecycle import Status
from diagkit.cases.sla import SlaPolicy, default_policies
from diagkit.errors import ConfigError
from diagkit.metrics.clock import (
    ALWAYS,
    INF,
    OpenTime,
    Spans,
    due_at,
    net_many,
    rank,
)
from diagkit.metrics.model import AGE_BUCKETS, TOP_N, EngineerRow, MetricsReport, SeriesPoint
from diagkit.store.contract import MetricsStore

_AGE_LIMITS = (1, 3, 7, 30)  # days; the lower bound of each next bucket

_WAIT = Status.WAITING_ON_CUSTOMER.value
_DONE = frozenset({Status.RESOLVED.value, Status.CLOSED.value})


def _bucket_edges(since: datetime, until: datetime, bucket: str) -> list[datetime]:
    if bucket not in ("day", "week"):
        raise ConfigError(f"Unknown series bucket {bucket!r}: use 'day' or 'week'.")
    start = since.astimezone(UTC)
    edge = datetime.combine(start.date(), datetime.min.time(), UTC)
    if bucket == "week":
        edge -= timedelta(days=edge.weekday())
    step = timedelta(days=1 if bucket == "day" else 7)
    edges = [start]
    edge += step
    while edge < until:
        edges.append(edge)
        edge += step
    edges.append(until)
    return edges


def _floats(values: Sequence[float | None] | np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=float)  # None -> nan


def _codes(values: Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    index: dict[Any, int] = {}
    codes = [index.setdefault(v, len(index)) for v in values]
    return np.array(codes, dtype=np.intp), list(index)


def _intervals(cols: Any, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = np.searchsorted(ids, np.array(cols.case_id, dtype=np.int64))
    end = np.array(cols.end, dtype=float)  # a copy: written below
    end[np.isnan(end)] = INF  # still in that status
    return rows, _floats(cols.start), end


def compute(
    store: MetricsStore,
    *,
    since: datetime,
    until: datetime | None = None,
    engineer: str | None = None,
    policies: Mapping[Any, SlaPolicy] | None = None,
    now: datetime | None = None,
    bucket: str = "day",
) -> MetricsReport:
    """The metrics of ``[since, until)`` (``until`` defaults to ``now``, which defaults to the
    current time). ``policies`` maps severity (``CaseSeverity`` or its string) to
    :class:`SlaPolicy`; default :func:`diagkit.cases.sla.default_policies`.

    Arrays, not a loop over cases: each figure is computed for all cases at once with numpy,
    with the same float operations the per-case definitions use (tests compare with a
    straightforward per-case reference)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    until = (until or now).astimezone(UTC)
    since = since.astimezone(UTC)
    if since >= until:
        raise ConfigError(
            f"The metrics period starts ({since.isoformat()}) at or after its end "
            f"({until.isoformat()}): give an earlier --since or a later --until."
        )
    pol = {str(k): v for k, v in (default_policies() if policies is None else policies).items()}
    t0, t1, tnow = since.timestamp(), until.timestamp(), now.timestamp()
    clock_end = min(tnow, t1)

    cols = store.metrics_cases(since=since, until=until, engineer=engineer)
    n = len(cols.id)
    ids = np.array(cols.id, dtype=np.int64)
    created = _floats(cols.created)
    fr = _floats(cols.first_response_at)
    res = _floats(cols.resolved_at)
    csat = np.nan_to_num(_floats(cols.csat)).astype(np.intp)  # 0: no rating
    eng, names = _codes(cols.engineer)
    n_eng = len(names)
    done_now = np.array(cols.done, dtype=bool)

    hist = store.metrics_history(since=since, until=until, engineer=engineer)
    irregular = np.isin(ids, np.array(list(hist.irregular), dtype=np.int64))
    wait = Spans.of(*_intervals(hist.waits, ids))
    # Resolved/closed stretches: [resolved_at, inf) for regular histories, the history's
    # intervals for the others (diagkit.store.contract, "Regular histories").
    d_rows, d_lo, d_hi = _intervals(hist.done, ids)
    regular = np.flatnonzero(~irregular & done_now & ~np.isnan(res))
    finished = Spans.of(np.concatenate((d_rows, regular)),
                         np.concatenate((d_lo, res[regular])),
                         np.concatenate((d_hi, np.full(regular.size, INF))))
    paused_res = wait + finished

    def by_eng(mask: np.ndarray) -> np.ndarray:
        return np.bincount(eng[mask], minlength=n_eng)

    # opened / resolved / FRT / TTR / CSAT
    edges = _bucket_edges(since, until, bucket)
    edge_ts = np.array([e.timestamp() for e in edges])
    n_b = len(edges) - 1
    is_opened = (created >= t0) & (created < t1)
    opened_b = np.bincount(np.searchsorted(edge_ts, created[is_opened], "right") - 1,
                           minlength=n_b)
    fr_in = np.flatnonzero((fr >= t0) & (fr < t1))  # nan compares False
    frt = net_many(ALWAYS, fr_in, created[fr_in], fr[fr_in], wait, n)
    res_in = np.flatnonzero((res >= t0) & (res < t1))
    ttr = net_many(ALWAYS, res_in, created[res_in], res[res_in], paused_res, n)
    resolved_b = np.bincount(np.searchsorted(edge_ts, res[res_in], "right") - 1, minlength=n_b)
    rated = res_in[csat[res_in] > 0]
    csat_dist = {s: int(np.count_nonzero(csat[rated] == s)) for s in range(1, 6)}
    for s in set(csat[rated].tolist()) - set(csat_dist):
        csat_dist[s] = int(np.count_nonzero(csat[rated] == s))

    backlog_series, at_end, ageing = _backlog(finished, created, edge_ts, t1)

    breach, breach_fr, breach_res, eng_counted, eng_breached = _sla_breaches(
        cols.severity, pol, eng, n_eng, created, fr, res, wait, paused_res,
        t0=t0, clock_end=clock_end)

    series = [SeriesPoint(edges[i], edges[i + 1], int(opened_b[i]), int(resolved_b[i]),
                          int(backlog_series[i])) for i in range(n_b)]
    sigs, arts = _tops(store, since, until, engineer)

    e_opened = by_eng(is_opened)
    e_resolved = np.bincount(eng[res_in], minlength=n_eng)
    e_backlog = np.bincount(eng[at_end], minlength=n_eng)
    e_rated = np.bincount(eng[rated], minlength=n_eng)
    e_happy = np.bincount(eng[rated[csat[rated] >= 4]], minlength=n_eng)
    frt_by, ttr_by = _sorted_by(eng[fr_in], frt, n_eng), _sorted_by(eng[res_in], ttr, n_eng)
    per_engineer = {}
    for name in sorted(names):
        i = names.index(name)
        per_engineer[name] = EngineerRow(
            engineer=name, opened=int(e_opened[i]), resolved=int(e_resolved[i]),
            frt_median=rank(frt_by[i], 50), ttr_median=rank(ttr_by[i], 50),
            breached=int(eng_breached[i]), sla_counted=int(eng_counted[i]),
            csat_share_4_5=int(e_happy[i]) / int(e_rated[i]) if e_rated[i] else None,
            backlog=int(e_backlog[i]),
        )
    frt.sort()
    ttr.sort()
    order = sorted(breach, key=_sev_key)
    return MetricsReport(
        since=since, until=until, engineer=engineer,
        opened=int(np.count_nonzero(is_opened)), resolved=int(res_in.size),
        frt_median=rank(frt, 50), frt_p90=rank(frt, 90), frt_count=int(frt.size),
        ttr_median=rank(ttr, 50), ttr_p90=rank(ttr, 90), ttr_count=int(ttr.size),
        breach_rate={s: breach[s] for s in order},
        breach_first_response={s: breach_fr.get(s, (0, 0)) for s in order},
        breach_resolution={s: breach_res.get(s, (0, 0)) for s in order},
        csat_share_4_5=(int(np.count_nonzero(csat[rated] >= 4)) / int(rated.size)
                        if rated.size else None),
        csat_distribution=csat_dist,
        backlog=int(at_end.size), backlog_ageing=ageing,
        top_signatures=sigs, top_articles=arts, per_engineer=per_engineer,
        series=series, bucket=bucket, now=now,
    )


def _backlog(finished: Spans, created: np.ndarray, edge_ts: np.ndarray,
             t1: float) -> tuple[list[int], np.ndarray, dict[str, int]]:
    """Backlog at each bucket end (``edge_ts[1:]``), the rows open at ``t1`` and their ageing."""
    n, n_b = created.size, edge_ts.size - 1
    # Open spans: from creation to each resolved/closed stretch, from each reopen to the
    # next (a cursor that only moves forward, as max(created, previous stretch's end)).
    f = finished
    prev_hi = np.full(f.row.size, -INF)
    if f.row.size:
        same = f.row[1:] == f.row[:-1]
        prev_hi[1:][same] = f.hi[:-1][same]
    cursor = np.maximum(created[f.row], prev_hi)
    gap = f.lo > cursor
    last_hi = np.full(n, -INF)
    last_hi[f.row] = f.hi  # rows sorted: the last stretch of each case wins
    tail_start = np.maximum(created, last_hi)
    tail = np.flatnonzero(tail_start < INF)
    o_row = np.concatenate((f.row[gap], tail))
    o_lo = np.concatenate((cursor[gap], tail_start[tail]))
    o_hi = np.concatenate((f.lo[gap], np.full(tail.size, INF)))
    # Counted at every bucket end t with lo < t <= hi, i.e. open just before t.
    a_i = np.maximum(1, np.searchsorted(edge_ts, o_lo, "right"))
    b_i = np.maximum(1, np.searchsorted(edge_ts, o_hi, "right"))
    m = a_i < b_i
    delta = np.zeros(n_b + 1, dtype=np.int64)
    np.add.at(delta, a_i[m] - 1, 1)
    np.add.at(delta, b_i[m] - 1, -1)
    backlog_series = np.cumsum(delta[:n_b]).tolist()
    at_end = o_row[(o_lo < t1) & (t1 <= o_hi)]
    ages = np.searchsorted(np.array(_AGE_LIMITS, dtype=float) * 86400, t1 - created[at_end],
                           "right")
    ageing = {name: int(np.count_nonzero(ages == i)) for i, name in enumerate(AGE_BUCKETS)}
    return backlog_series, at_end, ageing


def _sla_breaches(
    severities: Sequence[Any], pol: Mapping[str, SlaPolicy], eng: np.ndarray, n_eng: int,
    created: np.ndarray, fr: np.ndarray, res: np.ndarray, wait: Spans, paused_res: Spans, *,
    t0: float, clock_end: float,
) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]], dict[str, tuple[int, int]],
           np.ndarray, np.ndarray]:
    """(breached, counted) per severity overall, for first response and for resolution, and
    per engineer the cases counted and breached (definitions in :mod:`diagkit.metrics`)."""
    n = created.size
    # SLA clocks, one severity (so one policy and calendar) at a time.
    clocks: dict[int, OpenTime] = {}
    breach: dict[str, tuple[int, int]] = {}
    breach_fr: dict[str, tuple[int, int]] = {}
    breach_res: dict[str, tuple[int, int]] = {}
    eng_counted = np.zeros(n_eng, dtype=np.int64)
    eng_breached = np.zeros(n_eng, dtype=np.int64)
    sev_codes, sevs = _codes(severities)
    for code, sev in enumerate(sevs):
        policy = pol.get(sev) if sev else None
        if policy is None:
            continue
        ot = clocks.get(id(policy.calendar))
        if ot is None:
            ot = clocks[id(policy.calendar)] = OpenTime(policy.calendar)
        rows = np.flatnonzero(sev_codes == code)
        any_counted = np.zeros(rows.size, dtype=bool)
        any_breached = np.zeros(rows.size, dtype=bool)
        for clock, stop, pauses, table in (("first_response", fr, wait, breach_fr),
                                           ("resolution", res, paused_res, breach_res)):
            target = policy.target(clock).total_seconds()
            st = stop[rows]
            stopped = st < clock_end  # nan: still running
            stop_in = stopped & (st >= t0)
            counted = stop_in.copy()
            late = np.zeros(rows.size, dtype=bool)
            k = np.flatnonzero(stop_in)
            late[k] = net_many(ot, rows[k], created[rows[k]], st[k], pauses, n) > target + 5e-7
            k = np.flatnonzero(~stopped & (created[rows] < clock_end))
            past = net_many(ot, rows[k], created[rows[k]], np.full(k.size, clock_end),
                             pauses, n) > target + 5e-7
            for j in k[past].tolist():  # running and overdue: did it fall due in the period?
                r = int(rows[j])
                # It fell due after its creation, so in the period when created in it.
                if created[r] >= t0 or due_at(policy, ot, float(created[r]), clock_end,
                                            pauses.of_case(r), target) >= t0:
                    counted[j] = late[j] = True
            table[sev] = (int(np.count_nonzero(late & counted)), int(np.count_nonzero(counted)))
            any_counted |= counted
            any_breached |= counted & late
        if any_counted.any():
            breach[sev] = (int(np.count_nonzero(any_breached)),
                           int(np.count_nonzero(any_counted)))
            eng_counted += np.bincount(eng[rows[any_counted]], minlength=n_eng)
            eng_breached += np.bincount(eng[rows[any_breached]], minlength=n_eng)

    return breach, breach_fr, breach_res, eng_counted, eng_breached


def _sorted_by(group: np.ndarray, values: np.ndarray, n: int) -> list[np.ndarray]:
    """``values`` split by ``group`` (0..n-1), each part sorted."""
    order = np.lexsort((values, group))
    bounds = np.searchsorted(group[order], np.arange(n + 1))
    v = values[order]
    return [v[bounds[i]:bounds[i + 1]] for i in range(n)]


def _sev_key(sev: str) -> tuple[int, str]:
    return (0, sev) if sev.startswith("S") else (1, sev)


def _tops(store: MetricsStore, since: datetime, until: datetime,
          engineer: str | None) -> tuple[list[tuple[str, int]], list[tuple[str, str, int]]]:
    counts = store.metrics_ref_counts(since=since, until=until, engineer=engineer)
    sigs = [(c.key, c.cases) for c in counts if c.kind == "signature"]
    arts = [(c.key, c.title, c.cases) for c in counts if c.kind == "article"]
    top_sigs = sorted(sigs, key=lambda kv: (-kv[1], kv[0]))[:TOP_N]
    top_arts = sorted(arts, key=lambda a: (-a[2], a[0]))[:TOP_N]
    return top_sigs, top_arts

