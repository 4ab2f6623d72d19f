"""Case store speed at team scale: metrics over 100,000 cases, KB search over 50,000 articles.
Run by hand:

    python benchmarks/store_bench.py [--cases 100000] [--articles 50000] [--queries 200]
                                     [--skip-kb] [--skip-metrics] [--backends sqlite,postgresql]

Generates (seeded) a fresh store in a temp dir (deleted afterwards) and the very same data in a
PostgreSQL team store (a server of its own on 127.0.0.1, started from Debian's binaries by
``tests.pg_fixture.start_postgres()`` and removed afterwards), and prints, all measured in this
one run, each figure for both backends and a side-by-side table at the end:
  * diagkit.metrics.compute() over the last 30 days and over the whole history (median of 5
    runs)                                                              (target: < 1 s)
    next to a naive reference: a per-case loop over store.get_case/status_changes/journal
    (timed on a sample, extrapolated to the same number of cases)
  * KB search_articles() over generated articles: p50/p95 of ~200 varied queries (1-3 words,
    last one a prefix as typed)                                        (target: p95 < 50 ms)
    next to a naive reference: a SQL LIKE scan finding every article with the words, ranked
    in Python (word occurrences weighted by column), top 20
The case data is written with direct SQL (executemany; COPY into PostgreSQL) for speed; the
articles go through the real KbStore.create_article of the SQLite store (one transaction each,
with fsync off while generating) and are then copied row for row (COPY) into PostgreSQL, whose
generated search column indexes them. The naive references run on SQLite only.
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diagkit.metrics import compute
from diagkit.store.contract import ArticleDraft
from diagkit.store.sqlite import SqliteStore

#: figure -> backend -> seconds, printed side by side at the end.
RESULTS: dict[str, dict[str, float]] = {}
BACKENDS = ("sqlite", "postgresql")


class TeamStore:
    """The PostgreSQL side of the run: one server, a fresh database per part."""

    def __init__(self) -> None:
        from tests.pg_fixture import start_postgres

        t = time.perf_counter()
        self.server = start_postgres()
        print(f"PostgreSQL server started on 127.0.0.1:{self.server.port} "
              f"({time.perf_counter() - t:.1f} s)")

    def new_store(self):  # -> PgStore
        from diagkit.store.postgres import PgStore

        url = self.server.url(self.server.new_database())
        return PgStore(url, password=self.server.password)

    def close(self) -> None:
        import shutil

        self.server.stop("immediate")
        shutil.rmtree(self.server.datadir.parent, ignore_errors=True)


def copy_rows(store, table: str, columns: str, rows) -> None:  # store: PgStore
    """COPY ``rows`` (tuples of Python values / ISO time strings / JSON text) into ``table``."""
    with (store._write(f"load {table}") as conn,
          conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy):
        for row in rows:
            copy.write_row(row)
    if "id" in [c.strip() for c in columns.split(",")]:
        with store._write("move the id sequence") as conn:
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                         f" (SELECT COALESCE(MAX(id), 1) FROM {table}))")


def analyze(store) -> None:  # store: PgStore
    # VACUUM cannot run in a transaction: a plain autocommit statement on the connection.
    with store._lock:
        store._ensure().execute("VACUUM ANALYZE")

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


_CASE_COLUMNS = ("id, title, severity, status, created, updated, first_response_at,"
                 " resolved_at, closed_at, csat, engineer")
_CHANGE_COLUMNS = "case_id, time, from_status, to_status, engineer"
_JOURNAL_COLUMNS = "case_id, time, engineer, kind, text, data"


def generate_cases(path: Path, n: int, now: datetime, seed: int = 6) -> tuple[list, list, list]:
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
        conn.executemany(f"INSERT INTO cases ({_CASE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                         cases)
        conn.executemany(f"INSERT INTO status_changes ({_CHANGE_COLUMNS}) VALUES (?,?,?,?,?)",
                         changes)
        conn.executemany(f"INSERT INTO journal ({_JOURNAL_COLUMNS}) VALUES (?,?,?,?,?,?)",
                         journal)
    conn.execute("ANALYZE")
    conn.close()
    print(f"generated {n:,} cases, {len(changes):,} status changes, {len(journal):,} journal "
          "entries")
    return cases, changes, journal


def naive_case_loop(store: SqliteStore, ids: list[int]) -> float:
    """What a metrics pass costs done the obvious way: three reads per case."""
    t = time.perf_counter()
    for cid in ids:
        store.get_case(cid)
        store.status_changes(cid)
        store.journal(cid)
    return time.perf_counter() - t


def bench_metrics(tmp: Path, n: int, team: TeamStore | None) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    path = tmp / "cases.db"
    t = time.perf_counter()
    cases, changes, journal = generate_cases(path, n, now)
    print(f"  (generation {time.perf_counter() - t:.1f} s)")
    stores = [("sqlite", SqliteStore(path))]
    if team is not None:
        t = time.perf_counter()
        pg = team.new_store()
        copy_rows(pg, "cases", _CASE_COLUMNS, cases)
        copy_rows(pg, "status_changes", _CHANGE_COLUMNS, changes)
        copy_rows(pg, "journal", _JOURNAL_COLUMNS, journal)
        analyze(pg)
        print(f"  (the same cases COPYed into PostgreSQL in {time.perf_counter() - t:.1f} s)")
        stores.append(("postgresql", pg))
    del cases, changes, journal
    for label, since in (("last 30 days", now - timedelta(days=30)),
                         ("whole history", now - timedelta(days=800))):
        for backend, store in stores:
            runs = []
            for _ in range(5):
                t = time.perf_counter()
                report = compute(store, since=since, until=now, now=now)
                runs.append(time.perf_counter() - t)
            relevant = len(store.metrics_cases(since=since, until=now))
            med = statistics.median(runs)
            RESULTS.setdefault(f"metrics {label} (median of 5)", {})[backend] = med
            print(f"metrics {label} [{backend}]: {relevant:,} cases read, opened "
                  f"{report.opened:,}, resolved {report.resolved:,}, backlog {report.backlog:,}")
            print(f"  compute() median {med * 1000:.0f} ms (runs "
                  f"{', '.join(f'{r * 1000:.0f}' for r in runs)} ms)    target < 1 s: "
                  f"{'OK' if med < 1.0 else 'MISSED'}")
            if backend == "sqlite":
                ids = random.Random(1).sample(range(1, n + 1), min(2000, n))
                naive = naive_case_loop(store, ids) / len(ids) * relevant
                print(f"  naive per-case loop (3 reads/case, extrapolated from {len(ids):,}): "
                      f"{naive:.2f} s -> compute() is {naive / med:.0f}x faster")
    for _, store in stores:
        store.close()


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


def article_text(rnd: random.Random) -> dict[str, Any]:
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


def _time_search(store, qs: list[str], backend: str) -> float:
    """Run the queries; print and record p50/p95; return p50 (seconds)."""
    store.search_articles("warm up cache")
    times, hits = [], 0
    for q in qs:
        t = time.perf_counter()
        hits += len(store.search_articles(q, limit=20))
        times.append(time.perf_counter() - t)
    times.sort()
    p50, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
    RESULTS.setdefault("KB search p50", {})[backend] = p50
    RESULTS.setdefault("KB search p95", {})[backend] = p95
    print(f"KB search [{backend}] over {store.article_count():,} articles, {len(qs)} queries "
          f"({hits / len(qs):.1f} hits/query): p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
          f"max {times[-1] * 1000:.1f} ms    target p95 < 50 ms: "
          f"{'OK' if p95 < 0.05 else 'MISSED'}")
    return p50


_ARTICLE_COLUMNS = ("id, slug, title, symptoms, environment, cause, resolution, tags, links,"
                    " rules, source_case, author, created, updated, version_counter")


def bench_kb(tmp: Path, n: int, nq: int, team: TeamStore | None) -> None:
    path = tmp / "kb.db"
    rnd = random.Random(9)
    t = time.perf_counter()
    with SqliteStore(path) as store:
        store._conn.execute("PRAGMA synchronous=OFF")  # generation only: no fsync per article
        for _ in range(n):
            store.create_article(ArticleDraft(**article_text(rnd)))
    print(f"generated {n:,} articles through create_article in {time.perf_counter() - t:.1f} s")
    qs = queries(random.Random(3), nq)
    with SqliteStore(path) as store:
        p50 = _time_search(store, qs, "sqlite")
        p95 = RESULTS["KB search p95"]["sqlite"]
    if team is not None:
        t = time.perf_counter()
        lite = sqlite3.connect(path)
        rows = lite.execute(f"SELECT {_ARTICLE_COLUMNS} FROM kb_articles ORDER BY id").fetchall()
        lite.close()
        with team.new_store() as pg:
            copy_rows(pg, "kb_articles", _ARTICLE_COLUMNS, rows)
            analyze(pg)
            print(f"the same {len(rows):,} articles COPYed into PostgreSQL (search vectors "
                  f"generated, GIN index built) in {time.perf_counter() - t:.1f} s")
            del rows
            _time_search(pg, qs, "postgresql")
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
    ap.add_argument("--backends", default=",".join(BACKENDS),
                    help="comma-separated: sqlite (always run: the data is made there), "
                         "postgresql")
    args = ap.parse_args()
    team = TeamStore() if "postgresql" in args.backends.split(",") else None
    try:
        with tempfile.TemporaryDirectory(prefix="diagkit-store-bench-") as tmp:
            if not args.skip_metrics:
                bench_metrics(Path(tmp), args.cases, team)
            if not args.skip_kb:
                bench_kb(Path(tmp), args.articles, args.queries, team)
    finally:
        if team is not None:
            team.close()
    print_table()


def print_table() -> None:
    backends = [b for b in BACKENDS if any(b in row for row in RESULTS.values())]
    width = max((len(k) for k in RESULTS), default=10) + 2
    print()
    print("".ljust(width) + "".join(b.rjust(14) for b in backends))
    for figure, row in RESULTS.items():
        cells = "".join((f"{row[b] * 1000:.1f} ms" if b in row else "-").rjust(14)
                        for b in backends)
        print(figure.ljust(width) + cells)


if __name__ == "__main__":
    main()
