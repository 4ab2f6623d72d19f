"""Copy an engineer's local SQLite store into the team store (``diagkit store migrate``).

The team store may already hold other engineers' work, so nothing keeps its local id:

* **ids are remapped**: every copied case, journal entry and status change gets a new id in the
  team store, and the pair (old, new) is recorded in ``store_imports`` under the source store's
  stable id (kept in the SQLite ``kb_meta`` table, key ``store_id``);
* **one transaction per case** (the case, its hosts, journal and status history, and their
  mapping rows): an interruption (Ctrl+C, a dropped connection) loses at most the case being
  copied, and that one completely;
* **idempotent and resumable**: a rerun skips what the mapping says is there and copies the
  rest, including journal entries and status changes added locally since the last run (the
  case's fields themselves are copied once: after the switch the team store's copy is the one
  people edit);
* **KB articles are merged by slug**: a new slug is inserted; an identical article is left
  alone; otherwise the newer ``updated`` wins (the team's newer edit is kept, and said so);
* **verified counts** at the end: per kind, the rows in the source and the rows the mapping
  points at in the team store; :attr:`MigrationReport.verified` says whether they agree.

Times, engineers and version counters are copied as they are (the Store API would stamp "now").
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from diagkit.store import StoreError

STORE_ID_KEY = "store_id"
KINDS = ("case", "journal", "status", "kb")
_TABLE = {"case": "cases", "journal": "journal", "status": "status_changes",
          "kb": "kb_articles"}
_KB_CONTENT = ("title", "symptoms", "environment", "cause", "resolution", "tags", "links",
               "rules")

Progress = Callable[[int, int, str], None]
"""``progress(done, total, what)``: called after each case and once for the KB."""


@dataclass(frozen=True)
class KindCount:
    kind: str
    source: int        # rows in the SQLite store
    mapped: int        # of them, present in the team store through the mapping
    copied: int        # copied by this run

    @property
    def ok(self) -> bool:
        return self.source == self.mapped


@dataclass(frozen=True)
class MigrationReport:
    source_id: str
    source: str
    target: str
    counts: tuple[KindCount, ...]
    kb_inserted: int = 0
    kb_updated: int = 0
    kb_identical: int = 0
    kb_kept_newer: tuple[str, ...] = ()    # slugs where the team store's newer edit was kept
    notes: tuple[str, ...] = field(default=())

    @property
    def verified(self) -> bool:
        return all(c.ok for c in self.counts)

    def count(self, kind: str) -> KindCount:
        return next(c for c in self.counts if c.kind == kind)

    def to_json(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id, "source": self.source, "target": self.target,
            "verified": self.verified,
            "counts": {c.kind: {"source": c.source, "mapped": c.mapped, "copied": c.copied}
                       for c in self.counts},
            "kb": {"inserted": self.kb_inserted, "updated": self.kb_updated,
                   "identical": self.kb_identical, "kept_newer": list(self.kb_kept_newer)},
        }


def source_store_id(source: Any) -> str:
    """The SQLite store's stable id (created on first use), which keys its mapping rows."""
    value = source.get_kb_meta(STORE_ID_KEY)
    if not value:
        value = uuid.uuid4().hex
        source.set_kb_meta(STORE_ID_KEY, value)
    return str(value)


def store_counts(store: Any) -> dict[str, int]:
    """Rows per kind in a store (SQLite or PostgreSQL), for ``store check`` and verification."""
    with store._read("count the store's rows") as conn:
        return {kind: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                for kind, table in _TABLE.items()}


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _json(text: str | None, default: Any) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(json.loads(text) if text else default)


def _mapped(conn: Any, sid: str, kind: str) -> dict[int, int]:
    return dict(conn.execute("SELECT old_id, new_id FROM store_imports WHERE source_id = %s "
                             "AND kind = %s", (sid, kind)).fetchall())


def _map(conn: Any, sid: str, kind: str, old: int, new: int) -> None:
    conn.execute("INSERT INTO store_imports(source_id, kind, old_id, new_id) "
                 "VALUES (%s, %s, %s, %s)", (sid, kind, old, new))


def migrate_store(source: Any, target: Any, *, progress: Progress | None = None
                  ) -> MigrationReport:
    """Copy ``source`` (a :class:`~diagkit.store.sqlite.SqliteStore`) into ``target`` (a
    :class:`~diagkit.store.postgres.PgStore`); see the module docstring for the rules.

    Raises :class:`~diagkit.store.StoreUnavailable` when the team store drops mid-way (what was
    committed stays; run it again to go on) and :class:`~diagkit.store.StoreError` otherwise.
    """
    sid = source_store_id(source)
    with source._read("read the local store") as src:
        case_ids = [r[0] for r in src.execute("SELECT id FROM cases ORDER BY id")]
    copied = dict.fromkeys(KINDS, 0)
    for done, old_case in enumerate(case_ids, 1):
        _copy_case(source, target, sid, old_case, copied)
        if progress is not None:
            progress(done, len(case_ids), f"case {old_case}")
    kb = _copy_kb(source, target, sid, copied)
    if progress is not None:
        progress(len(case_ids), len(case_ids), "knowledge base")
    return _verify(source, target, sid, copied, kb)


def _copy_case(source: Any, target: Any, sid: str, old_case: int,
               copied: dict[str, int]) -> None:
    with source._read("read the local store") as src:
        case = src.execute("SELECT * FROM cases WHERE id = ?", (old_case,)).fetchone()
        hosts = [r[0] for r in src.execute(
            "SELECT host FROM case_hosts WHERE case_id = ? ORDER BY host", (old_case,))]
        journal = src.execute("SELECT * FROM journal WHERE case_id = ? ORDER BY id",
                              (old_case,)).fetchall()
        status = src.execute("SELECT * FROM status_changes WHERE case_id = ? ORDER BY id",
                             (old_case,)).fetchall()
    with target._write(f"copy case {old_case}") as conn:
        # Two migrations of the same source at once (two windows): one at a time per source.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (sid,))
        row = conn.execute("SELECT new_id FROM store_imports WHERE source_id = %s AND kind = "
                           "'case' AND old_id = %s", (sid, old_case)).fetchone()
        if row is None:
            new_case = conn.execute(
                "INSERT INTO cases (title, customer, contact, product, version, tags, "
                "ticket_ref, impact, urgency, severity, status, created, updated, "
                "first_response_at, resolved_at, closed_at, csat, engineer, version_counter) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
                "%s, %s) RETURNING id",
                (case["title"], case["customer"], case["contact"], case["product"],
                 case["version"], _json(case["tags"], []), case["ticket_ref"], case["impact"],
                 case["urgency"], case["severity"], case["status"], _dt(case["created"]),
                 _dt(case["updated"]), _dt(case["first_response_at"]),
                 _dt(case["resolved_at"]), _dt(case["closed_at"]), case["csat"],
                 case["engineer"], case["version_counter"])).fetchone()[0]
            _map(conn, sid, "case", old_case, new_case)
            copied["case"] += 1
        else:
            new_case = row[0]
        for host in hosts:
            conn.execute("INSERT INTO case_hosts (case_id, host) VALUES (%s, %s) "
                         "ON CONFLICT DO NOTHING", (new_case, host))
        # Entries are mapped one by one, so those added locally after a first run follow.
        have = set(_old_ids(conn, sid, "journal", [e["id"] for e in journal]))
        for e in journal:
            if e["id"] in have:
                continue
            new = conn.execute(
                "INSERT INTO journal (case_id, time, engineer, kind, text, data) "
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (new_case, _dt(e["time"]), e["engineer"], e["kind"], e["text"],
                 _json(e["data"], {}))).fetchone()[0]
            _map(conn, sid, "journal", e["id"], new)
            copied["journal"] += 1
        have = set(_old_ids(conn, sid, "status", [s["id"] for s in status]))
        for s in status:
            if s["id"] in have:
                continue
            new = conn.execute(
                "INSERT INTO status_changes (case_id, time, from_status, to_status, engineer) "
                "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                (new_case, _dt(s["time"]), s["from_status"], s["to_status"],
                 s["engineer"])).fetchone()[0]
            _map(conn, sid, "status", s["id"], new)
            copied["status"] += 1


def _old_ids(conn: Any, sid: str, kind: str, old: list[int]) -> list[int]:
    if not old:
        return []
    return [r[0] for r in conn.execute(
        "SELECT old_id FROM store_imports WHERE source_id = %s AND kind = %s "
        "AND old_id = ANY(%s)", (sid, kind, old)).fetchall()]


@dataclass
class _KbTally:
    inserted: int = 0
    updated: int = 0
    identical: int = 0
    kept_newer: list[str] = field(default_factory=list)


def _kb_content(row: Any, *, sqlite: bool) -> tuple[Any, ...]:
    def norm(name: str) -> Any:
        value = row[name]
        if name in ("tags", "links", "rules"):
            value = json.loads(value) if sqlite else value
            return json.dumps(value, sort_keys=True)
        return value

    return tuple(norm(n) for n in _KB_CONTENT)


def _copy_kb(source: Any, target: Any, sid: str, copied: dict[str, int]) -> _KbTally:
    tally = _KbTally()
    with source._read("read the local knowledge base") as src:
        articles = src.execute("SELECT * FROM kb_articles ORDER BY id").fetchall()
    for a in articles:
        with target._write(f"copy the article {a['slug']}") as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (sid,))
            cases = conn.execute(
                "SELECT new_id FROM store_imports WHERE source_id = %s AND kind = 'case' "
                "AND old_id = %s", (sid, a["source_case"])).fetchone()
            source_case = cases[0] if cases else None
            mine = _kb_content(a, sqlite=True)
            values = (a["title"], a["symptoms"], a["environment"], a["cause"], a["resolution"],
                      _json(a["tags"], []), _json(a["links"], []), _json(a["rules"], []))
            theirs = conn.execute(
                "SELECT id, updated, title, symptoms, environment, cause, resolution, tags, "
                "links, rules FROM kb_articles WHERE slug = %s FOR UPDATE",
                (a["slug"],)).fetchone()
            if theirs is None:
                new = conn.execute(
                    "INSERT INTO kb_articles (slug, title, symptoms, environment, cause, "
                    "resolution, tags, links, rules, source_case, author, created, updated, "
                    "version_counter) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
                    "%s, %s) RETURNING id",
                    (a["slug"], *values, source_case, a["author"], _dt(a["created"]),
                     _dt(a["updated"]), a["version_counter"])).fetchone()[0]
                tally.inserted += 1
            else:
                new = theirs[0]
                existing = dict(zip(("id", "updated", *_KB_CONTENT), theirs, strict=True))
                updated = _dt(a["updated"])
                if _kb_content(existing, sqlite=False) == mine:
                    tally.identical += 1
                elif updated is not None and updated > existing["updated"]:
                    conn.execute(
                        "UPDATE kb_articles SET title = %s, symptoms = %s, environment = %s, "
                        "cause = %s, resolution = %s, tags = %s, links = %s, rules = %s, "
                        "updated = %s, version_counter = version_counter + 1 WHERE id = %s",
                        (*values, updated, new))
                    tally.updated += 1
                else:
                    tally.kept_newer.append(a["slug"])
            conn.execute("INSERT INTO store_imports(source_id, kind, old_id, new_id) "
                         "VALUES (%s, 'kb', %s, %s) ON CONFLICT (source_id, kind, old_id) "
                         "DO UPDATE SET new_id = excluded.new_id", (sid, a["id"], new))
            copied["kb"] += 1 if theirs is None else 0
    return tally


def _verify(source: Any, target: Any, sid: str, copied: dict[str, int],
            kb: _KbTally) -> MigrationReport:
    src_counts = store_counts(source)
    counts = []
    with target._read("verify the migration") as conn:
        for kind, table in _TABLE.items():
            # Mapped rows that really exist in the team store (a row deleted there since, e.g. a
            # KB article, does not count as copied).
            mapped = conn.execute(
                f"SELECT count(*) FROM store_imports m JOIN {table} t ON t.id = m.new_id "
                "WHERE m.source_id = %s AND m.kind = %s", (sid, kind)).fetchone()[0]
            counts.append(KindCount(kind, src_counts[kind], int(mapped), copied[kind]))
    return MigrationReport(sid, str(source.path), target.path, tuple(counts),
                           kb.inserted, kb.updated, kb.identical, tuple(kb.kept_newer))


def require_verified(report: MigrationReport) -> None:
    """Raise :class:`StoreError` naming the kinds whose counts differ."""
    bad = [c for c in report.counts if not c.ok]
    if bad:
        raise StoreError(
            "The migration copied rows but the counts do not agree: "
            + ", ".join(f"{c.kind}: {c.source} local, {c.mapped} in the team store"
                        for c in bad)
            + ". Run 'diagkit store migrate' again; it copies only what is missing.")
