"""diagkit.metrics.compute (arrays, bulk queries) against a slow, obvious reference.

The reference reads each case through the ordinary store API (get_case, status_changes,
journal) and applies the definitions of docs/metrics.md with datetimes and
diagkit.cases.sla.elapsed, one case at a time. The dataset is random (seeded), written through
the real store API with ``record_status(at=...)``: waits on the customer, reopens, closes,
cases still open from long before the period, first responses by field or journal.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from diagkit.cases.sla import default_policies, elapsed
from diagkit.metrics import AGE_BUCKETS, TOP_N, compute
from diagkit.metrics.figures import _bucket_edges
from diagkit.store.contract import CaseDraft
from diagkit.store.sqlite import SqliteStore

NOW = datetime(2024, 6, 20, 15, 30, tzinfo=UTC)
ENGINEERS = ["ann", "ben", "cy", ""]
SIGS = [f"sig {i} <N>" for i in range(6)]
SLUGS = [f"kb-{i}" for i in range(5)]
WAIT, DONE = "waiting_on_customer", {"resolved", "closed"}
US = timedelta(microseconds=1)


def _moment(rnd: random.Random, base: datetime, hours: float) -> datetime:
    return base + timedelta(seconds=rnd.expovariate(1 / (hours * 3600)) + rnd.random())


def _build(store: SqliteStore, n: int, seed: int) -> None:
    rnd = random.Random(seed)
    for i in range(n):
        created = NOW - timedelta(days=rnd.uniform(0, 500) if i % 3 else rnd.uniform(0, 40),
                                  microseconds=rnd.randrange(10**6))
        c = store.create_case(CaseDraft(f"case {i}", engineer=rnd.choice(ENGINEERS),
                                        severity=rnd.choice(["S1", "S2", "S3", "S4", None]),
                                        status=rnd.choice(["new", "triaged", "triaged"]),
                                        created=created))
        t = created
        moves: list[str] = []
        if c.status == "new":
            moves.append("triaged")
        moves.append("in_progress")
        for _ in range(rnd.choice([0, 0, 1, 2])):
            moves += [WAIT, "in_progress"]
        fate = rnd.random()
        if fate < 0.75:
            moves.append("resolved")
            if rnd.random() < 0.3:  # reopened, maybe straight into waiting
                moves += ["in_progress", WAIT, "resolved"] if rnd.random() < 0.5 else [
                    "in_progress", "resolved"]
            if rnd.random() < 0.6:
                moves.append("closed")
                if rnd.random() < 0.15:  # reopened after closing
                    moves += ["in_progress", "resolved"]
        elif fate < 0.85:
            moves.append(WAIT)  # still waiting
        fr_done = False
        for status in moves:
            t = _moment(rnd, t, 30)
            if t >= NOW:
                break
            if not fr_done and status in (WAIT, "resolved") and rnd.random() < 0.8:
                fr = t - timedelta(seconds=rnd.uniform(1, 600))
                if fr > created:
                    if rnd.random() < 0.5:
                        store.append_journal(c.id, "customer_update", "ack", at=fr,
                                             first_response=True,
                                             data={"update_kind": "acknowledgement",
                                                   "subject": "s", "channel": "clipboard"})
                    else:
                        store.update_case(c.id, store.get_case(c.id).version_counter,
                                          first_response_at=fr)
                    fr_done = True
            c = store.get_case(c.id)
            store.record_status(c.id, status, expected_version=c.version_counter, at=t)
        c = store.get_case(c.id)
        if c.resolved_at is not None and rnd.random() < 0.6:
            store.update_case(c.id, c.version_counter, csat=rnd.randint(1, 5))
        for _ in range(rnd.choice([0, 0, 1, 2])):
            at = _moment(rnd, created, 48)
            if at < NOW:
                if rnd.random() < 0.5:
                    store.append_journal(c.id, "log_excerpt", "lines", at=at,
                                         data={"file": "syslog", "lines": 3,
                                               "signatures": rnd.sample(SIGS, 2)})
                else:
                    slug = rnd.choice(SLUGS)
                    store.append_journal(c.id, rnd.choice(["kb_article", "known_issue"]), at=at,
                                         data={"article_id": 1, "slug": slug,
                                               "title": f"{slug} title"})


def _spans(changes, status_set) -> list[tuple[datetime, datetime | None]]:
    out = []
    for i, ch in enumerate(changes):
        if ch.to_status in status_set:
            out.append((ch.time, changes[i + 1].time if i + 1 < len(changes) else None))
    return out


def _open_at(case, changes, t: datetime) -> bool:
    """Open just before t: created before it, and its last change before t not done."""
    before = [ch for ch in changes if ch.time < t]
    return case.created < t and bool(before) and before[-1].to_status not in DONE


def _rank(values: list[timedelta], p: int) -> timedelta | None:
    values = sorted(values)
    return values[max(1, math.ceil(p * len(values) / 100)) - 1] if values else None


def reference(store: SqliteStore, since: datetime, until: datetime, now: datetime,
              engineer: str | None = None) -> dict:
    pol = {str(k): v for k, v in default_policies().items()}
    t_end = min(now, until)
    cases = [c for c in store.list_cases() if engineer is None or c.engineer == engineer]
    r: dict = {"opened": 0, "resolved": 0, "frt": [], "ttr": [], "csat": [],
               "backlog": 0, "ageing": dict.fromkeys(AGE_BUCKETS, 0),
               "fr": defaultdict(lambda: [0, 0]), "res": defaultdict(lambda: [0, 0]),
               "sla": defaultdict(lambda: [0, 0]),
               "eng": defaultdict(lambda: {"opened": 0, "resolved": 0, "frt": [], "ttr": [],
                                           "csat": [], "backlog": 0, "counted": 0,
                                           "breached": 0})}
    edges = _bucket_edges(since, until, "day")
    r["series"] = [[0, 0, 0] for _ in edges[1:]]
    sig_cases, art_cases, titles = defaultdict(set), defaultdict(set), {}
    for c in cases:
        changes = sorted(store.status_changes(c.id), key=lambda ch: (ch.time, ch.id))
        waits = _spans(changes, {WAIT})
        paused = waits + _spans(changes, DONE)
        e = r["eng"][c.engineer]
        if since <= c.created < until:
            r["opened"] += 1
            e["opened"] += 1
        fr, res = c.first_response_at, c.resolved_at
        if fr is not None and since <= fr < until:
            net = elapsed(pol["S1"], c.created, fr, waits)  # S1 is 24x7
            r["frt"].append(net)
            e["frt"].append(net)
        if res is not None and since <= res < until:
            net = elapsed(pol["S1"], c.created, res, paused)
            r["resolved"] += 1
            r["ttr"].append(net)
            e["resolved"] += 1
            e["ttr"].append(net)
            if c.csat is not None:
                r["csat"].append(c.csat)
                e["csat"].append(c.csat)
        if _open_at(c, changes, until):
            r["backlog"] += 1
            e["backlog"] += 1
            age = (until - c.created).total_seconds() / 86400
            r["ageing"][next((b for b, lim in zip(AGE_BUCKETS, (1, 3, 7, 30), strict=False)
                              if age < lim), ">30d")] += 1
        for i, (lo, hi) in enumerate(pairwise(edges)):
            r["series"][i][0] += lo <= c.created < hi
            r["series"][i][1] += res is not None and lo <= res < hi
            r["series"][i][2] += _open_at(c, changes, hi)
        policy = pol.get(c.severity) if c.severity else None
        if policy is not None:
            counted = breached = False
            for clock, stop, pauses in (("fr", fr, waits), ("res", res, paused)):
                target = policy.target("first_response" if clock == "fr" else "resolution")
                if stop is not None and stop < t_end:
                    if stop < since:
                        continue
                    late = elapsed(policy, c.created, stop, pauses) > target
                elif (c.created < t_end and elapsed(policy, c.created, t_end, pauses) > target
                      and elapsed(policy, c.created, since, pauses) < target):
                    late = True  # running, overdue, and still within target at `since`
                else:
                    continue
                r[clock][c.severity][0] += late
                r[clock][c.severity][1] += 1
                counted, breached = True, breached or late
            if counted:
                r["sla"][c.severity][0] += breached
                r["sla"][c.severity][1] += 1
                e["counted"] += 1
                e["breached"] += breached
        for j in store.journal(c.id):
            if not since <= j.time < until:
                continue
            if j.kind == "log_excerpt":
                for s in j.data.get("signatures", []):
                    sig_cases[s].add(c.id)
            elif j.kind in ("kb_article", "known_issue"):
                art_cases[j.data["slug"]].add(c.id)
                titles[j.data["slug"]] = j.data["title"]
    r["sigs"] = sorted(((k, len(v)) for k, v in sig_cases.items()),
                       key=lambda kv: (-kv[1], kv[0]))[:TOP_N]
    r["arts"] = sorted(((k, titles[k], len(v)) for k, v in art_cases.items()),
                       key=lambda a: (-a[2], a[0]))[:TOP_N]
    return r


def _same(a: timedelta | None, b: timedelta | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= US)


def _pg_store(request: pytest.FixtureRequest):
    """A PgStore on a fresh database of the session's PostgreSQL server (password given
    directly: the keyring is isolated per test, this store lives for a module)."""
    from diagkit.store.postgres import PgStore

    server = request.getfixturevalue("pg_server")
    return PgStore(server.url(server.new_database()), password=server.password)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request, tmp_path_factory):
    if request.param == "sqlite":
        s = SqliteStore(tmp_path_factory.mktemp("ref") / "ref.db")
    else:
        s = _pg_store(request)
    _build(s, 240, seed=11)
    yield s
    s.close()


@pytest.mark.parametrize("days, engineer, until_back", [
    (600, None, 0), (20, None, 0), (45, None, 3.5), (10, "ann", 1), (90, "", 0)])
def test_compute_matches_slow_reference(store, days, engineer, until_back):
    until = NOW - timedelta(days=until_back)
    since = until - timedelta(days=days)
    got = compute(store, since=since, until=until, now=NOW, engineer=engineer)
    ref = reference(store, since, until, NOW, engineer)
    assert (got.opened, got.resolved, got.backlog) == (ref["opened"], ref["resolved"],
                                                       ref["backlog"])
    assert dict(got.backlog_ageing) == ref["ageing"]
    assert (got.frt_count, got.ttr_count) == (len(ref["frt"]), len(ref["ttr"]))
    for p, field in ((50, "median"), (90, "p90")):
        assert _same(getattr(got, f"frt_{field}"), _rank(ref["frt"], p))
        assert _same(getattr(got, f"ttr_{field}"), _rank(ref["ttr"], p))
    assert dict(got.breach_first_response) == {k: tuple(v) for k, v in ref["fr"].items()
                                               if k in ref["sla"]}
    assert dict(got.breach_resolution) == {k: tuple(v) for k, v in ref["res"].items()
                                           if k in ref["sla"]}
    assert dict(got.breach_rate) == {k: tuple(v) for k, v in ref["sla"].items()}
    assert got.csat_share_4_5 == (sum(s >= 4 for s in ref["csat"]) / len(ref["csat"])
                                  if ref["csat"] else None)
    assert {k: v for k, v in got.csat_distribution.items() if v} == {
        s: ref["csat"].count(s) for s in set(ref["csat"])}
    assert [[p.opened, p.resolved, p.backlog] for p in got.series] == ref["series"]
    assert got.top_signatures == ref["sigs"]
    assert got.top_articles == ref["arts"]
    for name, row in got.per_engineer.items():
        e = ref["eng"][name]
        assert (row.opened, row.resolved, row.backlog, row.sla_counted, row.breached) == (
            e["opened"], e["resolved"], e["backlog"], e["counted"], e["breached"]), name
        assert _same(row.frt_median, _rank(e["frt"], 50))
        assert _same(row.ttr_median, _rank(e["ttr"], 50))
        assert row.csat_share_4_5 == (sum(s >= 4 for s in e["csat"]) / len(e["csat"])
                                      if e["csat"] else None)


def test_dataset_exercises_the_hard_paths(store):
    """The reference comparison means something only if the data has these."""
    hist = store.metrics_history(since=NOW - timedelta(days=600), until=NOW)
    assert len(hist.irregular) >= 10  # reopened cases
    assert len(hist.waits) >= 50
    old_open = [c for c in store.list_cases(status=["in_progress", WAIT, "triaged", "new"])
                if c.created < NOW - timedelta(days=60) and c.severity]
    assert len(old_open) >= 5  # running clocks from long before a short period


def test_open_time_values_survive_table_rebuilds():
    """at() values taken before a rebuild stay valid after it (callers subtract them), and
    at_many() gives the very same floats as at()."""
    import numpy as np

    from diagkit.cases.sla import BUSINESS_HOURS
    from diagkit.metrics.clock import OpenTime

    rnd = random.Random(4)
    stamps = [NOW.timestamp() - rnd.uniform(0, 3 * 365 * 86400) for _ in range(400)]
    table = OpenTime(BUSINESS_HOURS)
    first = [table.at(t) for t in stamps]  # grows the table several times
    assert [table.at(t) for t in stamps] == first
    fresh = OpenTime(BUSINESS_HOURS)
    many = fresh.at_many(np.array(stamps))
    assert many.tolist() == [fresh.at(t) for t in stamps]


def test_both_backends_give_the_same_columns(tmp_path, request):
    """The same cases in SQLite and PostgreSQL: the same ids, the very same epoch floats (NaN
    where unset), the same histories and reference counts."""
    import numpy as np

    with SqliteStore(tmp_path / "a.db") as lite, _pg_store(request) as pg:
        _build(lite, 80, seed=5)
        _build(pg, 80, seed=5)
        for days, engineer in ((600, None), (30, "ann"), (90, "")):
            period = {"since": NOW - timedelta(days=days), "until": NOW, "engineer": engineer}
            a, b = lite.metrics_cases(**period), pg.metrics_cases(**period)
            assert list(a.id) == list(b.id) and len(a) > 0
            for name in ("created", "first_response_at", "resolved_at"):
                np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
            for name in ("done", "severity", "engineer", "csat"):
                assert [bool(x) if name == "done" else x for x in getattr(a, name)] == [
                    bool(x) if name == "done" else x for x in getattr(b, name)], name
            ha, hb = lite.metrics_history(**period), pg.metrics_history(**period)
            assert list(ha.irregular) == list(hb.irregular)
            for ia, ib in ((ha.waits, hb.waits), (ha.done, hb.done)):
                assert (list(ia.case_id), list(ia.done)) == (list(ib.case_id), list(ib.done))
                np.testing.assert_array_equal(ia.start, ib.start)
                np.testing.assert_array_equal(ia.end, ib.end)
            key = lambda r: (r.kind, r.key)
            assert sorted(lite.metrics_ref_counts(**period), key=key) == sorted(
                pg.metrics_ref_counts(**period), key=key)
