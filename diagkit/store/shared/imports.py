"""Taking another store's cases and articles (:class:`~diagkit.store.contract.ImportTarget`),
written once over the shared case and KB SQL, for a backend whose schema has the
``store_imports`` table (old id -> new id per source store and kind): the team store.

Nothing keeps its source id (the target may already hold other engineers' work); the mapping
rows are written in the same transaction as the rows they map, so a rerun skips what is there
and copies the rest.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

from diagkit.store.contract import ROW_KINDS, Article, CaseHistory
from diagkit.store.shared.base import Connection
from diagkit.store.shared.cases import ADD_ENTRY, ADD_STATUS, ROW_TABLES, CaseSql
from diagkit.store.shared.kb import ARTICLE_COLUMNS, KbSql

_CASE_FIELDS = ("title", "customer", "contact", "product", "version", "tags", "ticket_ref",
                "impact", "urgency", "severity", "status", "created", "updated",
                "first_response_at", "resolved_at", "closed_at", "csat", "engineer",
                "version_counter")
_ARTICLE_TEXT = ("title", "symptoms", "environment", "cause", "resolution", "tags", "links",
                 "rules")


def _content(a: Article) -> tuple[Any, ...]:
    """What makes two articles of one slug the same article."""
    return tuple(getattr(a, name) for name in _ARTICLE_TEXT)


class ImportSql(CaseSql, KbSql):
    """Implements :class:`~diagkit.store.contract.ImportTarget` on ``store_imports``."""

    @abstractmethod
    def _lock_source(self, conn: Connection, source_id: str) -> None:
        """Make another import of the same source wait for this transaction (two windows
        migrating the same store at once)."""

    def _new_id(self, conn: Connection, source_id: str, kind: str, old: int | None) -> int | None:
        row = self._run(conn, "SELECT new_id FROM store_imports WHERE source_id = :sid"
                              " AND kind = :kind AND old_id = :old",
                        {"sid": source_id, "kind": kind, "old": old}).fetchone()
        return None if row is None else int(row[0])

    def _copied_before(self, conn: Connection, source_id: str, kind: str,
                       old: Sequence[int]) -> set[int]:
        if not old:
            return set()
        return {r[0] for r in self._run(
            conn, "SELECT old_id FROM store_imports WHERE source_id = :sid AND kind = :kind"
                  f" AND {self.dialect.in_list('old_id', 'old', 'bigint')}",
            {"sid": source_id, "kind": kind, "old": self.dialect.array(old)}).fetchall()}

    def _map(self, conn: Connection, source_id: str, kind: str, old: int, new: int) -> None:
        self._run(conn, "INSERT INTO store_imports(source_id, kind, old_id, new_id)"
                        " VALUES (:sid, :kind, :old, :new) ON CONFLICT (source_id, kind, old_id)"
                        " DO UPDATE SET new_id = excluded.new_id",
                  {"sid": source_id, "kind": kind, "old": old, "new": new})

    def import_case(self, source_id: str, history: CaseHistory) -> dict[str, int]:
        d = self.dialect
        old = history.case
        copied = dict.fromkeys(ROW_KINDS, 0)
        with self._write(f"copy case {old.id}") as conn:
            self._lock_source(conn, source_id)
            new_case = self._new_id(conn, source_id, "case", old.id)
            if new_case is None:
                values: dict[str, Any] = {name: getattr(old, name) for name in _CASE_FIELDS}
                values["tags"] = d.json(json.dumps(list(old.tags)))
                for name in ("created", "updated", "first_response_at", "resolved_at",
                             "closed_at"):
                    values[name] = None if values[name] is None else d.time(values[name])
                new_case = self._insert(
                    conn, f"INSERT INTO cases ({', '.join(_CASE_FIELDS)})"
                          f" VALUES ({', '.join(':' + n for n in _CASE_FIELDS)})", values)
                self._map(conn, source_id, "case", old.id, new_case)
                copied["case"] += 1
            self._add_hosts(conn, new_case, old.hosts)
            # Entries are mapped one by one, so those added at the source after a first run
            # follow.
            have = self._copied_before(conn, source_id, "journal", [e.id for e in history.journal])
            for e in history.journal:
                if e.id not in have:
                    new = self._insert(conn, ADD_ENTRY, {
                        "case_id": new_case, "time": d.time(e.time), "engineer": e.engineer,
                        "kind": e.kind, "text": d.storable(e.text),
                        "data": d.json(json.dumps(d.storable(dict(e.data))))})
                    self._map(conn, source_id, "journal", e.id, new)
                    copied["journal"] += 1
            have = self._copied_before(conn, source_id, "status",
                                       [s.id for s in history.status_changes])
            for s in history.status_changes:
                if s.id not in have:
                    new = self._insert(conn, ADD_STATUS, {
                        "case_id": new_case, "time": d.time(s.time),
                        "from_status": s.from_status, "to_status": s.to_status,
                        "engineer": s.engineer})
                    self._map(conn, source_id, "status", s.id, new)
                    copied["status"] += 1
        return copied

    def import_article(self, source_id: str, article: Article) -> str:
        d = self.dialect
        columns = {"title": article.title, "symptoms": article.symptoms,
                   "environment": article.environment, "cause": article.cause,
                   "resolution": article.resolution,
                   "tags": d.json(json.dumps(list(article.tags))),
                   "links": d.json(json.dumps(list(article.links))),
                   "rules": d.json(json.dumps([r.to_dict() for r in article.rules]))}
        with self._write(f"copy the article {article.slug}") as conn:
            self._lock_source(conn, source_id)
            row = self._run(conn, f"SELECT {ARTICLE_COLUMNS} FROM kb_articles WHERE slug = :slug"
                            + d.for_update, {"slug": article.slug}).fetchone()
            if row is None:
                source_case = (None if article.source_case is None else
                               self._new_id(conn, source_id, "case", article.source_case))
                names = [*columns, "slug", "source_case", "author", "created", "updated",
                         "version_counter"]
                new = self._insert(
                    conn, f"INSERT INTO kb_articles ({', '.join(names)})"
                          f" VALUES ({', '.join(':' + n for n in names)})",
                    {**columns, "slug": article.slug, "source_case": source_case,
                     "author": article.author,
                     "created": None if article.created is None else d.time(article.created),
                     "updated": None if article.updated is None else d.time(article.updated),
                     "version_counter": article.version_counter})
                outcome = "inserted"
            else:
                theirs = self._to_article(row)
                new = theirs.id
                if _content(theirs) == _content(article):
                    outcome = "identical"
                elif (article.updated is not None and theirs.updated is not None
                      and article.updated > theirs.updated):
                    sets = ", ".join(f"{name} = :{name}" for name in columns)
                    self._run(conn, f"UPDATE kb_articles SET {sets}, updated = :updated,"
                                    " version_counter = version_counter + 1 WHERE id = :id",
                              {**columns, "updated": d.time(article.updated), "id": new})
                    outcome = "updated"
                else:
                    outcome = "kept_newer"  # the target's edit is newer: it stays
            self._map(conn, source_id, "kb", article.id, new)
        return outcome

    def imported_counts(self, source_id: str) -> dict[str, int]:
        with self._read("verify the migration") as conn:
            # Mapped rows that really exist in the target (a row deleted there since, e.g. a
            # KB article, does not count as copied).
            return {kind: int(self._run(
                conn, f"SELECT count(*) FROM store_imports m JOIN {table} t ON t.id = m.new_id"
                      " WHERE m.source_id = :sid AND m.kind = :kind",
                {"sid": source_id, "kind": kind}).fetchone()[0])
                for kind, table in ROW_TABLES.items()}
