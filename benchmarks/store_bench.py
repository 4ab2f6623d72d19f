"""Case store speed at team scale: metrics over 100,000 cases, KB search over 50,000 articles.
Run by hand:

    python benchmarks/store_bench.py [--cases 100000] [--articles 50000] [--queries 200]
                                     [--skip-kb] [--skip-metrics]

Generates (seeded) a fresh store in a temp dir (deleted afterwards) and prints, all measured in
this one run:
  * diagkit.metrics.compute() over the last 30 days and over the whole history (median of 5
    runs)                                                              (target: < 1 s)
    next to a naive reference: a per-case loop over store.get_case/status_changes/journal
    (timed on a sample, extrapolated to the same number of cases)
  * KB search_articles() over generated articles: p50/p95 of ~200 varied queries (1-3 words,
    last one a prefix as typed)                                        (target: p95 < 50 ms)
    next to a naive reference: a SQL LIKE scan finding every article with the words, ranked
    in Python (word occurrences weighted by column), top 20
The case data is written with direct SQL (executemany) for speed; the articles go through the
real KbStore.create_article (one transaction each, with fsync off while generating).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diagkit.metrics import compute
from diagkit.store import SqliteStore

ENGINEERS = [f"eng{i:02d}" for i in range(25)]
SEVERITIES = ["S1", "S2", "S3", "S4", None]
SIGNATURES = [f"{w} <N>" for w in (
    "Out of memory: Killed process", "EXT4-fs error (device <DEV>)", "I/O error, dev <DEV>",
    "segfault at <HEX> ip <HEX>", "Failed to start <UNIT>", "No space left on device",
    "Too many open files", "Connection timed out", "certificate has expired",
    "Temporary failure in name resolution", "clock skew detected", "read-only file system",
)]
SLUGS = [f"kb-{i}" for i in range(300)]


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def generate_cases(path: Path, n: int, now: datetime, seed: int = 6) -> None:
    rnd = random.Random(seed)
    span = timedelta(days=730).total_seconds()
    cases, changes, journal = [], [], []
    for cid in range(1, n + 1):
        created = now - timedelta(seconds=span * (1 - cid / n) + rnd.random() * 3600)
        sev = rnd.choice(SEVERITIES)
        eng = rnd.choice(ENGINEERS)
        t = created
        hist = [(t, None, "triaged")]
        fr = created + timedelta(minutes=rnd.expovariate(1 / 180))
        t += timedelta(minutes=rnd.randint(1, 60))
        hist.append((t, "triaged", "in_progress"))
        if rnd.random() < 0.35:  # waits on the customer once or twice
            for _ in range(rnd.randint(1, 2)):
                t += timedelta(hours=rnd.expovariate(1 / 8))
                hist.append((t, "in_progress", "waiting_on_customer"))
                t += timedelta(hours=rnd.expovariate(1 / 20))
                hist.append((t, "waiting_on_customer", "in_progress"))
        resolved = closed = None
        age = (now - created).days
        if rnd.random() < (0.97 if age > 20 else 0.6):
            t += timedelta(hours=rnd.expovariate(1 / 30))
            if t < now:
                hist.append((t, "in_progress", "resolved"))
                resolved = t
                if rnd.random() < 0.05:  # reopened once
                    t += timedelta(hours=rnd.expovariate(1 / 24))
                    hist.append((t, "resolved", "in_progress"))
                    t += timedelta(hours=rnd.expovariate(1 / 10))
                    hist.append((t, "in_progress", "resolved"))
                    resolved = t
                t += timedelta(days=rnd.expovariate(1 / 3))
                if t < now:
                    hist.append((t, "resolved", "closed"))
                    closed = t
        hist = [h for h in hist if h[0] < now]
        status = hist[-1][2]
        # As record_status stamps them: the last -> resolved / -> closed change kept.
        resolved = max((h[0] for h in hist if h[2] == "resolved"), default=None)
        closed = max((h[0] for h in hist if h[2] == "closed"), default=None)
        if status not in ("resolved", "closed"):
            resolved = closed = None
        elif status == "resolved":
            closed = None
        fr_s = _ts(fr) if fr < now else None
        csat = rnd.choice([None, None, 3, 4, 5, 5, 2, 1]) if resolved else None
        cases.append((cid, f"case {cid}", sev, status, _ts(created), _ts(hist[-1][0]), fr_s,
                      _ts(resolved) if resolved else None, _ts(closed) if closed else None,
                      csat, eng))
        journal.append((cid, _ts(created), eng, "created", f"case {cid}", "{}"))
        for when, frm, to in hist:
            changes.append((cid, _ts(when), frm, to, eng))
            if frm is not None:
                journal.append((cid, _ts(when), eng, "status", f"{frm} -> {to}",
                                json.dumps({"from": frm, "to": to})))
        if rnd.random() < 0.3:
            sigs = rnd.sample(SIGNATURES, rnd.randint(1, 3))
            journal.append((cid, _ts(created + timedelta(minutes=20)), eng, "log_excerpt",
                            "...", json.dumps({"file": "syslog", "lines": 40,
                                               "signatures": sigs})))
        if rnd.random() < 0.2:
            slug = rnd.choice(SLUGS)
            journal.append((cid, _ts(created + timedelta(minutes=40)), eng, "kb_article", "",
                            json.dumps({"article_id": 1, "slug": slug, "title": slug.upper()})))
    SqliteStore(path).close()  # creates and migrates the schema
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    with conn:
        conn.executemany(
            "INSERT INTO cases (id, title, severity, status, created, updated, first_response_at,"
            " resolved_at, closed_at, csat, engineer) VALUES (?,?,?,?,?,?,?,?,?,?,?)", cases)
        conn.executemany("INSERT INTO status_changes (case_id, time, from_status, to_status,"
                         " engineer) VALUES (?,?,?,?,?)", changes)
        conn.executemany("INSERT INTO journal (case_id, time, engineer, kind, text, data)"
                         " VALUES (?,?,?,?,?,?)", journal)
    conn.execute("ANALYZE")
    conn.close()
    print(f"generated {n:,} cases, {len(changes):,} status changes, {len(journal):,} journal "
          "entries")


def naive_case_loop(store: SqliteStore, ids: list[int]) -> float:
    """What a metrics pass costs done the obvious way: three reads per case."""
    t = time.perf_counter()
    for cid in ids:
        store.get_case(cid)
        store.status_changes(cid)
        store.journal(cid)
    return time.perf_counter() - t


def bench_metrics(tmp: Path, n: int) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    path = tmp / "cases.db"
    t = time.perf_counter()
    generate_cases(path, n, now)
    print(f"  (generation {time.perf_counter() - t:.1f} s)")
    with SqliteStore(path) as store:
        for label, since in (("last 30 days", now - timedelta(days=30)),
                             ("whole history", now - timedelta(days=800))):
            runs = []
            for _ in range(5):
                t = time.perf_counter()
                report = compute(store, since=since, until=now, now=now)
                runs.append(time.perf_counter() - t)
            relevant = len(store.metrics_cases(since=since, until=now))
            ids = random.Random(1).sample(range(1, n + 1), min(2000, n))
            naive = naive_case_loop(store, ids) / len(ids) * relevant
            med = statistics.median(runs)
            print(f"metrics {label}: {relevant:,} cases read, opened {report.opened:,}, "
                  f"resolved {report.resolved:,}, backlog {report.backlog:,}")
            print(f"  compute() median {med * 1000:.0f} ms (runs "
                  f"{', '.join(f'{r * 1000:.0f}' for r in runs)} ms)    target < 1 s: "
                  f"{'OK' if med < 1.0 else 'MISSED'}")
            print(f"  naive per-case loop (3 reads/case, extrapolated from {len(ids):,}): "
                  f"{naive:.2f} s -> compute() is {naive / med:.0f}x faster")


WORDS = {
    "thing": ["disk", "inode", "filesystem", "partition", "memory", "swap", "process", "kernel",
              "service", "unit", "daemon", "socket", "certificate", "resolver", "clock",
              "journal", "cron", "nginx", "postgres", "ssh", "mount", "volume", "container",
              "network", "interface", "route", "firewall", "cgroup", "quota", "logrotate"],
    "symptom": ["full", "exhausted", "killed", "failing", "timeout", "refused", "expired",
                "drifting", "slow", "hanging", "crashing", "leaking", "corrupted", "readonly",
                "unreachable", "flapping", "throttled", "denied", "missing", "stale"],
    "cause": ["misconfigured", "upgrade", "rotation", "retention", "limit", "overcommit",
              "fragmentation", "permissions", "selinux", "dns", "ntp", "mtu", "backlog",
              "leak", "snapshot", "replication", "vacuum", "ulimit", "hugepages", "tmpfs"],
    "fix": ["restart", "increase", "clean", "rotate", "remount", "renew", "resync", "tune",
            "raise", "prune", "reindex", "rollback", "patch", "extend", "disable", "enable"],
}


def article_text(rnd: random.Random) -> dict[str, object]:
    w = {k: rnd.sample(v, 3) for k, v in WORDS.items()}
    title = f"{w['thing'][0].capitalize()} {w['symptom'][0]} after {w['cause'][0]} " \
            f"on {w['thing'][1]}"
    return {
        "title": title,
        "symptoms": f"The {w['thing'][0]} is {w['symptom'][0]} and the {w['thing'][2]} keeps "
                    f"{w['symptom'][1]}. Users report {w['symptom'][2]} requests and errors "
                    f"in the {w['thing'][1]} logs.",
        "environment": f"Linux hosts running {w['thing'][1]} with {w['cause'][2]} settings.",
        "cause": f"A {w['cause'][0]} of the {w['thing'][0]} combined with {w['cause'][1]}.",
        "resolution": f"{w['fix'][0].capitalize()} the {w['thing'][0]}, then {w['fix'][1]} "
                      f"the {w['thing'][2]} and {w['fix'][2]} its {w['cause'][1]}.",
        "tags": [w["thing"][0], w["symptom"][0]],
    }


def queries(rnd: random.Random, n: int) -> list[str]:
    vocab = [x for v in WORDS.values() for x in v]
    out = []
    for i in range(n):
        words = rnd.sample(vocab, 1 + i % 3)
        if i % 4 == 3:  # typed half-way: the last word is a prefix
            words[-1] = words[-1][: max(2, len(words[-1]) // 2)]
        out.append(" ".join(words))
    return out


# Column weights of the naive ranking: title highest, like search_articles' bm25 weights.
NAIVE_WEIGHTS = {"title": 5.0, "tags": 3.0, "symptoms": 2.0, "environment": 1.0, "cause": 1.0,
                 "resolution": 1.0}


def naive_search(conn: sqlite3.Connection, query: str, limit: int = 20) -> list[int]:
    """The fair obvious way: find EVERY article containing each word (LIKE scan of all the
    searched columns), rank them all in Python (occurrences of the words, weighted by
    column) and keep the best ``limit``: what search_articles answers, without an index."""
    words = [w.lower() for w in query.split()]
    cols = list(NAIVE_WEIGHTS)
    where = " AND ".join("(" + " OR ".join(f"{c} LIKE ?" for c in cols) + ")" for _ in words)
    args = [f"%{w}%" for w in words for _ in cols]
    rows = conn.execute(f"SELECT id, {', '.join(cols)} FROM kb_articles WHERE {where}",
                        args).fetchall()
    scored = []
    for row in rows:
        score = sum(weight * str(text).lower().count(w)
                    for weight, text in zip(NAIVE_WEIGHTS.values(), row[1:], strict=True)
                    for w in words)
        scored.append((-score, row[0]))
    scored.sort()
    return [aid for _, aid in scored[:limit]]


def bench_kb(tmp: Path, n: int, nq: int) -> None:
    try:
        from diagkit.store.kb import KbStore  # noqa: F401
    except ImportError:
        print("KB search: diagkit.store.kb is not there yet; skipped")
        return
    path = tmp / "kb.db"
    rnd = random.Random(9)
    t = time.perf_counter()
    with SqliteStore(path) as store:
        store._conn.execute("PRAGMA synchronous=OFF")  # generation only: no fsync per article
        for _ in range(n):
            store.create_article(**article_text(rnd))  # type: ignore[arg-type]
    print(f"generated {n:,} articles through create_article in {time.perf_counter() - t:.1f} s")
    qs = queries(random.Random(3), nq)
    with SqliteStore(path) as store:
        store.search_articles("warm up cache")
        times, hits = [], 0
        for q in qs:
            t = time.perf_counter()
            hits += len(store.search_articles(q, limit=20))
            times.append(time.perf_counter() - t)
        times.sort()
        p50, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
        print(f"KB search over {store.article_count():,} articles, {nq} queries "
              f"({hits / nq:.1f} hits/query): p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
              f"max {times[-1] * 1000:.1f} ms    target p95 < 50 ms: "
              f"{'OK' if p95 < 0.05 else 'MISSED'}")
    conn = sqlite3.connect(path)
    sample = qs[: max(10, nq // 10)]
    ntimes = []
    for q in sample:
        t = time.perf_counter()
        naive_search(conn, q)
        ntimes.append(time.perf_counter() - t)
    conn.close()
    ntimes.sort()
    np95 = ntimes[int(0.95 * (len(ntimes) - 1))]
    print(f"  naive reference ({len(sample)} of the queries: LIKE scan for ALL matches, ranked "
          f"in Python by weighted word counts, top 20): p50 "
          f"{statistics.median(ntimes) * 1000:.1f} ms, p95 {np95 * 1000:.1f} ms -> "
          f"search_articles is {statistics.median(ntimes) / p50:.0f}x faster at p50, "
          f"{np95 / p95:.0f}x at p95")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--articles", type=int, default=50_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--skip-kb", action="store_true")
    ap.add_argument("--skip-metrics", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="diagkit-store-bench-") as tmp:
        if not args.skip_metrics:
            bench_metrics(Path(tmp), args.cases)
        if not args.skip_kb:
            bench_kb(Path(tmp), args.articles, args.queries)


if __name__ == "__main__":
    main()
