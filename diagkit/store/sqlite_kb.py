"""Knowledge-base SQL for :class:`~diagkit.store.sqlite.SqliteStore` (articles, FTS5 search).

A mixin so the KB's SQL stays in the store layer without growing ``sqlite.py`` further; it uses
the host class's ``_write``/``_read`` transactions.

Search is done by SQLite, never by loading articles into Python: the user's text becomes an
FTS5 query of quoted words (so ``"``, ``NEAR(``, ``-``, ``*`` or ``AND`` are just words, never
syntax), ranked by ``bm25()`` with per-column weights, and only the page of hits asked for is
read back and given a ``snippet()``.
"""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from diagkit.store.common import (
    ArticleRules,
    check_article_version,
    free_slug,
    pick_snippet,
    slug_like,
    slug_taken,
)
from diagkit.store.kb import (
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    Article,
    ArticleNotFound,
    MatchRule,
    SearchHit,
    slugify,
)

# bm25 weights in kb_fts column order: title, tags, symptoms, environment, cause, resolution.
# A word in the title says far more about what an article is about than one in its body.
BM25_WEIGHTS: tuple[float, ...] = (10.0, 5.0, 2.0, 1.0, 1.5, 1.0)
_RANK = "bm25(" + ", ".join(f"{w:.1f}" for w in BM25_WEIGHTS) + ")"
#: Words of a query used at most (a pasted log line must not build a huge query).
MAX_QUERY_WORDS = 24
SNIPPET_TOKENS = 16

_WORD = re.compile(r"\w+", re.UNICODE)


def fts_terms(query: str) -> list[str]:
    """The words of a user's query as safe FTS5 strings (``"word"``), in order, de-duplicated."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))
    return [f'"{w}"' for w in words[:MAX_QUERY_WORDS]]


def _helpers() -> Any:
    # sqlite.py imports this module while it is still loading, so its helpers are looked up
    # at call time, not import time.
    from diagkit.store import sqlite

    return sqlite


class KbSqlMixin(ArticleRules):
    """Implements :class:`diagkit.store.kb.KbStore` on top of SqliteStore's transactions (the
    rules both stores share are in :class:`~diagkit.store.common.ArticleRules`)."""

    if TYPE_CHECKING:  # provided by SqliteStore
        def _write(self, doing: str = "save") -> AbstractContextManager[sqlite3.Connection]: ...
        def _read(self, doing: str = "read") -> AbstractContextManager[sqlite3.Connection]: ...

    # -- rows -------------------------------------------------------------------------------

    @staticmethod
    def _article(r: sqlite3.Row) -> Article:
        dt = _helpers()._dt
        return Article(
            id=r["id"], slug=r["slug"], title=r["title"], symptoms=r["symptoms"],
            environment=r["environment"], cause=r["cause"], resolution=r["resolution"],
            tags=tuple(json.loads(r["tags"])), links=tuple(json.loads(r["links"])),
            rules=tuple(MatchRule.from_dict(d, check=False) for d in json.loads(r["rules"])),
            source_case=r["source_case"], author=r["author"], created=dt(r["created"]),
            updated=dt(r["updated"]), version_counter=r["version_counter"],
        )

    def _to_article(self, row: sqlite3.Row) -> Article:
        return self._article(row)

    @staticmethod
    def _free_slug(conn: sqlite3.Connection, base: str) -> str:
        taken = {s for (s,) in conn.execute(
            "SELECT slug FROM kb_articles WHERE slug = ? OR slug LIKE ? ESCAPE '\\'",
            (base, slug_like(base)),
        )}
        return free_slug(base, taken)

    # -- ArticleRules hooks -----------------------------------------------------------------

    def _terms(self, query: str) -> list[str]:
        return fts_terms(query)

    def _article_row(self, conn: sqlite3.Connection, column: str, value: int | str) -> Any:
        # column is "id" or "slug" (ArticleRules.get_article), never user input.
        return conn.execute(f"SELECT * FROM kb_articles WHERE {column} = ?",
                            (value,)).fetchone()

    def _insert_article(self, slug: str | None, values: dict[str, Any],
                        when: datetime) -> Article:
        stamp = _helpers()._ts(when)
        with self._write("save the article") as conn:
            if slug is None:
                slug = self._free_slug(conn, slugify(values["title"]))
            elif conn.execute("SELECT 1 FROM kb_articles WHERE slug = ?", (slug,)).fetchone():
                raise slug_taken(slug)
            cur = conn.execute(
                f"INSERT INTO kb_articles (slug, {', '.join(values)}, created, updated)"
                f" VALUES (?, {', '.join('?' * len(values))}, ?, ?)",
                [slug, *values.values(), stamp, stamp],
            )
            row = conn.execute("SELECT * FROM kb_articles WHERE id = ?",
                               (cur.lastrowid,)).fetchone()
            return self._article(row)

    def _update_article(self, article_id: int, expected_version: int,
                        values: dict[str, Any]) -> Article:
        with self._write("save the article") as conn:
            check_article_version(
                conn.execute("SELECT version_counter FROM kb_articles WHERE id = ?",
                             (article_id,)).fetchone(), article_id, expected_version)
            if "slug" in values and conn.execute(
                "SELECT 1 FROM kb_articles WHERE slug = ? AND id != ?",
                (values["slug"], article_id),
            ).fetchone():
                raise slug_taken(values["slug"])
            sets = [f"{name} = ?" for name in values]
            sets += ["updated = ?", "version_counter = version_counter + 1"]
            conn.execute(f"UPDATE kb_articles SET {', '.join(sets)} WHERE id = ?",
                         [*values.values(), _helpers()._ts(_helpers()._now()), article_id])
            return self._article(conn.execute("SELECT * FROM kb_articles WHERE id = ?",
                                              (article_id,)).fetchone())

    # -- KbStore (the rest: ArticleRules) ---------------------------------------------------

    def list_articles(self, *, tag: str | None = None) -> list[Article]:
        sql = "SELECT * FROM kb_articles"
        args: list[Any] = []
        if tag is not None:
            sql += " WHERE EXISTS (SELECT 1 FROM json_each(kb_articles.tags) WHERE value = ?)"
            args.append(tag)
        sql += " ORDER BY title COLLATE NOCASE, id"
        with self._read("list articles") as conn:
            return [self._article(r) for r in conn.execute(sql, args).fetchall()]

    def delete_article(self, article_id: int) -> None:
        with self._write("delete the article") as conn:
            if conn.execute("DELETE FROM kb_articles WHERE id = ?", (article_id,)).rowcount == 0:
                raise ArticleNotFound(article_id)

    def _search(self, match: str, limit: int, tag: str | None) -> list[SearchHit]:
        # ORDER BY rank with "rank MATCH" lets FTS5 sort by the weighted bm25 itself and hand
        # rows over in order, so the LIMIT stops early and snippets are built for this page
        # only. Snippets come from the body (the first of symptoms, environment, cause,
        # resolution with a hit): the title is shown anyway and tags are stored as JSON.
        cols = ", ".join(
            f"snippet(kb_fts, {c}, :s, :e, '…', {SNIPPET_TOKENS})" for c in (2, 3, 4, 5, 0)
        )
        tag_sql = ""
        args: dict[str, Any] = {"m": match, "rank": _RANK, "s": HIGHLIGHT_START,
                                "e": HIGHLIGHT_END, "limit": int(limit)}
        if tag is not None:
            tag_sql = (" AND EXISTS (SELECT 1 FROM kb_articles a, json_each(a.tags) t"
                       " WHERE a.id = kb_fts.rowid AND t.value = :tag)")
            args["tag"] = tag
        with self._read("search the knowledge base") as conn:
            ranked = conn.execute(
                f"SELECT rowid, rank, {cols} FROM kb_fts WHERE kb_fts MATCH :m"
                f" AND rank MATCH :rank{tag_sql} ORDER BY rank LIMIT :limit", args,
            ).fetchall()
            if not ranked:
                return []
            ids = [r[0] for r in ranked]
            rows = {r["id"]: r for r in conn.execute(
                f"SELECT * FROM kb_articles WHERE id IN ({', '.join('?' * len(ids))})", ids
            ).fetchall()}
        return [SearchHit(article=self._article(rows[rowid]), rank=-score,
                          snippet=pick_snippet(texts))
                for rowid, score, *texts in ranked if rowid in rows]

    def get_kb_meta(self, key: str) -> str | None:
        with self._read("read knowledge-base settings") as conn:
            row = conn.execute("SELECT value FROM kb_meta WHERE key = ?", (key,)).fetchone()
            return None if row is None else row[0]

    def set_kb_meta(self, key: str, value: str) -> None:
        with self._write("save knowledge-base settings") as conn:
            conn.execute("INSERT INTO kb_meta(key, value) VALUES (?, ?)"
                         " ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))
