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
Both sides are used through the public contract only: the source as a
:class:`~diagkit.store.contract.Store` (``case_ids``, ``case_history``, ``list_articles``,
``row_counts``), the target as an :class:`~diagkit.store.contract.ImportTarget`, which keeps the
mapping and does each case in one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from diagkit.store.contract import ROW_KINDS, ImportTarget, Store, StoreError

STORE_ID_KEY = "store_id"
KINDS = ROW_KINDS

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


def source_store_id(source: Store) -> str:
    """The source store's stable id (created on first use), which keys its mapping rows."""
    value = source.get_kb_meta(STORE_ID_KEY)
    if not value:
        value = uuid.uuid4().hex
        source.set_kb_meta(STORE_ID_KEY, value)
    return str(value)


def store_counts(store: Store) -> dict[str, int]:
    """Rows per kind in a store, for ``store check`` and verification."""
    return store.row_counts()


def migrate_store(source: Store, target: ImportTarget, *, progress: Progress | None = None
                  ) -> MigrationReport:
    """Copy ``source`` (an engineer's local store) into ``target`` (the team store); see the
    module docstring for the rules.

    Raises :class:`~diagkit.store.contract.StoreUnavailable` when the team store drops mid-way
    (what was committed stays; run it again to go on) and
    :class:`~diagkit.store.contract.StoreError` otherwise.
    """
    sid = source_store_id(source)
    case_ids = source.case_ids()
    copied = dict.fromkeys(KINDS, 0)
    for done, old_case in enumerate(case_ids, 1):
        for kind, n in target.import_case(sid, source.case_history(old_case)).items():
            copied[kind] += n
        if progress is not None:
            progress(done, len(case_ids), f"case {old_case}")
    outcomes: dict[str, list[str]] = {}
    for article in sorted(source.list_articles(), key=lambda a: a.id):
        outcomes.setdefault(target.import_article(sid, article), []).append(article.slug)
    copied["kb"] = len(outcomes.get("inserted", ()))
    if progress is not None:
        progress(len(case_ids), len(case_ids), "knowledge base")
    src_counts = source.row_counts()
    mapped = target.imported_counts(sid)
    counts = tuple(KindCount(kind, src_counts[kind], mapped[kind], copied[kind])
                   for kind in KINDS)
    return MigrationReport(sid, str(source.path), str(target.path), counts,
                           len(outcomes.get("inserted", ())), len(outcomes.get("updated", ())),
                           len(outcomes.get("identical", ())),
                           tuple(outcomes.get("kept_newer", ())))


def require_verified(report: MigrationReport) -> None:
    """Raise :class:`StoreError` naming the kinds whose counts differ."""
    bad = [c for c in report.counts if not c.ok]
    if bad:
        raise StoreError(
            "The migration copied rows but the counts do not agree: "
            + ", ".join(f"{c.kind}: {c.source} local, {c.mapped} in the team store"
                        for c in bad)
            + ". Run 'diagkit store migrate' again; it copies only what is missing.")
